import { EntryType, MAX_TERM } from '@raftkit/core';
import type { Message } from '@raftkit/core';
import { MESSAGE_TYPES, MiB, diffValues, largeAppend, largeChunk, sampleMessages, samplesOfType } from '@raftkit/transport-suite';
import { describe, expect, it } from 'vitest';
import { expectBadMessage } from './helpers/expectBad.js';
import { WIRE_VERSION, decodeBatch, encodeBatch, encodeMessage, encodeMessages } from '../src/index.js';


function roundTrip(messages: readonly Message[]): Message[] {
  return decodeBatch(encodeMessages(messages));
}

const heartbeat: Message = { type: 'heartbeat', from: 'a', to: 'b', term: 2 ** 40 + 3, commit: 7, context: 9 };

describe('round trips', () => {
  it.each(MESSAGE_TYPES)('every %s sample decodes to exactly what was encoded', (type) => {
    const sent = samplesOfType(type, 'n1', 'n2');
    const received = roundTrip(sent);
    expect(received).toHaveLength(sent.length);
    received.forEach((m, i) => expect(diffValues(m, sent[i], `${type}[${i}]`)).toBeNull());
  });

  it('a mixed batch of every type keeps order', () => {
    const sent = sampleMessages('n2', 'n3');
    roundTrip(sent).forEach((m, i) => expect(diffValues(m, sent[i])).toBeNull());
  });

  it('4 MiB appends and snapshot chunks survive intact', () => {
    const sent = [largeAppend('a', 'b'), largeChunk('a', 'b', 4 * MiB)];
    roundTrip(sent).forEach((m, i) => expect(diffValues(m, sent[i])).toBeNull());
  });

  it('keeps terms up to MAX_TERM and indexes up to 2^53 - 1 exact', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const sent: Message[] = [
      { ...heartbeat, term: MAX_TERM, commit: 2 ** 32, context: 2 ** 32 - 1 },
      { type: 'appendResponse', from: 'a', to: 'b', term: 2 ** 33, success: false, index: max, conflictTerm: MAX_TERM, conflictIndex: 2 ** 52 },
    ];
    expect(roundTrip(sent)).toEqual(sent);
  });

  it('keeps unicode ids and request ids exact', () => {
    const sent: Message[] = [{ type: 'readIndex', from: 'n-äöü', to: '节点-🚀', term: 1, requestId: 'rï-🚀-"2"\n\u0000' }];
    expect(roundTrip(sent)).toEqual(sent);
  });

  it('an empty batch is valid', () => {
    expect(decodeBatch(encodeBatch([]))).toEqual([]);
  });

  it('decoded entry data is a copy the input buffer cannot change', () => {
    const [append] = samplesOfType('append', 'a', 'b');
    const bytes = encodeMessages([append]);
    const decoded = decodeBatch(bytes)[0] as typeof append;
    bytes.fill(0);
    expect(diffValues(decoded, append)).toBeNull();
    expect(decoded.entries[0].data).toBeInstanceOf(Uint8Array);
  });

  it('lays out a heartbeat as documented: header, tag, strings, uint64s', () => {
    const m: Message = { type: 'heartbeat', from: 'a', to: 'bc', term: 2 ** 32 + 1, commit: 2, context: 3 };
    const hex = Buffer.from(encodeMessages([m])).toString('hex');
    const expected = [
      '524b', '01', '00000001', // magic "RK", version 1, one message
      '05', '000161', '00026263', // tag heartbeat, from "a", to "bc"
      '0000000100000001', '0000000000000002', '0000000000000003', // term, commit, context
    ].join('');
    expect(WIRE_VERSION).toBe(1);
    expect(hex).toBe(expected);
  });
});

