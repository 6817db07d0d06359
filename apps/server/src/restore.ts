/**
 * `raftkit-server restore --from FILE --data DIR --id ID [--url URL]`: seeds a brand-new
 * cluster from a backup (`GET /v1/snapshot`), like `etcdctl snapshot restore`. Offline: writes
 * DIR (which must not hold a log yet) so that the node starts with the backup's state, its
 * log starting right after the snapshot, and ID as the single voter of a new configuration.
 * Start it normally; it elects itself; add members with --join.
 */
import { open as openFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapConfig, isRaftError, type SnapshotMeta } from '@raftkit/core';
import { RocksLogStorage } from '@raftkit/log-rocksdb';
import { BackupFormatError, decodeBackupHeader } from './backupFile.js';
import { ConfigError, parseBaseUrl } from './config.js';
import { parseOfflineFlags, requireNodeId } from './offlineArgs.js';

export const restoreUsage = `usage: raftkit-server restore --from FILE --data DIR --id ID [--url URL]

Seeds a NEW cluster from a backup taken with GET /v1/snapshot. Offline: DIR must not hold a
raftkit log yet. The node starts with the backup's state and ID as its only voter; start it
normally afterwards and add members with --join.

  --from FILE   the backup file
  --data DIR    the new node's data directory (created)
  --id ID       the id the node will run with
  --url URL     this node's URL, recorded in the new configuration (default: none)`;

interface RestoreArgs {
  readonly from: string;
  readonly dataDir: string;
  readonly id: string;
  readonly url: string | null;
}

function parseArgs(argv: readonly string[]): RestoreArgs {
  const raw = parseOfflineFlags('restore', argv, ['from', 'data', 'id', 'url'], [], restoreUsage);
  const id = requireNodeId('restore', raw);
  if (!raw['from']) throw new ConfigError('restore: --from FILE is required');
  if (!raw['data']) throw new ConfigError('restore: --data DIR is required');
  return { from: raw['from'], dataDir: raw['data'], id, url: raw['url'] ? parseBaseUrl('--url', raw['url']) : null };
}

/** Runs the command; returns the exit code (0 done, 1 failed, 2 bad arguments). */
export async function runRestore(argv: readonly string[], out = process.stdout, err = process.stderr): Promise<number> {
  let args: RestoreArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`raftkit-server: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const dir = join(args.dataDir, 'raft');
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    err.write(`raftkit-server restore: ${dir} already holds a log; restore seeds a NEW node: give an empty --data directory\n`);
    return 1;
  }
  try {
    const meta = await restoreInto(args, dir);
    out.write(`restored: ${args.id} holds the backup's state at index ${meta.index} (term ${meta.term}) as the single voter; start it with --id ${args.id} --data ${args.dataDir}, then --join new members\n`);
    return 0;
  } catch (e) {
    const code = e instanceof BackupFormatError ? e.code : isRaftError(e) ? e.code : null;
    err.write(`raftkit-server restore: ${code ? `${code}: ` : ''}${(e as Error).message}\n`);
    return 1;
  }
}

async function restoreInto(args: RestoreArgs, dir: string): Promise<SnapshotMeta> {
  const file = await openFile(args.from, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    const { header, dataOffset } = decodeBackupHeader(head.subarray(0, bytesRead));
    const { size: fileSize } = await file.stat();
    if (fileSize !== dataOffset + header.size) {
      throw new BackupFormatError(`damaged backup: ${fileSize - dataOffset} bytes of snapshot data, the header says ${header.size} (truncated or appended to?)`);
    }
    const config = bootstrapConfig([args.id]);
    const meta: SnapshotMeta = {
      index: header.meta.index,
      term: header.meta.term,
      voters: [args.id],
      membership: { config, addresses: args.url ? { [args.id]: args.url } : {} },
    };
    const storage = await RocksLogStorage.open(dir);
    try {
      // The storage checks the bytes against the backup's SHA-256 as they are written.
      const writer = await storage.createSnapshot(meta, { size: header.size, checksum: header.checksum });
      const chunk = Buffer.alloc(1024 * 1024);
      for (let at = 0; at < header.size; ) {
        const { bytesRead: n } = await file.read(chunk, 0, Math.min(chunk.length, header.size - at), dataOffset + at);
        if (n === 0) throw new BackupFormatError('damaged backup: the file ended early');
        await writer.write(chunk.subarray(0, n));
        at += n;
      }
      await writer.finish();
      await storage.installSnapshot(meta);
      await storage.save({ hardState: { term: meta.term, vote: null, commit: meta.index } });
    } finally {
      await storage.close();
    }
    return meta;
  } finally {
    await file.close();
  }
}
