// A disk model in which only synced writes survive a crash, and the check that every message
// a node sends is backed by what it has synced: the term it speaks in, the vote it grants or
// asks for, the entries it acknowledges (Raft Figure 2 "persistent state ... updated on stable
// storage before responding to RPCs").
import type { Entry, HardState, Message, SnapshotMeta } from '../../src/consensus/types.js';
import type { LogStorage, LogWrite, StoredState } from '../../src/runtime/interfaces.js';
import type { SnapshotExpectation, SnapshotReader, SnapshotWriter } from '../../src/runtime/snapshotStore.js';
import { compactStore } from '../../src/testing/durableStore.js';
import { newStore, persist, type DurableStore } from './cluster.js';
import { heldReader, installHeld, storedState } from './fakes.js';
import { MemorySnapshots, type HeldSnapshot } from './memorySnapshots.js';
import { WriteQueue } from './writeQueue.js';

export const cloneStore = (s: DurableStore): DurableStore => ({
  hardState: { ...s.hardState },
  entries: [...s.entries],
  snapshot: s.snapshot,
  compacted: { ...s.compacted },
  ...(s.snapshotBytes ? { snapshotBytes: s.snapshotBytes } : {}),
  ...(s.snapshotChecksum ? { snapshotChecksum: s.snapshotChecksum } : {}),
});

/**
 * `written` is everything handed to the disk; `synced` is what a crash keeps. An unsynced
 * write becomes durable only with the next synced one (LogWrite.sync), so a crash before that
 * loses it: the pessimistic reading of "survives only by chance".
 */
export class SyncedDisk {
  written: DurableStore;
  synced: DurableStore;

  constructor(from: DurableStore = newStore()) {
    this.written = cloneStore(from);
    this.synced = cloneStore(from);
  }

  write(snapshot: SnapshotMeta | null, entries: readonly Entry[], hardState: HardState | null, sync: boolean): void {
    persist(this.written, snapshot, entries, hardState);
    if (sync) this.synced = cloneStore(this.written);
  }

  /** installSnapshot and compact are always durable. */
  installSnapshot(held: HeldSnapshot): void {
    installHeld(this.written, held);
    this.synced = cloneStore(this.written);
  }

  compact(index: number): void {
    compactStore(this.written, index);
    this.synced = cloneStore(this.written);
  }

  /** What the node restarts from after a crash. */
  crash(): DurableStore {
    this.written = cloneStore(this.synced);
    return cloneStore(this.synced);
  }
}

/** Which promise a message makes that the disk must already keep. */
export type Reliance = 'vote grant' | 'own vote request' | 'term' | 'entries ack';

function termAt(s: DurableStore, index: number): number | undefined {
  if (index === s.compacted.index) return s.compacted.term;
  if (index < s.compacted.index) return -1; // covered by the snapshot
  if (s.snapshot && index === s.snapshot.index && !s.entries.some((e) => e.index === index)) return s.snapshot.term;
  return s.entries.find((e) => e.index === index)?.term;
}

export interface Violation {
  readonly kind: Reliance;
  readonly text: string;
}

/**
 * The reliances `m` has on durable state and, for each one `synced` does not back, a
 * violation. `written` is the sender's full log at send time, to know which entries an
 * acknowledgement stands for.
 */
export function checkMessage(m: Message, synced: DurableStore, written: DurableStore): { relies: Reliance[]; violations: Violation[] } {
  const relies: Reliance[] = [];
  const violations: Violation[] = [];
  const hs = synced.hardState;
  const where = `${m.from} sent ${m.type}${'preVote' in m && m.preVote ? ' (pre-vote)' : ''} to ${m.to} in term ${m.term}`;
  const fail = (kind: Reliance, text: string) => violations.push({ kind, text: `${where}${text}` });
  // A pre-vote request or grant carries the term the sender would campaign in, not its own.
  const preVoteTerm = (m.type === 'vote' || m.type === 'voteResponse') && m.preVote;
  if (!preVoteTerm) {
    relies.push('term');
    if (hs.term < m.term) fail('term', ` with synced term ${hs.term}`);
  }
  if (m.type === 'voteResponse' && m.granted && !m.preVote) {
    relies.push('vote grant');
    if (hs.term < m.term || (hs.term === m.term && hs.vote !== m.to)) fail('vote grant', `: vote for ${m.to} not synced (synced vote ${hs.vote})`);
  }
  if (m.type === 'vote' && !m.preVote) {
    relies.push('own vote request');
    if (hs.term < m.term || (hs.term === m.term && hs.vote !== m.from)) fail('own vote request', `: own vote not synced (synced vote ${hs.vote})`);
  }
  if (m.type === 'appendResponse' && m.success && m.index > 0) {
    relies.push('entries ack');
    const want = termAt(written, m.index);
    const have = termAt(synced, m.index);
    if (have === undefined || (have !== -1 && have !== want)) {
      fail('entries ack', `: acknowledges ${m.index}@${want} but synced holds ${have === undefined ? 'nothing' : `${m.index}@${have}`} there`);
    }
  }
  return { relies, violations };
}

/**
 * A LogStorage over a SyncedDisk: a save becomes visible to a crash only when it resolves with
 * `sync` (or when a later synced save resolves). `ops` records the order of operations.
 */
export class SyncedStorage implements LogStorage {
  readonly ops: string[] = [];
  /** The synced state when the latest save started: what a message needed before that write. */
  syncedBeforeLastSave: DurableStore;
  private seq = 0;

  /** Writes take effect and resolve in call order, each after `delay`. */
  private readonly writes: WriteQueue;

  constructor(
    readonly disk: SyncedDisk,
    delay: () => Promise<void>,
  ) {
    this.syncedBeforeLastSave = disk.synced;
    this.writes = new WriteQueue(delay);
  }

  private readonly snaps = new MemorySnapshots();

  async state(): Promise<StoredState> {
    return storedState(this.disk.written);
  }
  async entries(lo: number, hi: number): Promise<Entry[]> {
    return this.disk.written.entries.filter((e) => e.index >= lo && e.index < hi);
  }
  async term(index: number): Promise<number> {
    return termAt(this.disk.written, index) ?? 0;
  }
  async save(write: LogWrite): Promise<void> {
    const id = ++this.seq;
    const sync = write.sync !== false;
    this.syncedBeforeLastSave = this.disk.synced;
    this.ops.push(`save#${id} start sync=${sync}`);
    return this.writes.run(() => {
      this.disk.write(null, write.entries ?? [], write.hardState ?? null, sync);
      this.ops.push(`save#${id} resolved`);
    });
  }
  async installSnapshot(meta: SnapshotMeta): Promise<void> {
    return this.writes.run(() => this.disk.installSnapshot(this.snaps.take(meta)));
  }
  async createSnapshot(meta: SnapshotMeta, expected?: SnapshotExpectation): Promise<SnapshotWriter> {
    return this.snaps.create(meta, expected);
  }
  async openSnapshot(): Promise<SnapshotReader | null> {
    return heldReader(this.disk.written);
  }
  async compact(index: number): Promise<void> {
    return this.writes.run(() => this.disk.compact(index));
  }
  async close(): Promise<void> {}
}
