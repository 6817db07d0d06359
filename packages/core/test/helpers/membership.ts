// Helpers for membership tests on a TestCluster: propose a change at a node, and partition
// nodes by dropping every message to or from them.
import type { ConfChange } from '../../src/consensus/membership/config.js';
import type { ConfChangeOptions } from '../../src/consensus/step/membership.js';
import type { NodeId } from '../../src/consensus/types.js';
import type { TestCluster } from './cluster.js';

export function change(c: TestCluster, at: NodeId, cc: ConfChange, opts?: ConfChangeOptions): number {
  const { index } = c.node(at).raw.proposeConfChange(cc, opts);
  c.flush(at);
  return index;
}

export const addLearner = (node: NodeId): ConfChange => ({ changes: [{ type: 'addLearner', node }] });
export const addVoter = (node: NodeId): ConfChange => ({ changes: [{ type: 'addVoter', node }] });
export const removeNode = (node: NodeId): ConfChange => ({ changes: [{ type: 'removeNode', node }] });

/** Drops every message to or from any of `ids` (and discards those already queued). */
export function isolate(c: TestCluster, ...ids: NodeId[]): void {
  const cut = new Set(ids);
  c.dropIf = (m) => cut.has(m.from) || cut.has(m.to);
  c.take((m) => cut.has(m.from) || cut.has(m.to));
}

export function heal(c: TestCluster): void {
  c.dropIf = () => false;
}

export const votersOf = (c: TestCluster, id: NodeId): readonly string[] => c.status(id).membership.config.voters;
export const learnersOf = (c: TestCluster, id: NodeId): readonly string[] => c.status(id).membership.config.learners;

/** Ticks every node `n` times, delivering messages after each round. */
export function tickAll(c: TestCluster, n: number): void {
  for (let i = 0; i < n; i++) {
    for (const id of c.ids) c.tick(id);
    c.stabilize();
  }
}

/** Ticks only `among` until one of them leads (the others being cut off); returns it. */
export function electAmong(c: TestCluster, among: NodeId[]): NodeId {
  for (let i = 0; i < 200; i++) {
    for (const id of among) c.tick(id);
    c.stabilize();
    const leader = among.find((id) => c.status(id).role === 'leader');
    if (leader) return leader;
  }
  throw new Error(`none of ${among.join(',')} became leader`);
}
