import { EntryType, MAX_TERM, MESSAGE_TYPES } from '@raftkit/core';
import type { AppendRequest, ConfState, Entry, Message, MessageType, NodeId, SnapshotRequest } from '@raftkit/core';

export { MESSAGE_TYPES };

export const MiB = 1024 * 1024;

/**
 * Deterministic bytes that cycle through all 256 values, so a transport that mangles bytes
 * (text encoding, sign handling) is caught.
 */
export function patternBytes(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 151 + seed * 31 + (i >>> 8)) & 0xff;
  return bytes;
}

/** The same bytes as a view at a non-zero offset of a larger buffer, to catch `data.buffer` misuse. */
export function offsetView(bytes: Uint8Array, offset = 7): Uint8Array {
  const backing = new Uint8Array(bytes.length + offset * 2).fill(0xee);
  backing.set(bytes, offset);
  return backing.subarray(offset, offset + bytes.length);
}

/** `count` consecutive entries from `firstIndex`, each carrying `bytesEach` bytes of data. */
export function sampleEntries(firstIndex: number, count: number, bytesEach: number, term = 3): Entry[] {
  return Array.from({ length: count }, (_, i) => ({
    index: firstIndex + i,
    term,
    type: EntryType.Normal,
    data: patternBytes(bytesEach, firstIndex + i),
  }));
}

function appendSamples(from: NodeId, to: NodeId): AppendRequest[] {
  const base = { type: 'append', from, to } as const;
  const entries: Entry[] = [
    { index: 11, term: 4, type: EntryType.Normal, data: patternBytes(256, 1) },
    { index: 12, term: 5, type: EntryType.Noop, data: new Uint8Array(0) },
    { index: 13, term: 5, type: EntryType.Normal, data: offsetView(patternBytes(33, 2)) },
  ];
  // Indexes go up to 2^53 - 1; terms only up to core's MAX_TERM, which transports may enforce.
  const big = Number.MAX_SAFE_INTEGER - 10;
  return [
    { ...base, term: 5, prevIndex: 10, prevTerm: 4, entries, commit: 9 },
    { ...base, term: 5, prevIndex: 13, prevTerm: 5, entries: [], commit: 13 },
    { ...base, term: MAX_TERM, prevIndex: big - 1, prevTerm: MAX_TERM, commit: big - 1, entries: sampleEntries(big, 1, 3, MAX_TERM) },
  ];
}

/**
 * A joint configuration leaving (from, 'n-äöü', to) for (from, to, '10'), with a learner, a
 * learner-to-be and addresses: every field of a ConfState set. '10' and '2' are ids JavaScript
 * orders numerically in an object, so a transport relying on key order is caught.
 */
export function sampleConfState(from: NodeId, to: NodeId): ConfState {
  return {
    config: {
      voters: [from, to, '10'],
      votersOutgoing: [from, 'n-äöü', to],
      learners: ['2'],
      learnersNext: ['n-äöü'],
      autoLeave: true,
    },
    addresses: { [to]: 'http://127.0.0.1:7002/raft', '10': 'https://n10.example:7443', '2': 'http://[::1]:7004', 'n-äöü': 'http://ü.example' },
  };
}

function snapshotSamples(from: NodeId, to: NodeId): SnapshotRequest[] {
  const base = { type: 'snapshot', from, to, term: 7 } as const;
  const membership = sampleConfState(from, to);
  const single: ConfState = { config: { voters: [to], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false }, addresses: {} };
  return [
    { ...base, snapshot: { meta: { index: 100, term: 6, voters: [from, to, 'n-äöü'] }, data: patternBytes(4096, 3) } },
    { ...base, snapshot: { meta: { index: 1, term: 1, voters: [] }, data: new Uint8Array(0) } },
    { ...base, snapshot: { meta: { index: 120, term: 7, voters: [from, to, '10', 'n-äöü'], membership }, data: patternBytes(512, 4) } },
    { ...base, snapshot: { meta: { index: 2, term: 1, voters: [to], membership: single }, data: new Uint8Array(0) } },
  ];
}

