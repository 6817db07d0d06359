/**
 * Unit tests of the dashboard's pieces that need no cluster: the bounded history ring, the
 * term/leader and membership history fed by node events, the commit latency percentiles,
 * the one-second rate sampler, and which files /ui may serve.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MembershipStatus } from '@raftkit/core';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { ClusterHistory, HistoryRing } from '../src/dashboardHistory.js';
import { loadUiFiles } from '../src/dashboardRoutes.js';
import { CommitTimer, percentile, RateSampler, type RateSource } from '../src/dashboardSampler.js';

describe('HistoryRing', () => {
  test('keeps the newest `capacity` items, oldest first, and counts what it dropped', () => {
    const r = new HistoryRing<number>(3);
    expect(r.items()).toEqual([]);
    expect(r.last()).toBeUndefined();
    r.push(1);
    r.push(2);
    expect([r.items(), r.size, r.dropped, r.last()]).toEqual([[1, 2], 2, 0, 2]);
    for (let i = 3; i <= 8; i++) r.push(i);
    expect([r.items(), r.size, r.dropped, r.last()]).toEqual([[6, 7, 8], 3, 5, 8]);
    // items() is a copy: changing it leaves the ring alone.
    r.items().push(99);
    expect(r.items()).toEqual([6, 7, 8]);
  });

  test('a capacity of one holds the latest item', () => {
    const r = new HistoryRing<string>(1);
    r.push('a');
    r.push('b');
    expect([r.items(), r.dropped]).toEqual([['b'], 1]);
  });

  test('refuses a capacity that is not a positive integer', () => {
    for (const c of [0, -1, 1.5, Number.NaN]) expect(() => new HistoryRing(c), String(c)).toThrow(RangeError);
  });
});

/** A stand-in for RaftNode: its status, membership and the two events the history follows. */
class FakeNode extends EventEmitter {
  soft = { role: 'follower', term: 0, leader: null as string | null };
  conf: MembershipStatus = membership(0, true, ['n1', 'n2', 'n3']);
  status() {
    return this.soft as never;
  }
  membership() {
    return this.conf;
  }
}

function membership(index: number, committed: boolean, voters: string[], learners: string[] = []): MembershipStatus {
  return { index, committed, config: { voters, votersOutgoing: [], learners, learnersNext: [], autoLeave: false }, addresses: {} } as MembershipStatus;
}

describe('ClusterHistory', () => {
  test('records the state at start, then each change of role, term or leader with its time', () => {
    const node = new FakeNode();
    let now = 1000;
    const h = new ClusterHistory(node as never, { now: () => now });
    now = 1500;
    node.emit('stateChange', { role: 'pre-candidate', term: 0, leader: null });
    now = 1600;
    node.emit('stateChange', { role: 'candidate', term: 1, leader: null });
    now = 1700;
    node.emit('stateChange', { role: 'leader', term: 1, leader: 'n1' });
    // The same state again is not a change.
    node.emit('stateChange', { role: 'leader', term: 1, leader: 'n1' });
    now = 9000;
    node.emit('stateChange', { role: 'follower', term: 2, leader: 'n2' });
    expect(h.states.items()).toEqual([
      { at: 1000, role: 'follower', term: 0, leader: null },
      { at: 1500, role: 'pre-candidate', term: 0, leader: null },
      { at: 1600, role: 'candidate', term: 1, leader: null },
      { at: 1700, role: 'leader', term: 1, leader: 'n1' },
      { at: 9000, role: 'follower', term: 2, leader: 'n2' },
    ]);
  });

  test('is bounded: past its capacity the oldest changes go', () => {
    const node = new FakeNode();
    const h = new ClusterHistory(node as never, { capacity: 4, now: () => 0 });
    for (let t = 1; t <= 10; t++) node.emit('stateChange', { role: 'follower', term: t, leader: `n${t % 3}` });
    expect(h.states.items().map((s) => s.term)).toEqual([7, 8, 9, 10]);
    expect(h.states.dropped).toBe(7);
  });

  test('records membership changes as the node emits them (appended, then committed), each once', () => {
    const node = new FakeNode();
    let now = 0;
    const h = new ClusterHistory(node as never, { now: () => now });
    now = 10;
    node.emit('membership', membership(5, false, ['n1', 'n2', 'n3'], ['n4']));
    node.emit('membership', membership(5, false, ['n1', 'n2', 'n3'], ['n4']));
    now = 20;
    node.emit('membership', membership(5, true, ['n1', 'n2', 'n3'], ['n4']));
    now = 30;
    node.emit('membership', membership(7, true, ['n1', 'n2', 'n3', 'n4']));
    expect(h.memberships.items()).toEqual([
      { at: 0, index: 0, committed: true, voters: ['n1', 'n2', 'n3'], votersOutgoing: [], learners: [] },
      { at: 10, index: 5, committed: false, voters: ['n1', 'n2', 'n3'], votersOutgoing: [], learners: ['n4'] },
      { at: 20, index: 5, committed: true, voters: ['n1', 'n2', 'n3'], votersOutgoing: [], learners: ['n4'] },
      { at: 30, index: 7, committed: true, voters: ['n1', 'n2', 'n3', 'n4'], votersOutgoing: [], learners: [] },
    ]);
  });
});

