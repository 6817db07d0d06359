// A leader's commit-only AppendEntries wait a moment to ride with the next entries
// (CommitCoalescer): the unit's rules on a manual clock, then RaftNodes that propose one write
// at a time, where the notices must mostly disappear and every follower must still apply every
// write, also the last one, after which no entries follow.
import { describe, expect, test } from 'vitest';
import type { Message } from '../src/consensus/types.js';
import { CommitCoalescer } from '../src/runtime/commitCoalescer.js';
import { ManualClock, settle } from './helpers/fakes.js';
import { Harness } from './helpers/nodeHarness.js';

const append = (to: string, commit: number, entries = 0): Message =>
  ({ type: 'append', from: 'a', to, term: 1, prevIndex: 5, prevTerm: 1, commit, entries: Array.from({ length: entries }, (_, i) => ({ index: 6 + i, term: 1, type: 0, data: new Uint8Array() })) }) as unknown as Message;
const heartbeat = (to: string): Message => ({ type: 'heartbeat', from: 'a', to, term: 1, commit: 5, context: 1 }) as unknown as Message;

describe('CommitCoalescer', () => {
  function setup(delayMs = 2) {
    const clock = new ManualClock();
    const sent: Message[][] = [];
    return { clock, sent, c: new CommitCoalescer(clock, delayMs, (ms) => sent.push([...ms])) };
  }

  test('sends everything but empty AppendEntries at once, in order', () => {
    const { c, sent } = setup();
    const batch = [append('b', 5, 2), heartbeat('c'), append('c', 5, 1)];
    c.route(batch);
    expect(sent).toEqual([batch]);
  });

  test('holds an empty AppendEntries for at most the delay, then sends it', async () => {
    const { c, sent, clock } = setup(2);
    c.route([append('b', 6), heartbeat('c'), append('c', 6)]);
    expect(sent).toEqual([[heartbeat('c')]]);
    await clock.advance(1);
    expect(sent).toHaveLength(1);
    await clock.advance(1);
    expect(sent).toEqual([[heartbeat('c')], [append('b', 6), append('c', 6)]]);
    expect(c.saved).toBe(0);
  });

  test('a later AppendEntries to the same peer takes a held one\'s place; other peers keep theirs', async () => {
    const { c, sent, clock } = setup(2);
    c.route([append('b', 6), append('c', 6)]);
    c.route([append('b', 7, 1)]);
    expect(sent).toEqual([[append('b', 7, 1)]]);
    await clock.advance(2);
    expect(sent).toEqual([[append('b', 7, 1)], [append('c', 6)]]);
    expect(c.saved).toBe(1);
  });

  test('a newer empty AppendEntries replaces the held one (one message per peer, the latest commit)', async () => {
    const { c, sent, clock } = setup(2);
    c.route([append('b', 6)]);
    c.route([append('b', 7)]);
    await clock.advance(2);
    expect(sent).toEqual([[append('b', 7)]]);
  });

  test('a delay of 0 holds nothing; close drops what is held and its timer', async () => {
    const off = setup(0);
    off.c.route([append('b', 6)]);
    expect(off.sent).toEqual([[append('b', 6)]]);
    const { c, sent, clock } = setup(2);
    c.route([append('b', 6)]);
    c.close();
    await clock.advance(10);
    expect(sent).toEqual([]);
  });
});

describe('RaftNodes proposing one write at a time', () => {
  async function run(commitCoalesceMs: number | undefined) {
    const h = new Harness();
    const empty: Message[] = [];
    h.net.onSend = (m) => {
      if (m.type === 'append' && m.entries.length === 0) empty.push(m);
    };
    for (const id of h.ids) await bootWith(h, id, commitCoalesceMs);
    await h.clock.until(() => h.leader() !== undefined);
    const leader = h.leader()!;
    await h.clock.advance(50);
    empty.length = 0;
    const writes = 20;
    for (let i = 0; i < writes; i++) {
      let done = false;
      void leader.node.propose(new TextEncoder().encode(`w${i}`)).then(() => (done = true));
      // Each write is applied on the leader before the next is proposed (c=1); no virtual
      // time passes meanwhile (messages and writes settle on setImmediate).
      for (let turns = 0; !done; turns++) {
        if (turns > 1000) throw new Error(`write ${i} was not applied`);
        await settle();
      }
    }
    // No virtual time has passed: the notice of the last commit may still be held.
    await h.clock.advance(commitCoalesceMs ?? 2);
    const applied = [...h.members.values()].map((m) => m.sm.items.length);
    const noticed = empty.length;
    await h.stopAll();
    return { applied, noticed, writes };
  }

  const bootWith = (h: Harness, id: string, commitCoalesceMs: number | undefined) => h.boot(id, undefined, commitCoalesceMs !== undefined ? { commitCoalesceMs } : {});

  test('by default the commit notices ride with the next write; every follower still applies every write within the delay', async () => {
    const r = await run(undefined);
    expect(r.applied.every((n) => n === r.applied[0])).toBe(true);
    expect(r.applied[0]).toBeGreaterThanOrEqual(r.writes);
    // Only the last write's notices (one per follower) had no next write to ride with.
    expect(r.noticed).toBeLessThanOrEqual(2);
  });

  test('with commitCoalesceMs 0 every commit is its own notice to each follower', async () => {
    const r = await run(0);
    expect(r.applied.every((n) => n === r.applied[0])).toBe(true);
    expect(r.noticed).toBeGreaterThanOrEqual(2 * r.writes);
  });

  test('a negative or fractional commitCoalesceMs is refused by name', async () => {
    const h = new Harness();
    await expect(bootWith(h, 'a', -1)).rejects.toThrow(/commitCoalesceMs must be a non-negative integer/);
    await expect(bootWith(h, 'a', 1.5)).rejects.toThrow(/commitCoalesceMs/);
  });
});
