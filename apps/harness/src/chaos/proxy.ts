import net from 'node:net';

/**
 * How a cut link treats new connections. `refuse`: accepted and reset at once, so the sender
 * fails fast (like a closed port or a rejecting firewall). `blackhole`: accepted and never
 * answered, its bytes swallowed, so the sender waits for its own timeout (like lost packets).
 */
export type CutMode = 'refuse' | 'blackhole';

export type LinkState = { readonly kind: 'open' } | { readonly kind: 'cut'; readonly mode: CutMode };

/** A forwarded connection: the accepted socket and the one to the target. */
interface Pair {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
}

/**
 * A TCP proxy for one directed peer link (A's connections to B), so a fault can cut A→B
 * while B→A, which has its own proxy, stays up.
 *
 * Invariant: while cut, no byte is forwarded: live pairs were destroyed when the cut began,
 * and connections accepted during the cut never get an upstream.
 */
export class LinkProxy {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly pairs = new Set<Pair>();
  /** Connections accepted during a blackhole cut, held open until heal. */
  private readonly held = new Set<net.Socket>();
  private current: LinkState = { kind: 'open' };
  private listeningPort = 0;
  /** Bytes forwarded in each direction, for tests and the report. */
  readonly bytes = { toTarget: 0, fromTarget: 0 };

  constructor(
    readonly targetPort: number,
    readonly targetHost = '127.0.0.1',
  ) {
    // A proxy must never take the harness down: socket errors only end that connection.
    this.server.on('error', () => undefined);
  }

  /** Listens on 127.0.0.1, on a free port unless one is given; resolves to the port. */
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

  get state(): LinkState {
    return this.current;
  }

  /** Live forwarded connections (for tests). */
  get connections(): number {
    return this.pairs.size;
  }

  /** Drops every live connection; new ones are refused or blackholed until `heal`. */
  cut(mode: CutMode): void {
    this.current = { kind: 'cut', mode };
    for (const pair of this.pairs) destroyPair(pair);
    this.pairs.clear();
  }

  /** Forwards new connections again. Blackholed ones are reset so their senders retry now. */
  heal(): void {
    this.current = { kind: 'open' };
    for (const socket of this.held) socket.resetAndDestroy();
    this.held.clear();
  }

  async close(): Promise<void> {
    this.cut('refuse');
    this.heal();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.current.kind === 'cut') return this.refuseOrHold(client, this.current.mode);
    const upstream = net.connect(this.targetPort, this.targetHost);
    upstream.on('error', () => undefined);
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      destroyPair(pair);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('data', (chunk: Buffer) => (this.bytes.toTarget += chunk.length));
    upstream.on('data', (chunk: Buffer) => (this.bytes.fromTarget += chunk.length));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private refuseOrHold(client: net.Socket, mode: CutMode): void {
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    this.held.add(client);
    client.on('close', () => this.held.delete(client));
    client.resume(); // read and discard, as a lossy network would
  }
}

/** Resets both sides, so neither end mistakes a cut for a clean close. */
function destroyPair({ client, upstream }: Pair): void {
  if (!client.destroyed) client.resetAndDestroy();
  if (!upstream.destroyed) upstream.resetAndDestroy();
}
