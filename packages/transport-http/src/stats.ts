import type { NodeId } from '@raftkit/core';

/** Counters for one peer; message counts are per message, not per request. */
export interface PeerStats {
  /** Base URL messages to this peer go to, or null if it is no longer a peer. */
  readonly url: string | null;
  /** Messages the peer acknowledged (its answer was 2xx). */
  readonly sent: number;
  /** Messages received from the peer and delivered to the handler. */
  readonly received: number;
  /** Messages to the peer given up: queue overflow, backing off, failed request, close. */
  readonly dropped: number;
  /** Messages waiting to go out now. */
  readonly queued: number;
  /** Requests made to the peer. */
  readonly requests: number;
  /** Requests that failed: network error, timeout or error status. */
  readonly failures: number;
  /** Request body bytes sent to the peer. */
  readonly bytesSent: number;
  /** Request body bytes accepted from the peer. */
  readonly bytesReceived: number;
  /** Requests the peer answered 503 RAFT_HTTP_BUSY (backpressure: it backed off, nothing reported). */
  readonly busy: number;
  /** Messages the peer refused as too large (413), each reported as RAFT_HTTP_MESSAGE_TOO_LARGE. */
  readonly tooLarge: number;
  /** Streams to the peer that opened (option `stream`; a stream is renewed every minute). */
  readonly streamsOpened: number;
  /** Option `stream`: on a stream (`open`), opening one, or on requests after one failed (`fallback`). */
  readonly stream: 'off' | 'opening' | 'open' | 'fallback';
  /** Current backoff after a failure, in ms; 0 while the peer is healthy. */
  readonly backoffMs: number;
  /** Failed requests since the last success. */
  readonly consecutiveFailures: number;
}

export interface HttpTransportStats {
  readonly id: NodeId;
  readonly peers: Readonly<Record<NodeId, PeerStats>>;
  /** Messages addressed to a node that is not a peer (each reported through onUnreachable). */
  readonly unknownPeerDrops: number;
  /** Outgoing messages refused because they could not be encoded (RAFT_BAD_MESSAGE). */
  readonly invalidMessages: number;
  readonly inbound: {
    /** Requests that reached the messages endpoint. */
    readonly requests: number;
    /** Streams peers have open to this node now. */
    readonly streams: number;
    /** Requests answered with an error, by error code. */
    readonly rejected: Readonly<Record<string, number>>;
  };
}

/** The mutable counters behind PeerStats that are not live link state. */
export interface PeerCounters {
  sent: number;
  received: number;
  dropped: number;
  requests: number;
  failures: number;
  bytesSent: number;
  bytesReceived: number;
  busy: number;
  tooLarge: number;
  streamsOpened: number;
}

export function newPeerCounters(): PeerCounters {
  return { sent: 0, received: 0, dropped: 0, requests: 0, failures: 0, bytesSent: 0, bytesReceived: 0, busy: 0, tooLarge: 0, streamsOpened: 0 };
}

/** Transport-wide counters, shared by the client side and the router. */
export class StatsBook {
  readonly peers = new Map<NodeId, PeerCounters>();
  unknownPeerDrops = 0;
  invalidMessages = 0;
  inboundRequests = 0;
  readonly rejected = new Map<string, number>();

  peer(id: NodeId): PeerCounters {
    let counters = this.peers.get(id);
    if (!counters) this.peers.set(id, (counters = newPeerCounters()));
    return counters;
  }

  reject(code: string): void {
    this.rejected.set(code, (this.rejected.get(code) ?? 0) + 1);
  }
}
