import type { KvCompare, KvModelInput, KvOutput, KvTxnInput, KvTxnOp, KvTxnOpOutput, NormalizedOperation } from '@raftkit/lincheck';

/**
 * The simulation's names for @raftkit/lincheck's KV model, which checks transactions itself
 * (compares, put/delete/get/range, atomic; txn-linked keys partitioned together).
 */
export { kvModel as simKvModel } from '@raftkit/lincheck';
export type ModelCompare = KvCompare;
export type ModelTxnOp = KvTxnOp;
export type TxnInput = KvTxnInput;
export type TxnOpOutput = KvTxnOpOutput;
export type SimInput = KvModelInput;
export type SimOutput = KvOutput;
export type SimOp = NormalizedOperation<SimInput, SimOutput>;
