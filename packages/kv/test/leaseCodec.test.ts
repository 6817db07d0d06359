import { describe, expect, test } from 'vitest';
import { DecodeError, Reader, TruncatedError, Writer } from '../src/codec/binary.js';
import { MAX_KEY_BYTES } from '../src/commands.js';
import { leaseParts, LeaseSectionDecoder, readLeaseSection, writeLeaseSection } from '../src/leaseCodec.js';
import { MAX_LEASE_TTL_MS } from '../src/leaseErrors.js';
import { LeaseTable } from '../src/leaseTable.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const encode = (t: LeaseTable): Uint8Array => {
  const w = new Writer();
  writeLeaseSection(w, t.capture());
  return w.finish();
};
const decode = (bytes: Uint8Array): LeaseTable => {
  const r = new Reader(bytes);
  const t = readLeaseSection(r);
  r.end();
  return t;
};
const state = (t: LeaseTable) => t.list().map((l) => ({ ...l, keys: t.keysOf(l.id) }));

/** Builds a section by hand: [id, ttl, revision, keys][] with raw counts. */
function section(leases: [number, number, number, string[]][], count = leases.length): Uint8Array {
  const w = new Writer().varint(count);
  for (const [id, ttl, rev, keys] of leases) {
    w.varint(id).varint(ttl).varint(rev).varint(keys.length);
    for (const k of keys) w.string(k);
  }
  return w.finish();
}

function sample(): LeaseTable {
  const t = new LeaseTable();
  t.grant(40, 10_000, 12);
  t.grant(3, 500, 7);
  t.grant(2 ** 40, MAX_LEASE_TTL_MS, 13);
  for (const k of ['b', 'ключ', 'a', '🔑/x']) t.attach(k, 40);
  t.attach('solo', 3);
  return t;
}

describe('lease section encoding', () => {
  test('round-trips every lease, TTL, revision and key', () => {
    const t = sample();
    const back = decode(encode(t));
    expect(state(back)).toEqual(state(t));
    expect(back.attachedCount).toBe(5);
    expect(state(back).map((l) => l.keys)).toEqual([['solo'], ['a', 'b', 'ключ', '🔑/x'], []]);
  });

  test('an empty table is one zero byte', () => {
    expect(hex(encode(new LeaseTable()))).toBe('00');
    expect(decode(new Uint8Array([0])).size).toBe(0);
  });

  test('the layout is stable (golden bytes)', () => {
    const t = new LeaseTable();
    t.grant(300, 1000, 5);
    t.grant(1, 2, 3);
    t.attach('b', 300);
    t.attach('a', 300);
    // count 2 | id 1, ttl 2, rev 3, 0 keys | id 300, ttl 1000, rev 5, 2 keys, "a", "b"
    expect(hex(encode(t))).toBe('02' + '01020300' + 'ac02' + 'e807' + '05' + '02' + '0161' + '0162');
  });

  test('equal tables give equal bytes, whatever order they were built in', () => {
    const a = sample();
    const b = new LeaseTable();
    b.grant(2 ** 40, MAX_LEASE_TTL_MS, 13);
    b.grant(3, 500, 7);
    b.attach('solo', 3);
    b.attach('gone', 3);
    b.grant(40, 10_000, 12);
    for (const k of ['🔑/x', 'a', 'ключ', 'b']) b.attach(k, 40);
    b.detach('gone', 3);
    expect(hex(encode(b))).toBe(hex(encode(a)));
    // Decoding and encoding again gives the same bytes too.
    expect(hex(encode(decode(encode(a))))).toBe(hex(encode(a)));
  });

  test('encodes the captured table, not the live one', () => {
    const t = sample();
    const expected = hex(encode(t));
    const c = t.capture();
    t.attach('late', 40);
    t.revoke(3);
    t.grant(1, 1, 99);
    const w = new Writer();
    writeLeaseSection(w, c);
    expect(hex(w.finish())).toBe(expected);
  });

  test('parts written to different writers join into the same bytes (what a chunked stream does)', () => {
    const t = sample();
    const pieces = [...leaseParts(t.capture())].map((part) => {
      const w = new Writer(1);
      part(w);
      return hex(w.finish());
    });
    // count, 3 headers, 5 keys
    expect(pieces).toHaveLength(1 + 3 + 5);
    expect(pieces.join('')).toBe(hex(encode(t)));
  });
});

