import type { Message, NodeId, Transport, TransportHandler } from '@raftkit/core';

/** The simplest correct transport: a FIFO queue drained on setImmediate. Checks the suite itself. */
export class LoopbackHub {
  private readonly open = new Map<NodeId, LoopbackTransport>();
  private queue: Array<() => void> = [];
  private immediate: NodeJS.Immediate | undefined;

  transport(id: NodeId): LoopbackTransport {
    return new LoopbackTransport(id, this);
  }

  attach(transport: LoopbackTransport): void {
    this.open.set(transport.id, transport);
  }

  detach(transport: LoopbackTransport): void {
    if (this.open.get(transport.id) === transport) this.open.delete(transport.id);
  }

  lookup(id: NodeId): LoopbackTransport | undefined {
    return this.open.get(id);
  }

  enqueue(task: () => void): void {
    this.queue.push(task);
    this.immediate ??= setImmediate(() => this.drain());
  }

  cleanup(): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.queue = [];
  }

  private drain(): void {
    this.immediate = undefined;
    const tasks = this.queue;
    this.queue = [];
    for (const task of tasks) task();
  }
}

export class LoopbackTransport implements Transport {
  private handler: TransportHandler | undefined;
  private closed = false;

  constructor(
    readonly id: NodeId,
    private readonly hub: LoopbackHub,
  ) {}

  async start(handler: TransportHandler): Promise<void> {
    this.handler = handler;
    this.hub.attach(this);
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const message of messages) this.route(structuredClone(message));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.hub.detach(this);
  }

  private route(message: Message): void {
    const target = this.hub.lookup(message.to);
    if (target) this.hub.enqueue(() => target.receive(message));
    else this.hub.enqueue(() => this.closed || this.handler?.onUnreachable?.(message.to));
  }

  private receive(message: Message): void {
    if (!this.closed) this.handler?.onMessage(message);
  }
}
