import type { Message, NodeId, TransportHandler } from '@raftkit/core';
import { sequenceOf, sequencedMessage } from '@raftkit/transport-suite';
import { type LinkFaults, ManualScheduler, MemoryNetwork, type MemoryTransport } from '../src/index.js';

/** One delivery as a node saw it: when, from whom, which sequenced message. */
export interface Arrival {
  readonly at: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly seq: number;
  readonly message: Message;
}

/** Records deliveries and unreachable reports with the virtual time they happened at. */
export class Recorder implements TransportHandler {
  readonly arrivals: Arrival[] = [];
  readonly unreachable: NodeId[] = [];
  constructor(private readonly clock: ManualScheduler) {}

  onMessage(message: Message): void {
    const { from, to } = message;
    this.arrivals.push({ at: this.clock.now(), from, to, seq: sequenceOf(message), message });
  }

  onUnreachable(peer: NodeId): void {
    this.unreachable.push(peer);
  }
}

export interface VirtualCluster {
  readonly clock: ManualScheduler;
  readonly network: MemoryNetwork;
  readonly transports: Record<NodeId, MemoryTransport>;
  readonly recorders: Record<NodeId, Recorder>;
}

/** Nodes n1..nN on a MemoryNetwork driven by a ManualScheduler, all started. */
export async function virtualCluster(seed: number, faults?: LinkFaults, size = 3): Promise<VirtualCluster> {
  const clock = new ManualScheduler();
  const network = new MemoryNetwork({ seed, scheduler: clock, faults });
  const transports: Record<NodeId, MemoryTransport> = {};
  const recorders: Record<NodeId, Recorder> = {};
  for (let i = 1; i <= size; i++) {
    const id = `n${i}`;
    transports[id] = network.transport(id);
    recorders[id] = new Recorder(clock);
    await transports[id].start(recorders[id]);
  }
  return { clock, network, transports, recorders };
}

/** `from` sends `count` sequenced messages to each of `to`, one send call per millisecond. */
export function sendSequence(cluster: VirtualCluster, from: NodeId, to: readonly NodeId[], count: number): void {
  for (let seq = 0; seq < count; seq++) {
    cluster.transports[from].send(to.map((peer) => sequencedMessage(from, peer, seq)));
    cluster.clock.advance(1);
  }
}

/** Every delivery in the cluster, in delivery order, as comparable strings. */
export function trace(cluster: VirtualCluster): string[] {
  return Object.values(cluster.recorders)
    .flatMap((r) => r.arrivals)
    .map((a) => `${a.at} ${a.from}>${a.to} #${a.seq}`);
}

/** Sends a standard workload under `faults` with `seed`, runs it to the end, returns the trace. */
export async function runWorkload(seed: number, faults: LinkFaults): Promise<{ cluster: VirtualCluster; trace: string[] }> {
  const cluster = await virtualCluster(seed, faults);
  sendSequence(cluster, 'n1', ['n2', 'n3'], 200);
  cluster.clock.runUntilIdle();
  return { cluster, trace: trace(cluster) };
}

/** Sequence numbers a node received from one sender, in arrival order. */
export function seqsFrom(cluster: VirtualCluster, to: NodeId, from: NodeId): number[] {
  return cluster.recorders[to].arrivals.filter((a) => a.from === from).map((a) => a.seq);
}
