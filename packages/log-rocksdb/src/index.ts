/// <reference path="./rocksdb.d.ts" />
export { RocksLogStorage, type RocksLogStorageOptions } from './rocksLogStorage.js';
export type { RocksLogStorageStats, SyncedWriteTiming } from './logWriter.js';
export { FORMAT_VERSION } from './codec.js';
