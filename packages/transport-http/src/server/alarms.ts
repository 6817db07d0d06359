import type { NodeId } from '@raftkit/core';
import { HttpErrorCode, HttpTransportError } from '../errors.js';

/** A peer refused for the same reason is reported at most once per this interval. */
export const ALARM_INTERVAL_MS = 10_000;

/**
 * Reports refusals an operator must act on (a peer's clock outside the window, a peer signing
 * with another secret) through `onError`, so a node that is cut off is not cut off silently.
 * Only claims of known peers are reported, and each (peer, reason) at most once per interval:
 * a peer retrying every heartbeat, or a stranger forging ids, cannot flood the log.
 */
export class InboundAlarms {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly report: (error: Error) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  clockSkew(peer: NodeId, skewMs: number, reason: string): void {
    const message = `refusing requests from peer ${peer}: its clock is ${Math.round(skewMs / 1000)} s off this node's (${reason}); fix the clocks (NTP), it is cut off until then`;
    this.raise(peer, HttpErrorCode.ClockSkew, message);
  }

  badSignature(peer: NodeId): void {
    const message = `refusing requests from peer ${peer}: the signature does not match; is the cluster secret the same on every node?`;
    this.raise(peer, HttpErrorCode.Unauthorized, message);
  }

  private raise(peer: NodeId, code: HttpErrorCode, message: string): void {
    const key = `${code} ${peer}`;
    const now = this.now();
    const last = this.last.get(key);
    if (last !== undefined && now - last < ALARM_INTERVAL_MS) return;
    this.last.set(key, now);
    this.report(new HttpTransportError(code, message, { status: 401, peer }));
  }
}
