// The snapshot directory (<location>/snapshots): file names, the file trailer, clean-up on open.
//
// A file is the snapshot's bytes, then (once finished) a trailer: one CRC-32C (u32 BE) per
// BLOCK_BYTES block of the bytes, then a 56-byte footer:
//   magic "RKSNAP01" | size u64 | blockBytes u32 | sha256 (32 bytes) | crc32c u32 of the CRC table
//   and the footer before it.
// Names say what a file is, so open() can sort them without reading them:
//   <kind>-<index>-<term>-<size>-<checksum>-<nonce>.<part|snap>
// kind `local` (taken by this node; size and checksum are `x`) or `recv` (received from a
// leader, with the size and checksum it announced); `.part` while being written, `.snap` once
// finished (renamed, then the directory fsync'd).
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotExpectation } from '@raftkit/core';
import { crc32c } from './crc32c.js';
import { corrupt, failed } from './errors.js';

export const SNAPSHOT_DIR = 'snapshots';
export const BLOCK_BYTES = 64 * 1024;
export const FOOTER_BYTES = 56;
const MAGIC = Buffer.from('RKSNAP01', 'latin1');

/** What a file name says. */
export interface SnapshotFileName {
  readonly name: string;
  readonly kind: 'local' | 'recv';
  readonly index: number;
  readonly term: number;
  /** For `recv` files: what the leader announced. */
  readonly expected: SnapshotExpectation | null;
  readonly finished: boolean;
}

const NAME = /^(local|recv)-(\d+)-(\d+)-(\d+|x)-([0-9a-f]{64}|x)-([0-9a-f]{16})\.(part|snap)$/;

export function fileName(kind: 'local' | 'recv', index: number, term: number, expected: SnapshotExpectation | null, finished: boolean, nonce: string): string {
  const e = expected ? `${expected.size}-${expected.checksum}` : 'x-x';
  return `${kind}-${index}-${term}-${e}-${nonce}.${finished ? 'snap' : 'part'}`;
}

export function newNonce(): string {
  return randomBytes(8).toString('hex');
}

export function parseName(name: string): SnapshotFileName | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const expected = m[4] !== 'x' && m[5] !== 'x' ? { size: Number(m[4]), checksum: m[5] } : null;
  return { name, kind: m[1] as 'local' | 'recv', index: Number(m[2]), term: Number(m[3]), expected, finished: m[7] === 'snap' };
}

/** The name a `.part` file gets once finished. */
export function finishedName(part: string): string {
  return part.replace(/\.part$/, '.snap');
}

/** The trailer of a finished file of `size` bytes with these block CRCs and SHA-256. */
export function encodeTrailer(size: number, blockCrcs: readonly number[], checksum: string): Buffer {
  const out = Buffer.alloc(blockCrcs.length * 4 + FOOTER_BYTES);
  blockCrcs.forEach((c, k) => out.writeUInt32BE(c, k * 4));
  const f = blockCrcs.length * 4;
  MAGIC.copy(out, f);
  out.writeUInt32BE(Math.floor(size / 2 ** 32), f + 8);
  out.writeUInt32BE(size >>> 0, f + 12);
  out.writeUInt32BE(BLOCK_BYTES, f + 16);
  Buffer.from(checksum, 'hex').copy(out, f + 20);
  out.writeUInt32BE(crc32c(out.subarray(0, f + 52)), f + 52);
  return out;
}

export function blockCount(size: number): number {
  return Math.ceil(size / BLOCK_BYTES);
}

/** Decodes a footer; the CRC over the table and footer is checked by `checkTrailer`. */
export function decodeFooter(footer: Buffer, what: string): { size: number; checksum: string } {
  if (!footer.subarray(0, 8).equals(MAGIC)) throw corrupt(`${what} has no snapshot footer (bad magic)`);
  if (footer.readUInt32BE(16) !== BLOCK_BYTES) throw corrupt(`${what} has block size ${footer.readUInt32BE(16)}, expected ${BLOCK_BYTES}`);
  return { size: footer.readUInt32BE(8) * 2 ** 32 + footer.readUInt32BE(12), checksum: footer.toString('hex', 20, 52) };
}

export function checkTrailer(trailer: Buffer, what: string): void {
  const end = trailer.length - 4;
  if (crc32c(trailer.subarray(0, end)) !== trailer.readUInt32BE(end)) throw corrupt(`${what} has a damaged block checksum table`);
}

/** fsyncs a directory, so the names created, renamed or removed in it are durable. */
export async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The snapshot directory of one storage. */
export class SnapshotDir {
  private constructor(readonly path: string) {}

  /**
   * Creates the directory if needed and deletes what a crash or a finished install left:
   * unfinished local snapshots, finished ones nobody installed, received ones at or below the
   * installed index, and stray files. Keeps `keep` (the installed snapshot's file, which must
   * exist) and received snapshots above it, to resume.
   */
  static async open(location: string, keep: { file: string; index: number } | null): Promise<SnapshotDir> {
    const path = join(location, SNAPSHOT_DIR);
    try {
      await mkdir(path, { recursive: true });
      await syncDir(location);
    } catch (error) {
      throw failed(`could not create the snapshot directory ${path}`, error);
    }
    const dir = new SnapshotDir(path);
    const names = await readdir(path);
    if (keep && !names.includes(keep.file)) {
      throw corrupt(`the installed snapshot's file ${join(path, keep.file)} is missing`);
    }
    const stale = names.filter((n) => {
      if (n === keep?.file) return false;
      const p = parseName(n);
      return !(p && p.kind === 'recv' && p.index > (keep?.index ?? 0));
    });
    await dir.remove(stale);
    return dir;
  }

  file(name: string): string {
    return join(this.path, name);
  }

  async names(): Promise<SnapshotFileName[]> {
    const out: SnapshotFileName[] = [];
    for (const n of await readdir(this.path)) {
      const p = parseName(n);
      if (p) out.push(p);
    }
    return out;
  }

  /** Deletes `names` (missing ones are fine), then fsyncs the directory. */
  async remove(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    for (const n of names) await unlink(join(this.path, n)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw failed(`could not delete snapshot file ${n}`, e);
    });
    await syncDir(this.path);
  }

  sync(): Promise<void> {
    return syncDir(this.path);
  }
}
