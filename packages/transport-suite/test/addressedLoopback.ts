import type { Message, NodeId, Transport, TransportHandler } from '@raftkit/core';

/**
 * A loopback transport that routes by address, like a network transport: it knows only the
 * peers it was given and those `updatePeers` announces (configured peers stay when a map lacks
 * them). Every factory call shares one address space, so a lone node made by a second call can
 * be reached once announced. Checks the suite's updatePeers cases.
 */
const listening = new Map<string, AddressedLoopback>();
let nextPort = 1;

export class AddressedLoopback implements Transport {
  readonly address = `loop://${nextPort++}`;
  private readonly configured = new Map<NodeId, string>();
  private announced = new Map<NodeId, string>();
  private handler: TransportHandler | undefined;
  private closed = false;

  constructor(readonly id: NodeId) {}

  setPeer(id: NodeId, address: string): void {
    this.configured.set(id, address);
  }

  updatePeers(addresses: Readonly<Record<NodeId, string>>): void {
    this.announced = new Map(Object.entries(addresses).filter(([id]) => id !== this.id));
  }

  async start(handler: TransportHandler): Promise<void> {
    this.handler = handler;
    listening.set(this.address, this);
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const message of messages) {
      const copy = structuredClone(message);
      const address = this.announced.get(copy.to) ?? this.configured.get(copy.to);
      const target = address === undefined ? undefined : listening.get(address);
      // A receiver takes messages only from peers it knows, as an authenticating network does.
      setImmediate(() => {
        if (target?.knows(this.id)) target.receive(copy);
        else if (!this.closed) this.handler?.onUnreachable?.(copy.to);
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    listening.delete(this.address);
  }

  private knows(peer: NodeId): boolean {
    return this.announced.has(peer) || this.configured.has(peer);
  }

  private receive(message: Message): void {
    if (!this.closed) this.handler?.onMessage(message);
  }
}
