// The durable watermark: a small file beside the database, outside RocksDB, recording how far
// this node's log is known to have been durable. RocksDB cannot see a WAL that was truncated at
// a record boundary or deleted; comparing against this file on open can.
//
// Invariant: every record in the file describes a state that was durable at some moment, and no
// later durable state is "behind" it: lastIndex, hard-state term (and its vote), and snapshot
// index only grow, except where the log legitimately shrinks (a conflicting uncommitted suffix is
// truncated, Raft §5.3, or a disagreeing snapshot replaces the log). Before such a write the
// file is lowered durably (`lower`), so the invariant holds at every instant.
//
// Layout: two 512-byte slots (each in its own sector), written alternately, each
//   crc32c u32 | magic u32 | seq u64 | lastIndex u64 | term u64 | commit u64 | snapshotIndex u64
//   | hasVote u8 | vote crc32c u32
// The slot with the highest valid seq wins; a torn write damages only the slot being written,
// leaving the previous record (which is never ahead of the truth).
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, RaftError } from '@raftkit/core';
import { crc32c } from './crc32c.js';
import { REJOIN_ADVICE, storageLost } from './errors.js';
import type { LogView } from './plan.js';

export const WATERMARK_FILE = 'RAFTKIT-WATERMARK';
const SLOT = 512;
const RECORD = 53;
const MAGIC = 0x524b574d; // "RKWM"
const U32 = 2 ** 32;

export interface Mark {
  readonly lastIndex: number;
  readonly term: number;
  readonly commit: number;
  readonly snapshotIndex: number;
  /** crc32c of the vote, or null for no vote. */
  readonly vote: number | null;
}

export function markOf(view: LogView): Mark {
  const vote = view.hardState.vote;
  return {
    lastIndex: view.lastIndex,
    term: view.hardState.term,
    commit: view.hardState.commit,
    snapshotIndex: view.snapshot?.index ?? 0,
    vote: vote === null ? null : crc32c(Buffer.from(vote, 'utf8')),
  };
}

/** Throws RAFT_STORAGE_LOST if the recovered `view` is behind the watermark `mark`. */
export function checkAgainst(location: string, view: LogView, mark: Mark): void {
  const now = markOf(view);
  const behind = (what: string, expected: number, found: number): RaftError =>
    storageLost(location, `the watermark ${join(location, WATERMARK_FILE)} says ${what} reached ${expected}, found ${found}`);
  if (now.lastIndex < mark.lastIndex) throw behind('the last log index', mark.lastIndex, now.lastIndex);
  // The commit index itself is volatile in Raft (Figure 2), so a lower one is no loss; but the
  // log must still hold every entry this node once knew committed.
  if (now.lastIndex < mark.commit) throw behind('the commit index', mark.commit, now.lastIndex);
  if (now.term < mark.term) throw behind('the term', mark.term, now.term);
  if (now.snapshotIndex < mark.snapshotIndex) throw behind('the snapshot index', mark.snapshotIndex, now.snapshotIndex);
  if (now.term === mark.term && mark.vote !== null && now.vote !== mark.vote) {
    throw storageLost(location, `the vote cast in term ${mark.term} is missing or different`);
  }
}

export interface StoredMark {
  readonly seq: number;
  readonly mark: Mark;
}

/** Reads the newest valid record; null if there is no file (a new or pre-watermark database). */
export async function readMark(location: string): Promise<StoredMark | null> {
  const path = join(location, WATERMARK_FILE);
  const file = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (!file) return null;
  try {
    const buf = Buffer.alloc(2 * SLOT);
    const { bytesRead } = await file.read(buf, 0, buf.length, 0);
    const stored = parseMarkFile(buf.subarray(0, bytesRead));
    if (stored === undefined) {
      throw new RaftError(ErrorCode.StorageCorrupt, `rocksdb log storage is corrupt: the watermark file ${path} is damaged. ${REJOIN_ADVICE}`);
    }
    return stored;
  } finally {
    await file.close();
  }
}

