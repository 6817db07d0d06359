/**
 * Counters the KV routes report to, if given: the caller wires them to its metrics library
 * (apps/server passes its prom-client `ServerMetrics`); this package depends on none.
 */
export interface KvHttpMetrics {
  /**
   * One answered request: its route (`get`, `put`, `delete`, `cas`, `range`, `txn`,
   * `leaseGrant`, `leaseKeepAlive`, `leaseRevoke`, `leaseList`, `leaseGet`, `watch`, `other`)
   * and status. A watch is counted when its stream ends.
   */
  countRequest(route: string, status: number): void;
  /** One read served, by consistency, and whether the key existed. */
  countRead(consistency: 'linearizable' | 'lease' | 'stale', outcome: 'ok' | 'absent'): void;
  /** One write applied. */
  countProposal(outcome: 'ok'): void;
}

/** The metrics used when none are given. */
export const noMetrics: KvHttpMetrics = { countRequest() {}, countRead() {}, countProposal() {} };
