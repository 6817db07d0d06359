// Declarations for the parts of @nxtedition/rocksdb (12.x) this package uses; the module ships
// no types. It is an abstract-level 1.x store: see its index.js, chained-batch.js, iterator.js.
declare module '@nxtedition/rocksdb' {
  export interface RocksLevelOptions {
    readonly keyEncoding?: 'buffer' | 'utf8';
    readonly valueEncoding?: 'buffer' | 'utf8';
  }

  export interface RocksOpenOptions {
    readonly createIfMissing?: boolean;
    readonly errorIfExists?: boolean;
    /** Background threads; defaults to half the cores. */
    readonly parallelism?: number;
    readonly infoLogLevel?: 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'header' | null;
  }

  export interface RocksRange {
    readonly gt?: Buffer;
    readonly gte?: Buffer;
    readonly lt?: Buffer;
    readonly lte?: Buffer;
    readonly reverse?: boolean;
    readonly limit?: number;
  }

  export interface RocksIteratorOptions extends RocksRange {
    readonly keys?: boolean;
    readonly values?: boolean;
    /** One nextv() call stops once it has read more than this many bytes. */
    readonly highWaterMarkBytes?: number;
    readonly fillCache?: boolean;
  }

  export type RocksBatchOp =
    | { readonly type: 'put'; readonly key: Buffer; readonly value: Buffer }
    | { readonly type: 'del'; readonly key: Buffer };

  export interface RocksBatchOptions {
    /** Only a synced *batch* fsyncs the WAL; `put(k, v, { sync: true })` does not. */
    readonly sync?: boolean;
  }

  /** Attached to its database until written or closed (an unclosed one is kept until db.close()). */
  export interface RocksChainedBatch {
    put(key: Buffer, value: Buffer): this;
    del(key: Buffer): this;
    /** Writes and closes the batch; only `sync: true` fsyncs the WAL. */
    write(options?: RocksBatchOptions): Promise<void>;
    close(): Promise<void>;
  }

  /** Created synchronously; reads a consistent point-in-time view of the database. */
  export interface RocksIterator {
    /** Up to `size` [key, value] rows; an empty array once the range is exhausted. */
    nextv(size: number): Promise<Array<[Buffer, Buffer]>>;
    close(): Promise<void>;
  }

  export class RocksLevel {
    /**
     * A directory, or the `handle` of a database open elsewhere in this process (another
     * thread): that one is shared, not reopened, and closing it closes it for every holder.
     */
    constructor(locationOrHandle: string | bigint, options?: RocksLevelOptions);
    readonly status: 'opening' | 'open' | 'closing' | 'closed';
    readonly location: string;
    /** Pointer to the native database (only while open). It holds no reference: see above. */
    readonly handle: bigint;
    /** A RocksDB property (`DB::GetProperty`), e.g. `rocksdb.dbstats`; '' if unknown. Synchronous. */
    getProperty(property: string): string;
    open(options?: RocksOpenOptions): Promise<void>;
    close(): Promise<void>;
    /** Rejects with code LEVEL_NOT_FOUND for a missing key. */
    get(key: Buffer): Promise<Buffer>;
    /** `undefined` for each missing key. Not a point-in-time read across keys. */
    getMany(keys: readonly Buffer[]): Promise<Array<Buffer | undefined>>;
    put(key: Buffer, value: Buffer): Promise<void>;
    /**
     * Written synchronously on the calling thread; resolves on the next tick. Never closes the
     * chained batch it builds, which so stays in memory until close(): use writeBatch().
     */
    batch(ops: readonly RocksBatchOp[], options?: RocksBatchOptions): Promise<void>;
    batch(): RocksChainedBatch;
    iterator(options?: RocksIteratorOptions): RocksIterator;
    /** Without `limit`: a RocksDB DeleteRange over the range, not synced. */
    clear(options?: RocksRange): Promise<void>;
  }
}
