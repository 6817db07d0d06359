import { EntryType, MAX_TERM, MESSAGE_TYPES } from '@raftkit/core';
import type { AppendRequest, Entry, Message, MessageType, NodeId } from '@raftkit/core';
import { MiB, offsetView, patternBytes } from './bytes.js';
import { snapshotChunkResponseSamples, snapshotChunkSamples, snapshotSamples } from './snapshotSamples.js';

export { MESSAGE_TYPES, MiB, offsetView, patternBytes };
export { chunkBurst, largeChunk, sampleConfState, sha256Hex } from './snapshotSamples.js';

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
  snapshotChunk: snapshotChunkSamples,
  snapshotChunkResponse: snapshotChunkResponseSamples,
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