/** The newest valid record of a watermark file's bytes; null if none was written yet; undefined if damaged. */
export function parseMarkFile(buf: Buffer): StoredMark | null | undefined {
  const padded = Buffer.alloc(2 * SLOT);
  buf.copy(padded, 0, 0, Math.min(buf.length, padded.length));
  const slots = [decodeSlot(padded.subarray(0, SLOT)), decodeSlot(padded.subarray(SLOT))].filter((s) => s !== null);
  if (slots.length > 0) return slots.reduce((a, b) => (b.seq > a.seq ? b : a));
  // Never written past creation (a crash right then): nothing was recorded yet.
  return buf.every((b) => b === 0) ? null : undefined;
}

/**
 * Writes marks off the event loop (libuv pool): coalesced, at most one write in flight, and at
 * most one every `intervalMs`, so the file lags the durable log by at most `intervalMs` plus
 * one write. Without the interval every synced batch cost a second write of this file.
 *
 * A record that only raises the mark is written without its own fdatasync: it is in the page
 * cache at once, so it survives a crash of the process (kill -9), and an fdatasync at most every
 * `syncMs` makes it survive a crash of the machine too. A raise that is lost with the machine
 * leaves an older record, which is never ahead of the truth: the file then only lags further,
 * by at most `syncMs` more. With a sync per record, this file took a second fdatasync every
 * `intervalMs` beside the log's (in a server cluster at c=1, about 40% of each node's flushes).
 * A record that lowers the mark (`lower`), and the one at `close`, are made durable before the
 * call resolves, with every record before them.
 */
export class Watermark {
  /** Highest lastIndex possibly in the file (written or being written). */
  private highest = 0;
  private pending: Mark | null = null;
  private inFlight: Promise<void> | null = null;
  private error: unknown = null;
  /** Time (performance.now) the last write started; a timer waits out the interval. */
  private lastWriteAt = -Infinity;
  /** Time (performance.now) the last fdatasync started; `unsynced`: a record was written since. */
  private lastSyncAt = -Infinity;
  private unsynced = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** When `timer` fires (performance.now). */
  private timerAt = Infinity;
  private readonly counts = { writes: 0, syncs: 0 };

  /** Error handler for a failed background write; the storage stops on it. */
  onError: (error: unknown) => void = () => undefined;

  private constructor(
    private readonly file: FileHandle,
    /** Sequence number of the last record written; the next goes to slot (seq + 1) % 2. */
    private seq: number,
    private readonly intervalMs: number,
    private readonly syncMs: number,
  ) {}

  /** Records written and fdatasyncs done since the file was opened. */
  stats(): { writes: number; syncs: number } {
    return { ...this.counts };
  }

  /**
   * Opens (creating) the file and makes `mark` durable in it before resolving. `seq`: that of
   * the newest record already in the file, so the new ones win over it.
   */
  static async create(location: string, mark: Mark, seq: number, intervalMs = 0, syncMs = 0): Promise<Watermark> {
    const file = await open(join(location, WATERMARK_FILE), constants.O_RDWR | constants.O_CREAT, 0o644);
    const w = new Watermark(file, seq, intervalMs, syncMs);
    try {
      await w.writeNow(mark, true);
      await syncDir(location); // the file's directory entry must be durable too
    } catch (error) {
      await file.close();
      throw error;
    }
    return w;
  }

  /** Records a new durable state; written soon, coalesced with later ones. */
  note(mark: Mark): void {
    this.pending = mark;
    this.schedule();
  }

