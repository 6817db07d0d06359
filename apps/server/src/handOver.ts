import type { RaftNode } from '@raftkit/core';
import type { Logger } from 'pino';

/**
 * First step of a graceful shutdown: a leader hands leadership to the most up-to-date voter
 * (thesis §3.10) while it still serves every request, so stopping it costs no election.
 * Bounded by `timeoutMs` (an election timeout); a failure only means the others elect a leader
 * the usual way, after an election timeout.
 */
export async function handOverLeadership(node: RaftNode<unknown>, logger: Logger, timeoutMs: number): Promise<void> {
  const st = node.status();
  const c = node.membership().config;
  const others = [...new Set([...c.voters, ...c.votersOutgoing])].filter((v) => v !== node.id);
  if (st.role !== 'leader' || others.length === 0) return;
  const started = Date.now();
  logger.info({ term: st.term, voters: others }, 'shutting down: transferring leadership first (requests are still served)');
  try {
    const to = await node.transferLeadership(undefined, { timeoutMs });
    logger.info({ to, ms: Date.now() - started }, `leadership transferred to ${to}`);
  } catch (err) {
    logger.warn({ err, ms: Date.now() - started }, 'leadership transfer failed; stopping anyway (the others elect a leader after an election timeout)');
  }
}
