import type { NodeId } from '@raftkit/core';

/** After a line about a peer, further lines about it wait this long (the repeats are counted). */
export const PEER_FAILURE_LOG_INTERVAL_MS = 30_000;

interface PeerLine {
  /** When the last line about this peer was written (per `now`). */
  at: number;
  /** Failures since that line that were not written. */
  suppressed: number;
  /** Codes already written about at once; a new one is written at once too. */
  readonly codes: Set<string>;
}

/**
 * The default `onError`: one line each to `write` (console.warn), rate limited. The first
 * failure of each distinct code with a peer is written at once; after that at most one line per
 * peer per interval, saying how many were left out. When a reported peer answers again, one
 * recovery line. Errors with no peer are keyed by their code.
 */
export class PeerFailureLog {
  private readonly lines = new Map<string, PeerLine>();

  constructor(
    private readonly write: (line: string) => void = (line) => console.warn(line),
    private readonly now: () => number = () => performance.now(),
    private readonly intervalMs = PEER_FAILURE_LOG_INTERVAL_MS,
  ) {}

  report(error: Error): void {
    const e = error as Error & { code?: unknown; peer?: unknown };
    const code = typeof e.code === 'string' ? e.code : error.name;
    const key = typeof e.peer === 'string' ? `peer ${e.peer}` : `code ${code}`;
    const now = this.now();
    const seen = this.lines.get(key);
    if (seen && seen.codes.has(code) && now - seen.at < this.intervalMs) {
      seen.suppressed += 1;
      return;
    }
    const left = seen?.suppressed ? ` (${seen.suppressed} more since the last line not shown)` : '';
    this.lines.set(key, { at: now, suppressed: 0, codes: new Set([...(seen?.codes ?? []), code]) });
    this.emit(`raftkit transport-http: ${code}: ${oneLine(error.message)}${left}`);
  }

  /** A peer that failed answered again: say so once, and start its counts afresh. */
  recovered(peer: NodeId): void {
    const key = `peer ${peer}`;
    const seen = this.lines.get(key);
    if (!seen) return;
    this.lines.delete(key);
    const left = seen.suppressed ? ` (${seen.suppressed} failures since the last line not shown)` : '';
    this.emit(`raftkit transport-http: peer ${peer} answers again${left}`);
  }

  private emit(line: string): void {
    try {
      this.write(line);
    } catch {
      // Logging must never break the transport.
    }
  }
}

/** Text squeezed onto one line: tags stripped, whitespace collapsed, at most `max` characters. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
