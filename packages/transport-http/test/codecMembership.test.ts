// Issue 10: the codec carries membership data (timeoutNow, vote.transferFrom, a snapshot's
// meta.membership) exactly, refuses malformed membership with RAFT_BAD_MESSAGE naming the field,
// and keeps every message of the first release byte-identical (older peers still decode them).
// Issue 12 moved the snapshot to tag 13 (meta only, membership behind a presence byte).
import type { ConfState, Message, SnapshotRequest, VoteRequest } from '@raftkit/core';
import { diffValues, sampleConfState } from '@raftkit/transport-suite';
import { describe, expect, it } from 'vitest';
import { expectBadMessage } from './helpers/expectBad.js';
import { MessageTag, VariantTag, decodeBatch, encodeBatch, encodeMessage, encodeMessages } from '../src/index.js';
import { ByteWriter } from '../src/codec/writer.js';


const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const vote: VoteRequest = { type: 'vote', from: 'a', to: 'b', term: 1, preVote: false, lastLogIndex: 2, lastLogTerm: 1 };
const single: ConfState = { config: { voters: ['a'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false }, addresses: {} };
const snapshotWith = (membership: unknown): Message =>
  ({ type: 'snapshot', from: 'a', to: 'b', term: 3, meta: membership === undefined ? { index: 5, term: 2, voters: ['a'] } : { index: 5, term: 2, voters: ['a'], membership } }) as Message;

describe('layout', () => {
  it('a vote without transferFrom keeps the first release’s bytes (tag 1); with it, tag 11 adds the id', () => {
    const head = '01' + '000161' + '000162' + '0000000000000001'; // tag, from "a", to "b", term 1
    const body = '00' + '0000000000000002' + '0000000000000001'; // preVote, lastLogIndex, lastLogTerm
    expect(hex(encodeMessage(vote))).toBe(head + body);
    const transfer = hex(encodeMessage({ ...vote, transferFrom: 'c' }));
    expect(transfer).toBe('0b' + head.slice(2) + body + '000163');
    expect(VariantTag.voteTransfer).toBe(0x0b);
  });

  it('timeoutNow is tag 10 with no fields after the term', () => {
    expect(hex(encodeMessage({ type: 'timeoutNow', from: 'a', to: 'b', term: 4 }))).toBe('0a' + '000161' + '000162' + '0000000000000004');
    expect(MessageTag.timeoutNow).toBe(10);
  });

  it('a snapshot is tag 13: its meta, a presence byte, then the configuration and sorted addresses', () => {
    const membership: ConfState = { ...single, addresses: { b: 'u', a: 'v' } };
    const meta = '0000000000000005' + '0000000000000002' + '00000001' + '000161'; // index, term, voters ["a"]
    const lists = '00000001000161' + '00000000' + '00000000' + '00000000' + '00'; // voters ["a"], 3 empty lists, autoLeave
    const addresses = '00000002' + '000161' + '000176' + '000162' + '000175'; // a → "v", b → "u"
    const head = '000161' + '000162' + '0000000000000003';
    expect(hex(encodeMessage(snapshotWith(membership)))).toBe('0d' + head + meta + '01' + lists + addresses);
    expect(hex(encodeMessage(snapshotWith(undefined)))).toBe('0d' + head + meta + '00');
    expect(MessageTag.snapshot).toBe(13);
  });

  it('decodes a snapshot without membership to a meta without the key, and one with it exactly', () => {
    const [plain, withMembership] = decodeBatch(encodeMessages([snapshotWith(undefined), snapshotWith(sampleConfState('a', 'b'))])) as SnapshotRequest[];
    expect(Object.keys(plain.meta)).toEqual(['index', 'term', 'voters']);
    expect(diffValues(withMembership.meta.membership, sampleConfState('a', 'b'))).toBeNull();
  });

  it('keeps an address under the id "__proto__" as a key, without touching the prototype', () => {
    const addresses = JSON.parse('{"__proto__": "http://p", "a": "http://a"}') as Record<string, string>;
    const [m] = decodeBatch(encodeMessages([snapshotWith({ ...single, addresses })])) as SnapshotRequest[];
    const decoded = m.meta.membership!.addresses;
    expect(Object.keys(decoded)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toBe('http://p');
  });

  it('is canonical even for ids JavaScript orders numerically: decoding then re-encoding gives the same bytes', () => {
    const bytes = encodeMessages([snapshotWith({ ...single, addresses: { b: '1', '10': '2', '2': '3', a: '4' } })]);
    expect(hex(encodeBatch(decodeBatch(bytes).map(encodeMessage)))).toBe(hex(bytes));
  });
});

describe('the encoder refuses malformed membership data', () => {
  const config = single.config;
  const cases: [string, unknown, RegExp][] = [
    ['membership that is not an object', 'x', /snapshot\.meta\.membership must be an object/],
    ['a config that is not an object', { addresses: {} }, /membership\.config must be an object/],
    ['a list that is not an array', { config: { ...config, learners: 'c' }, addresses: {} }, /membership\.config\.learners must be an array/],
    ['a non-string id', { config: { ...config, voters: [1] }, addresses: {} }, /membership\.config\.voters\[0\] must be a string/],
    ['a non-boolean autoLeave', { config: { ...config, autoLeave: 0 }, addresses: {} }, /membership\.config\.autoLeave must be a boolean/],
    ['a learner that is a voter', { config: { ...config, learners: ['a'] }, addresses: {} }, /membership\.config: .*both a learner and a voter/],
    ['learnersNext outside a joint config', { config: { ...config, learnersNext: ['a'] }, addresses: {} }, /membership\.config: .*only allowed in a joint/],
    ['a duplicate voter', { config: { ...config, voters: ['a', 'a'] }, addresses: {} }, /membership\.config: .*appears twice/],
    ['an empty id', { config: { ...config, voters: [''] }, addresses: {} }, /membership\.config: .*empty/],
    ['addresses that are an array', { config, addresses: [] }, /membership\.addresses must be an object/],
    ['a non-string address', { config, addresses: { a: 7 } }, /membership\.addresses\["a"\] must be a string/],
    ['an address under an empty id', { config, addresses: { '': 'http://x' } }, /membership\.addresses key must be a non-empty node id/],
  ];
  it.each(cases)('%s', (_, membership, pattern) => expectBadMessage(() => encodeMessage(snapshotWith(membership)), pattern));

  it('a transferFrom that is empty or not a string', () => {
    expectBadMessage(() => encodeMessage({ ...vote, transferFrom: '' }), /vote\.transferFrom must be a non-empty node id/);
    expectBadMessage(() => encodeMessage({ ...vote, transferFrom: 5 } as unknown as Message), /vote\.transferFrom must be a string/);
  });
});

/** A snapshot frame with membership from raw parts, to hand the decoder what no valid encoder writes. */
function rawSnapshot(lists: readonly (readonly string[])[], autoLeave: number, addresses: readonly [string, string][]): Uint8Array {
  const w = new ByteWriter();
  w.u8(MessageTag.snapshot);
  w.str('a', 'from');
  w.str('b', 'to');
  w.u64(3, 'term');
  w.u64(5, 'index');
  w.u64(2, 'meta term');
  w.u32(0);
  w.u8(1); // membership present
  for (const list of lists) {
    w.u32(list.length);
    for (const id of list) w.str(id, 'id');
  }
  w.u8(autoLeave);
  w.u32(addresses.length);
  for (const [id, url] of addresses) {
    w.str(id, 'id');
    w.str(url, 'url');
  }
  return encodeBatch([w.finish()]);
}

describe('the decoder refuses malformed membership with RAFT_BAD_MESSAGE naming the field', () => {
  const ok: string[][] = [['a'], [], [], []];
  it('accepts the valid raw frame the cases below break', () => {
    const [m] = decodeBatch(rawSnapshot(ok, 0, [['a', 'x']])) as SnapshotRequest[];
    expect(m.meta.membership).toEqual({ ...single, addresses: { a: 'x' } });
  });
  it('an invalid configuration', () => {
    expectBadMessage(() => decodeBatch(rawSnapshot([['a'], [], ['a'], []], 0, [])), /message #0: snapshot\.meta\.membership\.config: .*both a learner and a voter/);
    expectBadMessage(() => decodeBatch(rawSnapshot(ok, 1, [])), /membership\.config: .*autoLeave is only allowed/);
  });
  it('an autoLeave that is not 0 or 1', () => expectBadMessage(() => decodeBatch(rawSnapshot(ok, 2, [])), /membership\.config\.autoLeave at offset \d+ must be 0 or 1/));
  it('addresses out of order or duplicated', () => {
    expectBadMessage(() => decodeBatch(rawSnapshot(ok, 0, [['b', 'x'], ['a', 'y']])), /addresses ids must be unique and ascending: "a" after "b"/);
    expectBadMessage(() => decodeBatch(rawSnapshot(ok, 0, [['a', 'x'], ['a', 'y']])), /unique and ascending/);
  });
  it('an address under an empty id', () => expectBadMessage(() => decodeBatch(rawSnapshot(ok, 0, [['', 'x']])), /addresses\[0\] id must be a non-empty node id/));
  it('membership cut short', () => {
    const bytes = rawSnapshot(ok, 0, [['a', 'x']]);
    expectBadMessage(() => decodeBatch(bytes.subarray(0, bytes.length - 1)), /truncated: snapshot\.meta\.membership\.addresses\["a"\]/);
  });
  it('a transferFrom that is empty', () => {
    const bytes = Uint8Array.from([...encodeMessages([vote]), 0, 0]);
    bytes[7] = VariantTag.voteTransfer;
    expectBadMessage(() => decodeBatch(bytes), /vote\.transferFrom must be a non-empty node id/);
  });
});
