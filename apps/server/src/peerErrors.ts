import type { Logger } from 'pino';
import type { ServerMetrics } from './metrics.js';

/**
 * Codes from transport-http that an operator must act on. A node whose clock is more than the
 * auth window (±60 s) off is refused by every peer and is cut off; its peers report
 * RAFT_HTTP_CLOCK_SKEW, and the node itself sees RAFT_HTTP_PEER_REJECTED with the peer's
 * RAFT_HTTP_UNAUTHORIZED (the reason names the timestamp).
 */
const operatorCodes = new Set(['RAFT_HTTP_CLOCK_SKEW', 'RAFT_HTTP_UNAUTHORIZED', 'RAFT_HTTP_MESSAGE_TOO_LARGE']);

/** Logs a peer transport problem (error level for those above, warn otherwise) and counts it by code. */
export function reportPeerError(logger: Logger, metrics: ServerMetrics, err: Error): void {
  const e = err as Error & { code?: unknown; peer?: unknown; peerCode?: unknown; status?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'UNKNOWN';
  const peerCode = typeof e.peerCode === 'string' ? e.peerCode : undefined;
  metrics.peerErrors.inc({ code: peerCode ? `${code}:${peerCode}` : code });
  const fields = { err, code, ...(peerCode ? { peerCode } : {}), ...(typeof e.peer === 'string' ? { peer: e.peer } : {}) };
  // 401: our requests are refused for their signature or timestamp (secret or clock wrong).
  if (operatorCodes.has(code) || (peerCode !== undefined && operatorCodes.has(peerCode)) || e.status === 401) logger.error(fields, `peer transport: ${err.message}`);
  else logger.warn(fields, 'peer transport error');
}
