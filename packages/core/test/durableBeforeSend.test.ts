// Raft Figure 2: "Persistent state on all servers (updated on stable storage before responding
// to RPCs)". Every message that relies on a change of term or vote (a vote grant, a candidate's
// own RequestVote, anything said in a newly adopted term) or on new entries (an acknowledgement)
// must leave only after a synced write holds that change: the core marks it (Ready.mustSync)
// and the runtime obeys (LogWrite.sync, then send).
import { describe, expect, test, vi } from 'vitest';
import { RawNode, type RaftConfig, type Ready } from '../src/consensus/index.js';
import type { Message } from '../src/consensus/types.js';
import { log, stored, vote } from './helpers/paper.js';
import { SyncCheckedCluster, type SyncOf } from './helpers/syncCheckedCluster.js';
import { SyncedDisk } from './helpers/syncedDisk.js';
import { SyncedRuntime } from './helpers/syncedRuntime.js';

const three = ['a', 'b', 'c'];
const five = ['a', 'b', 'c', 'd', 'e'];
/** A core that marks only entries and snapshots for sync, forgetting term and vote. */
const forgetsHardState: SyncOf = (rd: Ready) => rd.entries.length > 0 || rd.snapshot !== null;

/** Seeds of randomized clusters: plain Raft, pre-vote, check-quorum and both, 3 and 5 nodes. */
function clusters(seeds: number, syncOf?: SyncOf): SyncCheckedCluster[] {
  const out: SyncCheckedCluster[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const config = { preVote: seed % 2 === 0, checkQuorum: seed % 4 >= 2 };
    out.push(new SyncCheckedCluster({ ids: seed % 3 === 0 ? five : three, seed, steps: 600, config, syncOf }));
  }
  return out;
}

function runAll(cs: SyncCheckedCluster[], tolerateThrows: boolean): void {
  for (const c of cs) {
    try {
      c.run();
    } catch (err) {
      // A core that lost its vote can end up with two leaders in a term, which it detects itself.
      if (!tolerateThrows) throw new Error(`seed ${c.opts.seed}: ${String(err)}`, { cause: err });
      c.violations.push(`threw: ${String(err)}`);
    }
  }
}

describe('Figure 2 persistent state: synced before the message that relies on it', () => {
  /**
   * b grants a its vote in term 2, crashes right after the grant left, restarts from its disk
   * and is asked by c in term 2. Plain protocol: check-quorum's restart guard would refuse c for
   * an election timeout anyway and hide a lost vote.
   */
  function grantsAcrossCrash(syncOf: SyncOf): string[] {
    const disk = new SyncedDisk(stored({ term: 1 }, log(1)));
    const boot = () => {
      const s = disk.crash();
      return new RawNode({ id: 'b', voters: three, random: () => 0, preVote: false, checkQuorum: false }, { hardState: s.hardState, entries: s.entries, snapshot: s.snapshot });
    };
    const deliver = (b: RawNode, m: Message): Message[] => {
      b.step(m);
      const out: Message[] = [];
      while (b.hasReady()) {
        const rd = b.ready();
        disk.write(rd.snapshot, rd.entries, rd.hardState, syncOf(rd));
        out.push(...rd.messages);
        b.advance(rd);
      }
      return out;
    };
    const first = deliver(boot(), vote({ from: 'a', to: 'b', term: 2, lastLogIndex: 1, lastLogTerm: 1 }));
    const second = deliver(boot(), vote({ from: 'c', to: 'b', term: 2, lastLogIndex: 1, lastLogTerm: 1 }));
    return [...first, ...second].filter((m) => m.type === 'voteResponse' && m.granted).map((m) => m.to);
  }

  test('Figure 2 persistent state (§5.2): a vote synced before its grant leaves survives a crash; one vote per term holds', () => {
    expect(grantsAcrossCrash((rd) => rd.mustSync)).toEqual(['a']);
    // The double vote (two leaders in term 2) that a core forgetting to sync its vote allows.
    expect(grantsAcrossCrash(forgetsHardState)).toEqual(['a', 'c']);
  });

  test('Figure 2 persistent state (§5.2, §5.3): in 200 randomized clusters every message\'s term, vote and acknowledged entries are synced by its Ready', () => {
    const cs = clusters(200);
    runAll(cs, false);
    const violations = cs.flatMap((c) => c.violations.map((v) => `seed ${c.opts.seed}: ${v}`));
    expect(violations.slice(0, 5)).toEqual([]);
    // The situations were there: messages whose promise only their own Ready made durable.
    const fresh = { 'vote grant': 0, 'own vote request': 0, term: 0, 'entries ack': 0 };
    for (const c of cs) for (const k of Object.keys(fresh) as (keyof typeof fresh)[]) fresh[k] += c.fresh[k];
    expect(fresh['vote grant']).toBeGreaterThan(500);
    expect(fresh['own vote request']).toBeGreaterThan(1000);
    expect(fresh.term).toBeGreaterThan(2000);
    expect(fresh['entries ack']).toBeGreaterThan(1000);
    expect(cs.reduce((n, c) => n + c.hardStateOnlySyncs, 0)).toBeGreaterThan(1000);
  });

  test('Figure 2 persistent state (§5.2): the same check catches a core that stops marking term and vote changes for sync', () => {
    const cs = clusters(60, forgetsHardState);
    runAll(cs, true);
    const failing = cs.filter((c) => c.violations.length > 0);
    expect(failing.length).toBeGreaterThan(50); // of 60
    const all = failing.flatMap((c) => c.violations);
    expect(all.some((v) => v.includes('vote for') && v.includes('not synced'))).toBe(true);
    expect(all.some((v) => v.includes('own vote not synced'))).toBe(true);
    expect(all.some((v) => v.includes('with synced term'))).toBe(true);
  });
});

