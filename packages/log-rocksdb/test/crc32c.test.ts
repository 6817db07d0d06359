import { describe, expect, test } from 'vitest';
import { crc32c } from '../src/crc32c.js';

/** Bit-at-a-time reference, straight from the definition. */
function reference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c', () => {
  test('matches the published check value and the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  test('agrees with the bitwise reference for every length 0..200 and unaligned views', () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let length = 0; length <= 200; length++) {
      for (const offset of [0, 1, 3, 7]) {
        const view = bytes.subarray(offset, offset + length);
        expect(crc32c(view)).toBe(reference(view));
      }
    }
  });

  test('continues across chunks: crc32c(b, crc32c(a)) is the CRC of a then b', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 17) & 0xff);
    for (const cut of [0, 1, 8, 13, 500, 999, 1000]) {
      expect(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut)))).toBe(crc32c(data));
    }
  });

  test('detects any single flipped bit', () => {
    const data = Uint8Array.from({ length: 64 }, (_, i) => i * 3);
    const good = crc32c(data);
    for (let bit = 0; bit < data.length * 8; bit++) {
      const copy = data.slice();
      copy[bit >> 3] ^= 1 << (bit & 7);
      expect(crc32c(copy)).not.toBe(good);
    }
  });
});
