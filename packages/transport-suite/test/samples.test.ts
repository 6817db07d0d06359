import { EntryType, type AppendRequest, type SnapshotRequest, type VoteRequest, crc32c, validateMembership } from '@raftkit/core';
import { describe, expect, it } from 'vitest';
import {
  MESSAGE_TYPES,
  MiB,
  chunkBurst,
  diffValues,
  largeAppend,
  largeChunk,
  offsetView,
  patternBytes,
  sampleConfState,
  sampleMessages,
  samplesOfType,
  sequenceOf,
  sequencedMessage,
  sha256Hex,
} from '../src/index.js';

describe('sample messages', () => {
  it('covers every type of the Message union', () => {
    const types = new Set(sampleMessages('a', 'b').map((m) => m.type));
    expect([...types].sort()).toEqual([...MESSAGE_TYPES].sort());
    expect(MESSAGE_TYPES).toHaveLength(12);
  });

  it('addresses every sample from `from` to `to`', () => {
    for (const m of sampleMessages('a', 'b')) expect([m.from, m.to]).toEqual(['a', 'b']);
  });

  it('includes binary entries, an empty entry, and an entry viewing a larger buffer', () => {
    const [append] = samplesOfType('append', 'a', 'b') as AppendRequest[];
    expect(append.entries.map((e) => e.index)).toEqual([11, 12, 13]);
    expect(append.entries.map((e) => e.type)).toContain(EntryType.Noop);
    expect(append.entries.some((e) => e.data.byteOffset > 0)).toBe(true);
    expect(new Set(append.entries[0].data).size).toBe(256);
  });

  it('has meta-only snapshot messages, some with a valid joint membership with learners and addresses', () => {
    const snaps = samplesOfType('snapshot', 'a', 'b') as SnapshotRequest[];
    for (const m of snaps) expect(Object.keys(m).sort()).toEqual(['from', 'meta', 'term', 'to', 'type']);
    expect(snaps[0].meta.voters).toContain('a');
    const withMembership = snaps.filter((m) => m.meta.membership);
    expect(withMembership.length).toBeGreaterThanOrEqual(2);
    for (const m of withMembership) expect(() => validateMembership(m.meta.membership!.config)).not.toThrow();
    const joint = sampleConfState('a', 'b');
    expect(joint.config.votersOutgoing.length).toBeGreaterThan(0);
    expect(joint.config.learners.length + joint.config.learnersNext.length).toBeGreaterThan(0);
    expect(Object.keys(joint.addresses).length).toBeGreaterThan(1);
  });

  it('has chunks: empty at offset 0, binary data under membership, beyond 2^32, in a larger buffer, each with its CRC-32C', () => {
    const chunks = samplesOfType('snapshotChunk', 'a', 'b');
    expect(chunks.some((c) => c.offset === 0 && c.data.byteLength === 0)).toBe(true);
    expect(chunks.some((c) => c.offset > 2 ** 32 && c.data.byteOffset > 0)).toBe(true);
    expect(chunks.some((c) => c.meta.membership !== undefined && c.data.byteLength > 0)).toBe(true);
    for (const c of chunks) {
      expect(c.crc).toBe(crc32c(c.data));
      expect(c.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(c.offset + c.data.byteLength).toBeLessThanOrEqual(c.size);
    }
  });

  it('has chunk responses of every status', () => {
    const responses = samplesOfType('snapshotChunkResponse', 'a', 'b');
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set(['ok', 'done', 'corrupt', 'rejected']));
    expect(responses.some((r) => r.next > 2 ** 32)).toBe(true);
  });

  it('builds large chunks and a burst of consecutive chunks of one snapshot, whose checksum is its SHA-256', () => {
    const big = largeChunk('a', 'b');
    expect(big.data.byteLength).toBe(MiB);
    expect(big.crc).toBe(crc32c(big.data));
    expect(largeChunk('a', 'b', 4 * MiB).data.byteLength).toBe(4 * MiB);
    const burst = chunkBurst('a', 'b', 4, 1024);
    expect(burst.map((c) => c.offset)).toEqual([0, 1024, 2048, 3072]);
    const whole = new Uint8Array(4096);
    burst.forEach((c) => whole.set(c.data, c.offset));
    for (const c of burst) expect([c.size, c.checksum]).toEqual([4096, sha256Hex(whole)]);
    expect(new Set(burst.map((c) => c.crc)).size).toBe(4);
  });

  it('includes a vote that names the leader handing over, and timeoutNow', () => {
    expect((samplesOfType('vote', 'a', 'b') as VoteRequest[]).some((m) => typeof m.transferFrom === 'string')).toBe(true);
    expect(samplesOfType('timeoutNow', 'a', 'b').length).toBeGreaterThan(0);
  });

  it('builds a 4 MiB append', () => {
    const append = largeAppend('a', 'b');
    expect(append.entries.reduce((n, e) => n + e.data.byteLength, 0)).toBe(4 * MiB);
    expect(append.entries[0].index).toBe(append.prevIndex + 1);
  });

  it('round-trips sequence numbers through every sequenced type', () => {
    const seqs = Array.from({ length: 8 }, (_, i) => i * 5 + 1);
    expect(seqs.map((s) => sequenceOf(sequencedMessage('a', 'b', s)))).toEqual(seqs);
    expect(new Set(seqs.map((s) => sequencedMessage('a', 'b', s).type)).size).toBe(4);
  });

  it('builds deterministic pattern bytes', () => {
    expect(patternBytes(300, 4)).toEqual(patternBytes(300, 4));
    expect(patternBytes(300, 4)).not.toEqual(patternBytes(300, 5));
  });
});

describe('diffValues', () => {
  it('finds no difference between a message and its structured clone', () => {
    for (const m of sampleMessages('a', 'b')) expect(diffValues(structuredClone(m), m)).toBeNull();
  });

  it('compares bytes, not views: a Buffer or an offset view with equal bytes matches', () => {
    const bytes = patternBytes(64);
    expect(diffValues(Buffer.from(bytes), bytes)).toBeNull();
    expect(diffValues(offsetView(bytes), bytes)).toBeNull();
  });

  it('names the path of the first difference', () => {
    const [append] = samplesOfType('append', 'a', 'b') as AppendRequest[];
    const changed = structuredClone(append);
    changed.entries[2].data[5] ^= 1;
    expect(diffValues(changed, append)).toBe('message.entries.2.data: bytes differ');
    expect(diffValues({ ...append, commit: 1 }, append)).toBe('message.commit: expected 9, got 1');
    expect(diffValues({ ...append, extra: 1 }, append)).toMatch(/^message: keys/);
    expect(diffValues([...append.entries.slice(0, 2), 'x'], append.entries)).toMatch(/^message\.2: expected an object/);
    expect(diffValues({ ...append, entries: append.entries.map((e) => ({ ...e, data: [1] })) }, append)).toMatch(
      /expected a Uint8Array/,
    );
  });
});
