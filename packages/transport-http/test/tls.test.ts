import { Inbox, runTransportSuite, sequencedMessage } from '@raftkit/transport-suite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type HttpTlsOptions, HttpTransport } from '../src/index.js';
import { SECRET, closeAll, suiteCluster, waitFor } from './helpers/net.js';
import { makeTestPki } from './helpers/pki.js';

const pki = makeTestPki();
afterAll(() => pki.dispose());

const serverTls: HttpTlsOptions = { key: pki.nodeKey, cert: pki.nodeCert, ca: pki.ca };
const opened: HttpTransport[] = [];
afterEach(async () => closeAll(opened.splice(0)));

async function node(id: string, tls: HttpTlsOptions): Promise<{ transport: HttpTransport; inbox: Inbox }> {
  const transport = await HttpTransport.listen({ id, secret: SECRET, tls });
  opened.push(transport);
  const inbox = new Inbox();
  await transport.start(inbox);
  return { transport, inbox };
}

describe('https between peers, with a CA made at test time', () => {
  it('serves https and delivers both ways when both sides trust the CA', async () => {
    const a = await node('a', serverTls);
    const b = await node('b', serverTls);
    expect(a.transport.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    a.transport.setPeer('b', b.transport.url!);
    b.transport.setPeer('a', a.transport.url!);
    a.transport.send([sequencedMessage('a', 'b', 1)]);
    b.transport.send([sequencedMessage('b', 'a', 2)]);
    await waitFor(() => a.inbox.messages.length === 1 && b.inbox.messages.length === 1, 'a message each way');
  });

  it('a client trusting a different CA cannot connect: reported unreachable, never thrown', async () => {
    const server = await node('b', serverTls);
    const client = await node('a', { ca: pki.otherCa });
    client.transport.setPeer('b', server.transport.url!);
    server.transport.setPeer('a', 'https://127.0.0.1:1');
    expect(() => client.transport.send([sequencedMessage('a', 'b', 1)])).not.toThrow();
    await waitFor(() => client.inbox.unreachable.includes('b'), 'b reported unreachable');
    expect(server.inbox.messages).toEqual([]);
    expect(client.transport.stats().peers.b).toMatchObject({ failures: 1, sent: 0 });
  });

  it('a client with no CA configured does not trust a private CA either', async () => {
    const server = await node('b', serverTls);
    const client = await node('a', {});
    client.transport.setPeer('b', server.transport.url!);
    client.transport.send([sequencedMessage('a', 'b', 1)]);
    await waitFor(() => client.inbox.unreachable.includes('b'), 'b reported unreachable');
  });

  it('with mutual TLS, a client without a certificate is refused and one with it gets through', async () => {
    const mutual: HttpTlsOptions = { ...serverTls, mutual: true };
    const server = await node('b', mutual);
    const anonymous = await node('a', { ca: pki.ca });
    const member = await node('c', mutual);
    for (const peer of ['a', 'c']) server.transport.setPeer(peer, 'https://127.0.0.1:1');
    anonymous.transport.setPeer('b', server.transport.url!);
    member.transport.setPeer('b', server.transport.url!);
    anonymous.transport.send([sequencedMessage('a', 'b', 1)]);
    member.transport.send([sequencedMessage('c', 'b', 2)]);
    await waitFor(() => anonymous.inbox.unreachable.includes('b'), 'anonymous client refused');
    await waitFor(() => server.inbox.messages.length === 1, 'member delivered');
    expect(server.inbox.messages[0].from).toBe('c');
  });
});

runTransportSuite({
  name: 'HttpTransport over https with mutual TLS',
  factory: (ids) => suiteCluster(ids, { tls: { ...serverTls, mutual: true } }),
});

runTransportSuite({
  name: 'HttpTransport over https with mutual TLS, streaming peer links',
  factory: (ids) => suiteCluster(ids, { tls: { ...serverTls, mutual: true }, stream: true }),
});
