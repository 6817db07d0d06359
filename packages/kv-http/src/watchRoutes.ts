/**
 * `GET /v1/watch?key=K|prefix=P&fromRevision=R&prevValue=true` as Server-Sent Events, served
 * by this node from its own replica (a follower serves watches too; only a start without
 * `fromRevision` asks the leader, for the linearizable read point).
 *
 * The stream: `event: put|delete`, `data:` one JSON line per change, `id: <revision>` on the
 * last event of each revision only, so an EventSource that reconnects with `Last-Event-ID`
 * never skips the rest of a revision; `: ping` comments every `heartbeatMs`; an error after
 * the stream started is one `event: error` (`{ "error": { code, message, ... } }`), then the
 * end. An error before it (KV_COMPACTED: 410) is a plain coded JSON answer.
 */
import type { KvValue, WatchEvent, WatchStream } from '@raftkit/kv';
import type { Request, Response, Router } from 'express';
import { HttpError, toHttpError } from './httpErrors.js';
import { consistencyOf, encodeValue, type KvRouteDeps } from './kvRoutes.js';
import { routeWrapper } from './routeWrap.js';

const WATCH_PATH = '/v1/watch';

const invalid = (message: string): HttpError => new HttpError(400, 'KV_INVALID_ARGUMENT', message);

export interface WatchRouteDeps extends KvRouteDeps {
  /** Interval of the `: ping` comments that keep an idle stream alive through proxies. */
  readonly heartbeatMs: number;
}

function once(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(`give ${name} once, as a string`);
  return v;
}

