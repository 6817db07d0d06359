/**
 * The backup file `GET /v1/snapshot` streams and `raftkit-server restore` reads:
 *
 *   raftkit-snapshot 1\n
 *   {"index":…,"term":…,"voters":[…],"membership":{…},"size":N,"checksum":"<sha-256 hex>"}\n
 *   N bytes of state machine snapshot
 *
 * The checksum is the SHA-256 of the N bytes (the storage's own), so a copy can be checked
 * with `tail -c N FILE | sha256sum` and restore refuses a damaged file.
 */
import type { SnapshotInfo, SnapshotMeta } from '@raftkit/core';

export const BACKUP_MAGIC = 'raftkit-snapshot 1';

export interface BackupHeader {
  readonly meta: SnapshotMeta;
  readonly size: number;
  readonly checksum: string;
}

/** The two header lines, as bytes. */
export function encodeBackupHeader(info: SnapshotInfo): Buffer {
  const { meta, size, checksum } = info;
  return Buffer.from(`${BACKUP_MAGIC}\n${JSON.stringify({ ...meta, size, checksum })}\n`, 'utf8');
}

/** Thrown for a file that is not a raftkit backup or is damaged. */
export class BackupFormatError extends Error {
  readonly code = 'SERVER_BAD_BACKUP';
}

/** Parses the header from the first bytes of a file; returns it and where the data starts. */
export function decodeBackupHeader(head: Buffer): { header: BackupHeader; dataOffset: number } {
  const first = head.indexOf(0x0a);
  if (first < 0 || head.subarray(0, first).toString('utf8') !== BACKUP_MAGIC) {
    throw new BackupFormatError(`not a raftkit backup: the file must start with "${BACKUP_MAGIC}"`);
  }
  const second = head.indexOf(0x0a, first + 1);
  if (second < 0) throw new BackupFormatError('damaged backup: the header line is not terminated (truncated file?)');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(head.subarray(first + 1, second).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new BackupFormatError(`damaged backup: the header is not JSON (${(err as Error).message})`);
  }
  const { size, checksum, ...meta } = raw;
  const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!int(size) || typeof checksum !== 'string' || !/^[0-9a-f]{64}$/.test(checksum) || !int(meta['index']) || !int(meta['term']) || !Array.isArray(meta['voters'])) {
    throw new BackupFormatError('damaged backup: the header lacks index, term, voters, size or a SHA-256 checksum');
  }
  return { header: { meta: meta as unknown as SnapshotMeta, size: size as number, checksum }, dataOffset: second + 1 };
}
