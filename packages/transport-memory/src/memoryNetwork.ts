import { ErrorCode, RaftError } from '@raftkit/core';
import type { Message, NodeId, TransportHandler } from '@raftkit/core';
import { Agenda } from './agenda.js';
import { Connectivity } from './connectivity.js';
import { checkMessage, copyMessage } from './copy.js';
import { FaultTable, type LinkFaults, type ResolvedFaults } from './faults.js';
import { type Endpoint, MemoryTransport, type NetworkPort } from './memoryTransport.js';
import { PairMap } from './pairMap.js';
import { SeededRandom } from './random.js';
import { type Scheduler, systemScheduler } from './scheduler.js';
import { type NetworkStats, StatsRecorder, messageTypes } from './stats.js';

export interface MemoryNetworkOptions {
  /** Seeds every random decision; the same seed and the same sends give the same decisions. */
  readonly seed: number;
  /** Where delivery timing comes from; default `systemScheduler` (real timers). */
  readonly scheduler?: Scheduler;
  /** Initial default faults for every link; default none. */
  readonly faults?: LinkFaults;
}

interface Delivery {
  readonly kind: 'deliver';
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly message: Message;
  /** Invariant: set once, when delivered or dropped; a done task never runs again. */
  done: boolean;
}

interface UnreachableNotice {
  readonly kind: 'unreachable';
  readonly sender: Endpoint;
  readonly peer: NodeId;
  done: boolean;
}

type Task = Delivery | UnreachableNotice;

interface LinkState {
  /** Delivery time of the link's latest queued message. Later ones are due no earlier (FIFO). */
  lastAt: number;
  /** Copies held back by the reorder fault, released after the link's next message. */
  held: Delivery[];
}

/**
 * An in-process network hub with seeded, run-time adjustable fault injection.
 *
 * Each message a started transport sends draws, in this order and whatever the settings:
 * one number for `duplicate`, then per copy one each for `drop`, `reorder` and `delay`. Messages
 * to a node that has no started transport are reported through the sender's `onUnreachable`;
 * messages over a cut link (partition, block, isolate) are dropped silently and draw nothing.
 */
export class MemoryNetwork {
  readonly seed: number;
  readonly scheduler: Scheduler;
  private readonly random: SeededRandom;
  private readonly faultTable: FaultTable;
  private readonly connectivity = new Connectivity();
  private readonly counters = new StatsRecorder();
  private readonly agenda: Agenda<Task>;
  private readonly links = new PairMap<LinkState>();
  /** Invariant: the not-yet-closed transport of each id, at most one per id. */
  private readonly transports = new Map<NodeId, MemoryTransport>();
  /** Invariant: the endpoints of exactly the started, not-yet-closed transports. */
  private readonly endpoints = new Map<NodeId, Endpoint>();
  /** Invariant: number of Deliveries created and not yet done. */
  private inFlight = 0;
  private readonly port: NetworkPort = {
    attach: (id, handler) => this.attach(id, handler),
    send: (senderId, endpoint, messages) => this.dispatch(senderId, endpoint, messages),
    detach: (transport, endpoint) => this.detach(transport, endpoint),
  };

  constructor(options: MemoryNetworkOptions) {
    this.seed = options?.seed;
    this.random = new SeededRandom(this.seed);
    this.scheduler = options.scheduler ?? systemScheduler;
    checkScheduler(this.scheduler);
    this.faultTable = new FaultTable(options.faults);
    this.agenda = new Agenda<Task>(this.scheduler, (task) => this.runTask(task), (task) => task.done);
  }

  /** A new transport for node `id`. Throws RAFT_INVALID_ARGUMENT if `id` already has an open one. */
  transport(id: NodeId): MemoryTransport {
    if (typeof id !== 'string' || id === '') throw new RaftError(ErrorCode.InvalidArgument, 'node id must be a non-empty string');
    if (this.transports.has(id)) throw new RaftError(ErrorCode.InvalidArgument, `node ${id} already has an open transport`);
    const transport = new MemoryTransport(id, this.port);
    this.transports.set(id, transport);
    return transport;
  }

  /** Merges `faults` into the defaults every link uses; settings not given keep their value. */
  setFaults(faults: LinkFaults): void {
    this.faultTable.setDefaults(faults);
  }

  /** Overrides faults for messages from `from` to `to` (one direction); null removes the override. */
  setLinkFaults(from: NodeId, to: NodeId, faults: LinkFaults | null): void {
    this.faultTable.setLink(from, to, faults);
  }

  /** Removes every fault setting: defaults back to none, link overrides gone. */
  clearFaults(): void {
    this.faultTable.clear();
  }

  /** The faults in force from `from` to `to`. */
  effectiveFaults(from: NodeId, to: NodeId): ResolvedFaults {
    return this.faultTable.resolve(from, to);
  }

  /** Cuts every link between nodes of different groups, both ways: `partition([a, b], [c])`. */
  partition(...groups: (readonly NodeId[])[]): void {
    this.connectivity.partition(groups);
  }

  /** Cuts one direction: `from` can no longer reach `to`, while `to` still reaches `from`. */
  block(from: NodeId, to: NodeId): void {
    this.connectivity.block(from, to);
  }

  unblock(from: NodeId, to: NodeId): void {
    this.connectivity.unblock(from, to);
  }

  /** Cuts node `id` off from every other node, both ways. */
  isolate(id: NodeId): void {
    this.connectivity.isolate(id);
  }

