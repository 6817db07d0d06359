import { Writer } from '../../src/codec/binary.js';
import { crc32 } from '../../src/codec/crc32.js';
import type { KeySpace } from '../../src/keySpace.js';
import { writeLeaseSection } from '../../src/leaseCodec.js';
import type { LeaseTable } from '../../src/leaseTable.js';
import { writeResult } from '../../src/results.js';
import type { SessionTable } from '../../src/sessions.js';
import { MAGIC, SNAPSHOT_VERSION } from '../../src/snapshot.js';
import type { KvStateMachine } from '../../src/stateMachine.js';
import { writeValue } from '../../src/values.js';

/**
 * The one-buffer encoder the streaming one replaced, kept as the reference its bytes must
 * equal: it reads the machine's live state directly, all at once. `version` 1 writes the old
 * layout (records without createRevision, version and lease), 2 the one without the lease
 * table, to test that they still decode.
 */
export function referenceSnapshot(machine: KvStateMachine, version: 1 | 2 | 3 = SNAPSHOT_VERSION as 3): Uint8Array {
  const m = machine as unknown as { applied: number; now: number; sessions: SessionTable; keys: KeySpace; leases: LeaseTable };
  const w = new Writer(1024);
  for (const b of MAGIC) w.u8(b);
  w.u8(version).varint(m.applied).varint(m.now);
  w.varint(m.sessions.size);
  for (const s of m.sessions.inOrder()) {
    w.varint(s.clientId).varint(s.lastSeen).varint(s.firstOutstanding).varint(s.results.size);
    for (const seq of [...s.results.keys()].sort((a, b) => a - b)) writeResult(w.varint(seq), s.results.get(seq)!);
  }
  w.varint(m.keys.size);
  for (const [key, rec] of m.keys.inOrder()) {
    w.string(key).varint(rec.modRevision);
    if (version > 1) w.varint(rec.createRevision).varint(rec.version).varint(rec.lease);
    writeValue(w, rec.value);
  }
  if (version > 2) writeLeaseSection(w, m.leases.capture());
  const sum = crc32(w.view());
  for (const shift of [24, 16, 8, 0]) w.u8((sum >>> shift) & 0xff);
  return w.finish();
}
