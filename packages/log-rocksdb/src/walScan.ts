// Verifies RocksDB's write-ahead log files before RocksDB replays them.
//
// Why here and not in RocksDB: @nxtedition/rocksdb 12.2.12 passes no `wal_recovery_mode` to
// RocksDB (binding.cc `db_open`), so RocksDB runs its default kPointInTimeRecovery, which stops
// replaying at the first damaged record and opens *silently* with the log before it. And once
// opened, it flushes what it replayed and deletes the WAL, so the evidence is gone. This scan
// enforces kTolerateCorruptedTailRecords instead: every complete record must pass its checksum
// (damage anywhere is fatal), while an incomplete record at the very end of a file (a torn
// final write from a crash) is tolerated. Entries lost that way were never acknowledged; a
// log cut shorter than that is caught by the durable watermark (see watermark.ts).
//
// Format (RocksDB db/log_format.h, log_reader.cc): 32 KiB blocks of physical records, each
// `masked crc32c u32 LE | length u16 LE | type u8 | payload`; the crc covers type and payload.
// A block's last < 7 bytes are zero padding. Logical records span blocks as First/Middle/Last.
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from './crc32c.js';
import { walDamaged } from './errors.js';

const BLOCK = 32 * 1024;
const HEADER = 7;
const MASK_DELTA = 0xa282ead8;
/** Bytes read per call: whole blocks, so a record never straddles two reads. */
const READ_BLOCKS = 64;

const enum RecordType {
  Zero = 0,
  Full = 1,
  First = 2,
  Middle = 3,
  Last = 4,
  SetCompression = 9,
  TimestampSize = 10,
}

/** Names of the WAL files in `location`, oldest first (RocksDB numbers them increasingly). */
export async function walFiles(location: string): Promise<string[]> {
  const names = await readdir(location).catch(() => [] as string[]);
  return names.filter((n) => /^\d+\.log$/.test(n)).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
}

/** Checks every WAL file in `location`; rejects with RAFT_STORAGE_CORRUPT naming the file and offset. */
export async function scanWals(location: string): Promise<void> {
  for (const name of await walFiles(location)) await scanWal(join(location, name));
}

async function scanWal(path: string): Promise<void> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const state: ScanState = { inFragment: false };
    const buf = Buffer.allocUnsafe(READ_BLOCKS * BLOCK);
    for (let at = 0; at < size; at += buf.length) {
      const { bytesRead } = await file.read(buf, 0, Math.min(buf.length, size - at), at);
      for (let b = 0; b < bytesRead; b += BLOCK) {
        const block = buf.subarray(b, Math.min(b + BLOCK, bytesRead));
        const problem = scanBlock(block, state, at + b + block.length >= size);
        if (problem) throw walDamaged(path, at + b + problem.offset, problem.reason);
      }
    }
  } finally {
    await file.close();
  }
}

interface ScanState {
  /** Inside a logical record made of fragments (a First was seen, its Last not yet). */
  inFragment: boolean;
}

interface Problem {
  readonly offset: number;
  readonly reason: string;
}

/**
 * Checks one block. `final`: it ends the file, so a record cut short there is a torn write.
 * Returns the first damage found, or null.
 */
function scanBlock(block: Buffer, state: ScanState, final: boolean): Problem | null {
  let pos = 0;
  while (block.length - pos >= HEADER) {
    const length = block.readUInt16LE(pos + 4);
    const type = block[pos + 6];
    if (type === RecordType.Zero && length === 0) {
      // Preallocated space: the rest of the block is unused, so it must be all zeros; records
      // after a zeroed header would be skipped by RocksDB without a word.
      const rest = block.subarray(pos);
      return rest.every((byte) => byte === 0) ? null : { offset: pos, reason: 'a zeroed record header is followed by data' };
    }
    if (pos + HEADER + length > block.length) {
      // Past the end of the file: a torn final write. Inside the file: a damaged length.
      return final && block.length < BLOCK ? null : { offset: pos, reason: `a record length (${length}) runs past its block` };
    }
    const stored = unmask(block.readUInt32LE(pos));
    if (crc32c(block.subarray(pos + 6, pos + HEADER + length)) !== stored) {
      return { offset: pos, reason: 'a record failed its checksum' };
    }
    const problem = checkSequence(type, state);
    if (problem) return { offset: pos, reason: problem };
    pos += HEADER + length;
  }
  return null;
}

/** Fragment order: First (Middle)* Last, or Full; anything else is damage or a format we do not know. */
function checkSequence(type: number, state: ScanState): string | null {
  switch (type) {
    case RecordType.Full:
    case RecordType.SetCompression:
    case RecordType.TimestampSize:
      if (state.inFragment) return 'a fragmented record is missing its end';
      return null;
    case RecordType.First:
      if (state.inFragment) return 'a fragmented record is missing its end';
      state.inFragment = true;
      return null;
    case RecordType.Middle:
    case RecordType.Last:
      if (!state.inFragment) return 'a fragmented record is missing its start';
      if (type === RecordType.Last) state.inFragment = false;
      return null;
    default:
      // Includes recyclable records: this storage never enables WAL recycling.
      return `a record has an unexpected type ${type}`;
  }
}

function unmask(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
