import { ErrorCode, RaftError } from '@raftkit/core';
import type { NodeId } from '@raftkit/core';
import { PairMap } from './pairMap.js';

/** Which directed links are cut. A cut link drops silently, like a real partition. */
export class Connectivity {
  private readonly blocked = new PairMap<true>();
  private readonly isolated = new Set<NodeId>();

  /** Cuts every link between nodes of different groups, both ways. Unlisted nodes keep theirs. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    checkGroups(groups);
    groups.forEach((group, g) => {
      for (const other of groups.slice(g + 1)) {
        for (const a of group) for (const b of other) this.cut(a, b);
      }
    });
  }

  /** Cuts both directions between `a` and `b`. */
  cut(a: NodeId, b: NodeId): void {
    this.block(a, b);
    this.block(b, a);
  }

  /** Cuts one direction only: `from` can no longer reach `to`. */
  block(from: NodeId, to: NodeId): void {
    this.blocked.set(from, to, true);
  }

  unblock(from: NodeId, to: NodeId): void {
    this.blocked.delete(from, to);
  }

  /** Cuts `id` off from every node, including nodes that join later. */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Restores every link. */
  heal(): void {
    this.blocked.clear();
    this.isolated.clear();
  }

  allows(from: NodeId, to: NodeId): boolean {
    if (from === to) return true;
    return !this.isolated.has(from) && !this.isolated.has(to) && !this.blocked.has(from, to);
  }
}

function checkGroups(groups: readonly (readonly NodeId[])[]): void {
  if (groups.length < 2) {
    throw new RaftError(ErrorCode.InvalidArgument, `partition needs at least two groups, got ${groups.length}`);
  }
  const seen = new Set<NodeId>();
  for (const id of groups.flat()) {
    if (seen.has(id)) throw new RaftError(ErrorCode.InvalidArgument, `node ${id} is in two partition groups`);
    seen.add(id);
  }
}
