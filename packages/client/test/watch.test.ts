import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { RaftkitClient, type WatchEvent } from '../src/index.js';
import { stubServer } from './cluster.js';

interface Change {
  revision: number;
  type: 'put' | 'delete';
  key: string;
  value?: unknown;
}

const history: Change[] = [
  { revision: 3, type: 'put', key: 'w/a', value: 1 },
  { revision: 4, type: 'put', key: 'w/a', value: 2 },
  { revision: 4, type: 'put', key: 'w/b', value: 'x' },
  { revision: 5, type: 'delete', key: 'w/a' },
  { revision: 6, type: 'put', key: 'w/c', value: { deep: true } },
];

interface Conn {
  fromRevision: number;
  lastEventId: string | undefined;
  prefix: unknown;
}

/**
 * A stand-in for GET /v1/watch: streams `history` from `fromRevision`, as the design says
 * (`id: <revision>`, `event: put|delete`, JSON data); `cutAfter(conn)` events into connection
 * number `conn` it drops the socket (Infinity: never, the stream stays open).
 */
function watchRoute(conns: Conn[], cutAfter: (conn: number) => number) {
  return (req: Request, res: Response) => {
    const from = Number(req.query['fromRevision']);
    conns.push({ fromRevision: from, lastEventId: req.get('last-event-id'), prefix: req.query['prefix'] });
    const n = conns.length;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const frames = history.filter((h) => h.revision >= from).map((c) => {
      const ev = { key: c.key, revision: c.revision, createRevision: 3, modRevision: c.revision, version: 1, lease: 0, ...(c.value !== undefined ? { value: c.value, encoding: 'json' } : {}) };
      return `id: ${c.revision}\nevent: ${c.type}\ndata: ${JSON.stringify(ev)}\n\n`;
    });
    const cut = cutAfter(n);
    // The frames before the cut are flushed to the socket before it is destroyed.
    res.write(`: ping\n\n${frames.slice(0, cut).join('')}`, () => {
      if (cut < frames.length) req.socket.destroy();
    });
  };
}

async function take(it: AsyncIterable<WatchEvent>, n: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  if (n === 0) return out;
  for await (const ev of it) {
    out.push(ev);
    if (out.length === n) break;
  }
  return out;
}

const summary = (evs: WatchEvent[]) => evs.map((e) => `${e.revision} ${e.type} ${e.key} ${JSON.stringify(e.value)}`);
const expected = ['3 put w/a 1', '4 put w/a 2', '4 put w/b "x"', '5 delete w/a undefined', '6 put w/c {"deep":true}'];

