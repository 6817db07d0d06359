import { ClientErrorCode, RaftkitClientError } from './errors.js';
import type { Answer } from './http.js';

/** A backup being downloaded: the bytes of the `raftkit-snapshot 1` file, streamed. */
export interface SnapshotDownload extends AsyncIterable<Uint8Array> {
  /** The node it comes from. */
  readonly endpoint: string;
  readonly index: number;
  readonly term: number;
  /** Bytes in the whole file (header included), from Content-Length; null if not sent. */
  readonly size: number | null;
  /** SHA-256 of the snapshot data (hex), as the server states it. */
  readonly sha256: string | null;
  /** The raw body. Read it, or iterate the download, once. */
  readonly body: ReadableStream<Uint8Array>;
}

export function snapshotDownload(a: Answer, signal?: AbortSignal): SnapshotDownload {
  const res = a.response!;
  if (!res.body) throw new RaftkitClientError(ClientErrorCode.BadResponse, `snapshot: ${a.endpoint} sent no body`, { endpoint: a.endpoint, status: a.status });
  const h = a.headers;
  const size = h.get('content-length');
  const body = res.body;
  return {
    endpoint: a.endpoint,
    index: Number(h.get('x-raftkit-snapshot-index') ?? 0),
    term: Number(h.get('x-raftkit-snapshot-term') ?? 0),
    size: size === null ? null : Number(size),
    sha256: h.get('x-raftkit-snapshot-sha256'),
    body,
    async *[Symbol.asyncIterator]() {
      const reader = body.getReader();
      let got = 0;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          got += value.length;
          yield value;
        }
      } catch (err) {
        throw new RaftkitClientError(signal?.aborted ? ClientErrorCode.Aborted : ClientErrorCode.Unavailable, `snapshot: the download from ${a.endpoint} broke off after ${got} bytes`, { endpoint: a.endpoint, cause: err });
      } finally {
        reader.releaseLock();
        a.release();
      }
      if (size !== null && got !== Number(size)) {
        throw new RaftkitClientError(ClientErrorCode.BadResponse, `snapshot: got ${got} of ${size} bytes from ${a.endpoint}`, { endpoint: a.endpoint });
      }
    },
  };
}
