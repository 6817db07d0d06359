import * as fs from 'node:fs';
import * as path from 'node:path';
import { KvError, KvErrorCode } from '../errors.js';
import type { StoredValue, ValueKind, ValueStore } from '../values.js';
import { RECORD_HEADER_BYTES, Segment, type Location } from './segment.js';

export interface FileValueStoreOptions {
  /**
   * A directory of its own (created if missing). Whatever value files it holds are deleted
   * at open: the state machine rebuilds its values from the snapshot and the log.
   */
  readonly dir: string;
  /** Values of fewer bytes stay in memory. Default 1024. */
  readonly minBytes?: number;
  /** A segment file is sealed once it would grow past this. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** A sealed segment whose reachable bytes fall below this fraction of it is compacted. Default 0.5. */
  readonly compactBelow?: number;
  /**
   * Told of a failed write (the value then stays in memory: nothing is lost) or a failed
   * compaction; only the first of a run of failures, so a full disk does not flood a log.
   */
  readonly onError?: (err: KvError) => void;
}

export interface FileValueStats {
  /** Values on disk that something still holds. */
  readonly values: number;
  /** Their bytes (headers included). */
  readonly liveBytes: number;
  /** Bytes of every segment file, reachable or not yet reclaimed. */
  readonly fileBytes: number;
  readonly segments: number;
  /** Values kept in memory because writing them failed. */
  readonly fallbacks: number;
  /** Segments compacted, and the bytes they moved. */
  readonly compactions: number;
  readonly movedBytes: number;
}

const DEFAULT_MIN_BYTES = 1024;
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Bytes one compaction step moves before yielding to the event loop. */
const STEP_BYTES = 4 * 1024 * 1024;
/** Estimated heap bytes of one value held on disk (the object, its location, the registry cell). */
const FILE_VALUE_HEAP_BYTES = 160;
const SEGMENT_NAME = /^values-\d{8}\.seg$/;

/** A value whose bytes live in a segment file; `data` reads them (a fresh copy each time). */
class FileValue implements StoredValue {
  readonly heapBytes = FILE_VALUE_HEAP_BYTES;
  constructor(
    readonly kind: ValueKind,
    readonly loc: Location,
    readonly store: FileValueStore,
  ) {}
  get data(): Uint8Array {
    return this.loc.segment.read(this.loc.position, this.loc.size);
  }
  get size(): number {
    return this.loc.size;
  }
  /** As a value in memory would serialize (JSON.stringify, logs): its kind and bytes. */
  toJSON(): { kind: ValueKind; data: Uint8Array } {
    return { kind: this.kind, data: this.data };
  }
}

/** Directories a store of this process has open: a second store there would delete the first one's files. */
const openDirs = new Set<string>();

/**
 * Keeps the KV's large values in files instead of the heap, as etcd keeps them in its
 * backend: the key index and records stay in memory, each value's bytes are appended to the
 * current segment file and read back (checked by CRC-32) when asked for. Pass it to
 * `KvStateMachine` as `values`. Writes are not fsync'd and segments do not survive a restart:
 * durability is the Raft log's and the snapshot's job. The page cache, not the process, holds
 * recently used values.
 *
 * Space is reclaimed through the garbage collector: a value no longer reachable (overwritten
 * or deleted, and let go by every snapshot capture, watch history and result holding it) is
 * finalized, a segment with nothing reachable is deleted, and a sealed one mostly unreachable
 * is compacted in steps off the request path, its reachable values moved to the current one.
 */
export class FileValueStore implements ValueStore {
  private readonly minBytes: number;
  private readonly segmentBytes: number;
  private readonly compactBelow: number;
  private readonly onError: ((err: KvError) => void) | undefined;
  private readonly segments = new Map<number, Segment>();
  private active: Segment;
  private nextId = 1;
  private readonly registry = new FinalizationRegistry<Location>((loc) => this.dropped(loc));
  private readonly compactQueue = new Set<Segment>();
  private compacting: NodeJS.Immediate | undefined;
  private failing = false;
  private closed = false;
  private fallbacks = 0;
  private compactions = 0;
  private movedBytes = 0;
  private readonly lockPath: string;
  private readonly dir: string;

  /** @throws KvError KV_VALUE_STORE if the directory cannot be used or another live process holds it. */
  static open(options: FileValueStoreOptions): FileValueStore {
    return new FileValueStore(options);
  }

  private constructor(options: FileValueStoreOptions) {
    if (typeof options?.dir !== 'string' || options.dir === '') throw badOption('dir must be a directory path');
    this.minBytes = intOption('minBytes', options.minBytes, DEFAULT_MIN_BYTES, 0);
    this.segmentBytes = intOption('segmentBytes', options.segmentBytes, DEFAULT_SEGMENT_BYTES, 4096);
    const below = options.compactBelow ?? 0.5;
    if (typeof below !== 'number' || !(below >= 0 && below < 1)) throw badOption(`compactBelow must be a fraction in [0, 1), got ${String(below)}`);
    this.compactBelow = below;
    this.onError = options.onError;
    const dir = path.resolve(options.dir);
    if (openDirs.has(dir)) throw new KvError(KvErrorCode.ValueStore, `value directory ${dir} is already open in this process`);
    this.lockPath = path.join(dir, 'LOCK');
    storeFs(dir, () => {
      fs.mkdirSync(dir, { recursive: true });
      lockDir(this.lockPath);
      for (const name of fs.readdirSync(dir)) if (SEGMENT_NAME.test(name)) fs.rmSync(path.join(dir, name), { force: true });
    });
    this.dir = dir;
    this.active = this.newSegment();
    openDirs.add(dir);
  }

