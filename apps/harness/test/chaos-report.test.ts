import { kv, type KvInput, type KvOutput } from '@raftkit/lincheck';
import { describe, expect, test } from 'vitest';
import { renderReport, type ReportInput } from '../src/chaos/report/render.js';
import type { FaultWindow, KvOp, OpInfo } from '../src/chaos/types.js';
import { judge } from '../src/chaos/verdict.js';
import { FINAL_CLIENT } from '../src/chaos/workload.js';

/** Builds a history op; `ret` undefined means unknown (never returned). */
function op(id: number, clientId: string, call: number, ret: number | undefined, input: KvInput, output?: KvOutput): KvOp {
  if (ret === undefined) return { id, clientId, call, return: Infinity, status: 'unknown', input, output: undefined };
  return { id, clientId, call, return: ret, status: 'ok', input, output };
}

const faults: FaultWindow[] = [
  { kind: 'kill-leader', label: 'kill n2 (leader)', start: 900, end: 1800 },
  { kind: 'partition', label: 'partition {n1} | {n2,n3}', start: 2200, end: 3000 },
];

function report(history: KvOp[], info = new Map<number, OpInfo>()): { html: string; input: ReportInput } {
  const input: ReportInput = {
    seed: 7,
    nodes: ['n1', 'n2', 'n3'],
    clients: 2,
    durationMs: 3000,
    startedAt: '2026-01-01T00:00:00.000Z',
    endMs: 4000,
    healedAt: 3000,
    history,
    info,
    faults,
    leaders: [
      { node: 'n2', term: 1, start: 0, end: 900 },
      { node: 'n3', term: 2, start: 1200, end: 4000 },
    ],
    silences: [{ node: 'n2', start: 900, end: 2100 }],
    leadersSeen: [
      { term: 1, node: 'n2' },
      { term: 2, node: 'n3' },
    ],
    judgement: judge(history, FINAL_CLIENT, 1_000_000, []),
  };
  return { html: renderReport(input), input };
}

const linearizable = (): KvOp[] => [
  op(0, 'c1', 100, 200, kv.put('k1', 'c1-1'), {}),
  op(1, 'c2', 150, 400, kv.get('k1'), { value: 'c1-1' }),
  op(2, 'c1', 1000, undefined, kv.put('k1', 'c1-2')),
  op(3, 'c2', 2300, 2500, kv.cas('k1', 'c1-1', 'c2-1'), { ok: false, value: 'c1-2' }),
  { id: 4, clientId: 'c2', call: 2600, return: 2900, status: 'fail', input: kv.get('k1'), output: undefined },
  op(5, FINAL_CLIENT, 3500, 3600, kv.get('k1'), { value: 'c1-2' }),
];

describe('the HTML report', () => {
  test('shows the verdict, counts, leaders and labelled fault windows of a good run', () => {
    const info = new Map<number, OpInfo>([[2, { attempts: 3, note: 'gave up after 3 requests (last: n2: timed out)', gaveUpAt: 1900 }]]);
    const { html, input } = report(linearizable(), info);
    expect(input.judgement.passed).toBe(true);
    expect(html).toContain('PASS: linearizable, no acknowledged write lost');
    expect(html).toContain('kill n2 (leader)');
    expect(html).toContain('partition {n1} | {n2,n3}');
    expect(html).toContain('n2 (term 1), n3 (term 2)');
    expect(html).toContain('n2 did not answer 0.900 s – 2.100 s');
    // ok / unknown / failed counts of all ops: 4 ok, 1 unknown, 1 failed.
    expect(html).toContain('<td>all</td><td>6</td><td>4</td><td>1</td><td>1</td>');
    expect(html).toContain('url(#main-hatch-put)'); // the unknown put is hatched
    expect(html).toContain('gave up after 3 requests');
    expect(html).not.toContain('Violation');
  });

  test('is self-contained: no scripts, no external assets', () => {
    const { html } = report(linearizable());
    expect(html).not.toMatch(/<script|<link|src=|href="(?!#)|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  test('shows a stale read as a violation with its witness on a zoomed timeline', () => {
    const history = [
      op(0, 'c1', 100, 200, kv.put('k1', 'c1-1'), {}),
      op(1, 'c2', 1000, 1100, kv.get('k1'), { value: null }), // stale: c1-1 was acknowledged before
      op(2, FINAL_CLIENT, 3500, 3600, kv.get('k1'), { value: 'c1-1' }),
    ];
    const { html, input } = report(history);
    expect(input.judgement.check.result).toBe('illegal');
    expect(html).toContain('FAIL: NOT linearizable');
    expect(html).toContain('Violation on key &#34;k1&#34;');
    expect(html).toMatch(/<td><a href="#main-op-1">#1<\/a><\/td><td>c2<\/td><td><code>get\(&#34;k1&#34;\) → absent<\/code><\/td>/);
    expect(html).toContain('id="main-op-1"'); // the link's target on the main timeline
    expect(html).toContain('<b>essential</b>');
    expect(html).toContain('class="witness" stroke="#c00"'); // outlined on the timelines
    expect(html.match(/<svg /g)).toHaveLength(2); // the main timeline and the zoomed one
  });

  test('always shows the operation the check got stuck on, even when the witness leaves it out', () => {
    // lincheck's shrinker blames the cas (whose value comes from a put called after the stuck
    // read returned) rather than the stale read; the report must still show the stale read.
    const history = [
      op(0, 'c1', 0, 100, kv.put('k', 'a'), {}),
      op(1, 'c2', 200, 300, kv.get('k'), { value: null }),
      op(2, 'c3', 250, 1000, kv.cas('k', 'zz', 'q'), { ok: false, value: 'b' }),
      op(3, 'c4', 500, 600, kv.put('k', 'b'), {}),
    ];
    const { html } = report(history);
    expect(html).toMatch(/<td><a href="#main-op-1">#1<\/a><\/td>.*the check got stuck here/);
  });

  test('lists an acknowledged write that vanished', () => {
    const history = [
      op(0, 'c1', 100, 200, kv.put('k1', 'c1-1'), {}),
      op(1, 'c2', 300, 400, kv.put('k1', 'c2-1'), {}),
      op(2, FINAL_CLIENT, 3500, 3600, kv.get('k1'), { value: 'c1-1' }),
    ];
    const { html, input } = report(history);
    expect(input.judgement.lost.map((l) => l.op.id)).toEqual([1]);
    expect(html).toContain('1 acknowledged write LOST');
    expect(html).toMatch(/<td>#1<\/td><td>c2<\/td><td><code>put\(&#34;k1&#34;, &#34;c2-1&#34;\)<\/code>/);
  });
});
