/**
 * A raw Server-Sent Events reader for the tests: what a curl or a browser sees of
 * GET /v1/watch, frame by frame (event, id, data, and comments such as `: ping`), without the
 * client's parsing and resume logic.
 */
import { waitFor } from './poll.js';

export interface SseFrame {
  readonly event: string | undefined;
  readonly id: string | undefined;
  readonly data: string;
  /** Comment lines (`: ping`), without the colon. */
  readonly comments: readonly string[];
}

export class SseStream {
  readonly frames: SseFrame[] = [];
  private buffer = '';
  private ended = false;
  private readonly done: Promise<void>;

  private constructor(
    readonly status: number,
    readonly headers: Headers,
    private readonly ctl: AbortController,
    body: ReadableStream<Uint8Array>,
  ) {
    this.done = this.pump(body);
  }

  /**
   * Opens `url`. A 200 `text/event-stream` answer is read in the background; any other answer
   * is returned as `{ status, json }` with the body read whole.
   */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseStream | { status: number; json: any }> {
    const ctl = new AbortController();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ctl.signal });
    if (res.status !== 200 || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: res.status, json };
    }
    return new SseStream(res.status, res.headers, ctl, res.body!);
  }

  /** Frames that carry an event (not comment-only ones). */
  get events(): SseFrame[] {
    return this.frames.filter((f) => f.event !== undefined || f.data !== '');
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Waits until at least `n` events arrived; returns them. */
  waitEvents(n: number, timeoutMs = 15_000): Promise<SseFrame[]> {
    return waitFor(`${n} SSE events (have ${this.events.length}${this.ended ? ', stream ended' : ''})`, () => {
      if (this.events.length >= n) return this.events;
      if (this.ended) throw new Error(`the stream ended after ${this.events.length} events`);
      return null;
    }, { timeoutMs });
  }

  /** Waits until the server ends the stream. */
  waitEnd(timeoutMs = 15_000): Promise<true> {
    return waitFor('the SSE stream to end', () => this.ended, { timeoutMs });
  }

  /** Closes the connection from this side. */
  async close(): Promise<void> {
    this.ctl.abort();
    await this.done;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          this.frames.push(parseFrame(this.buffer.slice(0, end)));
          this.buffer = this.buffer.slice(end + 2);
        }
      }
    } catch {
      // aborted by close(), or the connection dropped: either way the stream is over
    } finally {
      this.ended = true;
    }
  }
}

function parseFrame(block: string): SseFrame {
  let event: string | undefined;
  let id: string | undefined;
  const data: string[] = [];
  const comments: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  return { event, id, data: data.join('\n'), comments };
}
