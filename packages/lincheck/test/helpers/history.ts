import type { ClientId, KvInput, KvModelInput, KvOutput, Operation } from '../../src/index.js';

export type KvOp<I extends KvModelInput = KvInput> = Operation<I, KvOutput>;

/** An `ok` operation with explicit id, client and [call, return]. */
export function ok<I extends KvModelInput>(id: number, clientId: ClientId, call: number, ret: number, input: I, output: KvOutput = {}): KvOp<I> {
  return { id, clientId, call, return: ret, status: 'ok', input, output };
}

/** An operation whose outcome the client never learned. */
export function unknown<I extends KvModelInput>(id: number, clientId: ClientId, call: number, input: I): KvOp<I> {
  return { id, clientId, call, status: 'unknown', input };
}

/** An operation that definitely did not take effect. */
export function failed<I extends KvModelInput>(id: number, clientId: ClientId, call: number, ret: number, input: I): KvOp<I> {
  return { id, clientId, call, return: ret, status: 'fail', input };
}

/** mulberry32: a small seeded PRNG, so every generated history replays exactly. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
