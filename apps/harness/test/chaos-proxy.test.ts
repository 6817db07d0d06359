import net from 'node:net';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { NodeProxy } from '../src/chaos/nodeProxy.js';

/** A target that echoes every byte back, prefixed once per connection with "hi:". */
class Echo {
  readonly server = net.createServer((s) => {
    this.accepted++;
    s.on('error', () => undefined);
    s.once('data', () => s.write('hi:'));
    s.on('data', (d: Buffer) => s.write(d));
  });
  accepted = 0;

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** The head of an HTTP request as a raftkit peer (or a forwarding follower) sends it. */
const head = (header: string | null): string => `POST /raft/v1/messages HTTP/1.1\r\nhost: x\r\n${header ? `${header}\r\n` : ''}content-length: 4\r\n\r\n`;

/** A connection that sends `first` at once and collects what comes back. */
function dial(port: number, first: string) {
  const socket = net.connect(port, '127.0.0.1');
  const state = { received: '', closed: false };
  socket.on('error', () => undefined);
  socket.on('data', (d: Buffer) => (state.received += d.toString()));
  const closed = new Promise<void>((r) => socket.on('close', () => ((state.closed = true), r())));
  socket.write(first);
  return { socket, state, closed };
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('NodeProxy', () => {
  let target: Echo;
  let proxy: NodeProxy;
  const open: net.Socket[] = [];

  beforeEach(async () => {
    target = new Echo();
    proxy = new NodeProxy(await target.listen());
    await proxy.listen();
  });

  afterEach(async () => {
    open.splice(0).forEach((s) => s.destroy());
    await proxy.close();
    await target.close();
  });

  const connect = (first: string) => {
    const c = dial(proxy.port, first);
    open.push(c.socket);
    return c;
  };

  test('forwards the whole request, head included, and the answer back', async () => {
    const h = head('x-raftkit-from: n2');
    const c = connect(h);
    await until(() => c.state.received === `hi:${h}`);
    c.socket.write('body');
    await until(() => c.state.received === `hi:${h}body`);
    expect(proxy.connectionsFrom('n2')).toBe(1);
  });

  test('a cut of one sender drops and refuses only its connections', async () => {
    const n2 = connect(head('x-raftkit-from: n2'));
    const n3 = connect(head('X-Raftkit-From: n3'));
    const client = connect(head(null));
    await until(() => [n2, n3, client].every((c) => c.state.received.startsWith('hi:')));
    proxy.cut('n2', 'refuse');
    await n2.closed;
    expect(proxy.stateOf('n2')).toEqual({ kind: 'cut', mode: 'refuse' });
    const again = connect(head('x-raftkit-from: n2'));
    await again.closed;
    expect(again.state.received).toBe('');
    // n3 and a client (no sender header) still get through, on old and new connections.
    expect(n3.state.closed || client.state.closed).toBe(false);
    const n3b = connect(head('x-raftkit-from: n3'));
    await until(() => n3b.state.received.startsWith('hi:'));
    expect(target.accepted).toBe(4);
  });

  test('a forwarding follower is told apart by x-raftkit-forwarded-by, ids percent-decoded', async () => {
    proxy.cut('node 1', 'refuse');
    const fwd = connect(head('x-raftkit-forwarded-by: node%201'));
    await fwd.closed;
    expect(fwd.state.received).toBe('');
    expect(target.accepted).toBe(0);
  });

  test('a blackhole cut swallows a sender\'s bytes; heal resets them so it retries at once', async () => {
    proxy.cut('n2', 'blackhole');
    const held = connect(head('x-raftkit-from: n2'));
    held.socket.write('anyone there?');
    await pause(200);
    expect(held.state).toEqual({ received: '', closed: false });
    expect(target.accepted).toBe(0);
    proxy.heal('n2');
    await held.closed;
    expect(proxy.stateOf('n2')).toEqual({ kind: 'open' });
    const c = connect(head('x-raftkit-from: n2'));
    await until(() => c.state.received.startsWith('hi:'));
  });

  test('a dead target resets the sender instead of leaving it hanging', async () => {
    await target.close();
    const c = connect(head('x-raftkit-from: n2'));
    await c.closed;
    expect(c.state.received).toBe('');
  });
});
