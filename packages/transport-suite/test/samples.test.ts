import { EntryType, type AppendRequest, type SnapshotRequest, type VoteRequest, validateMembership } from '@raftkit/core';
import { describe, expect, it } from 'vitest';
import {
  MESSAGE_TYPES,
  MiB,
  diffValues,
  largeAppend,
  largeSnapshot,
  offsetView,
  patternBytes,
  sampleConfState,
  sampleMessages,
  samplesOfType,
  sequenceOf,
  sequencedMessage,
} from '../src/index.js';

describe('sample messages', () => {
  it('covers every type of the Message union', () => {
    const types = new Set(sampleMessages('a', 'b').map((m) => m.type));
    expect([...types].sort()).toEqual([...MESSAGE_TYPES].sort());
    expect(MESSAGE_TYPES).toHaveLength(10);
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

  it('includes a snapshot with binary data', () => {
    const [snap] = samplesOfType('snapshot', 'a', 'b') as SnapshotRequest[];
    expect(snap.snapshot.data.byteLength).toBeGreaterThan(0);
    expect(snap.snapshot.meta.voters).toContain('a');
  });

  it('includes a snapshot whose membership is a valid joint configuration with learners and addresses', () => {
    const withMembership = (samplesOfType('snapshot', 'a', 'b') as SnapshotRequest[]).filter((m) => m.snapshot.meta.membership);
    expect(withMembership.length).toBeGreaterThanOrEqual(2);
    for (const m of withMembership) expect(() => validateMembership(m.snapshot.meta.membership!.config)).not.toThrow();
    const joint = sampleConfState('a', 'b');
    expect(joint.config.votersOutgoing.length).toBeGreaterThan(0);
    expect(joint.config.learners.length + joint.config.learnersNext.length).toBeGreaterThan(0);
    expect(Object.keys(joint.addresses).length).toBeGreaterThan(1);
  });

  it('includes a vote that names the leader handing over, and timeoutNow', () => {
    expect((samplesOfType('vote', 'a', 'b') as VoteRequest[]).some((m) => typeof m.transferFrom === 'string')).toBe(true);
    expect(samplesOfType('timeoutNow', 'a', 'b').length).toBeGreaterThan(0);
  });

  it('builds 4 MiB append and snapshot messages', () => {
    const append = largeAppend('a', 'b');
    expect(append.entries.reduce((n, e) => n + e.data.byteLength, 0)).toBe(4 * MiB);
    expect(append.entries[0].index).toBe(append.prevIndex + 1);
    expect(largeSnapshot('a', 'b').snapshot.data.byteLength).toBe(4 * MiB);
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