  /** `value`, or a FileValue holding the same bytes if it has at least `minBytes` bytes. */
  hold(value: StoredValue): StoredValue {
    if (value instanceof FileValue && value.store === this) return value;
    if (this.closed) return value;
    const data = value.data;
    if (data.length < this.minBytes) return value;
    let loc: Location;
    try {
      loc = this.append(data);
    } catch (err) {
      this.fallbacks++;
      this.report(new KvError(KvErrorCode.ValueStore, `cannot write a value to ${this.dir}, keeping it in memory: ${(err as Error).message}`, { cause: err }));
      return value;
    }
    this.failing = false;
    loc.segment.adopt(loc);
    const held = new FileValue(value.kind, loc, this);
    this.registry.register(held, loc);
    return held;
  }

  stats(): FileValueStats {
    let values = 0;
    let liveBytes = 0;
    let fileBytes = 0;
    for (const s of this.segments.values()) {
      values += s.live.size;
      liveBytes += s.liveBytes;
      fileBytes += s.written;
    }
    return { values, liveBytes, fileBytes, segments: this.segments.size, fallbacks: this.fallbacks, compactions: this.compactions, movedBytes: this.movedBytes };
  }

  /** Deletes every segment and the lock; a value held on disk can no longer be read (KV_VALUE_STORE). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    openDirs.delete(this.dir);
    if (this.compacting !== undefined) clearImmediate(this.compacting);
    for (const s of this.segments.values()) s.remove();
    this.segments.clear();
    try {
      fs.rmSync(this.lockPath, { force: true });
    } catch {
      // The directory may be gone.
    }
  }

  /** Appends to the current segment, sealing it and starting another when it is full. */
  private append(data: Uint8Array): Location {
    const active = this.active;
    if (active.written > 0 && active.written + RECORD_HEADER_BYTES + data.length > this.segmentBytes) {
      this.active = this.newSegment();
      active.sealed = true;
      this.check(active);
    }
    return this.active.append(data);
  }

  private newSegment(): Segment {
    const id = this.nextId++;
    const s = storeFs(this.dir, () => new Segment(id, path.join(this.dir, `values-${String(id).padStart(8, '0')}.seg`)));
    this.segments.set(id, s);
    return s;
  }

  private dropped(loc: Location): void {
    if (this.closed) return;
    loc.segment.release(loc);
    this.check(loc.segment);
  }

  /** Deletes a sealed segment nothing reaches; queues one mostly unreachable for compaction. */
  private check(s: Segment): void {
    if (!s.sealed || this.closed) return;
    if (s.live.size === 0) {
      this.compactQueue.delete(s);
      this.segments.delete(s.id);
      s.remove();
    } else if (s.liveBytes < this.compactBelow * s.written && !this.compactQueue.has(s)) {
      this.compactQueue.add(s);
      this.compacting ??= setImmediate(() => this.compactStep()).unref();
    }
  }

  /** Moves up to STEP_BYTES of reachable values out of the first queued segment, then yields. */
  private compactStep(): void {
    this.compacting = undefined;
    if (this.closed) return;
    const s = this.compactQueue.values().next().value as Segment | undefined;
    if (s === undefined) return;
    let moved = 0;
    try {
      for (const loc of s.live) {
        if (moved >= STEP_BYTES) break;
        const data = s.read(loc.position, loc.size);
        const to = this.append(data);
        s.release(loc);
        loc.segment = to.segment;
        loc.position = to.position;
        to.segment.adopt(loc);
        moved += RECORD_HEADER_BYTES + loc.size;
      }
    } catch (err) {
      // The segment stays whole (a value not moved is still read from it); tried again when it next qualifies.
      this.compactQueue.delete(s);
      this.report(err instanceof KvError ? err : new KvError(KvErrorCode.ValueStore, `compacting ${s.path} failed: ${(err as Error).message}`, { cause: err }));
      return;
    }
    this.movedBytes += moved;
    if (s.live.size === 0) {
      this.compactions++;
      this.check(s);
    }
    if (this.compactQueue.size > 0) this.compacting = setImmediate(() => this.compactStep()).unref();
  }

  private report(err: KvError): void {
    if (this.failing) return;
    this.failing = true;
    this.onError?.(err);
  }
}

/** Takes `lock` for this process; refuses one whose recorded process is still alive. */
function lockDir(lock: string): void {
  try {
    fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const pid = Number.parseInt(fs.readFileSync(lock, 'utf8'), 10);
  if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
    throw new KvError(KvErrorCode.ValueStore, `value directory ${path.dirname(lock)} is in use by process ${pid} (delete ${lock} if that process is not raftkit)`);
  }
  fs.writeFileSync(lock, `${process.pid}\n`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function storeFs<T>(dir: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof KvError) throw err;
    throw new KvError(KvErrorCode.ValueStore, `cannot use value directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

function intOption(name: string, v: number | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < min) throw badOption(`${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

function badOption(what: string): KvError {
  return new KvError(KvErrorCode.InvalidArgument, `FileValueStore: ${what}`);
}
