import { DecodeError, type Reader, type Writer } from './codec/binary.js';
import type { KvErrorCode } from './errors.js';
import { readOptionalValue, writeOptionalValue, type StoredValue } from './values.js';

/** What a write returned when it ran; cached per (session, seq) and replayed to retries. */
export type KvWriteResult =
  | { readonly type: 'put'; readonly revision: number }
  | { readonly type: 'delete'; readonly revision: number; readonly deleted: boolean }
  /** `current` (what the key held instead of `expected`) is present only when `ok` is false. */
  | { readonly type: 'cas'; readonly revision: number; readonly ok: boolean; readonly current?: StoredValue | null }
  | { readonly type: 'putMany'; readonly revision: number; readonly count: number };

/**
 * What `KvStateMachine.apply` returns for an entry (the `R` of `RaftNode<R>`). `revision` is
 * the index of the entry that ran the command: for a replayed duplicate, the original's.
 * Errors are results, not exceptions: a throw from apply would stop the node.
 */
export type KvCommandResult =
  | KvWriteResult
  /** registerSession, keepAlive and closeSession. */
  | { readonly type: 'session'; readonly revision: number; readonly clientId: number }
  | { readonly type: 'error'; readonly revision: number; readonly code: KvErrorCode; readonly message: string };

const Tag = { put: 1, delete: 2, cas: 3, putMany: 4 } as const;

/** Layout: `u8 tag, varint revision`, then delete `u8 deleted` · cas `u8 ok` and, if not ok, an optional value · putMany `varint count`. */
export function writeResult(w: Writer, r: KvWriteResult): void {
  w.u8(Tag[r.type]).varint(r.revision);
  switch (r.type) {
    case 'delete':
      w.u8(r.deleted ? 1 : 0);
      return;
    case 'cas':
      w.u8(r.ok ? 1 : 0);
      if (!r.ok) writeOptionalValue(w, r.current ?? null);
      return;
    case 'putMany':
      w.varint(r.count);
      return;
    case 'put':
      return;
  }
}

export function readResult(r: Reader): KvWriteResult {
  const tag = r.u8();
  const revision = r.varint();
  switch (tag) {
    case Tag.put:
      return { type: 'put', revision };
    case Tag.delete:
      return { type: 'delete', revision, deleted: readFlag(r) };
    case Tag.cas: {
      const ok = readFlag(r);
      return ok ? { type: 'cas', revision, ok } : { type: 'cas', revision, ok, current: readOptionalValue(r) };
    }
    case Tag.putMany:
      return { type: 'putMany', revision, count: r.varint() };
    default:
      throw new DecodeError(`unknown result tag ${tag}`);
  }
}

function readFlag(r: Reader): boolean {
  const b = r.u8();
  if (b > 1) throw new DecodeError(`bad flag byte ${b}`);
  return b === 1;
}