describe('the encoder refuses what the decoder would refuse', () => {
  const cases: [string, unknown, RegExp][] = [
    ['a term of 2^53', { ...heartbeat, term: 2 ** 53 }, /term must be a non-negative safe integer/],
    ['a negative index', { ...heartbeat, commit: -1 }, /commit must be a non-negative safe integer/],
    ['a fractional term', { ...heartbeat, term: 1.5 }, /term must be/],
    ['NaN', { ...heartbeat, context: Number.NaN }, /context must be/],
    ['an unknown type', { ...heartbeat, type: 'gossip' }, /unknown message type gossip/],
    ['an inherited type name', { ...heartbeat, type: 'toString' }, /unknown message type/],
    ['an empty sender', { ...heartbeat, from: '' }, /from must be a non-empty node id/],
    ['a non-string id', { ...heartbeat, to: 7 }, /to must be a string/],
    ['a non-boolean flag', { type: 'vote', from: 'a', to: 'b', term: 1, preVote: 1, lastLogIndex: 0, lastLogTerm: 0 }, /preVote must be a boolean/],
    ['a 64 KiB request id', { type: 'readIndex', from: 'a', to: 'b', term: 1, requestId: 'x'.repeat(65536) }, /at most 65535/],
    ['a non-array entries', { type: 'append', from: 'a', to: 'b', term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries: {} }, /entries must be an array/],
  ];
  it.each(cases)('%s', (_, message, pattern) => expectBadMessage(() => encodeMessage(message as Message), pattern));

  const entry = (index: number, term: number, type: number = EntryType.Normal) => ({ index, term, type, data: new Uint8Array(1) });
  const append = (entries: unknown[]) => ({ type: 'append', from: 'a', to: 'b', term: 5, prevIndex: 10, prevTerm: 2, commit: 0, entries }) as Message;

  it('entries that do not follow prevIndex', () => expectBadMessage(() => encodeMessage(append([entry(12, 3)])), /index is 12, expected 11/));
  it('a gap between entries', () => expectBadMessage(() => encodeMessage(append([entry(11, 3), entry(13, 3)])), /expected 12/));
  it('terms going down', () => expectBadMessage(() => encodeMessage(append([entry(11, 3), entry(12, 2)])), /lower than the term before/));
  it('a term below prevTerm', () => expectBadMessage(() => encodeMessage(append([entry(11, 1)])), /lower than the term before it \(2\)/));
  it('an unknown entry type', () => expectBadMessage(() => encodeMessage(append([entry(11, 3, 7)])), /unknown entry type 7/));
  it('entry data that is not bytes', () => expectBadMessage(() => encodeMessage(append([{ ...entry(11, 3), data: 'x' }])), /data must be a Uint8Array/));

  const snapshot = (meta: object) => ({ type: 'snapshot', from: 'a', to: 'b', term: 3, meta }) as Message;
  // Issue 9 item 9: a term near 2^53 wedges a node that adopts it (term + 1 is not safe).
  const entryAt = (term: number) => ({ index: 11, term, type: EntryType.Normal, data: new Uint8Array(1) });
  const hugeTerms: [string, (term: number) => unknown][] = [
    ['term', (term) => ({ ...heartbeat, term })],
    ['vote.lastLogTerm', (term) => ({ type: 'vote', from: 'a', to: 'b', term: 1, preVote: true, lastLogIndex: 3, lastLogTerm: term })],
    ['append.prevTerm', (term) => ({ ...append([]), prevTerm: term })],
    ['entries[0].term', (term) => append([entryAt(term)])],
    ['appendResponse.conflictTerm', (term) => ({ type: 'appendResponse', from: 'a', to: 'b', term: 1, success: false, index: 1, conflictTerm: term, conflictIndex: 1 })],
    ['snapshot.meta.term', (term) => ({ ...snapshot({ index: 1, term, voters: [] }) })],
  ];
  for (const term of [MAX_TERM + 1, Number.MAX_SAFE_INTEGER]) {
    it.each(hugeTerms)(`%s = ${term} (above MAX_TERM)`, (field, build) => {
      expectBadMessage(() => encodeMessage(build(term) as Message), new RegExp(`${field.replace(/[.[\]]/g, '\\$&')} is ${term}, above MAX_TERM`));
    });
  }

  it('a snapshot at index 0', () => expectBadMessage(() => encodeMessage(snapshot({ index: 0, term: 1, voters: [] })), /meta.index must be >= 1/));
  it('duplicate voters', () => expectBadMessage(() => encodeMessage(snapshot({ index: 1, term: 1, voters: ['a', 'a'] })), /duplicates/));
});

