// Which process holds a RocksDB directory's LOCK file, so "locked by another process" can name it.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The pid holding the POSIX lock RocksDB takes on `location`/LOCK, from Linux's /proc/locks
 * (matched by the file's inode); null where that is not available (other platforms, a lock
 * already gone). Best effort: it only adds detail to an error message.
 */
export async function lockHolder(location: string): Promise<number | null> {
  try {
    const { ino } = await stat(join(location, 'LOCK'));
    const locks = await readFile('/proc/locks', 'utf8');
    // Lines look like: "1: POSIX  ADVISORY  WRITE 4242 08:01:1234567 0 EOF".
    for (const line of locks.split('\n')) {
      const m = /^\d+:\s+POSIX\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
      if (m && Number(m[2]) === ino) return Number(m[1]);
    }
  } catch {
    // no LOCK file or no /proc/locks: the message goes without a pid
  }
  return null;
}
