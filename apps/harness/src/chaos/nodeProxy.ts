import net from 'node:net';

/**
 * How a cut link treats new connections. `refuse`: accepted and reset at once, so the sender
 * fails fast (like a closed port or a rejecting firewall). `blackhole`: accepted and never
 * answered, its bytes swallowed, so the sender waits for its own timeout (like lost packets).
 */
export type CutMode = 'refuse' | 'blackhole';

export type LinkState = { readonly kind: 'open' } | { readonly kind: 'cut'; readonly mode: CutMode };

/**
 * The headers that name the node a connection comes from: every peer request carries
 * `x-raftkit-from`; a client request a follower forwards carries `x-raftkit-forwarded-by`.
 */
const SENDER_HEADERS = /\r\nx-raftkit-(?:from|forwarded-by):[ \t]*([^\r\n]*)/i;
/** Headers larger than this are not a raftkit peer request: forwarded without a sender. */
const MAX_HEAD = 16 * 1024;

/** A forwarded connection and the node it comes from ('' for a client). */
interface Pair {
  readonly sender: string;
  readonly client: net.Socket;
  readonly upstream: net.Socket;
}

/**
 * A TCP proxy in front of one node, standing for every directed link into it. A member's
 * address in the log is one URL that every peer uses (so one proxy per directed link cannot
 * survive a membership change: the log would hand the leader's proxies to everyone), hence
 * this proxy tells senders apart by the HTTP headers that open each connection. A peer keeps
 * a connection to one node only, so the first request names the sender of all on it.
 *
 * Invariant: while the link from S is cut, no byte from S is forwarded: S's live pairs were
 * destroyed when the cut began, and S's new connections never get an upstream.
 */
export class NodeProxy {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly pairs = new Set<Pair>();
  /** Connections from a cut sender accepted during a blackhole cut, held until heal. */
  private readonly held = new Map<net.Socket, string>();
  private readonly cuts = new Map<string, CutMode>();
  private listeningPort = 0;

  constructor(
    readonly targetPort: number,
    readonly targetHost = '127.0.0.1',
  ) {
    this.server.on('error', () => undefined);
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listeningPort = (this.server.address() as net.AddressInfo).port;
    return this.listeningPort;
  }

  get port(): number {
    return this.listeningPort;
  }

  stateOf(sender: string): LinkState {
    const mode = this.cuts.get(sender);
    return mode ? { kind: 'cut', mode } : { kind: 'open' };
  }

  /** Live forwarded connections from `sender` (for tests). */
  connectionsFrom(sender: string): number {
    return [...this.pairs].filter((p) => p.sender === sender).length;
  }

  /** Drops `sender`'s live connections; its new ones are refused or blackholed until `heal`. */
  cut(sender: string, mode: CutMode): void {
    this.cuts.set(sender, mode);
    for (const pair of [...this.pairs]) {
      if (pair.sender !== sender) continue;
      this.pairs.delete(pair);
      destroyPair(pair);
    }
  }

  /** Forwards `sender`'s new connections again; its blackholed ones are reset so it retries now. */
  heal(sender: string): void {
    this.cuts.delete(sender);
    for (const [socket, from] of this.held) {
      if (from !== sender) continue;
      this.held.delete(socket);
      socket.resetAndDestroy();
    }
  }

  healAll(): void {
    for (const sender of [...this.cuts.keys()]) this.heal(sender);
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) destroyPair(pair);
    this.pairs.clear();
    for (const socket of this.held.keys()) socket.resetAndDestroy();
    this.held.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Reads the head of the first request to learn the sender, then forwards or cuts. */
  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const text = head.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0 && head.length < MAX_HEAD) return;
      client.off('data', onData);
      client.pause();
      const sender = decodeSender(SENDER_HEADERS.exec(end < 0 ? text : text.slice(0, end))?.[1]);
      this.route(client, sender, head);
    };
    client.on('data', onData);
  }

  private route(client: net.Socket, sender: string, head: Buffer): void {
    const mode = this.cuts.get(sender);
    if (mode === 'refuse') return void client.resetAndDestroy();
    if (mode === 'blackhole') {
      this.held.set(client, sender);
      client.on('close', () => this.held.delete(client));
      client.resume(); // read and discard, as a lossy network would
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    upstream.on('error', () => undefined);
    const pair: Pair = { sender, client, upstream };
    this.pairs.add(pair);
    const end = (): void => {
      this.pairs.delete(pair);
      destroyPair(pair);
    };
    client.on('close', end);
    upstream.on('close', end);
    upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}

function decodeSender(raw: string | undefined): string {
  if (raw === undefined) return '';
  try {
    return decodeURIComponent(raw.trim());
  } catch {
    return raw.trim();
  }
}

/** Resets both sides, so neither end mistakes a cut for a clean close. */
function destroyPair({ client, upstream }: Pair): void {
  if (!client.destroyed) client.resetAndDestroy();
  if (!upstream.destroyed) upstream.resetAndDestroy();
}
