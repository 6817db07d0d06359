import { EntryType, ErrorCode, RaftError } from '@raftkit/core';
import { describe, expect, test } from 'vitest';
import {
  entryData,
  expectEntries,
  expectRaftError,
  logStorageCases,
  makeEntries,
  makeEntry,
  makeSnapshot,
  sameBytes,
} from '../src/index.js';

describe('entry helpers', () => {
  test('entryData is deterministic, sized, and differs between indexes', () => {
    expect(sameBytes(entryData(7, 100), entryData(7, 100))).toBe(true);
    expect(entryData(7, 100)).toHaveLength(100);
    expect(sameBytes(entryData(7, 100), entryData(8, 100))).toBe(false);
    expect(entryData(1, 0)).toHaveLength(0);
    expect(new Set(entryData(3, 4096)).size).toBeGreaterThan(200);
  });

  test('makeEntries builds consecutive entries with a term function', () => {
    const entries = makeEntries(5, 3, (i) => i * 2, 4);
    expect(entries.map((e) => [e.index, e.term, e.type, e.data.length])).toEqual([
      [5, 10, EntryType.Normal, 4],
      [6, 12, EntryType.Normal, 4],
      [7, 14, EntryType.Normal, 4],
    ]);
  });

  test('makeSnapshot carries its metadata', () => {
    const snap = makeSnapshot(9, 2, ['x']);
    expect(snap.meta).toEqual({ index: 9, term: 2, voters: ['x'] });
    expect(snap.data).toBeInstanceOf(Uint8Array);
  });

  test('sameBytes compares views by content, not by buffer', () => {
    const big = new Uint8Array([9, 1, 2, 3, 9]);
    expect(sameBytes(big.subarray(1, 4), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(sameBytes(big.subarray(1, 4), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(sameBytes(big, big.subarray(1))).toBe(false);
  });
});

describe('assertion helpers', () => {
  test('expectEntries fails on a differing byte, term, type or count', () => {
    const base = makeEntries(1, 3);
    expectEntries(base, makeEntries(1, 3));
    const flipped = base.map((e, i) => (i === 1 ? { ...e, data: e.data.map((b, j) => (j === 0 ? b ^ 1 : b)) } : e));
    expect(() => expectEntries(flipped, base)).toThrow(/entry #1/);
    expect(() => expectEntries([{ ...base[0], term: 2 }], base.slice(0, 1))).toThrow(/entry #0/);
    expect(() => expectEntries([makeEntry(1, 1, { type: EntryType.Noop })], base.slice(0, 1))).toThrow();
    expect(() => expectEntries(base.slice(0, 2), base)).toThrow(/number of entries/);
  });

  test('expectRaftError accepts the right code and rejects anything else', async () => {
    const err = await expectRaftError(Promise.reject(new RaftError(ErrorCode.Compacted, 'gone')), ErrorCode.Compacted);
    expect(err.message).toBe('gone');
    await expect(expectRaftError(Promise.resolve(1), ErrorCode.Compacted)).rejects.toThrow(/resolved/);
    await expect(expectRaftError(Promise.reject(new Error('plain')), ErrorCode.Compacted)).rejects.toThrow(/coded error/);
    await expect(
      expectRaftError(Promise.reject(new RaftError(ErrorCode.Unavailable, 'x')), ErrorCode.Compacted),
    ).rejects.toThrow();
  });
});

describe('case registry', () => {
  test('case names are unique and every optional case names a real supports flag', () => {
    const names = logStorageCases.map((c) => `${c.group} / ${c.name}`);
    expect(new Set(names).size).toBe(names.length);
    for (const c of logStorageCases) expect([undefined, 'reopen', 'largeEntries']).toContain(c.requires);
  });

  test('the contract areas named in the issue each have cases', () => {
    const groups = new Set(logStorageCases.map((c) => c.group));
    for (const g of ['empty log', 'hard state', 'append and read', 'compaction', 'durability across reopen', 'size and concurrency']) {
      expect(groups).toContain(g);
    }
    expect([...groups].some((g) => g.startsWith('conflict truncation'))).toBe(true);
    expect([...groups].some((g) => g.startsWith('snapshots'))).toBe(true);
    expect(logStorageCases.length).toBeGreaterThanOrEqual(50);
  });
});