  /** Restores every link cut by partition, block or isolate. Faults stay as they are. */
  heal(): void {
    this.connectivity.heal();
  }

  /** Whether no partition, block or isolation cuts the link from `from` to `to`. */
  canReach(from: NodeId, to: NodeId): boolean {
    return this.connectivity.allows(from, to);
  }

  stats(): NetworkStats {
    return this.counters.snapshot(this.inFlight);
  }

  /** Zeroes the counters; `inFlight` still counts what is in flight. */
  resetStats(): void {
    this.counters.reset();
  }

  /** Closes every open transport; afterwards the network holds no pending timer. */
  async close(): Promise<void> {
    await Promise.all([...this.transports.values()].map((t) => t.close()));
  }

  private attach(id: NodeId, handler: TransportHandler): Endpoint {
    const endpoint: Endpoint = { id, handler, open: true };
    this.endpoints.set(id, endpoint);
    return endpoint;
  }

  private detach(transport: MemoryTransport, endpoint: Endpoint | null): void {
    if (this.transports.get(transport.id) === transport) this.transports.delete(transport.id);
    if (!endpoint) return;
    endpoint.open = false;
    if (this.endpoints.get(endpoint.id) === endpoint) this.endpoints.delete(endpoint.id);
    const involved = (task: Task) =>
      task.kind === 'deliver' ? task.from === endpoint || task.to === endpoint : task.sender === endpoint;
    for (const task of this.agenda.removeWhere(involved)) this.abandon(task);
  }

  private dispatch(senderId: NodeId, sender: Endpoint | null, messages: readonly Message[]): void {
    if (!sender) return this.discard(messages);
    const copies = messages.map((message) => {
      checkMessage(message, senderId);
      return copyMessage(message);
    });
    const reported = new Set<NodeId>();
    for (const message of copies) {
      this.counters.count(message.type, 'sent');
      const target = this.endpoints.get(message.to);
      if (!target) this.unreachable(sender, message, reported);
      else if (!this.connectivity.allows(sender.id, target.id)) this.counters.count(message.type, 'dropped');
      else this.route(sender, target, message);
    }
  }

  /** Messages given to a transport that is not started or already closed. */
  private discard(messages: readonly Message[]): void {
    for (const message of messages) {
      if (!messageTypes.has(message?.type)) continue;
      this.counters.count(message.type, 'sent');
      this.counters.count(message.type, 'dropped');
    }
  }

  /** Reports `message.to` to the sender, once per send call, after `send` returns. */
  private unreachable(sender: Endpoint, message: Message, reported: Set<NodeId>): void {
    this.counters.count(message.type, 'unreachable');
    if (reported.has(message.to)) return;
    reported.add(message.to);
    this.agenda.push(this.scheduler.now(), { kind: 'unreachable', sender, peer: message.to, done: false });
  }

  private route(from: Endpoint, to: Endpoint, message: Message): void {
    const faults = this.faultTable.resolve(from.id, to.id);
    const twice = this.random.chance(faults.duplicate);
    if (twice) this.counters.count(message.type, 'duplicated');
    this.schedule(from, to, message, faults);
    if (twice) this.schedule(from, to, copyMessage(message), faults);
  }

  private schedule(from: Endpoint, to: Endpoint, message: Message, faults: ResolvedFaults): void {
    const lost = this.random.chance(faults.drop);
    const heldBack = this.random.chance(faults.reorder);
    const delay = this.random.int(faults.delay.min, faults.delay.max);
    if (lost) return this.counters.count(message.type, 'dropped');
    const delivery: Delivery = { kind: 'deliver', from, to, message, done: false };
    this.inFlight++;
    const link = this.link(from.id, to.id);
    const at = this.scheduler.now() + delay;
    if (heldBack) {
      link.held.push(delivery);
      this.agenda.push(at + faults.reorderHoldMs, delivery);
      return;
    }
    link.lastAt = Math.max(at, link.lastAt);
    this.agenda.push(link.lastAt, delivery);
    // Queued after this message at the same time, so they arrive right after it.
    for (const held of link.held.splice(0)) if (!held.done) this.agenda.push(link.lastAt, held);
  }

  private link(from: NodeId, to: NodeId): LinkState {
    let link = this.links.get(from, to);
    if (!link) this.links.set(from, to, (link = { lastAt: Number.NEGATIVE_INFINITY, held: [] }));
    return link;
  }

  private runTask(task: Task): void {
    if (task.done) return;
    task.done = true;
    if (task.kind === 'unreachable') {
      if (task.sender.open) task.sender.handler.onUnreachable?.(task.peer);
      return;
    }
    this.inFlight--;
    const { from, to, message } = task;
    if (!to.open || !this.connectivity.allows(from.id, to.id)) return this.counters.count(message.type, 'dropped');
    this.counters.count(message.type, 'delivered');
    to.handler.onMessage(message);
  }

  /** A task removed before it ran, because its sender or receiver closed. */
  private abandon(task: Task): void {
    if (task.done) return;
    task.done = true;
    if (task.kind === 'deliver') {
      this.inFlight--;
      this.counters.count(task.message.type, 'dropped');
    }
  }
}

function checkScheduler(scheduler: Scheduler): void {
  const methods = ['now', 'setTimeout', 'clearTimeout'] as const;
  if (methods.some((m) => typeof scheduler?.[m] !== 'function')) {
    throw new RaftError(ErrorCode.InvalidConfig, 'scheduler needs now(), setTimeout() and clearTimeout()');
  }
}
