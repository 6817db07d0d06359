import { kv } from '@raftkit/lincheck';
import { describe, expect, test, vi } from 'vitest';
import { chaos } from '../src/chaos/command.js';
import { LeaderWatch } from '../src/chaos/leaderWatch.js';
import { planFaults } from '../src/chaos/nemesis.js';
import { seededRandom } from '../src/chaos/random.js';
import type { KvOp } from '../src/chaos/types.js';
import { findLostWrites } from '../src/chaos/verdict.js';

describe('the fault schedule', () => {
  const options = { kinds: ['kill-leader', 'pause', 'partition'] as const, ordered: true, durationMs: 20_000 };

  test('is the same for the same seed and differs for another', () => {
    expect(planFaults(seededRandom(5), options)).toEqual(planFaults(seededRandom(5), options));
    expect(planFaults(seededRandom(5), options)).not.toEqual(planFaults(seededRandom(6), options));
  });

  test('runs each requested kind once first, in order, one fault at a time, within the phase', () => {
    const plan = planFaults(seededRandom(9), options);
    expect(plan.slice(0, 3).map((f) => f.kind)).toEqual(['kill-leader', 'pause', 'partition']);
    for (let i = 0; i < plan.length; i++) {
      const f = plan[i]!;
      expect(f.at + f.duration).toBeLessThanOrEqual(options.durationMs);
      if (i > 0) expect(f.at).toBeGreaterThan(plan[i - 1]!.at + plan[i - 1]!.duration);
    }
  });
});

describe('the leader watch', () => {
  const status = (id: string, role: string, term: number) => ({ id, role, term, leader: role === 'leader' ? id : null, commitIndex: 0 });

  test('reports two leaders in one term (Raft §5.2 Election Safety)', () => {
    const watch = new LeaderWatch({ ids: ['n1', 'n2'], statuses: async () => [] }, () => 0);
    watch.observe([status('n1', 'leader', 3), status('n2', 'follower', 3)], 0);
    watch.observe([status('n2', 'leader', 3)], 100);
    expect(watch.conflicts).toEqual(['term 3: both n1 and n2 said they were leader']);
  });

  test('follows the highest term when a deposed leader has not noticed yet', () => {
    let t = 0;
    const watch = new LeaderWatch({ ids: ['n1', 'n2'], statuses: async () => [] }, () => t);
    watch.observe([status('n1', 'leader', 1)], (t = 0));
    watch.observe([status('n1', 'leader', 1), status('n2', 'leader', 2)], (t = 200));
    watch.observe([status('n2', 'leader', 2)], (t = 400));
    expect(watch.conflicts).toEqual([]);
    expect(watch.leadersSeen()).toEqual([{ term: 1, node: 'n1' }, { term: 2, node: 'n2' }]);
    expect(watch.spans.map((s) => [s.node, s.term, s.start])).toEqual([['n1', 1, 0]]); // n2's is still open
  });

  test('records when a node stops and starts answering', async () => {
    let t = 0;
    const watch = new LeaderWatch({ ids: ['n1', 'n2'], statuses: async () => [] }, () => t);
    watch.observe([status('n1', 'leader', 1), status('n2', 'follower', 1)], (t = 0));
    watch.observe([status('n1', 'leader', 1)], (t = 200));
    watch.observe([status('n1', 'leader', 1)], (t = 400));
    watch.observe([status('n1', 'leader', 1), status('n2', 'follower', 1)], (t = 600));
    watch.observe([], (t = 800));
    t = 1000;
    await watch.stop();
    expect(watch.silences).toEqual([
      { node: 'n2', start: 200, end: 600 },
      { node: 'n1', start: 800, end: 1000 },
      { node: 'n2', start: 800, end: 1000 },
    ]);
  });
});

describe('lost acknowledged writes', () => {
  const ok = (id: number, client: string, call: number, ret: number, input: KvOp['input'], output: KvOp['output']): KvOp =>
    ({ id, clientId: client, call, return: ret, status: 'ok', input, output });

  test('an acknowledged put that is not the final value and that nothing later overwrote is lost', () => {
    const history = [ok(0, 'c1', 0, 10, kv.put('k', 'a'), {}), ok(1, 'c2', 20, 30, kv.put('k', 'b'), {}), ok(2, 'final', 100, 110, kv.get('k'), { value: 'a' })];
    expect(findLostWrites(history, 'final').map((l) => [l.op.id, l.finalValue])).toEqual([[1, 'a']]);
  });

  test('an unknown write or a concurrent acknowledged one explains a vanished value', () => {
    const unknown: KvOp = { id: 3, clientId: 'c3', call: 50, return: Infinity, status: 'unknown', input: kv.cas('k', 'b', 'c'), output: undefined };
    const base = [ok(0, 'c1', 0, 40, kv.put('k', 'a'), {}), ok(1, 'c2', 20, 30, kv.put('k', 'b'), {})];
    expect(findLostWrites([...base, ok(2, 'final', 100, 110, kv.get('k'), { value: 'a' })], 'final')).toEqual([]);
    expect(findLostWrites([...base, unknown, ok(2, 'final', 100, 110, kv.get('k'), { value: 'c' })], 'final')).toEqual([]);
  });

  test('a successful cas counts as a write, a failed one does not', () => {
    const history = [
      ok(0, 'c1', 0, 10, kv.cas('k', null, 'a'), { ok: true }),
      ok(1, 'c2', 20, 30, kv.cas('k', 'zz', 'b'), { ok: false, value: 'a' }),
      ok(2, 'final', 100, 110, kv.get('k'), { value: null }),
    ];
    expect(findLostWrites(history, 'final').map((l) => l.op.id)).toEqual([0]);
  });
});

describe('chaos flags', () => {
  test('a usage error prints the usage and exits 2 without starting anything', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await chaos(new Map([['nodes', '4']]))).toBe(2);
      expect(await chaos(new Map([['faults', 'kill,meteor']]))).toBe(2);
      expect(await chaos(new Map<string, string | true>([['bogus', true]]))).toBe(2);
      expect(String(stderr.mock.calls[0]?.[0])).toContain('--nodes must be 3 or 5');
      expect(String(stderr.mock.calls[1]?.[0])).toContain('--faults takes a comma-separated list');
    } finally {
      stderr.mockRestore();
    }
  });
});
