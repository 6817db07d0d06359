import { DecodeError, Reader, TruncatedError } from './codec/binary.js';
import { crc32Update } from './codec/crc32.js';
import { readKey } from './commands.js';
import { KvError, KvErrorCode } from './errors.js';
import { KeySpace } from './keySpace.js';
import { leaseMismatch } from './leaseApply.js';
import { LeaseSectionDecoder } from './leaseCodec.js';
import { LeaseTable } from './leaseTable.js';
import { readResult, type KvWriteResult } from './results.js';
import { SessionTable, type Session } from './sessions.js';
import { MAGIC, SNAPSHOT_VERSION } from './snapshot.js';

/** Oldest snapshot version still read: v1 records lack createRevision, version and lease. */
const OLDEST_VERSION = 1;
import { readValue, type ValueStore } from './values.js';

/** A fully decoded, checksum-verified snapshot. */
export interface DecodedSnapshot {
  readonly index: number;
  readonly logClock: number;
  readonly keys: KeySpace;
  readonly sessions: SessionTable;
  /** Checked against the key records: every key naming a lease is attached to it. */
  readonly leases: LeaseTable;
}

/** The sections in order ('leases' from v3 on: `afterKeys()` picks it by `version`). */
type Phase = 'header' | 'sessions' | 'keyCount' | 'keys' | 'leases' | 'checksum' | 'done';

/** First version with a lease section. */
const LEASES_VERSION = 3;

/**
 * Decodes a snapshot (layout in snapshot.ts) from chunks cut anywhere, without ever joining
 * them whole: it parses every complete part (the header, one session, one key record) of what
 * it holds and keeps only the unfinished part, so it holds at most one part plus a chunk.
 * The checksum covers every byte before it and is checked at the end; nothing is usable before
 * `finish()` returned, so a damaged snapshot changes nothing.
 *
 * Errors are KvError KV_SNAPSHOT_CORRUPT, from `push` (a part that does not decode) or
 * `finish` (truncated, trailing bytes, checksum mismatch).
 */
export class SnapshotDecoder {
  private readonly keys: KeySpace;
  private readonly sessions: SessionTable;
  private readonly leaseDecoder = new LeaseSectionDecoder();
  private phase: Phase = 'header';
  /** Parts of this phase still to read. */
  private left = 0;
  private index = 0;
  private logClock = 0;
  /** The snapshot's format version, known once the header is read. */
  private version = 0;
  /** CRC-32 of every byte parsed so far (never of the checksum itself). */
  private crc = 0;
  private stored = 0;
  /** Unparsed bytes: the start of an unfinished part. */
  private buf: Uint8Array = new Uint8Array(0);
  /** Chunks received after `buf`, not yet joined to it. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes the unfinished part needs at least beyond `buf` before it is worth parsing again. */
  private need = 0;
  /** Total bytes received, for messages. */
  private received = 0;

