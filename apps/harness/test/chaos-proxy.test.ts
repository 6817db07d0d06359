import net from 'node:net';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { LinkProxy } from '../src/chaos/proxy.js';

/** A target that greets each connection (target → sender bytes) and echoes (both ways). */
class GreetingEcho {
  readonly server = net.createServer((s) => {
    this.accepted++;
    s.on('error', () => undefined);
    s.write('hi:');
    s.pipe(s);
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

/** A client connection that collects what it receives and notes when it closes. */
function dial(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const state = { received: '', closed: false };
  socket.on('error', () => undefined);
  socket.on('data', (d: Buffer) => (state.received += d.toString()));
  const closed = new Promise<void>((r) => socket.on('close', () => ((state.closed = true), r())));
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

describe('LinkProxy', () => {
  let target: GreetingEcho;
  let proxy: LinkProxy;
  const open: net.Socket[] = [];

  beforeEach(async () => {
    target = new GreetingEcho();
    proxy = new LinkProxy(await target.listen());
    await proxy.listen();
  });

  afterEach(async () => {
    open.splice(0).forEach((s) => s.destroy());
    await proxy.close();
    await target.close();
  });

  const connect = () => {
    const c = dial(proxy.port);
    open.push(c.socket);
    return c;
  };

  test('forwards bytes both ways and counts them', async () => {
    const c = connect();
    await until(() => c.state.received === 'hi:');
    c.socket.write('ping');
    await until(() => c.state.received === 'hi:ping');
    expect(proxy.bytes).toEqual({ toTarget: 4, fromTarget: 7 });
    expect(proxy.connections).toBe(1);
  });

  test('a cut drops live connections and refuses new ones', async () => {
    const live = connect();
    await until(() => live.state.received === 'hi:');
    proxy.cut('refuse');
    await live.closed;
    expect(proxy.connections).toBe(0);

    const refused = connect();
    await refused.closed;
    expect(refused.state.received).toBe('');
    expect(target.accepted).toBe(1);
  });

  test('a blackhole cut swallows bytes without answering or closing', async () => {
    proxy.cut('blackhole');
    const held = connect();
    held.socket.write('anyone there?');
    await pause(200);
    expect(held.state).toEqual({ received: '', closed: false });
    expect(target.accepted).toBe(0);
    expect(proxy.bytes.toTarget).toBe(0);

    proxy.heal();
    await held.closed; // reset at heal, so its sender retries at once
  });

  test('heal restores forwarding for new connections', async () => {
    proxy.cut('refuse');
    await connect().closed;
    proxy.heal();
    expect(proxy.state).toEqual({ kind: 'open' });
    const c = connect();
    c.socket.write('back');
    await until(() => c.state.received === 'hi:back');
  });

  test('a dead target resets the sender instead of leaving it hanging', async () => {
    await target.close();
    const c = connect();
    await c.closed;
    expect(c.state.received).toBe('');
  });
});
