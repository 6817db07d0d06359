import { Inbox, sequencedMessage } from '@raftkit/transport-suite';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpTransport } from '../src/index.js';
import { RaftHeaders } from '../src/protocol.js';
import { ACK_RECORD_BYTES, AckDecoder, AckError, ackKeyOf, encodeAck } from '../src/stream/acks.js';
import { closeAll, startAll, waitFor } from './helpers/net.js';
import { rawStream } from './helpers/streamClient.js';

// Stream acks (stream/acks.ts): the receiver's MAC'd counts of the frames it took, on the
// response body, asked for by the sender's open and agreed to on the 200.

const key = ackKeyOf(Buffer.alloc(32, 7));

describe('ack records', () => {
  it('decode in order, fed whole or a byte at a time', () => {
    const bytes = Buffer.concat([encodeAck(key, 0, 1), encodeAck(key, 1, 4), encodeAck(key, 2, 4)]);
    expect(bytes.length).toBe(3 * ACK_RECORD_BYTES);
    expect(new AckDecoder(key).push(bytes)).toEqual([1, 4, 4]);
    const slow = new AckDecoder(key);
    const counts: number[] = [];
    for (const byte of bytes) counts.push(...slow.push(Buffer.from([byte])));
    expect(counts).toEqual([1, 4, 4]);
  });

  it('refuse a tampered count, a replayed or reordered ack, another stream\'s ack and an unknown record kind', () => {
    const tampered = encodeAck(key, 0, 1);
    tampered.writeBigUInt64BE(2n, 1);
    expect(() => new AckDecoder(key).push(tampered)).toThrow(AckError);
    const first = encodeAck(key, 0, 1);
    expect(() => new AckDecoder(key).push(Buffer.concat([first, first]))).toThrow(/ack #1: MAC does not match/);
    expect(() => new AckDecoder(key).push(encodeAck(key, 1, 1))).toThrow(/ack #0: MAC does not match/);
    expect(() => new AckDecoder(key).push(encodeAck(ackKeyOf(Buffer.alloc(32, 8)), 0, 1))).toThrow(AckError);
    expect(() => new AckDecoder(key).push(Buffer.from([9]))).toThrow(/unknown record kind 9/);
  });

  it('keep a JSON error that follows the acks', () => {
    const decoder = new AckDecoder(key);
    const error = JSON.stringify({ error: { code: 'RAFT_BAD_MESSAGE', message: 'x' } });
    expect(decoder.push(Buffer.concat([encodeAck(key, 0, 2), Buffer.from(error.slice(0, 5))]))).toEqual([2]);
    expect(decoder.push(Buffer.from(error.slice(5)))).toEqual([]);
    expect(decoder.errorText).toBe(error);
  });
});

describe('a receiver acks the frames it took', () => {
  let transports: HttpTransport[] = [];
  let inbox: Inbox;
  afterEach(async () => {
    await closeAll(transports);
    transports = [];
  });
  async function receiver(): Promise<string> {
    const started = await startAll(['a', 'b'], { onError: () => {} });
    transports = started.transports;
    inbox = started.inboxes[1];
    return transports[1].url!;
  }

  it('when the open asks: acks covering every delivered frame, MAC\'d under the stream\'s ack key', async () => {
    const s = rawStream(await receiver(), { headers: { [RaftHeaders.streamAcks]: '1' } });
    expect(await s.status).toBe(200);
    s.frame(0, [sequencedMessage('a', 'b', 0)]);
    s.frame(1, [sequencedMessage('a', 'b', 1), sequencedMessage('a', 'b', 2)]);
    await waitFor(() => inbox.messages.length === 3, 'three messages');
    expect((await s.responseHeaders)[RaftHeaders.streamAcks]).toBe('1');
    const decoder = new AckDecoder(ackKeyOf(s.key));
    const counts: number[] = [];
    let read = 0;
    const take = (): number[] => {
      const body = s.body();
      counts.push(...decoder.push(body.subarray(read)));
      read = body.length;
      return counts;
    };
    await waitFor(() => take().at(-1) === 2, `an ack of both frames (${JSON.stringify(counts)})`);
    s.frame(2, [sequencedMessage('a', 'b', 3)]);
    await waitFor(() => take().at(-1) === 3, `an ack of the third frame (${JSON.stringify(counts)})`);
    expect(counts).toEqual([...counts].sort((x, y) => x - y));
    s.end();
    await s.answer;
    expect(decoder.errorText).toBe('');
  });

  it('when it does not ask (an earlier sender): no ack header on the 200, an empty body', async () => {
    const s = rawStream(await receiver());
    expect(await s.status).toBe(200);
    s.frame(0, [sequencedMessage('a', 'b', 0)]);
    await waitFor(() => inbox.messages.length === 1, 'the message');
    expect((await s.responseHeaders)[RaftHeaders.streamAcks]).toBeUndefined();
    s.end();
    expect(await s.answer).toBe('');
  });
});
