import { DecodeError, type Reader, type Writer } from './codec/binary.js';
import { readKey } from './commands.js';
import { MAX_LEASE_TTL_MS } from './leaseErrors.js';
import { LeaseTable, type LeaseTableCapture } from './leaseTable.js';

/*
 * The lease section of a kv snapshot (v1 of this section). Every part in a fixed order, so
 * equal tables give equal bytes:
 *
 *   varint leaseCount,
 *   lease * leaseCount            (ascending id), where
 *   lease = varint id, varint ttlMs, varint grantRevision, varint keyCount,
 *           key * keyCount        (ascending key order: JavaScript string order)
 *   key   = varint length, UTF-8 bytes (1 to MAX_KEY_BYTES)
 *
 * Varints are the codec's minimal unsigned LEB128. A decoder refuses: an id of 0 or not above
 * the previous one, a TTL outside 1..MAX_LEASE_TTL_MS, a grant revision of 0, keys out of
 * order or repeated, a key attached to two leases, and bad keys. The section has no checksum
 * of its own: the snapshot's covers it.
 */

/**
 * The section as parts (the count; a lease's header; one key), each a function writing itself
 * to the writer it is given. A streaming snapshot encoder writes part by part and cuts chunks
 * between parts, so one lease with many keys is never one big part.
 */
export function* leaseParts(capture: LeaseTableCapture): Generator<(w: Writer) => void> {
  yield (w) => w.varint(capture.size);
  for (const lease of capture.inOrder()) {
    yield (w) => w.varint(lease.id).varint(lease.ttlMs).varint(lease.grantRevision).varint(lease.keys.length);
    for (const key of lease.keys) yield (w) => w.string(key);
  }
}

/** Writes the whole section to `w`. */
export function writeLeaseSection(w: Writer, capture: LeaseTableCapture): void {
  for (const part of leaseParts(capture)) part(w);
}

/** Reads a whole section from `r` (which may go on with other data). @throws DecodeError */
export function readLeaseSection(r: Reader): LeaseTable {
  const decoder = new LeaseSectionDecoder();
  while (!decoder.done) decoder.readPart(r);
  return decoder.finish();
}

interface OpenLease {
  readonly id: number;
  readonly ttlMs: number;
  readonly grantRevision: number;
  readonly keys: Set<string>;
  /** Keys still to read. Invariant: >= 1 while the lease is open. */
  left: number;
  last: string | undefined;
}

/**
 * Decodes the section one part at a time, for a snapshot decoder that parses parts as chunks
 * arrive: `readPart` reads every field of a part before it changes anything, so a part cut
 * short throws TruncatedError (a DecodeError) and is simply read again from its start once
 * more bytes came. Every other DecodeError means the input is corrupt.
 */
export class LeaseSectionDecoder {
  private readonly table = new LeaseTable();
  /** Leases whose header is still to read; -1 before the count was read. */
  private leasesLeft = -1;
  private open: OpenLease | null = null;
  private prevId = 0;
  /** Every key attached so far, to refuse one in two leases. */
  private readonly attached = new Set<string>();

  /** Whether the whole section was read (then `readPart` must not be called again). */
  get done(): boolean {
    return this.leasesLeft === 0 && this.open === null;
  }

  readPart(r: Reader): void {
    if (this.done) throw new DecodeError('lease section already complete');
    if (this.leasesLeft < 0) this.leasesLeft = r.varint();
    else if (this.open === null) this.header(r);
    else this.key(r, this.open);
  }

  /** The decoded table. @throws DecodeError if the section is incomplete. */
  finish(): LeaseTable {
    if (!this.done) throw new DecodeError(`lease section truncated (${this.leasesLeft < 0 ? 'no count' : `${this.leasesLeft} leases left`})`);
    return this.table;
  }

  private header(r: Reader): void {
    const at = r.offset;
    const id = r.varint();
    const ttlMs = r.varint();
    const grantRevision = r.varint();
    const keyCount = r.varint();
    if (id <= this.prevId) throw new DecodeError(`lease id ${id} at byte ${at} is not above ${this.prevId}`);
    if (ttlMs < 1 || ttlMs > MAX_LEASE_TTL_MS) throw new DecodeError(`lease ${id} has ttlMs ${ttlMs}, outside 1..${MAX_LEASE_TTL_MS}`);
    if (grantRevision < 1) throw new DecodeError(`lease ${id} has grant revision 0`);
    this.prevId = id;
    this.leasesLeft--;
    const lease: OpenLease = { id, ttlMs, grantRevision, keys: new Set(), left: keyCount, last: undefined };
    if (keyCount === 0) this.close(lease);
    else this.open = lease;
  }

  private key(r: Reader, lease: OpenLease): void {
    const key = readKey(r);
    if (lease.last !== undefined && !(lease.last < key)) throw new DecodeError(`lease ${lease.id}: key ${JSON.stringify(key)} out of order`);
    if (this.attached.has(key)) throw new DecodeError(`key ${JSON.stringify(key)} is attached to two leases`);
    this.attached.add(key);
    lease.keys.add(key);
    lease.last = key;
    if (--lease.left === 0) this.close(lease);
  }

  private close(lease: OpenLease): void {
    this.open = null;
    // Cannot fail: ids were checked ascending above.
    if (!this.table.append(lease, lease.keys)) throw new DecodeError(`lease ${lease.id} out of order`);
  }
}
