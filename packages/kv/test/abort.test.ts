// KvClient calls take an AbortSignal: an abort ends the call (and its retries) with the
// signal's reason; an already-aborted signal sends nothing.
import { afterEach, describe, expect, test } from 'vitest';
import { KvClient, KvErrorCode } from '../src/index.js';
import { TestCluster } from './helpers/cluster.js';
import { FakeNode, timeout } from './helpers/fakeNode.js';
import { VirtualClock } from './helpers/virtualClock.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function startCluster(): Promise<TestCluster> {
  cluster = new TestCluster({ size: 3 });
  await cluster.start();
  await cluster.waitForLeader();
  return cluster;
}

/** Records how `p` settles, without running any clock. */
function capture<T>(p: Promise<T>): { settled: () => boolean; error: () => unknown } {
  let done = false;
  let error: unknown;
  p.then(() => (done = true), (e) => ((done = true), (error = e)));
  return { settled: () => done, error: () => error };
}

const reason = (): Error => Object.assign(new Error('caller gave up'), { name: 'AbortError' });

describe('KvClient with an AbortSignal', () => {
  test('an already-aborted signal rejects every call with its reason and proposes or reads nothing', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica());
    await kv.put('a', 1); // a session exists, so what follows would propose at once
    const before = node.proposals.length;
    const signal = AbortSignal.abort(reason());
    for (const call of [
      () => kv.put('a', 2, { signal }),
      () => kv.delete('a', { signal }),
      () => kv.cas('a', 1, 2, { signal }),
      () => kv.putMany([['b', 1]], { signal }),
      () => kv.keepAlive({ signal }),
      () => kv.get('a', { signal }),
      () => kv.get('a', { signal, consistency: 'stale' }),
      () => kv.range('', { signal }),
    ]) {
      await expect(call()).rejects.toThrow('caller gave up');
    }
    expect(node.proposals.length).toBe(before);
    expect(node.reads).toHaveLength(0);
    expect((await kv.get('a')).value).toBe(1);
  });

  test('a first write aborted while its session opens rejects; the session still opens for the next write', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica());
    const controller = new AbortController();
    const p = kv.put('a', 1, { signal: controller.signal });
    controller.abort(reason());
    await expect(p).rejects.toThrow('caller gave up');
    expect((await kv.put('b', 2)).revision).toBeGreaterThan(0);
    expect(kv.session).not.toBeNull();
  });

  test('something other than an AbortSignal is refused with KV_INVALID_ARGUMENT', async () => {
    const kv = new KvClient(new FakeNode().replica());
    await expect(kv.get('a', { signal: 'stop' as unknown as AbortSignal })).rejects.toMatchObject({ code: KvErrorCode.InvalidArgument });
    await expect(kv.put('a', 1, { signal: {} as AbortSignal })).rejects.toMatchObject({ code: KvErrorCode.InvalidArgument });
  });

  test('an abort ends a write that keeps retrying (between attempts), long before its deadline', async () => {
    const clock = new VirtualClock();
    const node = new FakeNode();
    const kv = new KvClient(node.replica(), { clock, timeoutMs: 60_000, retryDelayMs: 50 });
    await kv.put('warm', 1);
    node.failures = Array.from({ length: 1_000 }, () => ({ error: timeout() }));
    const controller = new AbortController();
    const p = kv.put('a', 1, { signal: controller.signal });
    const outcome = capture(p);
    await clock.run(1_000);
    const attempts = node.proposals.length;
    expect(attempts).toBeGreaterThan(5); // still retrying
    expect(outcome.settled()).toBe(false);
    controller.abort(reason());
    await clock.run(0);
    expect(outcome.settled()).toBe(true);
    expect((outcome.error() as Error).message).toBe('caller gave up');
    await clock.run(1_000);
    expect(node.proposals.length).toBe(attempts); // no attempt after the abort
    expect(clock.now()).toBeLessThan(3_000);
  });

  test('the signal reaches the node: an abort ends a propose or a read in flight', async () => {
    const node = new FakeNode();
    const kv = new KvClient(node.replica());
    await kv.put('warm', 1);
    node.hang = true;
    for (const call of [(signal: AbortSignal) => kv.put('a', 1, { signal }), (signal: AbortSignal) => kv.get('a', { signal })]) {
      const controller = new AbortController();
      const p = call(controller.signal);
      await Promise.resolve();
      expect(node.calls.at(-1)?.signal).toBe(controller.signal);
      controller.abort(reason());
      await expect(p).rejects.toThrow('caller gave up');
    }
  });

  test('on a real cluster, an abort after the propose rejects the call; the client and its session keep working', async () => {
    const c = await startCluster();
    const kv = c.clientOn(c.leader()!);
    await c.clock.settleOf(kv.put('n', 0));
    const sessionId = kv.session?.clientId;
    const controller = new AbortController();
    const p = kv.put('n', 1, { signal: controller.signal });
    controller.abort(reason()); // after the propose: the write may still apply, once
    const r = await c.clock.settleOf(p);
    expect(r.ok).toBe(false);
    expect((r as { error: Error }).error.message).toBe('caller gave up');
    await c.clock.run(500);
    expect((await c.clock.settleOf(kv.get('n'))).ok).toBe(true);
    const after = await c.clock.settleOf(kv.put('n', 2));
    expect(after.ok).toBe(true);
    expect(kv.session?.clientId).toBe(sessionId);
    expect((await c.clock.settleOf(kv.get('n')))).toMatchObject({ ok: true, value: { value: 2 } });
  });
});
