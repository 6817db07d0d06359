import type { NodeId } from '@raftkit/core';
import { Inbox } from '@raftkit/transport-suite';
import { type HttpListenOptions, HttpTransport } from '../../src/index.js';

export const SECRET = 'raftkit-test-secret-0123456789abcdef';

/** Polls `cond` until it holds; fails naming `what` after `timeoutMs`. No fixed sleeps. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Standalone transports on 127.0.0.1 (free ports), each told every other's URL. */
export async function listenAll(ids: readonly NodeId[], extra: Partial<HttpListenOptions> = {}): Promise<HttpTransport[]> {
  const transports = await Promise.all(ids.map((id) => HttpTransport.listen({ id, secret: SECRET, ...extra })));
  connect(transports);
  return transports;
}

/** A suite factory's cluster: each transport's own base URL is its address for updatePeers. */
export async function suiteCluster(ids: readonly NodeId[], extra: Partial<HttpListenOptions> = {}) {
  const transports = await listenAll(ids, extra);
  const addresses = Object.fromEntries(transports.map((t) => [t.id, t.url!]));
  // The transports close their own servers, so the shared cleanup has nothing left to do.
  return { transports, addresses, cleanup: async () => {} };
}

export function connect(transports: readonly HttpTransport[]): void {
  for (const t of transports) for (const other of transports) if (other !== t) t.setPeer(other.id, other.url!);
}

/** Listens, connects and starts with a recording Inbox each. */
export async function startAll(ids: readonly NodeId[], extra: Partial<HttpListenOptions> = {}): Promise<{ transports: HttpTransport[]; inboxes: Inbox[] }> {
  const transports = await listenAll(ids, extra);
  const inboxes = transports.map(() => new Inbox());
  await Promise.all(transports.map((t, i) => t.start(inboxes[i])));
  return { transports, inboxes };
}

export async function closeAll(transports: readonly HttpTransport[]): Promise<void> {
  await Promise.all(transports.map((t) => t.close()));
}
