import { ErrorCode, RaftError } from '../../errors.js';
import type { ConfState, NodeId } from '../types.js';
import { type MembershipConfig, bootstrapConfig, validate } from './config.js';

/**
 * The payload of an `EntryType.ConfChange` entry: the whole configuration it moves to (not a
 * delta, so a node can read its membership from the last such entry alone, as openraft
 * does) and the members' addresses. JSON in UTF-8, versioned.
 */
interface Encoded {
  readonly v: 1;
  readonly config: MembershipConfig;
  readonly addresses: Record<NodeId, string>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeConfEntry(state: ConfState): Uint8Array {
  const c = state.config;
  const body: Encoded = {
    v: 1,
    config: {
      voters: c.voters,
      votersOutgoing: c.votersOutgoing,
      learners: c.learners,
      learnersNext: c.learnersNext,
      autoLeave: c.autoLeave,
    },
    addresses: { ...state.addresses },
  };
  return encoder.encode(JSON.stringify(body));
}

const corrupt = (why: string): RaftError =>
  new RaftError(ErrorCode.StorageCorrupt, `configuration entry cannot be decoded: ${why}`);

/** Decodes and validates; throws RAFT_STORAGE_CORRUPT naming what is wrong. */
export function decodeConfEntry(data: Uint8Array): ConfState {
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(data));
  } catch (err) {
    throw corrupt(`not UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof body !== 'object' || body === null) throw corrupt('not an object');
  const b = body as Partial<Encoded>;
  if (b.v !== 1) throw corrupt(`unknown version ${JSON.stringify(b.v)}`);
  const c = b.config as Partial<MembershipConfig> | undefined;
  if (typeof c !== 'object' || c === null) throw corrupt('no config');
  const lists = ['voters', 'votersOutgoing', 'learners', 'learnersNext'] as const;
  for (const k of lists) if (!Array.isArray(c[k])) throw corrupt(`config.${k} is not a list`);
  if (typeof c.autoLeave !== 'boolean') throw corrupt('config.autoLeave is not a boolean');
  const config = freezeConfig(c as MembershipConfig);
  try {
    validate(config);
  } catch (err) {
    throw corrupt((err as Error).message);
  }
  return Object.freeze({ config, addresses: checkAddresses(b.addresses) });
}

function checkAddresses(a: unknown): Readonly<Record<NodeId, string>> {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) throw corrupt('addresses is not an object');
  const out: Record<NodeId, string> = {};
  for (const [id, url] of Object.entries(a)) {
    if (typeof url !== 'string') throw corrupt(`address of ${id} is not a string`);
    setOwn(out, id, url);
  }
  return Object.freeze(out);
}

function freezeConfig(c: MembershipConfig): MembershipConfig {
  return Object.freeze({
    voters: Object.freeze([...c.voters]),
    votersOutgoing: Object.freeze([...c.votersOutgoing]),
    learners: Object.freeze([...c.learners]),
    learnersNext: Object.freeze([...c.learnersNext]),
    autoLeave: c.autoLeave,
  });
}

/** The membership of a snapshot: its own, or (written before membership existed) its voters. */
export function snapshotConfState(meta: { voters: readonly NodeId[]; membership?: ConfState }): ConfState {
  if (meta.membership) return meta.membership;
  return Object.freeze({ config: bootstrapConfig(meta.voters), addresses: Object.freeze({}) });
}

/** Keeps only the addresses of members of `config`. */
export function pruneAddresses(config: MembershipConfig, addresses: Readonly<Record<NodeId, string>>): Record<NodeId, string> {
  const members = new Set([...config.voters, ...config.votersOutgoing, ...config.learners, ...config.learnersNext]);
  const out: Record<NodeId, string> = {};
  for (const [id, url] of Object.entries(addresses)) if (members.has(id)) setOwn(out, id, url);
  return out;
}

/** `o[id] = v`, also for an id like `__proto__` (which plain assignment would not store). */
function setOwn(o: Record<NodeId, string>, id: NodeId, v: string): void {
  Object.defineProperty(o, id, { value: v, enumerable: true, writable: true, configurable: true });
}
