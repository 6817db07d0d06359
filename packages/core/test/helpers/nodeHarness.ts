import type { SnapshotOptions } from '../../src/runtime/snapshots.js';
import { RaftNode } from '../../src/runtime/raftNode.js';
import { FakeNetwork, FakeStorage, LogMachine, ManualClock } from './fakes.js';

export interface Member {
  node: RaftNode<number>;
  storage: FakeStorage;
  sm: LogMachine;
}

/** RaftNodes on a virtual clock and a loopback network, with in-test storages. */
export class Harness {
  readonly clock = new ManualClock();
  readonly net = new FakeNetwork();
  readonly members = new Map<string, Member>();

  constructor(readonly ids: readonly string[] = ['a', 'b', 'c']) {}

  async boot(id: string, storage = new FakeStorage(), opts: { snapshotEvery?: number; snapshots?: SnapshotOptions; commitCoalesceMs?: number } = {}, sm = new LogMachine()): Promise<Member> {
    let seed = this.ids.indexOf(id) + 1;
    const node = await RaftNode.create<number>({
      id,
      voters: [...this.ids],
      storage,
      transport: this.net.transport(id),
      stateMachine: sm,
      clock: this.clock,
      tickMs: 10,
      random: () => ((seed = (seed * 48271) % 2147483647) / 2147483647),
      ...opts,
    });
    await node.start();
    const m = { node, storage, sm };
    this.members.set(id, m);
    return m;
  }

  leader(): Member | undefined {
    return [...this.members.values()].find((m) => m.node.status().role === 'leader');
  }

  async stopAll(): Promise<void> {
    for (const m of this.members.values()) await m.node.stop();
  }
}
