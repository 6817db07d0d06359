import type { NodeId } from '@raftkit/core';

/** A map keyed by a directed pair of nodes (from → to). */
export class PairMap<V> {
  private readonly byFrom = new Map<NodeId, Map<NodeId, V>>();

  get(from: NodeId, to: NodeId): V | undefined {
    return this.byFrom.get(from)?.get(to);
  }

  has(from: NodeId, to: NodeId): boolean {
    return this.byFrom.get(from)?.has(to) ?? false;
  }

  set(from: NodeId, to: NodeId, value: V): void {
    let row = this.byFrom.get(from);
    if (!row) this.byFrom.set(from, (row = new Map()));
    row.set(to, value);
  }

  delete(from: NodeId, to: NodeId): void {
    const row = this.byFrom.get(from);
    row?.delete(to);
    if (row?.size === 0) this.byFrom.delete(from);
  }

  clear(): void {
    this.byFrom.clear();
  }
}
