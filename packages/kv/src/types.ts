import type { Clock, NodeId } from '@raftkit/core';
import type { KvStateMachine } from './stateMachine.js';
import type { Consistency } from './validate.js';
import type { KvValue } from './values.js';

/**
 * What KvClient needs of a node; `RaftNode` satisfies it. Narrow on purpose: tests and
 * servers can wrap or fake a node.
 */
export interface KvNode {
  readonly id: NodeId;
  propose(command: Uint8Array, opts?: { timeoutMs?: number }): Promise<unknown>;
  readIndex(opts?: { timeoutMs?: number; lease?: boolean }): Promise<number>;
}

/** A node and the kv state machine it applies to. `createKvReplica` builds one. */
export interface KvReplica {
  readonly node: KvNode;
  readonly machine: KvStateMachine;
  /**
   * Whether the node runs with check-quorum, which lease reads need (thesis §6.4.1). RaftNode
   * does not report its configuration, so this is declared here; omitted means false.
   */
  readonly checkQuorum?: boolean;
  /** The node's clock; KvClient uses it for deadlines unless given its own. */
  readonly clock?: Clock;
}

/** A write as a request, for the explicit-session path (`KvClient.proposeWrite`). */
export type KvWriteRequest =
  | { readonly op: 'put'; readonly key: string; readonly value: KvValue }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expected: KvValue | null; readonly value: KvValue }
  | { readonly op: 'putMany'; readonly entries: readonly (readonly [string, KvValue])[] };

export interface PutResult {
  /** Log index at which the put applied: the key's new modRevision. */
  readonly revision: number;
}

export interface DeleteResult {
  readonly revision: number;
  /** Whether the key existed. */
  readonly deleted: boolean;
}

export interface CasResult {
  readonly revision: number;
  /** Whether the key held `expected` and now holds the new value. */
  readonly ok: boolean;
  /** Only when `ok` is false: what the key held instead (null: absent). */
  readonly current?: KvValue | null;
}

export interface PutManyResult {
  /** Every key of the batch has this modRevision. */
  readonly revision: number;
  readonly count: number;
}

/** Result type of each write request. */
export interface KvWriteResults {
  put: PutResult;
  delete: DeleteResult;
  cas: CasResult;
  putMany: PutManyResult;
}

export interface GetResult {
  /** The log index the read was served at: the state reflects every write up to it. */
  readonly revision: number;
  /** null: the key is absent. */
  readonly value: KvValue | null;
  /** Revision of the write that last set the key; null when absent. */
  readonly modRevision: number | null;
}

export interface KvEntry {
  readonly key: string;
  readonly value: KvValue;
  readonly modRevision: number;
}

export interface RangeResult {
  readonly revision: number;
  /** In key order (JavaScript string order). */
  readonly entries: readonly KvEntry[];
  /** More keys with the prefix exist past the limit. */
  readonly more: boolean;
}

export interface WriteOptions {
  /** Deadline of the call, retries included. Default: the client's `timeoutMs`. */
  readonly timeoutMs?: number;
  /**
   * Stops the call: it rejects with the signal's reason, retries end, and a pause between
   * retries is cut short. Like a timeout it stops the waiting, not a write already proposed,
   * which may still apply (once: a retry under the same session would be deduplicated). An
   * already-aborted signal rejects at once and sends nothing.
   */
  readonly signal?: AbortSignal;
}

export interface ReadOptions extends WriteOptions {
  /** Default: the client's `consistency` (itself 'linearizable' by default). */
  readonly consistency?: Consistency;
}

export interface RangeOptions extends ReadOptions {
  /** Most entries returned. Default 1000. */
  readonly limit?: number;
}
