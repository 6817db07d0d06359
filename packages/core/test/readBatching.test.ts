// Thesis §6.4 ReadIndex, batched: concurrent reads share heartbeat rounds (leader) and
// forwards (follower); a round or a forward answers only reads that began before it was sent.
import { describe, expect, test } from 'vitest';
import type { Message } from '../src/consensus/types.js';
import { TestCluster } from './helpers/cluster.js';

const heartbeats = (ms: Message[]) => ms.filter((m) => m.type === 'heartbeat');

function ready(overrides = {}): TestCluster {
  const c = new TestCluster(['a', 'b', 'c'], overrides);
  c.elect('a');
  c.propose('a', 'x');
  c.stabilize();
  return c;
}

describe('§6.4 ReadIndex on the leader: reads share heartbeat rounds', () => {
  test('reads that arrive while a round is in flight share the next round; one round per batch, not per read', () => {
    const c = ready();
    const a = c.node('a');
    a.raw.readIndex('r0');
    c.flush('a');
    const first = heartbeats(c.take());
    expect(first.map((m) => m.to).sort()).toEqual(['b', 'c']);
    for (let i = 1; i <= 10; i++) a.raw.readIndex(`r${i}`);
    c.flush('a');
    // Nothing new leaves while the first round is unanswered.
    expect(heartbeats(c.queue)).toEqual([]);
    // b's answer to the first round confirms r0 (a and b are a majority) and starts the next
    // round for the ten that waited.
    for (const m of first.filter((m) => m.to === 'b')) c.deliver(m);
    c.deliver(c.take((m) => m.to === 'a')[0]!);
    expect(a.readStates.map((r) => r.requestId)).toEqual(['r0']);
    const second = heartbeats(c.take());
    expect(second.map((m) => m.to).sort()).toEqual(['b', 'c']);
    expect(second[0]!.type === 'heartbeat' && second[0]!.context).toBeGreaterThan(first[0]!.type === 'heartbeat' ? first[0]!.context : 0);
    for (const m of second.filter((m) => m.to === 'c')) c.deliver(m);
    c.deliver(c.take((m) => m.to === 'a')[0]!);
    expect(a.readStates.map((r) => r.requestId)).toEqual(['r0', ...Array.from({ length: 10 }, (_, i) => `r${i + 1}`)]);
    expect(a.readStates.every((r) => r.index === a.raw.status().commitIndex)).toBe(true);
  });

  test('an acknowledgement of a round sent before a read arrived does not confirm that read', () => {
    const c = ready();
    const a = c.node('a');
    a.raw.readIndex('early');
    c.flush('a');
    const first = heartbeats(c.take());
    a.raw.readIndex('late'); // arrives after the first round left
    c.flush('a');
    for (const m of first) c.deliver(m);
    for (const m of c.take((m) => m.to === 'a' && m.type === 'heartbeatResponse')) c.deliver(m);
    expect(a.readStates.map((r) => r.requestId)).toEqual(['early']);
    // 'late' rides on the next round and is confirmed by its acks.
    c.stabilize();
    expect(a.readStates.map((r) => r.requestId)).toEqual(['early', 'late']);
  });

  test('a periodic heartbeat takes every read queued before it (a lost round does not stall reads)', () => {
    const c = ready();
    const a = c.node('a');
    a.raw.readIndex('r1');
    c.flush('a');
    c.take(); // the round carrying r1 is lost
    a.raw.readIndex('r2');
    c.flush('a');
    expect(heartbeats(c.queue)).toEqual([]);
    c.tick('a'); // heartbeatTicks is 1: a new round, sent after both reads arrived
    c.stabilize();
    expect(a.readStates.map((r) => r.requestId).sort()).toEqual(['r1', 'r2']);
  });

  test('a lease read costs no message', () => {
    const c = ready();
    const a = c.node('a');
    c.tick('a');
    c.stabilize();
    expect(a.raw.leaseReadIndex()).toBe(a.raw.status().commitIndex);
    expect(a.raw.hasReady()).toBe(false);
  });
});

describe('§6.4 ReadIndex on a follower: reads are forwarded in batches', () => {
  test('reads arriving while a forward is in flight go together in the next one, after its answer', () => {
    const c = ready();
    const b = c.node('b');
    b.raw.readIndex('b1');
    c.flush('b');
    const first = c.take((m) => m.type === 'readIndex');
    expect(first.length).toBe(1);
    for (let i = 2; i <= 6; i++) b.raw.readIndex(`b${i}`);
    c.flush('b');
    expect(c.queue.filter((m) => m.type === 'readIndex')).toEqual([]);
    c.deliver(first[0]!);
    c.stabilize(); // a's round, b's answer; then b forwards b2..b6 as one request
    expect(b.readStates.map((r) => r.requestId)).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
    expect(b.readStates.every((r) => r.index > 0)).toBe(true);
  });

  test('a forward whose answer is lost is followed by another after a few ticks', () => {
    const c = ready();
    const b = c.node('b');
    b.raw.readIndex('b1');
    c.flush('b');
    c.take((m) => m.type === 'readIndex'); // lost
    b.raw.readIndex('b2');
    c.flush('b');
    expect(c.queue.filter((m) => m.type === 'readIndex')).toEqual([]);
    c.tick('b', 2);
    const retry = c.take((m) => m.type === 'readIndex');
    expect(retry.length).toBe(1);
    c.deliver(retry[0]!);
    c.stabilize();
    expect(b.readStates.map((r) => r.requestId)).toEqual(['b2']);
  });

  test('a change of leader fails the forwarded reads at once (the caller retries), never leaves them waiting', () => {
    const c = ready({ preVote: false, checkQuorum: false });
    const b = c.node('b');
    b.raw.readIndex('b1');
    c.flush('b');
    c.take((m) => m.type === 'readIndex');
    c.elect('c');
    expect(c.leaders()).toEqual(['c']);
    expect(b.readStates).toEqual([{ requestId: 'b1', index: 0 }]);
  });
});
