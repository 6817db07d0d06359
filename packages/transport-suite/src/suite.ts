import { describe } from 'vitest';
import { type TransportSuiteOptions, resolveConfig } from './cluster.js';
import { chunkCases } from './cases/chunks.js';
import { closingCases } from './cases/closing.js';
import { deliveryCases } from './cases/delivery.js';
import { orderingCases } from './cases/ordering.js';
import { unreachableCases } from './cases/unreachable.js';
import { updatePeersCases } from './cases/updatePeers.js';
import { volumeCases } from './cases/volume.js';

/**
 * Registers the Transport conformance suite with vitest. Call it once at the top level of a
 * test file; every test gets a fresh cluster from `options.factory` and closes it afterwards.
 */
export function runTransportSuite(options: TransportSuiteOptions): void {
  const config = resolveConfig(options);
  describe(`Transport conformance: ${config.name}`, () => {
    deliveryCases(config);
    orderingCases(config);
    unreachableCases(config);
    volumeCases(config);
    chunkCases(config);
    closingCases(config);
    updatePeersCases(config);
  });
}
