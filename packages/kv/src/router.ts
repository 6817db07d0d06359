import { ErrorCode, isNotLeaderError, isRaftError, type NodeId } from '@raftkit/core';
import { invalidArgument } from './errors.js';
import type { KvReplica } from './types.js';

/** One replica, a fixed list, or a function returning the current list (nodes restart). */
export type ReplicaSource = KvReplica | readonly KvReplica[] | (() => readonly KvReplica[]);

export type RequestKind = 'read' | 'write';

/**
 * Chooses the replica for each attempt and learns from failures. With one replica there is
 * nowhere to go: "not leader" and "stopped" are the caller's to handle (a server redirects).
 * With several it follows leader hints and moves on from stopped or silent nodes.
 */
export class Router {
  private readonly list: () => readonly KvReplica[];
  /** Where writes go: the node believed to lead, or null to use the read target. */
  private leaderId: NodeId | null = null;
  /** Where reads go: the first replica, until it fails. */
  private readId: NodeId | null = null;
  /**
   * A function source is a cluster whose membership of live replicas changes (nodes crash and
   * restart): even when it lists one replica right now, waiting may bring the leader back.
   */
  private dynamic = false;
  /** Leader hints followed since the last success: stale hints can form a cycle. */
  private hintsFollowed = 0;
  /** Attempts left that ignore hints and go round the list instead. */
  private roundRobin = 0;

  constructor(source: ReplicaSource) {
    if (typeof source === 'function') {
      this.list = source;
      this.dynamic = true;
      return;
    }
    const fixed: readonly KvReplica[] = Array.isArray(source) ? source : [source as KvReplica];
    if (fixed.length === 0 || !fixed.every(isReplica)) throw invalidArgument('KvClient needs at least one replica: { node, machine }');
    this.list = () => fixed;
  }

  get size(): number {
    return this.list().length;
  }

  /** The replica to try next for a request of `kind`; undefined if none is available. */
  target(kind: RequestKind): KvReplica | undefined {
    const replicas = this.list();
    const id = kind === 'write' ? (this.leaderId ?? this.readId) : this.readId;
    return replicas.find((r) => r.node.id === id) ?? replicas[0];
  }

  /** A write succeeded at `replica`: it leads, for now. */
  succeeded(kind: RequestKind, replica: KvReplica): void {
    if (kind === 'write') this.leaderId = replica.node.id;
    this.hintsFollowed = 0;
    this.roundRobin = 0;
  }

  /**
   * Learns from `err`, raised by an attempt at `replica`. Returns whether another attempt may
   * help (the caller also checks its deadline).
   */
  reroute(kind: RequestKind, replica: KvReplica, err: unknown): boolean {
    if (!isRaftError(err)) return false;
    if (err.code === ErrorCode.Timeout || err.code === ErrorCode.ProposalDropped || err.code === ErrorCode.OutcomeUnknown) {
      // The same node may answer next time; with others to ask, a silent node is skipped.
      if (this.size > 1 && err.code === ErrorCode.Timeout) this.skip(kind, replica);
      return true;
    }
    // Only "not here" answers send us elsewhere; a bad argument would fail anywhere.
    const elsewhere = err.code === ErrorCode.NotLeader || err.code === ErrorCode.Stopped || err.fatal;
    if ((this.size === 1 && !this.dynamic) || !elsewhere) return false;
    if (isNotLeaderError(err) && err.leaderHint !== null && err.leaderHint !== replica.node.id && this.roundRobin === 0) {
      const known = this.list().some((r) => r.node.id === err.leaderHint);
      if (known && kind === 'write') {
        // Nodes removed from the cluster, still running, may point at each other for ever:
        // after as many hints as replicas without a success, go once round the whole list.
        if (++this.hintsFollowed < this.size) {
          this.leaderId = err.leaderHint;
          return true;
        }
        this.hintsFollowed = 0;
        this.roundRobin = this.size;
      }
    }
    if (this.roundRobin > 0) this.roundRobin--;
    // Not leader with no useful hint, stopped, or failed for good: try the next replica.
    this.skip(kind, replica);
    return true;
  }

  private skip(kind: RequestKind, replica: KvReplica): void {
    const replicas = this.list();
    if (replicas.length === 0) return;
    const at = replicas.findIndex((r) => r.node.id === replica.node.id);
    const next = replicas[(at + 1) % replicas.length]!.node.id;
    if (kind === 'write') this.leaderId = next;
    else this.readId = next;
  }
}

function isReplica(r: KvReplica): boolean {
  return typeof r?.node?.propose === 'function' && typeof r.node.readIndex === 'function' && typeof r.machine?.read === 'function';
}
