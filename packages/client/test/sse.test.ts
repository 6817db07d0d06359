import { describe, expect, it } from 'vitest';
import { SseParser } from '../src/index.js';
import { readSse } from '../src/sse.js';

describe('SseParser', () => {
  it('dispatches on a blank line, joins data lines, keeps the last id, skips comments', () => {
    const p = new SseParser();
    const text = ': ping\n\nid: 5\nevent: put\ndata: {"a":\ndata: 1}\n\nevent: delete\ndata: x\n\n';
    expect(p.push(text)).toEqual([
      { event: 'put', data: '{"a":\n1}', id: '5' },
      { event: 'delete', data: 'x', id: '5' },
    ]);
    expect(p.lastEventId).toBe('5');
  });

  it('takes CRLF, CR and LF, also when a CRLF is split across chunks', () => {
    const p = new SseParser();
    const out = [...p.push('id: 1\r'), ...p.push('\ndata: a\r'), ...p.push('\n\r'), ...p.push('\ndata: b\rdata:c\r\r')];
    // The last CR may still be half of a CRLF: held until the next chunk says.
    expect(out).toHaveLength(1);
    out.push(...p.push('\n'));
    expect(out).toEqual([{ event: 'message', data: 'a', id: '1' }, { event: 'message', data: 'b\nc', id: '1' }]);
  });

  it('fed one character at a time gives the same events', () => {
    const text = 'id: 7\nevent: put\ndata: {"key":"k"}\n\n: ping\n\nid: 8\r\nevent: delete\r\ndata: {"key":"j"}\r\n\r\n';
    const whole = new SseParser().push(text);
    const p = new SseParser();
    const bytes = [...text].flatMap((ch) => p.push(ch));
    expect(bytes).toEqual(whole);
    expect(whole).toHaveLength(2);
  });

  it('an event without its blank line at the end of the stream is dropped; a field without colon is a name', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('data\n\ndata: whole\n\ndata: cut'));
        c.close();
      },
    });
    const got = [];
    for await (const m of readSse(body)) got.push(m);
    expect(got).toEqual([{ event: 'message', data: '', id: '' }, { event: 'message', data: 'whole', id: '' }]);
  });

  it('decodes UTF-8 split across chunks', async () => {
    const bytes = new TextEncoder().encode('data: ä€\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const b of bytes) c.enqueue(new Uint8Array([b]));
        c.close();
      },
    });
    const got = [];
    for await (const m of readSse(body)) got.push(m.data);
    expect(got).toEqual(['ä€']);
  });
});