  /** @param values where the decoded values are kept (see KvStateMachineOptions.values). */
  constructor(ttlMs: number, maxPending: number, values?: ValueStore) {
    this.keys = new KeySpace(values);
    this.sessions = new SessionTable(ttlMs, maxPending);
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.received += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.need) return;
    this.join();
    corrupt(() => this.parse());
  }

  /** Ends the input; returns the state if every byte decoded and the checksum matched. */
  finish(): DecodedSnapshot {
    this.join();
    corrupt(() => {
      this.parse();
      if (this.phase !== 'done') throw new DecodeError(`truncated after ${this.received} bytes (reading ${this.phase})`);
      if (this.buf.length > 0) throw new DecodeError(`${this.buf.length} unexpected trailing bytes`);
      if (this.stored !== this.crc) throw new DecodeError('checksum mismatch');
    });
    let leases = new LeaseTable();
    corrupt(() => {
      if (this.version < LEASES_VERSION) return;
      leases = this.leaseDecoder.finish();
      const mismatch = leaseMismatch(this.keys, leases);
      if (mismatch !== undefined) throw new DecodeError(`lease table does not match the keys: ${mismatch}`);
    });
    return { index: this.index, logClock: this.logClock, keys: this.keys, sessions: this.sessions, leases };
  }

  private join(): void {
    if (this.pending.length === 0) return;
    const parts = this.buf.length > 0 ? [this.buf, ...this.pending] : this.pending;
    this.buf = parts.length === 1 ? parts[0]! : concat(parts);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Parses every complete part of `buf`; keeps the rest and how much more it needs. */
  private parse(): void {
    this.need = 0;
    let at = 0;
    try {
      while (this.phase !== 'done' && at < this.buf.length) {
        const r = new Reader(this.buf.subarray(at));
        if (this.part(r)) this.crc = crc32Update(this.crc, this.buf.subarray(at, at + r.offset));
        at += r.offset;
      }
    } catch (err) {
      if (!(err instanceof TruncatedError)) throw err;
      this.need = err.missing;
    } finally {
      this.buf = this.buf.subarray(at);
    }
  }

  /**
   * Reads one part and moves on; a part that does not fit yet throws TruncatedError, changing
   * nothing. Returns whether the checksum covers what it read (all but the checksum itself).
   */
  private part(r: Reader): boolean {
    switch (this.phase) {
      case 'header':
        this.header(r);
        return true;
      case 'sessions':
        if (this.left === 0) {
          this.phase = 'keyCount';
          return this.part(r);
        }
        this.session(r);
        this.left--;
        return true;
      case 'keyCount':
        this.left = r.varint();
        this.phase = 'keys';
        return true;
      case 'keys':
        if (this.left === 0) {
          this.phase = this.afterKeys();
          return this.part(r);
        }
        this.key(r);
        this.left--;
        return true;
      case 'leases':
        if (this.leaseDecoder.done) {
          this.phase = 'checksum';
          return this.part(r);
        }
        this.leaseDecoder.readPart(r);
        return true;
      case 'checksum': {
        const b = r.raw(4);
        this.stored = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
        this.phase = 'done';
        return false;
      }
      case 'done':
        return false;
    }
  }

  /** The section after the key records. */
  private afterKeys(): Phase {
    return this.version >= LEASES_VERSION ? 'leases' : 'checksum';
  }

  private header(r: Reader): void {
    for (const b of MAGIC) if (r.u8() !== b) throw new DecodeError('not a kv snapshot (bad magic)');
    const version = r.u8();
    if (version < OLDEST_VERSION || version > SNAPSHOT_VERSION) throw new DecodeError(`unsupported snapshot version ${version}`);
    const index = r.varint();
    const logClock = r.varint();
    const count = r.varint();
    this.version = version;
    this.index = index;
    this.logClock = logClock;
    this.left = count;
    this.phase = 'sessions';
  }

  /** Reads every field before storing anything, so a part cut short is simply read again. */
  private session(r: Reader): void {
    const clientId = r.varint();
    const lastSeen = r.varint();
    const firstOutstanding = r.varint();
    const session: Session = { clientId, lastSeen, firstOutstanding, results: readResults(r, firstOutstanding) };
    if (!this.sessions.append(session)) throw new DecodeError(`session ${clientId} is duplicated or out of expiry order`);
  }

  private key(r: Reader): void {
    const key = readKey(r);
    const modRevision = r.varint();
    // v1 kept no history: read its keys as created by their last write, attached to no lease.
    const v1 = this.version === 1;
    const createRevision = v1 ? modRevision : r.varint();
    const version = v1 ? 1 : r.varint();
    const lease = v1 ? 0 : r.varint();
    const value = readValue(r);
    if (createRevision > modRevision || version < 1 || modRevision < 1 || modRevision > this.index) {
      throw new DecodeError(`key ${JSON.stringify(key)} has bad revisions (mod ${modRevision}, create ${createRevision}, version ${version})`);
    }
    if (!this.keys.append(key, { value, modRevision, createRevision, version, lease })) throw new DecodeError(`key ${JSON.stringify(key)} out of order`);
  }
}

function readResults(r: Reader, firstOutstanding: number): Map<number, KvWriteResult> {
  const results = new Map<number, KvWriteResult>();
  const count = r.varint();
  let prev = firstOutstanding - 1;
  for (let i = 0; i < count; i++) {
    const seq = r.varint();
    if (seq <= prev) throw new DecodeError(`cached seq ${seq} out of order or acknowledged`);
    results.set(seq, readResult(r));
    prev = seq;
  }
  return results;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function corrupt(f: () => void): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    throw new KvError(KvErrorCode.SnapshotCorrupt, `kv snapshot does not decode: ${err.message}`, { cause: err });
  }
}
