/** A test's view of a text/event-stream answer: its frames as they arrive, and a way out. */

export interface Frame {
  /** `event:`, or '' for a comment-only frame. */
  readonly event: string;
  /** `data:` parsed as JSON (undefined for a comment). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly data: any;
  /** `id:` of this very frame, if it had one. */
  readonly id: string | undefined;
  /** Comment lines (without the leading ':'). */
  readonly comments: string[];
  /** The frame's text as sent. */
  readonly raw: string;
}

export function parseFrame(raw: string): Frame {
  let event = '';
  let data: string | undefined;
  let id: string | undefined;
  const comments: string[] = [];
  for (const line of raw.split('\n')) {
    if (line.startsWith(':')) comments.push(line.slice(1).trim());
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data = line.slice(6);
    else if (line.startsWith('id: ')) id = line.slice(4);
    else if (line !== '') throw new Error(`unexpected SSE line ${JSON.stringify(line)}`);
  }
  return { event, data: data === undefined ? undefined : JSON.parse(data), id, comments, raw };
}

export interface EventStream {
  readonly response: Response;
  /** Waits for the next frame (comments included); rejects after `timeoutMs` or at the end of the stream. */
  next(timeoutMs?: number): Promise<Frame>;
  /** The next frame with an `event:` (skipping comments). */
  nextEvent(timeoutMs?: number): Promise<Frame>;
  /** Frames until the stream ends. */
  rest(timeoutMs?: number): Promise<Frame[]>;
  close(): void;
}

/** Opens `url` as an event stream (fetch), or returns the non-stream answer's Response in `response`. */
export async function openStream(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
  const ctl = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ctl.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let ended = false;
  const read = async (timeoutMs: number): Promise<Frame | null> => {
    for (;;) {
      const at = buffer.indexOf('\n\n');
      if (at >= 0) {
        const raw = buffer.slice(0, at + 1);
        buffer = buffer.slice(at + 2);
        return parseFrame(raw);
      }
      if (ended) return null;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no SSE frame within ${timeoutMs} ms; buffered ${JSON.stringify(buffer)}`)), timeoutMs)));
      try {
        const chunk = await Promise.race([reader.read(), timeout]);
        if (chunk.done) ended = true;
        else buffer += decoder.decode(chunk.value, { stream: true });
      } finally {
        clearTimeout(timer);
      }
    }
  };
  const next = async (timeoutMs = 5000): Promise<Frame> => {
    const f = await read(timeoutMs);
    if (f === null) throw new Error('the stream ended');
    return f;
  };
  return {
    response,
    next,
    async nextEvent(timeoutMs = 5000) {
      for (;;) {
        const f = await next(timeoutMs);
        if (f.event !== '') return f;
      }
    },
    async rest(timeoutMs = 5000) {
      const out: Frame[] = [];
      for (let f = await read(timeoutMs); f !== null; f = await read(timeoutMs)) out.push(f);
      return out;
    },
    close: () => ctl.abort(),
  };
}

/** Polls `cond` every 10 ms until it holds; throws after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
