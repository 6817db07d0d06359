import { createHash } from 'node:crypto';
import { MAX_TERM, crc32c } from '@raftkit/core';
import type { ConfState, NodeId, SnapshotChunkRequest, SnapshotChunkResponse, SnapshotMeta, SnapshotRequest } from '@raftkit/core';
import { MiB, offsetView, patternBytes } from './bytes.js';

/**
 * A joint configuration leaving (from, 'n-äöü', to) for (from, to, '10'), with a learner, a
 * learner-to-be and addresses: every field of a ConfState set. '10' and '2' are ids JavaScript
 * orders numerically in an object, so a transport relying on key order is caught.
 */
export function sampleConfState(from: NodeId, to: NodeId): ConfState {
  return {
    config: {
      voters: [from, to, '10'],
      votersOutgoing: [from, 'n-äöü', to],
      learners: ['2'],
      learnersNext: ['n-äöü'],
      autoLeave: true,
    },
    addresses: { [to]: 'http://127.0.0.1:7002/raft', '10': 'https://n10.example:7443', '2': 'http://[::1]:7004', 'n-äöü': 'http://ü.example' },
  };
}

function singleVoter(to: NodeId): ConfState {
  return { config: { voters: [to], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false }, addresses: {} };
}

/** Lowercase hex SHA-256 of `bytes`: the form a chunk's `checksum` takes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Meta-only `snapshot` messages: with and without membership, an empty voter list, index 1. */
export function snapshotSamples(from: NodeId, to: NodeId): SnapshotRequest[] {
  const base = { type: 'snapshot', from, to, term: 7 } as const;
  return [
    { ...base, meta: { index: 100, term: 6, voters: [from, to, 'n-äöü'] } },
    { ...base, meta: { index: 1, term: 1, voters: [] } },
    { ...base, meta: { index: 120, term: 7, voters: [from, to, '10', 'n-äöü'], membership: sampleConfState(from, to) } },
    { ...base, meta: { index: 2, term: 1, voters: [to], membership: singleVoter(to) } },
  ];
}

interface ChunkSpec {
  readonly meta: SnapshotMeta;
  readonly size: number;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly term?: number;
}

/** A chunk with its CRC-32C computed; the checksum names the snapshot by (a hash of) its meta and size. */
function chunk(from: NodeId, to: NodeId, spec: ChunkSpec, checksum = sha256Hex(new TextEncoder().encode(JSON.stringify([spec.meta, spec.size])))): SnapshotChunkRequest {
  const { meta, size, offset, data, term = 7 } = spec;
  return { type: 'snapshotChunk', from, to, term, meta, size, checksum, offset, data, crc: crc32c(data) };
}

/**
 * `snapshotChunk` messages: the empty chunk at offset 0 that opens a transfer, a chunk of
 * binary data under a joint membership, one viewing a larger buffer at an offset beyond 2^32
 * (the last of a 4 GiB+ snapshot), and one with the largest term and index a transport carries.
 * Small on purpose (the codec's fuzz test walks every prefix); `largeChunk` makes big ones.
 */
export function snapshotChunkSamples(from: NodeId, to: NodeId): SnapshotChunkRequest[] {
  const plain: SnapshotMeta = { index: 100, term: 6, voters: [from, to, 'n-äöü'] };
  const joint: SnapshotMeta = { index: 120, term: 7, voters: [from, to, '10', 'n-äöü'], membership: sampleConfState(from, to) };
  const far = 2 ** 32 + 7 * MiB;
  const tail = offsetView(patternBytes(333, 6));
  const top = Number.MAX_SAFE_INTEGER - 10;
  return [
    chunk(from, to, { meta: plain, size: 3 * MiB + 5, offset: 0, data: new Uint8Array(0) }),
    chunk(from, to, { meta: joint, size: 3 * MiB, offset: MiB, data: patternBytes(4096, 5) }),
    chunk(from, to, { meta: { index: 7000, term: 9, voters: [to], membership: singleVoter(to) }, size: far + tail.length, offset: far, data: tail }),
    chunk(from, to, { meta: { index: top, term: MAX_TERM, voters: [from] }, size: top, offset: top - 16, data: patternBytes(16, 7), term: MAX_TERM }),
  ];
}

/** `snapshotChunkResponse` messages: every status, and positions beyond 2^32. */
export function snapshotChunkResponseSamples(from: NodeId, to: NodeId): SnapshotChunkResponse[] {
  const base = { type: 'snapshotChunkResponse', from, to, term: 7 } as const;
  const checksum = sha256Hex(patternBytes(64, 8));
  return [
    { ...base, index: 100, checksum, next: MiB, status: 'ok' },
    { ...base, index: 100, checksum, next: 3 * MiB + 5, status: 'done' },
    { ...base, index: 100, checksum, next: 0, status: 'corrupt' },
    { ...base, index: 100, checksum, next: 0, status: 'rejected' },
    { ...base, index: 2 ** 40, checksum: sha256Hex(new Uint8Array(0)), next: 2 ** 32 + 7 * MiB, status: 'ok' },
  ];
}

/**
 * A chunk carrying `bytes` of snapshot data (RaftNode's default chunk size is 1 MiB; larger
 * ones are allowed when configured), part of a snapshot four times that size, at `offset`.
 */
export function largeChunk(from: NodeId, to: NodeId, bytes = MiB, offset = bytes): SnapshotChunkRequest {
  const data = patternBytes(bytes, 9);
  const meta: SnapshotMeta = { index: 5000, term: 3, voters: [from, to], membership: sampleConfState(from, to) };
  return chunk(from, to, { meta, size: Math.max(4 * bytes, offset + bytes), offset, data, term: 3 });
}

/**
 * A whole snapshot of `count` × `chunkBytes` as the consecutive chunks a leader streams (the
 * checksum is the real SHA-256 of their data), each with different bytes.
 */
export function chunkBurst(from: NodeId, to: NodeId, count = 16, chunkBytes = 256 * 1024): SnapshotChunkRequest[] {
  const parts = Array.from({ length: count }, (_, i) => patternBytes(chunkBytes, 100 + i));
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  const checksum = hash.digest('hex');
  const meta: SnapshotMeta = { index: 9000, term: 4, voters: [from, to] };
  const size = count * chunkBytes;
  return parts.map((data, i) => chunk(from, to, { meta, size, offset: i * chunkBytes, data, term: 4 }, checksum));
}
