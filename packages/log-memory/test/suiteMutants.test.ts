// Proves the conformance suite has teeth: each deliberately broken adapter below must fail
// the named cases (and a correct one must pass them all, see suite.test.ts).
import type { Entry, LogStorage, LogWrite, SnapshotExpectation, SnapshotMeta, SnapshotReader, SnapshotWriter, StoredState } from '@raftkit/core';
import { logStorageCases, suiteEnv, type LogStorageLocation } from '@raftkit/log-storage-suite';
import { describe, expect, test } from 'vitest';
import { MemoryLogStorage, MemoryLogStore } from '../src/index.js';

class Wrapper implements LogStorage {
  constructor(protected readonly inner: MemoryLogStorage) {}
  state(): Promise<StoredState> {
    return this.inner.state();
  }
  entries(lo: number, hi: number): Promise<Entry[]> {
    return this.inner.entries(lo, hi);
  }
  term(index: number): Promise<number> {
    return this.inner.term(index);
  }
  save(write: LogWrite): Promise<void> {
    return this.inner.save(write);
  }
  installSnapshot(meta: SnapshotMeta): Promise<void> {
    return this.inner.installSnapshot(meta);
  }
  createSnapshot(meta: SnapshotMeta, expected?: SnapshotExpectation): Promise<SnapshotWriter> {
    return this.inner.createSnapshot(meta, expected);
  }
  openSnapshot(): Promise<SnapshotReader | null> {
    return this.inner.openSnapshot();
  }
  compact(index: number): Promise<void> {
    return this.inner.compact(index);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

type Mutant = { name: string; caughtBy: string; wrap: (s: MemoryLogStorage) => LogStorage; freshOnOpen?: boolean };

const mutants: Mutant[] = [
  { name: 'forgets everything on reopen', caughtBy: 'reopening after close yields exactly', wrap: (s) => s, freshOnOpen: true },
  {
    name: 'answers term 0 at the snapshot index',
    caughtBy: 'a snapshot ahead of the log replaces the whole log',
    wrap: (s) => new (class extends Wrapper {
      override async term(i: number) {
        return i === (await this.inner.state()).firstIndex - 1 ? 0 : this.inner.term(i);
      }
    })(s),
  },
  {
    name: 'keeps the old suffix after a conflicting write',
    caughtBy: 'discards the old suffix from that index on',
    wrap: (s) => new (class extends Wrapper {
      override async save(write: LogWrite) {
        const { lastIndex } = s.store;
        const tail = write.entries?.length ? s.store.entries(Math.min(write.entries.at(-1)!.index + 1, lastIndex + 1), lastIndex + 1) : [];
        await this.inner.save(write);
        if (tail.length) await this.inner.save({ entries: tail });
      }
    })(s),
  },
  {
    name: 'applies concurrent saves out of call order',
    caughtBy: 'concurrent saves are applied in call order',
    wrap: (s) => {
      let calls = 0;
      return new (class extends Wrapper {
        override save(write: LogWrite) {
          const delay = ++calls % 3;
          return new Promise<void>((resolve, reject) => setTimeout(() => this.inner.save(write).then(resolve, reject), delay));
        }
      })(s);
    },
  },
  {
    name: 'corrupts large entries on read',
    caughtBy: '8 MiB entries round trip',
    wrap: (s) => new (class extends Wrapper {
      override async entries(lo: number, hi: number) {
        return (await this.inner.entries(lo, hi)).map((e) => (e.data.length > 1 << 20 ? { ...e, data: e.data.subarray(1) } : e));
      }
    })(s),
  },
  {
    name: 'returns a short range instead of RAFT_UNAVAILABLE',
    caughtBy: 'reading past the last index rejects',
    wrap: (s) => new (class extends Wrapper {
      override async entries(lo: number, hi: number) {
        return this.inner.entries(lo, Math.min(hi, s.store.lastIndex + 1));
      }
    })(s),
  },
  {
    name: 'returns nothing for compacted indexes instead of RAFT_COMPACTED',
    caughtBy: 'compacted reads reject with RAFT_COMPACTED',
    wrap: (s) => new (class extends Wrapper {
      override async entries(lo: number, hi: number) {
        return lo < s.store.firstIndex ? [] : this.inner.entries(lo, hi);
      }
    })(s),
  },
  {
    name: "shares the caller's bytes instead of copying them",
    caughtBy: "the storage keeps a copy",
    wrap: (s) => {
      const given = new Map<number, Uint8Array>();
      return new (class extends Wrapper {
        override async save(write: LogWrite) {
          await this.inner.save(write);
          for (const e of write.entries ?? []) given.set(e.index, e.data);
        }
        override async entries(lo: number, hi: number) {
          return (await this.inner.entries(lo, hi)).map((e) => ({ ...e, data: given.get(e.index) ?? e.data }));
        }
      })(s);
    },
  },
  {
    name: 'drops the hard state when entries come with it',
    caughtBy: 'hard state and entries are saved together in one write',
    wrap: (s) => new (class extends Wrapper {
      override save(write: LogWrite) {
        return this.inner.save(write.entries?.length ? { entries: write.entries } : write);
      }
    })(s),
  },
  {
    name: 'keeps entries that disagree with an installed snapshot',
    caughtBy: 'a snapshot that disagrees with the log',
    wrap: (s) => new (class extends Wrapper {
      override async installSnapshot(meta: SnapshotMeta) {
        const { lastIndex } = s.store;
        const after = meta.index < lastIndex ? s.store.entries(meta.index + 1, lastIndex + 1) : [];
        await this.inner.installSnapshot(meta);
        if (after.length && s.store.lastIndex < lastIndex) await this.inner.save({ entries: after });
      }
    })(s),
  },
  {
    name: 'accepts a write that leaves a hole',
    caughtBy: 'a write that would leave a hole after the last index is rejected',
    wrap: (s) => new (class extends Wrapper {
      override async save(write: LogWrite) {
        const first = write.entries?.[0]?.index;
        if (first !== undefined && first > s.store.lastIndex + 1) return;
        return this.inner.save(write);
      }
    })(s),
  },
  {
    name: 'drops the membership of a snapshot (as before issue 10)',
    caughtBy: 'a snapshot keeps its membership',
    wrap: (s) => new (class extends Wrapper {
      override installSnapshot(given: SnapshotMeta) {
        const { membership: _dropped, ...meta } = given;
        return this.inner.installSnapshot(meta);
      }
    })(s),
  },
  {
    name: 'keeps the membership of an earlier snapshot when a later one has none',
    caughtBy: 'a later snapshot without one replaces it',
    wrap: (s) =>
      new (class extends Wrapper {
        override async installSnapshot(meta: SnapshotMeta) {
          const membership = meta.membership ?? (await this.inner.state()).snapshot?.membership;
          return this.inner.installSnapshot({ ...meta, membership });
        }
      })(s),
  },
  {
    name: 'keeps the caller’s membership object instead of a copy',
    caughtBy: 'keeps its own copy of the membership',
    wrap: (s) => {
      let given: SnapshotMeta['membership'];
      return new (class extends Wrapper {
        override installSnapshot(meta: SnapshotMeta) {
          given = meta.membership;
          return this.inner.installSnapshot(meta);
        }
        override async state() {
          const state = await this.inner.state();
          return state.snapshot?.membership && given ? { ...state, snapshot: { ...state.snapshot, membership: given } } : state;
        }
      })(s);
    },
  },
  {
    name: 'discards a log that agrees with an installed snapshot (the pre-streaming rule)',
    caughtBy: 'install keeps a log that holds its entry whole',
    wrap: (s) => new (class extends Wrapper {
      override async installSnapshot(meta: SnapshotMeta) {
        await this.inner.installSnapshot(meta);
        await this.inner.compact(meta.index);
      }
    })(s),
  },
  {
    name: 'accepts received bytes without checking them',
    caughtBy: 'refused with RAFT_SNAPSHOT_CORRUPT',
    wrap: (s) => new (class extends Wrapper {
      override createSnapshot(meta: SnapshotMeta) {
        return this.inner.createSnapshot(meta);
      }
    })(s),
  },
  {
    name: 'restarts a received snapshot from 0 instead of resuming it',
    caughtBy: 'resumes after a restart',
    wrap: (s) => new (class extends Wrapper {
      override async createSnapshot(meta: SnapshotMeta, expected?: SnapshotExpectation) {
        const writer = await this.inner.createSnapshot(meta, expected);
        if (writer.written === 0 || writer.written === expected?.size) return writer;
        await writer.abort();
        return this.inner.createSnapshot(meta, expected);
      }
    })(s),
  },
  {
    name: 'forgets the term at the log start after compacting below the snapshot',
    caughtBy: 'compact below the snapshot keeps the trailing log',
    wrap: (s) => new (class extends Wrapper {
      override async term(i: number) {
        const { firstIndex, snapshot } = await this.inner.state();
        if (i === firstIndex - 1 && snapshot && i < snapshot.index) return 0;
        return this.inner.term(i);
      }
    })(s),
  },
  {
    name: 'hands out a reader that follows the latest snapshot',
    caughtBy: 'a reader of the old snapshot keeps reading',
    wrap: (s) => new (class extends Wrapper {
      override async openSnapshot(): Promise<SnapshotReader | null> {
        const first = await this.inner.openSnapshot();
        if (!first) return null;
        const inner = this.inner;
        return {
          get meta() { return first.meta; },
          size: first.size,
          checksum: first.checksum,
          read: async (offset: number, length: number) => (await inner.openSnapshot())!.read(offset, length),
          stream: (offset?: number, chunkBytes?: number) => ({
            async *[Symbol.asyncIterator]() {
              yield* (await inner.openSnapshot())!.stream(offset, chunkBytes);
            },
          }),
          close: () => first.close(),
        };
      }
    })(s),
  },
];

function location(mutant: Mutant): LogStorageLocation {
  let store = new MemoryLogStore();
  return {
    open: async () => {
      if (mutant.freshOnOpen) store = new MemoryLogStore();
      return mutant.wrap(MemoryLogStorage.open(store));
    },
    destroy: async () => undefined,
  };
}

async function failingCases(mutant: Mutant): Promise<string[]> {
  const env = suiteEnv({ factory: async () => location(mutant), supports: { reopen: true } });
  const failed: string[] = [];
  for (const c of logStorageCases) {
    await c.run(env).catch(() => failed.push(c.name));
  }
  return failed;
}

describe('the conformance suite catches broken adapters', () => {
  for (const mutant of mutants) {
    test(`an adapter that ${mutant.name}`, async () => {
      const failed = await failingCases(mutant);
      expect(failed.some((name) => name.includes(mutant.caughtBy)), `failed cases: ${failed.join(' | ')}`).toBe(true);
    }, 60_000);
  }
});