function revisionOf(v: string, what: string, min: number): number {
  const n = /^[0-9]{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw invalid(`${what} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

interface WatchQuery {
  readonly filter: { key: string } | { prefix: string };
  /** From `fromRevision`, else `Last-Event-ID` + 1, else none (from now on). */
  readonly fromRevision: number | undefined;
  readonly prevValue: boolean;
}

/** The query, every parameter checked. `fromRevision` wins over `Last-Event-ID` when both are sent. */
export function watchQuery(req: Request): WatchQuery {
  const key = once(req, 'key');
  const prefix = once(req, 'prefix');
  if ((key === undefined) === (prefix === undefined)) throw invalid('watch takes exactly one of key or prefix (prefix= for every key)');
  const from = once(req, 'fromRevision');
  const lastId = req.get('last-event-id');
  let fromRevision: number | undefined;
  if (from !== undefined) fromRevision = revisionOf(from, 'fromRevision', 1);
  else if (lastId !== undefined && lastId !== '') fromRevision = revisionOf(lastId.trim(), 'the Last-Event-ID header', 0) + 1;
  const pv = once(req, 'prevValue');
  if (pv !== undefined && pv !== 'true' && pv !== 'false') throw invalid(`prevValue must be true or false, got ${JSON.stringify(pv)}`);
  return { filter: key !== undefined ? { key } : { prefix: prefix as string }, fromRevision, prevValue: pv === 'true' };
}

function valueFields(v: KvValue, prefix: 'value' | 'prevValue'): Record<string, unknown> {
  const { value, encoding } = encodeValue(v);
  return prefix === 'value' ? { value, encoding } : { prevValue: value, prevEncoding: encoding };
}

/** One change as an SSE frame; `last`: the last change of its revision, which carries the id. */
export function eventFrame(ev: WatchEvent, last: boolean): string {
  const data = {
    key: ev.key,
    revision: ev.revision,
    createRevision: ev.createRevision,
    modRevision: ev.modRevision,
    version: ev.version,
    lease: ev.lease,
    ...(ev.value !== undefined ? valueFields(ev.value, 'value') : {}),
    ...(ev.prevValue !== undefined ? valueFields(ev.prevValue, 'prevValue') : {}),
  };
  return `event: ${ev.type}\ndata: ${JSON.stringify(data)}\n${last ? `id: ${ev.revision}\n` : ''}\n`;
}

export function errorFrame(err: unknown): string {
  const e = toHttpError(err);
  return `event: error\ndata: ${JSON.stringify({ error: { code: e.code, message: e.message, ...e.extra } })}\n\n`;
}

const NOT_YET = Symbol('not yet');

/**
 * The next result if the watch has it queued already, else NOT_YET. A watch queues whole
 * revisions at once (watch.ts), so NOT_YET after an event means its revision is complete.
 */
async function peek(next: Promise<IteratorResult<WatchEvent>>): Promise<IteratorResult<WatchEvent> | typeof NOT_YET> {
  return Promise.race([next, Promise.resolve(NOT_YET)]);
}

/** The response's socket: open until the client goes; writers wait for `drain` after a full buffer. */
class Sink {
  closed = false;
  private waiting: (() => void)[] = [];

  constructor(private readonly res: Response) {
    res.on('close', () => {
      this.closed = true;
      this.wake();
    });
    res.on('drain', () => this.wake());
  }

  /** Whether the buffer is full (a heartbeat then is pointless: the stream is not idle). */
  get full(): boolean {
    return this.res.writableNeedDrain;
  }

  /** Writes `text`; resolves once the buffer has room again (or the client is gone). */
  async write(text: string): Promise<void> {
    if (this.closed) return;
    const room = this.res.write(text);
    // A compression middleware in front buffers until told to flush.
    (this.res as { flush?: () => void }).flush?.();
    if (room) return;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }
}

/** Pulls the watch into the stream until it ends, fails or the client goes. */
async function pump(stream: WatchStream, sink: Sink): Promise<void> {
  let r = await stream.next();
  while (!r.done && !sink.closed) {
    const ev = r.value;
    const next = stream.next();
    next.catch(() => undefined); // read below; never unhandled meanwhile
    const ahead = await peek(next);
    const last = ahead === NOT_YET || ahead.done === true || ahead.value.revision !== ev.revision;
    await sink.write(eventFrame(ev, last));
    r = await next;
  }
}

/** GET /v1/watch, registered on `r`. */
export function mountWatchRoutes(r: Router, deps: WatchRouteDeps): void {
  // A stream cannot be forwarded (the forwarder buffers whole answers): with no leader to
  // fix the start, the refusal goes back to the client, which tries another node.
  const wrap = routeWrapper(deps.metrics, { onNotLeader: async () => false });
  r.get(WATCH_PATH, wrap('watch', async (req, res) => {
    // express routes HEAD to GET: it would hold a watch open with nothing to send.
    if (req.method === 'HEAD') throw new HttpError(405, 'SERVER_METHOD_NOT_ALLOWED', `HEAD is not allowed on ${WATCH_PATH} (GET it as text/event-stream)`);
    const q = watchQuery(req);
    // Without ?consistency, a watch with a start replays this node's history as it is (no
    // leader needed); one without a start is pinned by a linearizable read.
    const consistency = req.query['consistency'] === undefined ? undefined : consistencyOf(req);
    const ctl = new AbortController();
    const onClose = (): void => ctl.abort(new Error('the watch client disconnected'));
    res.once('close', onClose);
    let stream: WatchStream;
    try {
      stream = await deps.client.watch(q.filter, { prevValue: q.prevValue, ...(consistency !== undefined ? { consistency } : {}), signal: ctl.signal, ...(q.fromRevision !== undefined ? { fromRevision: q.fromRevision } : {}) });
    } catch (err) {
      res.off('close', onClose);
      // The client left while the start was read: nobody to answer.
      if (ctl.signal.aborted) return;
      throw err;
    }
    res.statusCode = 200;
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    const sink = new Sink(res);
    const ping = setInterval(() => {
      if (!sink.full) void sink.write(': ping\n\n');
    }, deps.heartbeatMs);
    try {
      await sink.write(`: watching ${JSON.stringify(q.filter)}${q.fromRevision !== undefined ? ` from revision ${q.fromRevision}` : ''}\n\n`);
      await pump(stream, sink);
    } catch (err) {
      if (!sink.closed) await sink.write(errorFrame(err));
    } finally {
      clearInterval(ping);
      res.off('close', onClose);
      await stream.return();
      res.end();
    }
  }));
  r.all(WATCH_PATH, wrap('other', async (req) => {
    throw new HttpError(405, 'SERVER_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${WATCH_PATH} (GET it as text/event-stream)`);
  }));
}
