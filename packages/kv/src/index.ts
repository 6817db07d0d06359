export { KvClient, type KvClientOptions } from './client.js';
export { KvSession } from './clientSession.js';
export {
  COMMAND_VERSION,
  MAX_KEY_BYTES,
  decodeCommand,
  encodeCommand,
  type KvCommand,
  type KvWrite,
  type SessionTag,
} from './commands.js';
export { KvError, KvErrorCode, isKvError } from './errors.js';
export type { ChangedRecord, ChangeSink, KvChange } from './changes.js';
export type { KeyRecord } from './keySpace.js';
export { MAX_LEASE_TTL_MS } from './leaseErrors.js';
export { LeaseKeeper, type LeaseKeeperOptions, type LeaseSink } from './leaseKeeper.js';
export type { LeaseInfo } from './leaseTable.js';
export { MAX_TXN_RANGE_LIMIT, type StoredCompare, type StoredTxnOp, type TxnWrite } from './txnCodec.js';
export { createKvReplica, keepLeases, type KvRaftReplica, type KvReplicaOptions } from './replica.js';
export type { KvCommandResult, KvWriteResult } from './results.js';
export type { ReplicaSource } from './router.js';
export { SNAPSHOT_VERSION } from './snapshot.js';
export { KvStateMachine, type KvStateMachineOptions } from './stateMachine.js';
export type {
  CasResult,
  DeleteResult,
  GetResult,
  GrantLeaseOptions,
  KvEntry,
  KvLeaseRequest,
  KvNode,
  KvReplica,
  KvWriteRequest,
  KvWriteResults,
  LeaseGrantResult,
  LeaseKeepAliveResult,
  LeaseRevokeResult,
  LeaseTimeToLive,
  PutManyResult,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  ReadOptions,
  TimeToLiveOptions,
  TxnCompare,
  TxnOp,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  WriteOptions,
} from './types.js';
export type { Consistency } from './validate.js';
export { ValueKind, type JsonValue, type KvValue, type StoredValue, type ValueStore } from './values.js';
export { WatchHub, type WatchHubOptions } from './watchHub.js';
export type { WatchEvent, WatchFilter, WatchOptions, WatchStream } from './watch.js';
export type { ClientWatchOptions } from './watchClient.js';
export { KvCompactedError, KvWatchOverflowError } from './watchErrors.js';
