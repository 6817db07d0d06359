import type { AppendRequest, Entry, Message, MessageType, VoteRequest } from '@raftkit/core';
import type { Base, BodyCodec } from './bodyCodec.js';
import { checkEntryChain, checkEntryType, checkNodeId, checkTermOrder } from './checks.js';
import { badMessage } from './errors.js';
import type { ByteReader } from './reader.js';
import { snapshotChunkCodec, snapshotChunkResponseCodec, snapshotCodec, snapshotSizeHint } from './snapshots.js';
import type { ByteWriter } from './writer.js';

/**
 * Wire tag of each message type. Never renumber: add new types with new tags. `snapshot` moved
 * to 13 when it lost its data (streamed snapshots): its old tags are retired, not reused.
 */
export const MessageTag = {
  vote: 1,
  voteResponse: 2,
  append: 3,
  appendResponse: 4,
  heartbeat: 5,
  heartbeatResponse: 6,
  readIndex: 8,
  readIndexResponse: 9,
  timeoutNow: 10,
  snapshot: 13,
  snapshotChunk: 14,
  snapshotChunkResponse: 15,
} as const satisfies Record<MessageType, number>;

/**
 * Tags of variants that carry an optional field added after the type's first release, so that
 * a message without it is encoded exactly as before and an older peer, which does not know
 * these tags, refuses only the messages it could not have decoded (see protocol.ts).
 */
export const VariantTag = {
  /** A vote with `transferFrom` (a leadership-transfer campaign). */
  voteTransfer: 11,
} as const;

/**
 * Tags of releases before streamed snapshots, never to be reused: a snapshot carrying its whole
 * data inline (7), and one with `meta.membership` (12). Decoding them is refused with
 * RAFT_BAD_MESSAGE: snapshots now travel as `snapshotChunk` messages.
 */
export const RetiredTag = {
  snapshotWithData: 7,
  snapshotWithDataAndMembership: 12,
} as const;

const typeOfTag = new Map<number, MessageType>(Object.entries(MessageTag).map(([type, tag]) => [tag, type as MessageType]));
const typeOfVariant = new Map<number, MessageType>([[VariantTag.voteTransfer, 'vote']]);
const retired: ReadonlySet<number> = new Set(Object.values(RetiredTag));

/**
 * True for the tags (a frame's first byte) of messages that travel alone in their request:
 * snapshot chunks, which may be far larger than anything else (1 MiB by default), so a request
 * carries at most one and a heartbeat queued behind it waits for one chunk, not a batch of them.
 */
export function travelsAlone(tag: number): boolean {
  return tag === MessageTag.snapshotChunk;
}

function writeEntries(w: ByteWriter, m: AppendRequest): void {
  if (!Array.isArray(m.entries)) throw badMessage('append.entries must be an array');
  w.u32(m.entries.length);
  let lastTerm = m.prevTerm;
  m.entries.forEach((e: Entry, i) => {
    if (e === null || typeof e !== 'object') throw badMessage(`entries[${i}] must be an object`);
    w.u64(e.index, `entries[${i}].index`);
    w.term(e.term, `entries[${i}].term`);
    checkEntryChain(m.prevIndex, e, i);
    checkTermOrder(lastTerm, e.term, i);
    lastTerm = e.term;
    checkEntryType(e.type, `entries[${i}]`);
    w.u8(e.type);
    w.bytes(e.data, `entries[${i}].data`);
  });
}

function readEntries(r: ByteReader, prevIndex: number, prevTerm: number): Entry[] {
  const count = r.u32('entries count');
  const entries: Entry[] = [];
  let lastTerm = prevTerm;
  for (let i = 0; i < count; i++) {
    const index = r.u64(`entries[${i}].index`);
    const entryTerm = r.term(`entries[${i}].term`);
    checkEntryChain(prevIndex, { index, term: entryTerm }, i);
    checkTermOrder(lastTerm, entryTerm, i);
    lastTerm = entryTerm;
    const type = r.u8(`entries[${i}].type`);
    checkEntryType(type, `entries[${i}]`);
    entries.push({ index, term: entryTerm, type, data: r.bytesField(`entries[${i}].data`) });
  }
  return entries;
}

function writeVote(w: ByteWriter, m: VoteRequest, variant: boolean): void {
  w.bool(m.preVote, 'vote.preVote');
  w.u64(m.lastLogIndex, 'vote.lastLogIndex');
  w.term(m.lastLogTerm, 'vote.lastLogTerm');
  if (!variant) return;
  w.str(m.transferFrom, 'vote.transferFrom');
  checkNodeId(m.transferFrom!, 'vote.transferFrom');
}

function readVote(r: ByteReader, base: Base, variant: boolean): VoteRequest {
  const preVote = r.bool('vote.preVote');
  const lastLogIndex = r.u64('vote.lastLogIndex');
  const lastLogTerm = r.term('vote.lastLogTerm');
  if (!variant) return { type: 'vote', ...base, preVote, lastLogIndex, lastLogTerm };
  const transferFrom = r.str('vote.transferFrom');
  checkNodeId(transferFrom, 'vote.transferFrom');
  return { type: 'vote', ...base, preVote, lastLogIndex, lastLogTerm, transferFrom };
}

