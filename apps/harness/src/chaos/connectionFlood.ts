import net from 'node:net';

/**
 * Many client connections held open at once against one node, each with one request sent, to
 * use up a low fd limit (issue 9 item 4: 1,500 concurrent requests under `ulimit -n 1024`
 * killed a leader). The node must shed them (503, or close at accept) and stay up; the run's
 * crash check sees it if it does not.
 */
export class ConnectionFlood {
  private readonly sockets: net.Socket[] = [];
  private readonly tally = { ok: 0, refused: 0, closed: 0 };

  constructor(
    private readonly port: number,
    private readonly connections: number,
  ) {}

  /** Opens the connections (a socket error only counts as closed). */
  open(): void {
    for (let i = 0; i < this.connections; i++) {
      const socket = net.connect({ host: '127.0.0.1', port: this.port });
      let counted = false;
      const count = (field: keyof ConnectionFlood['tally']) => {
        if (!counted) this.tally[field]++;
        counted = true;
      };
      socket.on('error', () => count('closed'));
      socket.on('close', () => count('closed'));
      socket.once('data', (chunk: Buffer) => count(/^HTTP\/1\.1 2/.test(chunk.toString('latin1')) ? 'ok' : 'refused'));
      socket.on('connect', () => socket.write('GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n'));
      this.sockets.push(socket);
    }
  }

  /** Closes every connection; returns what they got, e.g. `120 answered, 250 refused, 30 closed`. */
  close(): string {
    for (const s of this.sockets) s.destroy();
    const t = this.tally;
    return `${t.ok} answered, ${t.refused} refused, ${t.closed} closed`;
  }
}
