export { runLogStorageSuite, logStorageCases } from './suite.js';
export {
  suiteEnv,
  withLog,
  expectState,
  LogUnderTest,
  type ExpectedState,
  type LogStorageCase,
  type LogStorageLocation,
  type LogStorageSuiteOptions,
  type LogStorageSupports,
  type SuiteEnv,
} from './env.js';
export {
  entryData,
  makeEntry,
  makeEntries,
  makeSnapshot,
  makeConfState,
  makeMembershipSnapshot,
  sameBytes,
  expectEntries,
  expectSnapshot,
  expectRaftError,
  type MakeEntryOptions,
} from './helpers.js';
export {
  streaming,
  sha256,
  snapshotData,
  snapMeta,
  writeChunks,
  writeSnapshot,
  takeSnapshot,
  streamAll,
  expectInstalled,
  installWhole,
  readSnapshot,
} from './snapshotHelpers.js';