describe('lease section decoding part by part', () => {
  test('a part cut short throws TruncatedError and is read again whole, at every cut', () => {
    const bytes = encode(sample());
    for (let cut = 0; cut < bytes.length; cut++) {
      const d = new LeaseSectionDecoder();
      // What a snapshot decoder does: parse the parts it has, retry the rest with more bytes.
      let at = 0;
      const feed = (buf: Uint8Array) => {
        while (!d.done && at < buf.length) {
          const r = new Reader(buf.subarray(at));
          try {
            d.readPart(r);
          } catch (err) {
            if (err instanceof TruncatedError) return;
            throw err;
          }
          at += r.offset;
        }
      };
      feed(bytes.subarray(0, cut));
      expect(d.done).toBe(false);
      expect(() => d.finish()).toThrow(DecodeError);
      feed(bytes);
      expect(d.done).toBe(true);
      expect(at).toBe(bytes.length);
      expect(state(d.finish())).toEqual(state(sample()));
    }
  });

  test('readPart after the end is refused', () => {
    const d = new LeaseSectionDecoder();
    d.readPart(new Reader(new Uint8Array([0])));
    expect(d.done).toBe(true);
    expect(() => d.readPart(new Reader(new Uint8Array([0])))).toThrow(/already complete/);
  });
});

describe('corrupt lease sections are refused with DecodeError', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['id 0', section([[0, 10, 1, []]]), /lease id 0 .* not above 0/],
    ['ids not ascending', section([[5, 10, 1, []], [5, 10, 1, []]]), /lease id 5 .* not above 5/],
    ['ids descending', section([[5, 10, 1, []], [4, 10, 1, []]]), /not above 5/],
    ['ttl 0', section([[1, 0, 1, []]]), /ttlMs 0/],
    ['ttl above the maximum', section([[1, MAX_LEASE_TTL_MS + 1, 1, []]]), /ttlMs/],
    ['grant revision 0', section([[1, 10, 0, []]]), /grant revision 0/],
    ['keys out of order', section([[1, 10, 1, ['b', 'a']]]), /key "a" out of order/],
    ['a key twice in one lease', section([[1, 10, 1, ['a', 'a']]]), /out of order/],
    ['a key in two leases', section([[1, 10, 1, ['k']], [2, 10, 1, ['k']]]), /attached to two leases/],
    ['an empty key', section([[1, 10, 1, ['']]]), /key of 0 bytes/],
    ['a key over MAX_KEY_BYTES', section([[1, 10, 1, ['x'.repeat(MAX_KEY_BYTES + 1)]]]), /key of 4097 bytes/],
    ['a lease count beyond the data', section([[1, 10, 1, []]], 2), /truncated/],
    ['a key count beyond the data', new Uint8Array([1, 1, 10, 1, 3, 1, 0x61]), /truncated/],
    ['invalid UTF-8 in a key', new Uint8Array([1, 1, 10, 1, 1, 1, 0xff]), /invalid UTF-8/],
    ['a non-minimal varint', new Uint8Array([0x81, 0x00]), /non-minimal/],
    ['nothing at all', new Uint8Array(0), /truncated/],
  ];

  test.each(cases)('%s', (_name, bytes, message) => {
    let error: unknown;
    try {
      decode(bytes);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as Error).message).toMatch(message);
  });

  test('every truncation of a valid section is refused', () => {
    const bytes = encode(sample());
    for (let n = 0; n < bytes.length; n++) expect(() => decode(bytes.subarray(0, n)), `cut at ${n}`).toThrow(DecodeError);
  });

  test('trailing bytes are left to the caller (the section knows its own end)', () => {
    const bytes = new Uint8Array([...encode(sample()), 0x42]);
    const r = new Reader(bytes);
    expect(readLeaseSection(r).size).toBe(3);
    expect(r.remaining).toBe(1);
  });
});