describe('commit latency', () => {
  test('nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(xs, 0.5), percentile(xs, 0.99), percentile(xs, 1), percentile([7], 0.99), percentile([], 0.5)]).toEqual([50, 99, 100, 7, null]);
  });

  test('CommitTimer counts every write, keeps a bounded sample, and starts afresh after take()', () => {
    const t = new CommitTimer();
    for (let i = 0; i < 10_000; i++) t.record(i < 5000 ? 1 : 3);
    const a = t.take();
    expect(a.count).toBe(10_000);
    expect(a.p50 === 1 || a.p50 === 3).toBe(true);
    expect(a.p99).toBe(3);
    expect(t.take()).toEqual({ count: 0, p50: null, p99: null });
  });
});

describe('RateSampler', () => {
  afterEach(() => vi.useRealTimers());

  test('per-second rates from counter totals; the first sample is only the baseline', async () => {
    let now = 0;
    const totals = { writes: 0, reads: 0, fsyncCount: 0, fsyncSeconds: 0 };
    const source: RateSource = { totals: async () => ({ ...totals }) };
    const s = new RateSampler(source, { now: () => now, capacity: 2 });
    expect(await s.sample()).toBeNull();
    now = 2000;
    Object.assign(totals, { writes: 100, reads: 30, fsyncCount: 4, fsyncSeconds: 0.01 });
    s.timer.record(4);
    s.timer.record(8);
    expect(await s.sample()).toEqual({ at: 2000, writes: 50, reads: 15, commits: 2, commitP50Ms: 4, commitP99Ms: 8, fsyncMeanMs: 2.5 });
    now = 3000;
    expect(await s.sample()).toEqual({ at: 3000, writes: 0, reads: 0, commits: 0, commitP50Ms: null, commitP99Ms: null, fsyncMeanMs: null });
    now = 4000;
    await s.sample();
    // Bounded: two kept.
    expect(s.samples.items().map((x) => x.at)).toEqual([3000, 4000]);
  });

  test('samples every interval while the node runs and stops by itself once it stopped', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const s = new RateSampler({ totals: async () => (calls++, { writes: calls, reads: 0, fsyncCount: 0, fsyncSeconds: 0 }) }, { intervalMs: 100, now: () => Date.now() });
    let running = false;
    s.start(() => running);
    // The baseline at once, so a write in the first interval counts.
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(250);
    // Not started yet is not "stopped": it samples (the node starts after the routes exist).
    expect(calls).toBe(3);
    running = true;
    await vi.advanceTimersByTimeAsync(300);
    expect(calls).toBe(6);
    expect(s.samples.size).toBe(5);
    running = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(6);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('loadUiFiles', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('serves only regular files of known types directly in the directory', () => {
    dir = mkdtempSync(join(tmpdir(), 'raftkit-ui-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    writeFileSync(join(dir, 'app.js'), 'export {}');
    writeFileSync(join(dir, 'notes.txt'), 'unknown type');
    writeFileSync(join(dir, '.hidden.js'), 'dotfile');
    mkdirSync(join(dir, 'sub.js'));
    writeFileSync(join(dir, 'secret.json'), '{}');
    symlinkSync('/etc/passwd', join(dir, 'passwd.css'));
    const files = loadUiFiles(dir);
    expect([...files.keys()].sort()).toEqual(['app.js', 'index.html']);
    expect(files.get('app.js')!.type).toBe('text/javascript; charset=utf-8');
    expect(files.get('index.html')!.etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(loadUiFiles(join(dir, 'missing')).size).toBe(0);
  });
});
