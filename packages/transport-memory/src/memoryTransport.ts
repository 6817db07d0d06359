import { ErrorCode, RaftError } from '@raftkit/core';
import type { Message, NodeId, Transport, TransportHandler } from '@raftkit/core';

/** A started transport as the network sees it. Invariant: `open` is false once closed, for good. */
export interface Endpoint {
  readonly id: NodeId;
  readonly handler: TransportHandler;
  open: boolean;
}

/** What a MemoryTransport needs from its network. */
export interface NetworkPort {
  attach(id: NodeId, handler: TransportHandler): Endpoint;
  /** `endpoint` is null when the transport is not started or is closed. */
  send(senderId: NodeId, endpoint: Endpoint | null, messages: readonly Message[]): void;
  detach(transport: MemoryTransport, endpoint: Endpoint | null): void;
}

export type MemoryTransportState = 'created' | 'started' | 'closed';

/**
 * One node's connection to a MemoryNetwork; get one from `network.transport(id)`.
 *
 * Other nodes can reach it from `start()` until `close()`. Sending before `start()` or after
 * `close()` neither throws nor delivers (the messages count as dropped). A closed transport
 * cannot restart: ask the network for a new one with the same id to model a node restart.
 */
export class MemoryTransport implements Transport {
  private phase: MemoryTransportState = 'created';
  /** Invariant: non-null exactly while `phase === 'started'`. */
  private endpoint: Endpoint | null = null;

  constructor(
    readonly id: NodeId,
    private readonly port: NetworkPort,
  ) {}

  get state(): MemoryTransportState {
    return this.phase;
  }

  async start(handler: TransportHandler): Promise<void> {
    if (this.phase === 'closed') throw new RaftError(ErrorCode.Stopped, `transport ${this.id} is closed`);
    if (this.phase === 'started') throw new RaftError(ErrorCode.InvalidArgument, `transport ${this.id} already started`);
    if (typeof handler?.onMessage !== 'function') {
      throw new RaftError(ErrorCode.InvalidArgument, 'start needs a handler with onMessage');
    }
    this.endpoint = this.port.attach(this.id, handler);
    this.phase = 'started';
  }

  /**
   * Copies the messages and queues them. Throws RAFT_BAD_MESSAGE, before sending any, if one
   * is malformed or not from this node; never throws for an unreachable peer.
   */
  send(messages: readonly Message[]): void {
    this.port.send(this.id, this.endpoint, messages);
  }

  /** Stops delivery both ways at once; messages in flight to or from this node are dropped. */
  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    const endpoint = this.endpoint;
    this.phase = 'closed';
    this.endpoint = null;
    this.port.detach(this, endpoint);
  }
}
