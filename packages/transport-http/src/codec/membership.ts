import { ErrorCode, isRaftError, validateMembership } from '@raftkit/core';
import type { ConfState, MembershipConfig, NodeId } from '@raftkit/core';
import { checkNodeId } from './checks.js';
import { badMessage } from './errors.js';
import type { ByteReader } from './reader.js';
import type { ByteWriter } from './writer.js';

/**
 * A snapshot's membership (`SnapshotMeta.membership`) on the wire:
 *
 *   voters, votersOutgoing, learners, learnersNext (each u32 count of str) | autoLeave u8 |
 *   addresses: u32 count of (id str, address str), ids in ascending order
 *
 * The configuration must pass core's `validateMembership` on both sides, and address ids are
 * sorted so that the encoding stays canonical (an object's own key order is not: JavaScript
 * puts ids like "10" and "2" first, in numeric order).
 */
const FIELD = 'snapshot.meta.membership';
/** `field` below: the membership's path in error messages (a chunk's is `snapshotChunk.meta.membership`). */
const LISTS = ['voters', 'votersOutgoing', 'learners', 'learnersNext'] as const;

/** The core's verdict on a configuration, as the codec's one error, naming the field. */
function checkConfig(config: MembershipConfig, at: string): void {
  try {
    validateMembership(config);
  } catch (err) {
    if (isRaftError(err, ErrorCode.InvalidArgument)) throw badMessage(`${at}.config: ${err.message}`);
    throw err;
  }
}

function writeList(w: ByteWriter, list: unknown, field: string): void {
  if (!Array.isArray(list)) throw badMessage(`${field} must be an array`);
  w.u32(list.length);
  list.forEach((id, i) => w.str(id, `${field}[${i}]`));
}

function writeAddresses(w: ByteWriter, addresses: unknown, at: string): void {
  const field = `${at}.addresses`;
  if (addresses === null || typeof addresses !== 'object' || Array.isArray(addresses)) throw badMessage(`${field} must be an object`);
  const ids = Object.keys(addresses).sort();
  w.u32(ids.length);
  for (const id of ids) {
    checkNodeId(id, `${field} key`);
    w.str(id, `${field} key`);
    w.str((addresses as Record<string, unknown>)[id], `${field}[${JSON.stringify(id)}]`);
  }
}

export function writeConfState(w: ByteWriter, state: ConfState, at = FIELD): void {
  if (state === null || typeof state !== 'object') throw badMessage(`${at} must be an object`);
  const { config } = state;
  if (config === null || typeof config !== 'object') throw badMessage(`${at}.config must be an object`);
  for (const list of LISTS) writeList(w, config[list], `${at}.config.${list}`);
  w.bool(config.autoLeave, `${at}.config.autoLeave`);
  checkConfig(config, at);
  writeAddresses(w, state.addresses, at);
}

function readList(r: ByteReader, field: string): NodeId[] {
  const count = r.u32(`${field} count`);
  const ids: NodeId[] = [];
  // No preallocation from `count`: each id consumes bytes, so a lying count fails fast.
  for (let i = 0; i < count; i++) ids.push(r.str(`${field}[${i}]`));
  return ids;
}

function readAddresses(r: ByteReader, at: string): Record<NodeId, string> {
  const field = `${at}.addresses`;
  const count = r.u32(`${field} count`);
  const addresses: Record<NodeId, string> = {};
  let last: string | null = null;
  for (let i = 0; i < count; i++) {
    const id = r.str(`${field}[${i}] id`);
    checkNodeId(id, `${field}[${i}] id`);
    if (last !== null && id <= last) throw badMessage(`${field} ids must be unique and ascending: ${JSON.stringify(id)} after ${JSON.stringify(last)}`);
    last = id;
    // Defined, not assigned: an id "__proto__" must become a key, not the object's prototype.
    Object.defineProperty(addresses, id, { value: r.str(`${field}[${JSON.stringify(id)}]`), enumerable: true, writable: true, configurable: true });
  }
  return addresses;
}

export function readConfState(r: ByteReader, at = FIELD): ConfState {
  const [voters, votersOutgoing, learners, learnersNext] = LISTS.map((list) => readList(r, `${at}.config.${list}`));
  const autoLeave = r.bool(`${at}.config.autoLeave`);
  const config: MembershipConfig = { voters, votersOutgoing, learners, learnersNext, autoLeave };
  checkConfig(config, at);
  return { config, addresses: readAddresses(r, at) };
}

/** Upper bound of the bytes `writeConfState` needs (UTF-8 is at most 3 bytes per UTF-16 unit). */
export function confStateSizeHint(state: ConfState | undefined): number {
  if (state === null || typeof state !== 'object') return 0;
  const str = (s: unknown): number => 2 + 3 * (typeof s === 'string' ? s.length : 0);
  const list = (l: unknown): number => 4 + (Array.isArray(l) ? l.reduce((n: number, s) => n + str(s), 0) : 0);
  const lists = LISTS.reduce((n, k) => n + list(state.config?.[k]), 1);
  const addresses = Object.entries(state.addresses ?? {}).reduce((n, [id, url]) => n + str(id) + str(url), 4);
  return lists + addresses;
}
