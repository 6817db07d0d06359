/**
 * Writes caught in a leadership handover. While the leader transfers leadership (thesis
 * §3.10) it refuses proposals (RAFT_TRANSFER_IN_PROGRESS, nothing appended), and just after it
 * stepped down it answers "not leader". Neither proposed anything, so the request can safely be
 * carried over: this node waits (within the request's deadline) until it knows the new leader
 * and forwards the request there, whatever --follower-mode says. A client of the old leader
 * then sees one slower answer instead of an error: a graceful leader restart fails nothing.
 */
import { ErrorCode, isNotLeaderError, isRaftError, type NodeId, type RaftNode } from '@raftkit/core';
import type { Request, Response } from 'express';
import { FORWARDED_BY_HEADER, type Forwarder } from '@raftkit/kv-http/internal';

export interface HandoffOptions {
  /** How long after losing leadership a refused write is still carried to the new leader. */
  readonly windowMs: number;
  /** The longest a request waits for the new leader (its deadline). */
  readonly waitMs: number;
  /** Where clients reach node `id`. */
  clientUrlOf(id: NodeId): string | null;
  /** Where this node's own listener answers (null before it listens). */
  selfUrl(): string | null;
}

export class LeaderHandoff {
  private lostLeadershipAt = -Infinity;
  private wasLeader = false;

  constructor(
    private readonly node: RaftNode<unknown>,
    private readonly forwarder: Forwarder,
    private readonly opts: HandoffOptions,
  ) {
    node.on('stateChange', (s) => {
      if (this.wasLeader && s.role !== 'leader') this.lostLeadershipAt = Date.now();
      this.wasLeader = s.role === 'leader';
    });
  }

  /** Whether `err` refused a request during or right after a handover of this node's leadership. */
  caught(err: unknown): boolean {
    if (isRaftError(err, ErrorCode.TransferInProgress)) return true;
    return isNotLeaderError(err) && Date.now() - this.lostLeadershipAt <= this.opts.windowMs;
  }

  /**
   * Carries a refused request to the new leader; false (the caller answers with `err`) when it
   * was not caught in a handover, or no new leader became known in time.
   */
  async carry(req: Request, res: Response, err: unknown): Promise<boolean> {
    if (!this.caught(err) || res.headersSent) return false;
    const leader = await this.newLeader(this.opts.waitMs);
    // After an aborted transfer this node leads again: it takes the request itself, over HTTP.
    const url = leader === null ? null : leader === this.node.id ? this.opts.selfUrl() : this.opts.clientUrlOf(leader);
    if (url === null) return false;
    // A request forwarded to us that we forward again is a second hop; the receiver's loop
    // guard (503 SERVER_FORWARD_LOOP) still stops a third.
    if (req.get(FORWARDED_BY_HEADER) !== undefined) delete req.headers[FORWARDED_BY_HEADER];
    await this.forwarder.forward(req, res, url);
    return true;
  }

  /**
   * The leader that will take the request: another node once it is known to lead, or this node
   * again when its transfer was aborted (it leads and no longer transfers); null after `timeoutMs`.
   */
  private newLeader(timeoutMs: number): Promise<NodeId | null> {
    const current = (): NodeId | null => {
      const s = this.node.status();
      if (s.role === 'leader') return s.transferee === null ? s.id : null;
      return s.leader !== null && s.leader !== this.node.id ? s.leader : null;
    };
    const now = current();
    if (now !== null) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (v: NodeId | null): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.node.off('stateChange', check);
        resolve(v);
      };
      const check = (): void => {
        const l = current();
        if (l !== null) done(l);
      };
      // An aborted transfer changes no role, term or leader: no stateChange tells of it.
      const poll = setInterval(check, 20);
      const timer = setTimeout(() => done(current()), timeoutMs);
      this.node.on('stateChange', check);
    });
  }
}