  /**
   * Starts a write of `pending` now or once the interval since the last one has passed; with
   * nothing pending, the fdatasync of an unsynced record once `syncMs` since the last one passed.
   */
  private schedule(): void {
    if (this.inFlight || this.error) return;
    const at = this.pending ? this.lastWriteAt + this.intervalMs : this.unsynced ? this.lastSyncAt + this.syncMs : null;
    if (at === null) return;
    if (this.timer) {
      if (this.timerAt <= at) return;
      clearTimeout(this.timer); // a sync due later than this write
    }
    this.timer = null;
    const wait = at - performance.now();
    if (wait <= 0) {
      this.inFlight = this.flush();
      return;
    }
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.inFlight ??= this.flush();
    }, wait);
    this.timer.unref();
  }

  /** Whether a write leaving the log at `lastIndex` must first `lower` the file. */
  needsLowering(lastIndex: number): boolean {
    return lastIndex < this.highest;
  }

  /** Durably records `mark`, whose lastIndex is below what the file may hold, before a truncating write. */
  async lower(mark: Mark): Promise<void> {
    await this.settle();
    this.pending = null;
    await this.writeNow(mark, true);
  }

  /** Writes `mark` (the final state; null after a failure: keep what is there) and closes the file. */
  async close(mark: Mark | null): Promise<void> {
    try {
      if (mark) {
        await this.settle();
        this.pending = null;
        await this.writeNow(mark, true);
      } else {
        await this.settle().catch(() => undefined); // after a failure: keep what is there
      }
    } finally {
      await this.file.close();
    }
  }

  /** Waits out the write in flight, dropping any timer (a finished write may set a new one). */
  private async settle(): Promise<void> {
    for (;;) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      if (!this.inFlight) break;
      await this.inFlight;
    }
    if (this.error) throw this.error;
  }

  /**
   * Writes the newest pending mark, with an fdatasync if `syncMs` passed since the last one; or,
   * with none pending, makes the unsynced record durable. A mark noted meanwhile waits for the
   * interval like any other: writing it at once kept a second write running beside every batch.
   */
  private async flush(): Promise<void> {
    // Never finishes synchronously: the caller stores this promise in inFlight, cleared below.
    await undefined;
    try {
      const mark = this.pending;
      this.pending = null;
      if (mark) await this.writeNow(mark, performance.now() - this.lastSyncAt >= this.syncMs);
      else if (this.unsynced) await this.syncNow();
    } catch (error) {
      this.error = error;
      this.onError(error);
    } finally {
      this.inFlight = null;
      this.schedule();
    }
  }

  private async writeNow(mark: Mark, sync: boolean): Promise<void> {
    this.lastWriteAt = performance.now();
    this.seq++;
    this.highest = Math.max(this.highest, mark.lastIndex);
    this.counts.writes++;
    await this.file.write(encodeSlot(this.seq, mark), 0, RECORD, (this.seq % 2) * SLOT);
    if (!sync) {
      this.unsynced = true;
      return;
    }
    await this.syncNow();
    if (mark.lastIndex < this.highest) this.highest = mark.lastIndex; // lowered and durable
  }

  /** Makes every record written so far durable (the file is written only through this object). */
  private async syncNow(): Promise<void> {
    this.lastSyncAt = performance.now();
    this.unsynced = false;
    this.counts.syncs++;
    await this.file.datasync();
  }
}

async function syncDir(location: string): Promise<void> {
  const dir = await open(location, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function encodeSlot(seq: number, m: Mark): Buffer {
  const buf = Buffer.alloc(RECORD);
  buf.writeUInt32BE(MAGIC, 4);
  [seq, m.lastIndex, m.term, m.commit, m.snapshotIndex].forEach((v, k) => writeU64(buf, v, 8 + 8 * k));
  buf[48] = m.vote === null ? 0 : 1;
  buf.writeUInt32BE(m.vote ?? 0, 49);
  buf.writeUInt32BE(crc32c(buf.subarray(4)), 0);
  return buf;
}

function decodeSlot(slot: Buffer): { seq: number; mark: Mark } | null {
  const buf = slot.subarray(0, RECORD);
  if (buf.readUInt32BE(4) !== MAGIC || buf.readUInt32BE(0) !== crc32c(buf.subarray(4))) return null;
  const [seq, lastIndex, term, commit, snapshotIndex] = [0, 1, 2, 3, 4].map((k) => readU64(buf, 8 + 8 * k));
  return { seq, mark: { lastIndex, term, commit, snapshotIndex, vote: buf[48] === 1 ? buf.readUInt32BE(49) : null } };
}

function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt32BE(Math.floor(value / U32), offset);
  buf.writeUInt32BE(value >>> 0, offset + 4);
}

function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * U32 + buf.readUInt32BE(offset + 4);
}