describe('RaftNode: no message reaches the transport before the synced write it relies on has resolved', () => {
  async function run(config: Partial<RaftConfig>, seed: number): Promise<SyncedRuntime> {
    const h = new SyncedRuntime(['a', 'b', 'c'], config, seed);
    try {
      for (const id of h.ids) await h.boot(id);
      await h.run(8);
    } finally {
      await h.stopAll();
    }
    return h;
  }
  const plain = { preVote: false, checkQuorum: false };

  test.each([
    ['plain Raft', plain],
    ['pre-vote and check-quorum (the defaults)', {}],
  ])('Figure 2 persistent state (§5.2, §5.3): %s, 5 seeds of leader partitions and crashes', async (_name, config) => {
    const fresh = { 'vote grant': 0, 'own vote request': 0, term: 0, 'entries ack': 0 };
    for (let seed = 1; seed <= 5; seed++) {
      const h = await run(config, seed);
      expect(h.violations.slice(0, 5), `seed ${seed}`).toEqual([]);
      for (const k of Object.keys(fresh) as (keyof typeof fresh)[]) fresh[k] += h.fresh[k];
    }
    // Messages whose promise only the write just before them made durable.
    expect(fresh['vote grant']).toBeGreaterThan(20);
    expect(fresh['own vote request']).toBeGreaterThan(30);
    expect(fresh.term).toBeGreaterThan(100);
    expect(fresh['entries ack']).toBeGreaterThan(100);
  });

  test('Figure 2 persistent state (§5.2): the check catches a core whose Readies stop marking term and vote changes for sync', async () => {
    const original = RawNode.prototype.ready;
    const spy = vi.spyOn(RawNode.prototype, 'ready').mockImplementation(function (this: RawNode) {
      const rd = original.call(this);
      (rd as { mustSync: boolean }).mustSync = forgetsHardState(rd);
      return rd;
    });
    try {
      const h = await run(plain, 7);
      expect(h.violations.some((v) => v.includes('not synced'))).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  test('Figure 2 persistent state (§5.2, §5.3): the check catches a runtime that sends before its write resolves', async () => {
    const h = await run({ ...plain, testingBugs: { sendBeforePersist: true } }, 7);
    expect(h.violations.some((v) => v.includes('not synced'))).toBe(true);
    expect(h.violations.some((v) => v.includes('acknowledges'))).toBe(true);
  });
});
