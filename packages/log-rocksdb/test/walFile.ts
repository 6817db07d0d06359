// Locates and damages RocksDB write-ahead log files, record by record (RocksDB db/log_format.h:
// 32 KiB blocks of `crc u32 | length u16 | type u8 | payload` physical records).
import { readdir, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const BLOCK = 32 * 1024;
const HEADER = 7;

/** Path of the newest (highest-numbered) WAL file in `dir`. */
export async function newestWal(dir: string): Promise<string> {
  const logs = (await readdir(dir)).filter((n) => /^\d+\.log$/.test(n));
  if (logs.length === 0) throw new Error(`no WAL file in ${dir}`);
  logs.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  return join(dir, logs[logs.length - 1]);
}

export interface WalRecord {
  /** File offset of the record's header. */
  readonly start: number;
  /** File offset just past its payload. */
  readonly end: number;
}

/** The physical records of a WAL file, in order (checksums are not checked here). */
export async function walRecords(path: string): Promise<WalRecord[]> {
  const buf = await readFile(path);
  const out: WalRecord[] = [];
  for (let block = 0; block < buf.length; block += BLOCK) {
    const limit = Math.min(block + BLOCK, buf.length);
    let pos = block;
    while (limit - pos >= HEADER) {
      const length = buf.readUInt16LE(pos + 4);
      if (buf[pos + 6] === 0 && length === 0) break;
      if (pos + HEADER + length > limit) break;
      out.push({ start: pos, end: pos + HEADER + length });
      pos += HEADER + length;
    }
  }
  return out;
}

export async function flipWalByte(path: string, offset: number, mask = 0x20): Promise<void> {
  const buf = await readFile(path);
  buf[offset] ^= mask;
  await writeFile(path, buf);
}

export const truncateWal = (path: string, length: number): Promise<void> => truncate(path, length);
export const deleteWal = (path: string): Promise<void> => unlink(path);
export const walSize = async (path: string): Promise<number> => (await stat(path)).size;
