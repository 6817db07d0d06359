import http from 'node:http';
import { authHeaders, secretBytes } from '../../src/auth.js';
import { BATCH_CONTENT_TYPE, MESSAGES_PATH } from '../../src/index.js';
import { SECRET } from './net.js';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

export interface SignOptions {
  readonly from?: string;
  readonly to?: string;
  readonly secret?: string;
  readonly now?: number;
}

/** Headers of a correctly signed batch request, as a peer would send them. */
export function signedHeaders(body: Uint8Array, options: SignOptions = {}): Record<string, string> {
  const secret = secretBytes(options.secret ?? SECRET);
  return {
    'content-type': BATCH_CONTENT_TYPE,
    ...authHeaders(secret, options.from ?? 'n1', options.to ?? 'n2', body, options.now ?? Date.now()),
  };
}

/** A raw request to a node's messages endpoint, answered with parsed JSON (or null). */
export async function call(baseUrl: string, init: RequestInit & { path?: string } = {}): Promise<Answer> {
  const res = await fetch(`${baseUrl}${init.path ?? MESSAGES_PATH}`, { method: 'POST', ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/**
 * Sends only the headers of a request announcing `length` bytes and resolves with the status
 * of the answer, which must come before any of the body was sent.
 */
export function announceOnly(baseUrl: string, length: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const agent = new http.Agent({ keepAlive: false });
    const req = http.request(`${baseUrl}${MESSAGES_PATH}`, { method: 'POST', agent, headers: { ...headers, 'content-length': String(length) } });
    req.on('response', (res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      req.destroy();
      agent.destroy();
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}
