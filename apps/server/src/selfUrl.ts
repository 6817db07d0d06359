import { networkInterfaces } from 'node:os';

/**
 * Does a URL given for another node point back at this node's own listener? Such a node
 * forwards and redirects requests for "the leader" to itself: issue 9 saw one forwarded PUT
 * loop until 20,000 descriptors were in use. Judged from literal addresses (and `localhost`);
 * a DNS name that resolves here is not detected (the forwarding hop limit stops that loop).
 */

const loopbackNames = new Set(['localhost', '127.0.0.1', '::1']);
const wildcards = new Set(['0.0.0.0', '::']);

function normHost(host: string): string {
  return host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

function isLoopback(host: string): boolean {
  return loopbackNames.has(host) || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Addresses of this machine's interfaces: what a wildcard listener answers on. */
function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(normHost(a.address));
  return out;
}

/** Whether `urlHost` reaches a listener bound to `listenHost` (same port assumed). */
export function sameHost(listenHost: string, urlHost: string): boolean {
  const a = normHost(listenHost);
  const b = normHost(urlHost);
  if (a === b) return true;
  if (loopbackNames.has(a) && loopbackNames.has(b)) return true;
  if (wildcards.has(a)) return wildcards.has(b) || isLoopback(b) || localAddresses().has(b);
  return false;
}

/** Whether `url` points at the listener `listen`. */
export function pointsAt(url: string, listen: { readonly host: string; readonly port: number }): boolean {
  // Port 0 asks the kernel for a free port: no configured URL can name it in advance.
  if (listen.port === 0) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  return port === listen.port && sameHost(listen.host, u.hostname);
}

/** The first URL (by flag, then node id) that points at this node's own listener, or null. */
export function selfReference(
  listen: { readonly host: string; readonly port: number },
  maps: Readonly<Record<string, Readonly<Record<string, string>>>>,
): { flag: string; id: string; url: string } | null {
  for (const [flag, urls] of Object.entries(maps)) {
    for (const [id, url] of Object.entries(urls)) if (pointsAt(url, listen)) return { flag, id, url };
  }
  return null;
}
