import type { KvValue } from './values.js';

export type Consistency = 'linearizable' | 'lease' | 'stale';

export interface CallOptions {
  /** Aborts the call (CLIENT_ABORTED). */
  readonly signal?: AbortSignal;
  /** Deadline of the whole call, retries included; default the client's `timeoutMs`. */
  readonly timeoutMs?: number;
}

export interface ReadOptions extends CallOptions {
  readonly consistency?: Consistency;
}

export interface PutOptions extends CallOptions {
  /** Attach the key to this lease (deleted when it expires or is revoked). */
  readonly lease?: number;
}

export interface GetResult {
  readonly key: string;
  /** null when the key does not exist. */
  readonly value: KvValue | null;
  /** The index the read was served at. */
  readonly revision: number;
  /** The revision of the write that set this value; null when absent. */
  readonly modRevision: number | null;
  readonly createRevision?: number;
  readonly version?: number;
  readonly lease?: number;
}

export interface KvEntry {
  readonly key: string;
  readonly value: KvValue;
  readonly modRevision: number;
  readonly createRevision?: number;
  readonly version?: number;
  readonly lease?: number;
}

export interface RangeResult {
  readonly revision: number;
  readonly entries: KvEntry[];
  /** More keys with the prefix exist past `limit`. */
  readonly more: boolean;
}

export interface PutResult {
  readonly revision: number;
}
export interface DeleteResult {
  readonly revision: number;
  readonly deleted: boolean;
}
export interface CasResult {
  readonly revision: number;
  readonly ok: boolean;
  /** When `ok` is false: the value found (null: absent). */
  readonly current?: KvValue | null;
}

export type TxnCompare =
  | { key: string; target: 'value'; op: '==' | '!='; value: KvValue }
  | { key: string; target: 'exists'; exists: boolean }
  | { key: string; target: 'modRevision' | 'createRevision' | 'version'; op: '==' | '!=' | '<' | '>'; value: number };
export type TxnOp =
  | { op: 'put'; key: string; value: KvValue; lease?: number }
  | { op: 'delete'; key: string }
  | { op: 'get'; key: string }
  | { op: 'range'; prefix: string; limit?: number };
export interface TxnRequest {
  compare: TxnCompare[];
  success: TxnOp[];
  failure: TxnOp[];
}
export type TxnOpResult =
  | { op: 'put' }
  | { op: 'delete'; deleted: boolean }
  | { op: 'get'; value: KvValue | null; modRevision: number | null; createRevision: number | null; version: number }
  | { op: 'range'; entries: KvEntry[]; more: boolean };
export interface TxnResult {
  revision: number;
  succeeded: boolean;
  results: TxnOpResult[];
}

export interface LeaseGrant {
  readonly revision: number;
  readonly id: number;
  readonly ttlMs: number;
}
export interface LeaseKeepAlive {
  readonly id: number;
  /** Remaining time to live after this keep-alive. */
  readonly ttlMs: number;
}
export interface LeaseRevoke {
  readonly revision: number;
  readonly revoked: boolean;
  /** Keys deleted with it. */
  readonly deleted: number;
}
export interface LeaseInfo {
  readonly id: number;
  readonly ttlMs: number;
  readonly grantedTtlMs: number;
  readonly keys?: string[];
}

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  readonly revision: number;
  readonly value?: KvValue;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly lease: number;
  readonly prevValue?: KvValue;
}

export interface NodeStatus {
  readonly id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
  readonly leaderUrl: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly running: boolean;
  readonly peers: Record<string, { url: string; match: number | null; lag: number | null; backoffMs: number }>;
}

export interface Member {
  readonly id: string;
  readonly url: string | null;
  readonly role: 'voter' | 'learner';
  readonly outgoing: boolean;
  readonly self: boolean;
}
export interface Membership {
  readonly leader: string | null;
  readonly index: number;
  readonly committed: boolean;
  readonly joint: boolean;
  readonly members: Member[];
}

/** One endpoint's answer to a probe (`endpoint status` / `endpoint health`). */
export type EndpointReport<T> =
  | { readonly endpoint: string; readonly ok: true; readonly tookMs: number; readonly result: T }
  | { readonly endpoint: string; readonly ok: false; readonly tookMs: number; readonly error: { code: string; message: string } };
