import { ErrorCode } from '@raftkit/core';
import { expectEntries, expectRaftError, makeEntries, makeSnapshot } from '@raftkit/log-storage-suite';
import { describe, expect, test } from 'vitest';
import { MemoryLogStorage, MemoryLogStore } from '../src/index.js';

describe('MemoryLogStorage crash and restart', () => {
  test('a handle opened on the same store sees exactly what was saved', async () => {
    const store = new MemoryLogStore();
    const before = new MemoryLogStorage(store);
    await before.save({ entries: makeEntries(1, 5, 2), hardState: { term: 2, vote: 'a', commit: 3 } });
    await before.installSnapshot(makeSnapshot(2, 2));
    // Crash: the old handle is simply abandoned, never closed.
    const after = MemoryLogStorage.open(store);
    expect(await after.state()).toEqual({
      hardState: { term: 2, vote: 'a', commit: 3 },
      snapshot: { index: 2, term: 2, voters: ['a', 'b', 'c'] },
      firstIndex: 3,
      lastIndex: 5,
    });
    expectEntries(await after.entries(3, 6), makeEntries(3, 3, 2));
  });

  test('the crashed handle is fenced off: it can no longer read or write', async () => {
    const store = new MemoryLogStore();
    const crashed = MemoryLogStorage.open(store);
    await crashed.save({ entries: makeEntries(1, 2) });
    const restarted = MemoryLogStorage.open(store);
    await expectRaftError(crashed.save({ entries: makeEntries(3, 1) }), ErrorCode.StorageFailed);
    await expectRaftError(crashed.state(), ErrorCode.StorageFailed);
    expect((await restarted.state()).lastIndex).toBe(2);
  });

  test('a closed handle rejects further calls with RAFT_STORAGE_FAILED', async () => {
    const storage = MemoryLogStorage.open();
    await storage.close();
    await expectRaftError(storage.entries(1, 1), ErrorCode.StorageFailed);
  });

  test('each handle made without a store gets its own empty store', async () => {
    const a = new MemoryLogStorage();
    const b = new MemoryLogStorage();
    await a.save({ entries: makeEntries(1, 1) });
    expect((await b.state()).lastIndex).toBe(0);
    expect(a.store).not.toBe(b.store);
  });
});

describe('MemoryLogStore (synchronous view for simulators)', () => {
  test('reads are synchronous and reflect a save as soon as it is called', () => {
    const storage = MemoryLogStorage.open();
    void storage.save({ entries: makeEntries(1, 3, 4) });
    expect(storage.store.lastIndex).toBe(3);
    expect(storage.store.term(2)).toBe(4);
    expect(storage.store.entries(1, 4).map((e) => e.index)).toEqual([1, 2, 3]);
  });

  test('invalid calls throw coded errors synchronously on the store, and reject on the handle', async () => {
    const storage = MemoryLogStorage.open();
    expect(() => storage.store.save({ entries: makeEntries(2, 1) })).toThrowError(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
    await expectRaftError(storage.save({ entries: makeEntries(2, 1) }), ErrorCode.InvalidArgument);
  });

  test('stored entries are frozen copies', async () => {
    const storage = MemoryLogStorage.open();
    const [entry] = makeEntries(1, 1);
    await storage.save({ entries: [entry] });
    const [stored] = await storage.entries(1, 2);
    expect(stored).not.toBe(entry);
    expect(stored.data).not.toBe(entry.data);
    expect(Object.isFrozen(stored)).toBe(true);
  });

  test('a thousand short runs (20,000 saves) stay cheap', async () => {
    const start = performance.now();
    for (let seed = 0; seed < 1000; seed++) {
      const storage = MemoryLogStorage.open();
      for (let i = 1; i <= 20; i++) {
        await storage.save({ entries: makeEntries(i, 1, 1, 8), hardState: { term: 1, vote: null, commit: i } });
      }
    }
    // 20,000 saves; generous bound so a slow CI machine does not flake.
    expect(performance.now() - start).toBeLessThan(5000);
  });
});
