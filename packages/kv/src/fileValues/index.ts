export { FileValueStore, type FileValueStats, type FileValueStoreOptions } from './fileValueStore.js';
