export { runTransportSuite } from './suite.js';
export type {
  RunningCluster,
  SuiteConfig,
  TransportCluster,
  TransportFactory,
  TransportSuiteOptions,
  TransportSupports,
} from './cluster.js';
export { defaultIds, resolveConfig, startCluster } from './cluster.js';
export { diffValues } from './compare.js';
export { Inbox, pause } from './inbox.js';
export {
  MESSAGE_TYPES,
  MiB,
  chunkBurst,
  largeAppend,
  largeChunk,
  offsetView,
  patternBytes,
  sampleConfState,
  sampleEntries,
  sampleMessages,
  samplesOfType,
  sequenceOf,
  sequencedMessage,
  sha256Hex,
} from './samples.js';
