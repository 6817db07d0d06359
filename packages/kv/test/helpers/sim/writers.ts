import { isKvError, KvErrorCode, type KvClient, type KvWriteRequest, type KvWriteResults } from '../../../src/index.js';

type AnyResult = KvWriteResults[keyof KvWriteResults];

/** How a simulated client issues writes. Throws when the outcome is unknown. */
export interface SimWriter {
  open(stop: () => boolean): Promise<void>;
  write(request: KvWriteRequest, stop: () => boolean): Promise<AnyResult>;
}

const sessionGone = (err: unknown): boolean => isKvError(err, KvErrorCode.SessionExpired) || isKvError(err, KvErrorCode.SessionUnknown);

/**
 * The application path: KvClient's own session. A write whose call gives up is abandoned
 * (its outcome stays unknown), and the next write tells the replicas it may never run.
 */
export class SessionWriter implements SimWriter {
  constructor(
    private readonly kv: KvClient,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async open(stop: () => boolean): Promise<void> {
    while (!stop()) {
      try {
        await this.kv.openSession();
        return;
      } catch {
        await this.sleep(50);
      }
    }
  }

  write(r: KvWriteRequest): Promise<AnyResult> {
    switch (r.op) {
      case 'put':
        return this.kv.put(r.key, r.value);
      case 'delete':
        return this.kv.delete(r.key);
      case 'cas':
        return this.kv.cas(r.key, r.expected, r.value);
      case 'putMany':
        return this.kv.putMany(r.entries);
      case 'txn':
        return this.kv.txn(r);
    }
  }
}

/**
 * The server path (idempotency headers): explicit (clientId, seq) tags, and a write that
 * fails is retried with the same tag until it resolves, even across long outages — the
 * thesis §6.3 client. Only the end of the run or a lost session leaves an outcome unknown.
 */
export class TaggedWriter implements SimWriter {
  private clientId = 0;
  private seq = 0;

  constructor(
    private readonly kv: KvClient,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly rand: () => number,
  ) {}

  async open(stop: () => boolean): Promise<void> {
    while (!stop() && this.clientId === 0) {
      try {
        this.clientId = await this.kv.registerSession();
        this.seq = 0;
      } catch {
        await this.sleep(50);
      }
    }
  }

  async write(request: KvWriteRequest, stop: () => boolean): Promise<AnyResult> {
    if (this.clientId === 0) await this.open(stop);
    // One write at a time, so every earlier result has been received.
    const seq = ++this.seq;
    const tag = { clientId: this.clientId, seq, firstOutstanding: seq };
    for (;;) {
      try {
        return await this.kv.proposeWrite(request, tag);
      } catch (err) {
        if (sessionGone(err)) this.clientId = 0;
        if (stop() || sessionGone(err)) throw err;
        await this.sleep(10 + Math.floor(this.rand() * 50));
      }
    }
  }
}
