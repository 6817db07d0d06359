import type { Clock, NodeId } from '@raftkit/core';
import type { LeaseKeeper } from './leaseKeeper.js';
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
  /** Who this node believes leads (RaftNode has it); used for leader hints of lease calls. */
  status?(): { readonly leader: NodeId | null };
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
  /**
   * The node's lease deadlines (`createKvReplica` attaches one), which lease keep-alive and
   * time-to-live ask on the leader. Without it those calls fail on this replica.
   */
  readonly leases?: LeaseKeeper;
}

/** A write as a request, for the explicit-session path (`KvClient.proposeWrite`). */
export type KvWriteRequest =
  /** `lease`: the lease to attach the key to (0 or omitted: none; a put without one detaches it). */
  | { readonly op: 'put'; readonly key: string; readonly value: KvValue; readonly lease?: number }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expected: KvValue | null; readonly value: KvValue }
  | { readonly op: 'putMany'; readonly entries: readonly (readonly [string, KvValue])[] }
  | ({ readonly op: 'txn' } & TxnRequest);

/** A lease write as a request, for `KvClient.proposeWrite` (exactly once under a tag, like writes). */
export type KvLeaseRequest =
  /** `id`: 0 or omitted for the grant's revision. */
  | { readonly op: 'leaseGrant'; readonly ttlMs: number; readonly id?: number }
  | { readonly op: 'leaseRevoke'; readonly id: number };

/**
 * One condition of a transaction. An absent key has createRevision = modRevision = version
 * = 0; against a value it is unequal to everything ('==' false, '!=' true).
 */
export type TxnCompare =
  | { readonly key: string; readonly target: 'value'; readonly op: '==' | '!='; readonly value: KvValue }
  | { readonly key: string; readonly target: 'exists'; readonly exists: boolean }
  | {
      readonly key: string;
      readonly target: 'modRevision' | 'createRevision' | 'version';
      readonly op: '==' | '!=' | '<' | '>';
      readonly value: number;
    };

/** One operation of a transaction branch. */
export type TxnOp =
  /** `lease`: the lease to attach the key to (0 or omitted: none). */
  | { readonly op: 'put'; readonly key: string; readonly value: KvValue; readonly lease?: number }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'get'; readonly key: string }
  /** `limit`: default and maximum 1000. */
  | { readonly op: 'range'; readonly prefix: string; readonly limit?: number };

/**
 * An etcd-style transaction: if every compare holds, run `success`, else `failure`, all at
 * one revision. A key may be written at most once per branch.
 */
export interface TxnRequest {
  readonly compare: readonly TxnCompare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
}

/** What one op of the branch that ran returned, in op order. get/range see earlier ops' writes. */
export type TxnOpResult =
  | { readonly op: 'put' }
  | { readonly op: 'delete'; readonly deleted: boolean }
  | {
      readonly op: 'get';
      readonly value: KvValue | null;
      readonly modRevision: number | null;
      readonly createRevision: number | null;
      /** 0 when absent. */
      readonly version: number;
    }
  | { readonly op: 'range'; readonly entries: readonly KvEntry[]; readonly more: boolean };

export interface TxnResult {
  /** The log index the transaction applied at: the modRevision of every key it wrote. */
  readonly revision: number;
  /** Whether every compare held (so `success` ran). */
  readonly succeeded: boolean;
  readonly results: readonly TxnOpResult[];
}

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

/** Result type of each write or lease request. */
export interface KvWriteResults {
  put: PutResult;
  delete: DeleteResult;
  cas: CasResult;
  putMany: PutManyResult;
  txn: TxnResult;
  leaseGrant: LeaseGrantResult;
  leaseRevoke: LeaseRevokeResult;
}

export interface LeaseGrantResult {
  /** The revision of the grant (the lease's deadline starts when the leader applied it). */
  readonly revision: number;
  readonly id: number;
  readonly ttlMs: number;
}

export interface LeaseRevokeResult {
  readonly revision: number;
  /** False: there was no such lease (nothing changed). */
  readonly revoked: boolean;
  /** Keys deleted with it, at `revision`. */
  readonly deleted: number;
}

export interface LeaseKeepAliveResult {
  readonly id: number;
  /** The time the lease has left now: its full TTL. */
  readonly ttlMs: number;
}

export interface LeaseTimeToLive {
  readonly id: number;
  /** Time left by the leader's clock. */
  readonly ttlMs: number;
  /** The TTL it was granted with. */
  readonly grantedTtlMs: number;
  /** The attached keys in key order, when asked for. */
  readonly keys?: readonly string[];
}

export interface PutOptions extends WriteOptions {
  /** Attach the key to this lease (it must exist); 0 or omitted: none, detaching it. */
  readonly lease?: number;
}

export interface GrantLeaseOptions extends WriteOptions {
  /** The lease id; 0 or omitted: the grant's revision. */
  readonly id?: number;
}

export interface TimeToLiveOptions extends WriteOptions {
  /** Also list the attached keys. */
  readonly keys?: boolean;
}

export interface GetResult {
  /** The log index the read was served at: the state reflects every write up to it. */
  readonly revision: number;
  /** null: the key is absent. */
  readonly value: KvValue | null;
  /** Revision of the write that last set the key; null when absent. */
  readonly modRevision: number | null;
  /** Revision of the write that created the key (since it was last absent); null when absent. */
  readonly createRevision: number | null;
  /** Writes to the key since it was created (1 after the creating put); 0 when absent. */
  readonly version: number;
}

export interface KvEntry {
  readonly key: string;
  readonly value: KvValue;
  readonly modRevision: number;
  readonly createRevision: number;
  readonly version: number;
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
