import type { Logger } from 'pino';
import type { ServerMetrics } from './metrics.js';

/**
 * Codes from transport-http that an operator must act on. A node whose clock is more than the
 * auth window (±60 s) off is refused by every peer and is cut off; its peers report
 * RAFT_HTTP_CLOCK_SKEW, and each side sees RAFT_HTTP_PEER_REJECTED with the other's 401
 * RAFT_HTTP_UNAUTHORIZED (the reason names the timestamp). A wrong secret looks the same, with
 * "signature does not match".
 */
const operatorCodes = new Set(['RAFT_HTTP_CLOCK_SKEW', 'RAFT_HTTP_UNAUTHORIZED', 'RAFT_HTTP_MESSAGE_TOO_LARGE']);

/** The same problem with the same peer is logged at most once per this interval (it is counted every time). */
export const PEER_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Logs peer transport problems (error level for those above, warn otherwise) and counts them by
 * code. A peer link retries every heartbeat, so each (code, peer) is logged once per interval
 * with the number of repeats left out since.
 */
export class PeerErrorLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: () => ServerMetrics,
    private readonly now: () => number = () => performance.now(),
  ) {}

  report(err: Error): void {
    const e = err as Error & { code?: unknown; peer?: unknown; peerCode?: unknown; status?: unknown };
    const code = typeof e.code === 'string' ? e.code : 'UNKNOWN';
    const peerCode = typeof e.peerCode === 'string' ? e.peerCode : undefined;
    const peer = typeof e.peer === 'string' ? e.peer : undefined;
    this.metrics().peerErrors.inc({ code: peerCode ? `${code}:${peerCode}` : code });
    // Without a peer id, the message with its counts blanked stands for the problem.
    const key = `${code} ${peerCode ?? ''} ${peer ?? err.message.replace(/\d+/g, 'N')}`;
    const seen = this.last.get(key);
    const now = this.now();
    if (seen && now - seen.at < PEER_ERROR_LOG_INTERVAL_MS) {
      seen.suppressed++;
      return;
    }
    this.last.set(key, { at: now, suppressed: 0 });
    const fields = { err, code, ...(peerCode ? { peerCode } : {}), ...(peer ? { peer } : {}), ...(seen?.suppressed ? { repeatsNotLogged: seen.suppressed } : {}) };
    // 401: requests refused for their signature or timestamp (a secret or a clock is wrong).
    if (operatorCodes.has(code) || (peerCode !== undefined && operatorCodes.has(peerCode)) || e.status === 401) this.logger.error(fields, `peer transport: ${err.message}`);
    // A peer whose host name does not resolve yet (a pod not up): the line says so and that
    // the link keeps retrying; it is expected for a while after a cluster starts.
    else if (code === 'RAFT_HTTP_PEER_UNRESOLVED') this.logger.warn(fields, `peer transport: ${err.message}`);
    else this.logger.warn(fields, 'peer transport error');
  }
}
