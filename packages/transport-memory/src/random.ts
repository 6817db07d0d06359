import { ErrorCode, RaftError } from '@raftkit/core';

/** splitmix32: spreads a seed's bits so nearby seeds give unrelated streams. */
function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * xoshiro128** (Blackman & Vigna), seeded through splitmix32. The only source of randomness in
 * a MemoryNetwork: the same seed gives the same stream on every platform.
 */
export class SeededRandom {
  private readonly s = new Uint32Array(4);

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new RaftError(ErrorCode.InvalidConfig, `seed must be a safe integer, got ${seed}`);
    }
    const mix = splitmix32((seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32), 0x27d4eb2d));
    for (let i = 0; i < 4; i++) this.s[i] = mix();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** True with probability `p`. Always draws once, so decisions stay aligned whatever `p` is. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A uniform integer in [min, max]. Always draws once. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
