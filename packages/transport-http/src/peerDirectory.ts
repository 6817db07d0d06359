import type { NodeId } from '@raftkit/core';
import { HttpErrorCode, HttpTransportError } from './errors.js';
import { peerUrl } from './options.js';

/**
 * Where each peer is reached: the peers this transport was configured with (`peers`,
 * `setPeer`, `removePeer`) and the addresses of the latest configuration (`updatePeers`).
 *
 * Rule: a peer named by the latest address map is reached at that address; a configured peer
 * the map does not name keeps its configured address (a bootstrap configuration carries no
 * addresses, so a missing entry does not mean a removed member); any other peer is forgotten,
 * so a member learned from a map and later removed from the configuration is no longer dialled
 * and its requests are refused. The result depends only on the two inputs, never on history.
 */
export class PeerDirectory {
  private readonly configured: Map<NodeId, URL>;
  private announced = new Map<NodeId, URL>();

  constructor(
    private readonly self: NodeId,
    configured: ReadonlyMap<NodeId, URL>,
  ) {
    this.configured = new Map(configured);
  }

  configure(peer: NodeId, url: URL): void {
    this.configured.set(peer, url);
  }

  /** Forgets `peer` in both sources, until a later map names it again. */
  forget(peer: NodeId): void {
    this.configured.delete(peer);
    this.announced.delete(peer);
  }

  /**
   * Takes a new address map. An entry that is not a valid http(s) URL is reported and skipped;
   * a peer already announced at a good address keeps it, so one bad entry cannot cut a member off.
   */
  announce(addresses: Readonly<Record<NodeId, string>>, report: (error: HttpTransportError) => void): void {
    if (addresses === null || typeof addresses !== 'object' || Array.isArray(addresses)) {
      report(new HttpTransportError(HttpErrorCode.BadPeerAddress, `updatePeers needs a map of node id to URL, got ${describe(addresses)}`));
      return;
    }
    const next = new Map<NodeId, URL>();
    for (const [peer, address] of Object.entries(addresses)) {
      if (peer === this.self) continue;
      try {
        if (peer === '') throw new Error('empty node id');
        next.set(peer, peerUrl(peer, address));
      } catch (err) {
        const kept = this.announced.get(peer);
        if (kept) next.set(peer, kept);
        const keeping = kept ? `; still reached at ${kept.href}` : '';
        const message = `updatePeers: peer ${JSON.stringify(peer)} has an unusable address ${describe(address)} (${(err as Error).message})${keeping}`;
        report(new HttpTransportError(HttpErrorCode.BadPeerAddress, message, { peer, cause: err }));
      }
    }
    this.announced = next;
  }

  /** Every peer to keep a link to, with its address. */
  resolve(): Map<NodeId, URL> {
    const out = new Map(this.configured);
    for (const [peer, url] of this.announced) out.set(peer, url);
    return out;
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? 'an array' : String(value);
}