describe('the decoder refuses malformed bytes with RAFT_BAD_MESSAGE', () => {
  const valid = encodeMessages([heartbeat]);
  const patched = (at: number, ...bytes: number[]): Uint8Array => {
    const copy = valid.slice();
    copy.set(bytes, at);
    return copy;
  };
  // Offsets into `valid`: header 7, tag 7, from 8-10 ("a"), to 11-13 ("b"), term 14-21.
  it('empty input', () => expectBadMessage(() => decodeBatch(new Uint8Array(0)), /truncated: magic/));
  it('bad magic', () => expectBadMessage(() => decodeBatch(patched(0, 0x7b)), /not a raftkit batch/));
  it('an unknown version', () => expectBadMessage(() => decodeBatch(patched(2, 9)), /unsupported wire version 9/));
  it('a count larger than the body', () => expectBadMessage(() => decodeBatch(patched(3, 0, 0, 0, 2)), /message #1: truncated/));
  it('trailing bytes', () => expectBadMessage(() => decodeBatch(Uint8Array.from([...valid, 0])), /1 unexpected trailing bytes/));
  it('an unknown type tag', () => expectBadMessage(() => decodeBatch(patched(7, 0xee)), /unknown message type tag 238/));
  it('a term above MAX_TERM, and one of 2^53 - 1', () => {
    for (const term of [MAX_TERM + 1, Number.MAX_SAFE_INTEGER]) {
      const bytes = valid.slice();
      new DataView(bytes.buffer).setBigUint64(14, BigInt(term));
      expectBadMessage(() => decodeBatch(bytes), new RegExp(`term at offset 14 is ${term}, above MAX_TERM`));
    }
  });
  it('an entry or snapshot term above MAX_TERM', () => {
    const append = encodeMessages([{ type: 'append', from: 'a', to: 'b', term: 5, prevIndex: 10, prevTerm: 2, commit: 0, entries: [{ index: 11, term: 3, type: EntryType.Normal, data: new Uint8Array(1) }] }]);
    // header 7 + tag 1 + from 3 + to 3 + term 8 + prevIndex 8 + prevTerm 8 + commit 8 + count 4 + index 8 = 58
    new DataView(append.buffer).setBigUint64(58, BigInt(MAX_TERM + 1));
    expectBadMessage(() => decodeBatch(append), /entries\[0\]\.term at offset 58 is \d+, above MAX_TERM/);
    const snap = encodeMessages([{ type: 'snapshot', from: 'a', to: 'b', term: 5, meta: { index: 4, term: 3, voters: [] } }]);
    // header 7 + tag 1 + from 3 + to 3 + term 8 + meta.index 8 = 30
    new DataView(snap.buffer).setBigUint64(30, BigInt(Number.MAX_SAFE_INTEGER));
    expectBadMessage(() => decodeBatch(snap), /snapshot\.meta\.term at offset 30 is \d+, above MAX_TERM/);
  });
  it('a uint64 above 2^53 - 1', () => expectBadMessage(() => decodeBatch(patched(14, 0, 0x20, 0, 0)), /term at offset 14 exceeds 2\^53 - 1/));
  it('invalid UTF-8 in an id', () => expectBadMessage(() => decodeBatch(patched(10, 0xff)), /from at offset 10 is not valid UTF-8/));
  it('an empty id', () => expectBadMessage(() => decodeBatch(encodeBatch([Uint8Array.from([5, 0, 0])])), /from must be a non-empty node id/));
  it('a boolean that is not 0 or 1', () => {
    const vote = encodeMessages([{ type: 'vote', from: 'a', to: 'b', term: 1, preVote: true, lastLogIndex: 0, lastLogTerm: 0 }]);
    vote[22] = 2;
    expectBadMessage(() => decodeBatch(vote), /vote.preVote at offset 22 must be 0 or 1/);
  });
  it('a non-byte input', () => expectBadMessage(() => decodeBatch('RK' as unknown as Uint8Array), /must be bytes/));
});
