/**
 * `raftkit-server recover --force-new-cluster --data DIR --id ID [--url URL]`: disaster
 * recovery when a majority of the voters is lost for good, so no leader can ever be elected
 * again. Offline (the server must not run on DIR): appends to the surviving node's log, durably,
 * one configuration entry making ID the single voter of a new configuration. Started normally,
 * the node elects itself; new members are then added with --join.
 *
 * UNSAFE by design (etcd's --force-new-cluster): writes the lost majority acknowledged but that
 * never reached this node are gone, and entries of this log that were never committed may now
 * be committed. The old members must never come back with their data.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EntryType, bootstrapConfig, decodeConfEntry, encodeConfEntry, type LogStorage, type MembershipConfig } from '@raftkit/core';
import { RocksLogStorage } from '@raftkit/log-rocksdb';
import { ConfigError, parseBaseUrl } from './config.js';
import { parseOfflineFlags, requireNodeId } from './offlineArgs.js';

export const recoverUsage = `usage: raftkit-server recover --force-new-cluster --data DIR --id ID [--url URL]

UNSAFE disaster recovery, for when a majority of the voters is lost for good. Run it offline
(the server stopped) on the node with the most complete log. It makes ID the only voter of a
new configuration; start the node normally afterwards and add new members with --join.

  --force-new-cluster   required: says you accept that writes may be lost
  --data DIR            the surviving node's data directory
  --id ID               the id this node runs with (it must be a member of its configuration)
  --url URL             this node's URL, recorded in the new configuration (default: none)`;

interface RecoverArgs {
  readonly dataDir: string;
  readonly id: string;
  readonly url: string | null;
}

function parseArgs(argv: readonly string[]): RecoverArgs {
  const raw = parseOfflineFlags('recover', argv, ['data', 'id', 'url'], ['force-new-cluster'], recoverUsage);
  if (raw['force-new-cluster'] !== 'true') {
    throw new ConfigError(`recover rewrites the cluster's membership and can lose acknowledged writes; it runs only with --force-new-cluster\n${recoverUsage}`);
  }
  const id = requireNodeId('recover', raw);
  if (!raw['data']) throw new ConfigError('recover: --data is required');
  return { dataDir: raw['data'], id, url: raw['url'] ? parseBaseUrl('--url', raw['url']) : null };
}

/** The configuration the log ends with (the latest entry's, else the snapshot's). */
async function lastConfig(storage: LogStorage): Promise<MembershipConfig | null> {
  const st = await storage.state();
  // Entries past the snapshot, newest first; a few thousand at most (snapshots compact them).
  if (st.lastIndex >= st.firstIndex) {
    const entries = await storage.entries(st.firstIndex, st.lastIndex + 1);
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i]!.type === EntryType.ConfChange) return decodeConfEntry(entries[i]!.data).config;
    }
  }
  if (st.snapshot) return st.snapshot.membership?.config ?? bootstrapConfig(st.snapshot.voters);
  return null;
}

/** Runs the command; returns the exit code (0 done, 1 failed, 2 bad arguments). */
export async function runRecover(argv: readonly string[], out = process.stdout, err = process.stderr): Promise<number> {
  let args: RecoverArgs;
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
  if (!existsSync(dir)) {
    err.write(`raftkit-server recover: ${args.dataDir} holds no raftkit log (no ${dir}); give the surviving node's --data directory\n`);
    return 1;
  }
  let storage: RocksLogStorage;
  try {
    storage = await RocksLogStorage.open(dir);
  } catch (e) {
    err.write(`raftkit-server recover: cannot open ${dir}: ${(e as Error).message}; is the server still running on it? Stop it first\n`);
    return 1;
  }
  try {
    return await rewrite(storage, args, out, err);
  } finally {
    await storage.close();
  }
}

async function rewrite(storage: LogStorage, args: RecoverArgs, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const st = await storage.state();
  if (st.lastIndex === 0 && st.snapshot === null) {
    err.write(`raftkit-server recover: ${args.dataDir} holds an empty log: there is nothing to recover\n`);
    return 1;
  }
  const old = await lastConfig(storage);
  const members = old ? [...old.voters, ...old.votersOutgoing, ...old.learners] : [];
  if (old && !members.includes(args.id)) {
    err.write(`raftkit-server recover: ${args.id} is not a member of this log's configuration (voters ${old.voters.join(', ') || 'none'}); give the id this data directory belongs to\n`);
    return 2;
  }
  // Not below any term this node has seen: no leader of an older term can overwrite it.
  const term = Math.max(st.hardState.term, await storage.term(st.lastIndex));
  const index = st.lastIndex + 1;
  const config = bootstrapConfig([args.id]);
  const data = encodeConfEntry({ config, addresses: args.url ? { [args.id]: args.url } : {} });
  await storage.save({ entries: [{ index, term, type: EntryType.ConfChange, data }], sync: true });
  err.write(
    [
      '',
      '!!! raftkit-server recover --force-new-cluster: UNSAFE, done !!!',
      `${args.id} is now the ONLY voter of a new configuration (entry ${index}, term ${term}); it was one of: ${old ? old.voters.join(', ') : 'the bootstrap voters'}.`,
      'Writes the old majority acknowledged that never reached this node are LOST; writes in this log',
      'that were never committed may now be committed.',
      'The old members must NEVER be started again with their data: wipe their data directories,',
      'then add machines back with --join under NEW ids.',
      '',
    ].join('\n'),
  );
  out.write(`recovered: ${args.id} is the single voter (log index ${index}, term ${term}); start it normally, then --join new members\n`);
  return 0;
}
