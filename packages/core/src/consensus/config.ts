import { ErrorCode, RaftError } from '../errors.js';
import type { NodeId } from './types.js';

/** Configuration of one Raft node. Time is in ticks; the runtime maps ticks to milliseconds. */
export interface RaftConfig {
  /** This node's id; must be one of `voters` if `voters` is not empty. */
  readonly id: NodeId;
  /**
   * The bootstrap configuration of a brand-new cluster: every voter, this node included.
   * Used only until the log or a snapshot holds a configuration (the first leader writes it
   * into the log); a node that restarts takes its membership from its log. Empty for a node
   * that joins an existing cluster: it waits, never campaigning, until a leader adds it.
   */
  readonly voters: readonly NodeId[];
  /**
   * Addresses of the bootstrap voters (opaque to the core), written into the log with the
   * bootstrap configuration so that every member's address is in the log from entry 1.
   * Default none.
   */
  readonly bootstrapAddresses?: Readonly<Record<NodeId, string>>;
  /**
   * Base election timeout. A follower that hears no leader for a random timeout in
   * [electionTicks, 2 * electionTicks) starts an election (Raft §5.2). Default 10.
   */
  readonly electionTicks?: number;
  /** A leader sends heartbeats every `heartbeatTicks`. Must be < electionTicks. Default 1. */
  readonly heartbeatTicks?: number;
  /** Source of randomness in [0, 1), used only for election timeouts. */
  readonly random: () => number;
  /** Pre-vote (thesis §9.6): probe for a majority before disrupting the cluster. Default true. */
  readonly preVote?: boolean;
  /**
   * Check-quorum: a leader that has not heard from a majority within an election timeout
   * steps down, and followers ignore vote requests while they hear from a leader. Default true.
   */
  readonly checkQuorum?: boolean;
  /** AppendEntries in flight per follower in replicate state. Default 256. */
  readonly maxInflight?: number;
  /** Entry data bytes per AppendEntries (at least one entry is always sent). Default 1 MiB. */
  readonly maxBytesPerMessage?: number;
  /**
   * Lease reads (thesis §6.4.1) end this many ticks before the lease would expire, to allow
   * for clocks running at different rates on different nodes. Default electionTicks / 5,
   * at least 1. Must be < electionTicks.
   */
  readonly leaseDriftTicks?: number;
  /**
   * TEST ONLY. Plants a known safety bug so a test harness can prove it detects it. Never set
   * this outside such a test: each flag breaks Raft.
   */
  readonly testingBugs?: TestingBugs;
  /** Committed entries handed out in one Ready. Default 1024. */
  readonly maxApplyBatch?: number;
  /**
   * Pipelined persistence (etcd's AsyncStorageWrites; thesis §10.2.1). With it, a Ready's
   * `messagesBeforePersist` (a leader's replication) may leave before its write is durable,
   * `advance()` no longer means "durable", and the runtime reports each write's completion
   * with `RawNode.persisted(ready)`, in Ready order; the next Ready may be taken while writes
   * are in flight. Without it (the default), every message waits for its Ready's write and
   * `advance()` marks the Ready durable.
   */
  readonly asyncStorageWrites?: boolean;
}

/** Known bugs a harness can plant (see `RaftConfig.testingBugs`). */
export interface TestingBugs {
  /** Commit an entry of an earlier term by counting replicas (the Figure 8 bug, Raft §5.4.2). */
  readonly commitPreviousTerm?: boolean;
  /** Grant a vote to every candidate that asks, even twice in one term (Raft §5.2). */
  readonly doubleVote?: boolean;
  /**
   * Let a leader propose a membership change while an earlier one is uncommitted, or before
   * it has committed an entry of its own term (the bug in Ongaro's raft-dev note of 2015:
   * overlapping single-server changes can lose a committed entry).
   */
  readonly overlappingConfChanges?: boolean;
  /** RaftNode only: send a Ready's messages before its entries and vote are durable. */
  readonly sendBeforePersist?: boolean;
  /**
   * With `asyncStorageWrites`: the leader counts its own new entries toward the commit quorum
   * as soon as it appends them, before they are durable (thesis §10.2.1 forbids it).
   */
  readonly countSelfBeforeDurable?: boolean;
  /**
   * RaftNode only: count one tick per timer callback, as before issue 9, instead of catching up
   * by the clock: a leader resumed after a pause serves lease reads from an expired lease.
   */
  readonly tickByCallbacks?: boolean;
}

export type ResolvedConfig = Required<RaftConfig>;

const defaults = {
  testingBugs: {} as TestingBugs,
  bootstrapAddresses: {} as Readonly<Record<NodeId, string>>,
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxInflight: 256,
  maxBytesPerMessage: 1024 * 1024,
  maxApplyBatch: 1024,
  asyncStorageWrites: false,
};

function fail(message: string): never {
  throw new RaftError(ErrorCode.InvalidConfig, `invalid raft config: ${message}`);
}

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) fail(`${name} must be a positive integer, got ${v}`);
}

/** Fills defaults and validates; throws RAFT_INVALID_CONFIG on any bad value. */
export function resolveConfig(config: RaftConfig): ResolvedConfig {
  if (config === null || typeof config !== 'object') fail('config must be an object');
  const merged = { ...defaults, ...stripUndefined(config) };
  const c = { leaseDriftTicks: Math.max(1, Math.floor(merged.electionTicks / 5)), ...merged } as ResolvedConfig;
  if (typeof c.id !== 'string' || c.id === '') fail('id must be a non-empty string');
  if (!Array.isArray(c.voters)) fail('voters must be a list of node ids (empty for a node that joins a cluster)');
  for (const v of c.voters) if (typeof v !== 'string' || v === '') fail(`voter id ${String(v)} is not a non-empty string`);
  if (new Set(c.voters).size !== c.voters.length) fail(`voters has duplicates: ${c.voters.join(',')}`);
  if (c.voters.length > 0 && !c.voters.includes(c.id)) fail(`id ${c.id} is not one of the voters (${c.voters.join(',')})`);
  positiveInt('electionTicks', c.electionTicks);
  positiveInt('heartbeatTicks', c.heartbeatTicks);
  if (c.electionTicks <= c.heartbeatTicks) {
    fail(`electionTicks (${c.electionTicks}) must be greater than heartbeatTicks (${c.heartbeatTicks})`);
  }
  positiveInt('leaseDriftTicks', c.leaseDriftTicks);
  if (c.leaseDriftTicks >= c.electionTicks) fail(`leaseDriftTicks (${c.leaseDriftTicks}) must be less than electionTicks`);
  positiveInt('maxInflight', c.maxInflight);
  positiveInt('maxBytesPerMessage', c.maxBytesPerMessage);
  positiveInt('maxApplyBatch', c.maxApplyBatch);
  if (typeof c.bootstrapAddresses !== 'object' || c.bootstrapAddresses === null) fail('bootstrapAddresses must be an object of id -> address');
  for (const [id, url] of Object.entries(c.bootstrapAddresses)) {
    if (typeof url !== 'string' || url === '') fail(`the bootstrap address of ${id} must be a non-empty string`);
  }
  if (typeof c.random !== 'function') fail('random must be a function returning a number in [0, 1)');
  if (typeof c.preVote !== 'boolean') fail('preVote must be a boolean');
  if (typeof c.checkQuorum !== 'boolean') fail('checkQuorum must be a boolean');
  if (typeof c.asyncStorageWrites !== 'boolean') fail('asyncStorageWrites must be a boolean');
  return { ...c, voters: [...c.voters] };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A small seeded PRNG (mulberry32) for deterministic tests and simulations. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
