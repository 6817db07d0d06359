import type { ClientId, KvInput, KvOutput, Operation } from '../../src/index.js';

export type KvOp = Operation<KvInput, KvOutput>;

/** An `ok` operation with explicit id, client and [call, return]. */
export function ok(id: number, clientId: ClientId, call: number, ret: number, input: KvInput, output: KvOutput = {}): KvOp {
  return { id, clientId, call, return: ret, status: 'ok', input, output };
}

/** An operation whose outcome the client never learned. */
export function unknown(id: number, clientId: ClientId, call: number, input: KvInput): KvOp {
  return { id, clientId, call, status: 'unknown', input };
}

/** An operation that definitely did not take effect. */
export function failed(id: number, clientId: ClientId, call: number, ret: number, input: KvInput): KvOp {
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
