export { checkHistory } from './check.js';
export { LincheckError, LincheckErrorCode } from './errors.js';
export { formatResult, type FormatOptions } from './format.js';
export { normalizeHistory } from './history.js';
export { kvModel } from './kv/model.js';
export {
  kv,
  type KvCompare,
  type KvInput,
  type KvModelInput,
  type KvOutput,
  type KvRecord,
  type KvState,
  type KvTxnInput,
  type KvTxnOp,
  type KvTxnOpOutput,
} from './kv/types.js';
export { HistoryRecorder, type OperationHandle, type RecorderOptions } from './recorder.js';
export type {
  Budget,
  CheckOptions,
  CheckResult,
  CheckStats,
  ClientId,
  Model,
  NormalizedOperation,
  Operation,
  OpStatus,
  PartitionResult,
  Verdict,
  Violation,
  Witness,
} from './types.js';
