// Damage to a stopped node's RocksDB write-ahead log, the way a bad disk or a careless operator
// does it (issue 9 item 2): bytes flipped inside a record, the file cut at a record boundary,
// or the file deleted. RocksDB WAL format (db/log_format.h): 32 KiB blocks of
// `crc u32 | length u16 | type u8 | payload` physical records.
import { readFileSync, readdirSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { between, pick, type Random } from './random.js';

export type WalDamageKind = 'flip' | 'truncate' | 'delete';

export const WAL_DAMAGE_KINDS: readonly WalDamageKind[] = ['flip', 'truncate', 'delete'];

export interface WalDamage {
  readonly kind: WalDamageKind;
  /** e.g. `flip 8 bytes at 41234 of 000012.log`. */
  readonly detail: string;
}

const BLOCK = 32 * 1024;
const HEADER = 7;
/** A WAL with fewer records holds too little for its loss to be certain (see truncate). */
const MIN_RECORDS = 4;

/**
 * Damages the newest WAL in `dbDir` (the RocksDB directory) that holds at least a few records;
 * null if there is none (everything was flushed to table files, nothing in a WAL to damage).
 * Truncation keeps 10-60% of the records, so several synced writes are lost, which the
 * storage's durable watermark must notice (it may lag by one write after a crash).
 */
export function damageNewestWal(dbDir: string, kind: WalDamageKind, rand: Random): WalDamage | null {
  const wals = readdirSync(dbDir)
    .filter((n) => /^\d+\.log$/.test(n))
    .sort((a, b) => Number.parseInt(b, 10) - Number.parseInt(a, 10));
  for (const name of wals) {
    const path = join(dbDir, name);
    const records = walRecords(readFileSync(path));
    if (records.length < MIN_RECORDS) continue;
    if (kind === 'delete') {
      unlinkSync(path);
      return { kind, detail: `delete ${name} (${statSizeText(records)})` };
    }
    if (kind === 'truncate') {
      const keep = between(rand, Math.ceil(records.length * 0.1), Math.floor(records.length * 0.6));
      const at = records[keep]!.start;
      truncateSync(path, at);
      return { kind, detail: `truncate ${name} to ${at} bytes (${keep} of ${records.length} records)` };
    }
    const r = pick(rand, records);
    const payload = r.end - (r.start + HEADER);
    const length = Math.min(8, payload);
    const at = r.start + HEADER + Math.floor(rand() * (payload - length + 1));
    const buf = readFileSync(path);
    for (let i = at; i < at + length; i++) buf[i] = buf[i]! ^ 0xff;
    writeFileSync(path, buf);
    return { kind, detail: `flip ${length} bytes at ${at} of ${name}` };
  }
  return null;
}

interface WalRecord {
  readonly start: number;
  readonly end: number;
}

/** The physical records with a payload, in file order (checksums not checked). */
function walRecords(buf: Buffer): WalRecord[] {
  const out: WalRecord[] = [];
  for (let block = 0; block < buf.length; block += BLOCK) {
    const limit = Math.min(block + BLOCK, buf.length);
    for (let pos = block; limit - pos >= HEADER; ) {
      const length = buf.readUInt16LE(pos + 4);
      if (length === 0 || pos + HEADER + length > limit) break;
      out.push({ start: pos, end: pos + HEADER + length });
      pos += HEADER + length;
    }
  }
  return out;
}

function statSizeText(records: readonly WalRecord[]): string {
  return `${records.length} records, ${records.at(-1)!.end} bytes`;
}

