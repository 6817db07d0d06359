import { createHash } from 'node:crypto';
import type { LogStorage, Snapshot, SnapshotExpectation, SnapshotInfo, SnapshotMeta, SnapshotReader, SnapshotWriter } from '@raftkit/core';
import { expect } from 'vitest';
import { entryData, sameBytes } from './helpers.js';

/** The streaming snapshot methods of `storage`, failing the case if it lacks them. */
export function streaming(storage: LogStorage): {
  create(meta: SnapshotMeta, expected?: SnapshotExpectation): Promise<SnapshotWriter>;
  open(): Promise<SnapshotReader | null>;
} {
  const { createSnapshot, openSnapshot } = storage;
  if (typeof createSnapshot !== 'function' || typeof openSnapshot !== 'function') {
    expect.fail('the storage has no createSnapshot/openSnapshot (streaming snapshots)');
  }
  return { create: (meta, expected) => createSnapshot.call(storage, meta, expected), open: () => openSnapshot.call(storage) };
}

/** SHA-256 of `bytes`, lowercase hex: what a storage must report as a snapshot's checksum. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Deterministic snapshot bytes for `seed`. */
export function snapshotData(seed: number, size: number): Uint8Array {
  return entryData(seed + 3_000_000, size);
}

export function snapMeta(index: number, term: number): SnapshotMeta {
  return { index, term, voters: ['a', 'b', 'c'] };
}

/** Writes `bytes[from..]` through `writer` in chunks cycling through `sizes`. */
export async function writeChunks(writer: SnapshotWriter, bytes: Uint8Array, sizes: readonly number[] = [65_537], from = writer.written): Promise<void> {
  let k = 0;
  for (let at = from; at < bytes.length; k++) {
    const n = Math.min(sizes[k % sizes.length], bytes.length - at);
    await writer.write(bytes.subarray(at, at + n));
    at += n;
  }
}

/** Writes a whole snapshot, finishes it and returns what finish() said. */
export async function writeSnapshot(storage: LogStorage, meta: SnapshotMeta, bytes: Uint8Array, expected?: SnapshotExpectation): Promise<SnapshotInfo> {
  const writer = await streaming(storage).create(meta, expected);
  await writeChunks(writer, bytes);
  return writer.finish();
}

/** Writes, finishes and installs a snapshot of `bytes` at `meta`. */
export async function takeSnapshot(storage: LogStorage, meta: SnapshotMeta, bytes: Uint8Array): Promise<void> {
  await writeSnapshot(storage, meta, bytes);
  await storage.installSnapshot(meta);
}

/** Every byte `reader.stream(offset, chunkBytes)` yields, checking each chunk's bound. */
export async function streamAll(reader: SnapshotReader, offset?: number, chunkBytes?: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const limit = chunkBytes ?? 1024 * 1024;
  for await (const c of reader.stream(offset, chunkBytes)) {
    expect(c.length, 'stream chunk size').toBeLessThanOrEqual(limit);
    expect(c.length, 'stream chunk size').toBeGreaterThan(0);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** Asserts the installed snapshot is `meta` with exactly `bytes`, through read() and stream(). */
export async function expectInstalled(storage: LogStorage, meta: SnapshotMeta, bytes: Uint8Array): Promise<void> {
  const state = await storage.state();
  expect(state.snapshot?.index, 'state().snapshot.index').toBe(meta.index);
  expect(state.snapshot?.term, 'state().snapshot.term').toBe(meta.term);
  const reader = await streaming(storage).open();
  expect(reader, 'openSnapshot()').not.toBeNull();
  try {
    expect(reader!.meta.index).toBe(meta.index);
    expect(reader!.size).toBe(bytes.length);
    expect(reader!.checksum).toBe(sha256(bytes));
    expect(sameBytes(await reader!.read(0, bytes.length + 10), bytes), 'read(0, size) bytes').toBe(true);
    expect(sameBytes(await streamAll(reader!), bytes), 'stream() bytes').toBe(true);
  } finally {
    await reader!.close();
  }
}

/**
 * A whole in-memory snapshot stored the way a node stores its own: written through a writer,
 * installed, and the log compacted up to it (what `installSnapshot({ meta, data })` did before
 * snapshots streamed; the cases written for that form use it).
 */
export async function installWhole(storage: LogStorage, snapshot: Snapshot): Promise<void> {
  const writer = await streaming(storage).create(snapshot.meta);
  try {
    if (snapshot.data.length > 0 || !(snapshot.data instanceof Uint8Array)) await writer.write(snapshot.data);
    await writer.finish();
  } catch (error) {
    await writer.abort().catch(() => undefined);
    throw error;
  }
  await storage.installSnapshot(snapshot.meta);
  await storage.compact(snapshot.meta.index);
}

/** The installed snapshot read whole, or null. */
export async function readSnapshot(storage: LogStorage): Promise<Snapshot | null> {
  const reader = await streaming(storage).open();
  if (!reader) return null;
  try {
    return { meta: reader.meta, data: await reader.read(0, reader.size) };
  } finally {
    await reader.close();
  }
}