const builders: { [T in MessageType]: (from: NodeId, to: NodeId) => Extract<Message, { type: T }>[] } = {
  vote: (from, to) => [
    { type: 'vote', from, to, term: 5, preVote: false, lastLogIndex: 42, lastLogTerm: 4 },
    { type: 'vote', from, to, term: 6, preVote: true, lastLogIndex: 0, lastLogTerm: 0 },
    // A leadership-transfer target's campaign names the leader that handed over.
    { type: 'vote', from, to, term: 7, preVote: false, lastLogIndex: 43, lastLogTerm: 5, transferFrom: 'n-äöü' },
  ],
  voteResponse: (from, to) => [
    { type: 'voteResponse', from, to, term: 5, preVote: false, granted: true },
    { type: 'voteResponse', from, to, term: 6, preVote: true, granted: false },
  ],
  append: appendSamples,
  appendResponse: (from, to) => [
    { type: 'appendResponse', from, to, term: 5, success: true, index: 13, conflictTerm: 0, conflictIndex: 0 },
    { type: 'appendResponse', from, to, term: 5, success: false, index: 10, conflictTerm: 3, conflictIndex: 7 },
  ],
  heartbeat: (from, to) => [
    { type: 'heartbeat', from, to, term: 5, commit: 12, context: 0 },
    { type: 'heartbeat', from, to, term: 5, commit: 13, context: 77 },
  ],
  heartbeatResponse: (from, to) => [{ type: 'heartbeatResponse', from, to, term: 5, context: 77 }],
  snapshot: snapshotSamples,
  readIndex: (from, to) => [
    { type: 'readIndex', from, to, term: 5, requestId: 'req-1' },
    { type: 'readIndex', from, to, term: 5, requestId: 'rï-🚀-"2"\n' },
  ],
  readIndexResponse: (from, to) => [
    { type: 'readIndexResponse', from, to, term: 5, requestId: 'req-1', index: 99 },
    { type: 'readIndexResponse', from, to, term: 5, requestId: 'rï-🚀-"2"\n', index: 0 },
  ],
  timeoutNow: (from, to) => [
    { type: 'timeoutNow', from, to, term: 5 },
    { type: 'timeoutNow', from, to, term: MAX_TERM },
  ],
};

/** Valid sample messages of one type, covering its variants (pre-vote, rejection, binary data...). */
export function samplesOfType<T extends MessageType>(type: T, from: NodeId, to: NodeId): Extract<Message, { type: T }>[] {
  return builders[type](from, to);
}

/** Valid sample messages of every type in the `Message` union. */
export function sampleMessages(from: NodeId, to: NodeId): Message[] {
  return MESSAGE_TYPES.flatMap((type) => samplesOfType(type, from, to));
}

/** An append request carrying `totalBytes` of entry data in entries of `entryBytes` each. */
export function largeAppend(from: NodeId, to: NodeId, totalBytes = 4 * MiB, entryBytes = 64 * 1024): AppendRequest {
  const count = Math.ceil(totalBytes / entryBytes);
  const entries = sampleEntries(1001, count, entryBytes);
  return { type: 'append', from, to, term: 3, prevIndex: 1000, prevTerm: 3, entries, commit: 1000 };
}

/** A snapshot request carrying `bytes` of state machine data. */
export function largeSnapshot(from: NodeId, to: NodeId, bytes = 4 * MiB): SnapshotRequest {
  const snapshot = { meta: { index: 5000, term: 3, voters: [from, to] }, data: patternBytes(bytes, 9) };
  return { type: 'snapshot', from, to, term: 3, snapshot };
}

/**
 * A small message of a type chosen by `seq`, carrying `seq` so the receiver can check order.
 * Cycles through several types so a transport that reorders across types is caught.
 */
export function sequencedMessage(from: NodeId, to: NodeId, seq: number): Message {
  const term = 1;
  switch (seq % 4) {
    case 0:
      return { type: 'heartbeat', from, to, term, commit: 0, context: seq };
    case 1:
      return { type: 'appendResponse', from, to, term, success: true, index: seq, conflictTerm: 0, conflictIndex: 0 };
    case 2:
      return { type: 'readIndex', from, to, term, requestId: String(seq) };
    default:
      return { type: 'append', from, to, term, prevIndex: seq, prevTerm: 1, entries: sampleEntries(seq + 1, 1, 16), commit: 0 };
  }
}

/** The `seq` a `sequencedMessage` carries. */
export function sequenceOf(message: Message): number {
  switch (message.type) {
    case 'heartbeat':
      return message.context;
    case 'appendResponse':
      return message.index;
    case 'readIndex':
      return Number(message.requestId);
    case 'append':
      return message.prevIndex;
    default:
      return Number.NaN;
  }
}