describe('watch', () => {
  it('a stream cut between two changes of one revision resumes at the next endpoint: no event twice, none skipped', async () => {
    const conns: Conn[] = [];
    const first = await stubServer((app) => app.get('/v1/watch', watchRoute(conns, (n) => (n === 1 ? 2 : Infinity))));
    const second = await stubServer((app) => app.get('/v1/watch', watchRoute(conns, () => Infinity)));
    try {
      const c = new RaftkitClient({ endpoints: [first.url, second.url], retry: { baseMs: 1, maxMs: 5 } });
      const evs = await take(c.watch({ prefix: 'w/', fromRevision: 3 }), 5);
      expect(summary(evs)).toEqual(expected);
      // Cut after 3 and the first change of 4: resumed at 4 (Last-Event-ID 3), the rest of 4 kept.
      expect(conns).toEqual([
        { fromRevision: 3, lastEventId: '2', prefix: 'w/' },
        { fromRevision: 4, lastEventId: '3', prefix: 'w/' },
      ]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('cut again and again (after every third frame), it still delivers each once and in order', async () => {
    const conns: Conn[] = [];
    // Each connection resends the last revision seen (2 changes at most here), so 3 frames
    // always carry something new.
    const stub = await stubServer((app) => app.get('/v1/watch', watchRoute(conns, () => 3)));
    try {
      const c = new RaftkitClient({ endpoints: [stub.url], retry: { baseMs: 1, maxMs: 5 } });
      expect(summary(await take(c.watch({ prefix: 'w/', fromRevision: 1 }), 5))).toEqual(expected);
      expect(conns.map((x) => x.fromRevision)).toEqual([1, 4, 5]);
    } finally {
      await stub.close();
    }
  });

  it('without fromRevision it pins "now" first, so a reconnect before any event misses nothing', async () => {
    const conns: Conn[] = [];
    const stub = await stubServer((app) => {
      app.get('/v1/kv', (_req, res) => void res.json({ revision: 4, more: false, entries: [] }));
      app.get('/v1/watch', watchRoute(conns, (n) => (n === 1 ? 0 : Infinity)));
    });
    try {
      const c = new RaftkitClient({ endpoints: [stub.url], retry: { baseMs: 1, maxMs: 5 } });
      expect(summary(await take(c.watch({ prefix: 'w/' }), 2))).toEqual(expected.slice(3));
      expect(conns.map((x) => x.fromRevision)).toEqual([5, 5]);
    } finally {
      await stub.close();
    }
  });

  it('KV_COMPACTED ends the watch with the error, before the stream (410) or in it (event: error)', async () => {
    const stub = await stubServer((app) => {
      app.get('/v1/watch', (req, res) => {
        if (req.query['key'] === 'old') {
          res.status(410).json({ error: { code: 'KV_COMPACTED', message: 'revision 1 is compacted', oldestRevision: 40 } });
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const coded = { code: 'KV_COMPACTED', message: 'restored from a snapshot', oldestRevision: 90 };
        res.write(`event: error\ndata: ${JSON.stringify(req.query['key'] === 'bare' ? coded : { error: coded })}\n\n`);
        res.end();
      });
    });
    try {
      const c = new RaftkitClient({ endpoints: [stub.url] });
      await expect(take(c.watch({ key: 'old', fromRevision: 1 }), 1)).rejects.toMatchObject({ code: 'KV_COMPACTED', status: 410, details: { oldestRevision: 40 } });
      await expect(take(c.watch({ key: 'mid', fromRevision: 1 }), 1)).rejects.toMatchObject({ code: 'KV_COMPACTED', details: { oldestRevision: 90 } });
      await expect(take(c.watch({ key: 'bare', fromRevision: 1 }), 1)).rejects.toMatchObject({ code: 'KV_COMPACTED', details: { oldestRevision: 90 } });
    } finally {
      await stub.close();
    }
  });

  it('KV_WATCH_OVERFLOW and a silent stream are reconnected, from where it was', async () => {
    const conns: Conn[] = [];
    const stub = await stubServer((app) => {
      app.get('/v1/watch', (req, res) => {
        conns.push({ fromRevision: Number(req.query['fromRevision']), lastEventId: req.get('last-event-id'), prefix: undefined });
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (conns.length === 1) {
          res.write(`id: 3\nevent: put\ndata: ${JSON.stringify({ key: 'k', revision: 3, value: 'a', encoding: 'json' })}\n\n`);
          res.write(`event: error\ndata: ${JSON.stringify({ error: { code: 'KV_WATCH_OVERFLOW', message: 'slow consumer', revision: 3 } })}\n\n`);
          res.end();
        } else if (conns.length === 2) {
          res.write(': ping\n\n'); // then silence: the idle timeout must reopen it
        } else {
          res.write(`id: 7\nevent: delete\ndata: ${JSON.stringify({ key: 'k', revision: 7 })}\n\n`);
        }
      });
    });
    try {
      const c = new RaftkitClient({ endpoints: [stub.url], retry: { baseMs: 1, maxMs: 5 } });
      const evs = await take(c.watch({ key: 'k', fromRevision: 2, idleTimeoutMs: 150 }), 2);
      expect(summary(evs)).toEqual(['3 put k "a"', '7 delete k undefined']);
      expect(conns.map((x) => x.fromRevision)).toEqual([2, 3, 3]);
    } finally {
      await stub.close();
    }
  });

  it('the signal ends the iteration quietly', async () => {
    const stub = await stubServer((app) => app.get('/v1/watch', watchRoute([], () => Infinity)));
    try {
      const c = new RaftkitClient({ endpoints: [stub.url] });
      const ctl = new AbortController();
      const got: WatchEvent[] = [];
      for await (const ev of c.watch({ prefix: 'w/', fromRevision: 1, signal: ctl.signal })) {
        got.push(ev);
        if (got.length === 2) ctl.abort();
      }
      expect(got).toHaveLength(2);
    } finally {
      await stub.close();
    }
  });
});
