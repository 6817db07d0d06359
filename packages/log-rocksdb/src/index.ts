/// <reference path="./rocksdb.d.ts" />
export { RocksLogStorage, type RocksLogStorageOptions } from './rocksLogStorage.js';
export type { RocksLogStorageStats } from './logWriter.js';
export type { SyncedWriteTiming } from './writeThread.js';
export { FORMAT_VERSION } from './codec.js';