const codecs: { [T in MessageType]: BodyCodec<T> } = {
  vote: { write: writeVote, read: readVote },
  voteResponse: {
    write: (w, m) => {
      w.bool(m.preVote, 'voteResponse.preVote');
      w.bool(m.granted, 'voteResponse.granted');
    },
    read: (r, base) => {
      const preVote = r.bool('voteResponse.preVote');
      return { type: 'voteResponse', ...base, preVote, granted: r.bool('voteResponse.granted') };
    },
  },
  append: {
    write: (w, m) => {
      w.u64(m.prevIndex, 'append.prevIndex');
      w.term(m.prevTerm, 'append.prevTerm');
      w.u64(m.commit, 'append.commit');
      writeEntries(w, m);
    },
    read: (r, base) => {
      const prevIndex = r.u64('append.prevIndex');
      const prevTerm = r.term('append.prevTerm');
      const commit = r.u64('append.commit');
      const entries = readEntries(r, prevIndex, prevTerm);
      return { type: 'append', ...base, prevIndex, prevTerm, entries, commit };
    },
  },
  appendResponse: {
    write: (w, m) => {
      w.bool(m.success, 'appendResponse.success');
      w.u64(m.index, 'appendResponse.index');
      w.term(m.conflictTerm, 'appendResponse.conflictTerm');
      w.u64(m.conflictIndex, 'appendResponse.conflictIndex');
    },
    read: (r, base) => {
      const success = r.bool('appendResponse.success');
      const index = r.u64('appendResponse.index');
      const conflictTerm = r.term('appendResponse.conflictTerm');
      const conflictIndex = r.u64('appendResponse.conflictIndex');
      return { type: 'appendResponse', ...base, success, index, conflictTerm, conflictIndex };
    },
  },
  heartbeat: {
    write: (w, m) => {
      w.u64(m.commit, 'heartbeat.commit');
      w.u64(m.context, 'heartbeat.context');
    },
    read: (r, base) => {
      const commit = r.u64('heartbeat.commit');
      return { type: 'heartbeat', ...base, commit, context: r.u64('heartbeat.context') };
    },
  },
  heartbeatResponse: {
    write: (w, m) => w.u64(m.context, 'heartbeatResponse.context'),
    read: (r, base) => ({ type: 'heartbeatResponse', ...base, context: r.u64('heartbeatResponse.context') }),
  },
  snapshot: snapshotCodec,
  snapshotChunk: snapshotChunkCodec,
  snapshotChunkResponse: snapshotChunkResponseCodec,
  readIndex: {
    write: (w, m) => w.str(m.requestId, 'readIndex.requestId'),
    read: (r, base) => ({ type: 'readIndex', ...base, requestId: r.str('readIndex.requestId') }),
  },
  readIndexResponse: {
    write: (w, m) => {
      w.str(m.requestId, 'readIndexResponse.requestId');
      w.u64(m.index, 'readIndexResponse.index');
    },
    read: (r, base) => {
      const requestId = r.str('readIndexResponse.requestId');
      return { type: 'readIndexResponse', ...base, requestId, index: r.u64('readIndexResponse.index') };
    },
  },
  timeoutNow: {
    write: () => {},
    read: (_r, base) => ({ type: 'timeoutNow', ...base }),
  },
};

/** The variant tag a message needs, or null: only when its optional field is present. */
function variantTag(m: Message): number | null {
  if (m.type === 'vote' && m.transferFrom !== undefined) return VariantTag.voteTransfer;
  return null;
}

/** Bytes a message's data needs, so the writer is sized once even for 4 MiB appends. */
export function sizeHint(m: Message): number {
  if (m.type === 'append' && Array.isArray(m.entries)) {
    return m.entries.reduce((n, e) => n + 32 + (e?.data?.byteLength ?? 0), 64);
  }
  if (m.type === 'snapshot' || m.type === 'snapshotChunk') return snapshotSizeHint(m);
  return 64 + (m.type === 'vote' && typeof m.transferFrom === 'string' ? 2 + 3 * m.transferFrom.length : 0);
}

/** Writes one message: tag, from, to, term, then its type's fields. Throws RAFT_BAD_MESSAGE. */
export function writeMessage(w: ByteWriter, m: Message): void {
  if (m === null || typeof m !== 'object') throw badMessage('a message must be an object');
  if (!Object.hasOwn(MessageTag, m.type)) throw badMessage(`unknown message type ${String(m.type)}`);
  const variant = variantTag(m);
  w.u8(variant ?? MessageTag[m.type]);
  w.str(m.from, 'from');
  checkNodeId(m.from, 'from');
  w.str(m.to, 'to');
  checkNodeId(m.to, 'to');
  w.term(m.term, 'term');
  (codecs[m.type] as BodyCodec<MessageType>).write(w, m, variant !== null);
}

/** Reads one message written by `writeMessage`. Throws RAFT_BAD_MESSAGE. */
export function readMessage(r: ByteReader): Message {
  const at = r.offset;
  const tag = r.u8('message type');
  const variant = typeOfVariant.get(tag);
  const type = typeOfTag.get(tag) ?? variant;
  if (retired.has(tag)) {
    throw badMessage(`message type tag ${tag} at offset ${at} is a snapshot carrying its data, from a release before streamed snapshots; snapshots now travel as snapshotChunk messages`);
  }
  if (type === undefined) throw badMessage(`unknown message type tag ${tag} at offset ${at}`);
  const from = r.str('from');
  checkNodeId(from, 'from');
  const to = r.str('to');
  checkNodeId(to, 'to');
  const term = r.term('term');
  return codecs[type].read(r, { from, to, term }, variant !== undefined);
}
