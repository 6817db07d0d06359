import type { KvInput, KvOutput, NormalizedOperation } from '@raftkit/lincheck';

/** Times are ms since the run started (one performance.now() clock for every client). */
export type KvOp = NormalizedOperation<KvInput, KvOutput>;

/** What the history does not say about an operation: for the report's tooltips. */
export interface OpInfo {
  /** The node that answered, when one did. */
  readonly node?: string;
  readonly attempts: number;
  /** Why it failed or is unknown. */
  readonly note?: string;
  /** When the client gave up on an unknown operation (its history return is +∞). */
  readonly gaveUpAt?: number;
}

export type FaultKind =
  | 'kill' | 'kill-leader' | 'kill-all' | 'pause' | 'pause-leader' | 'partition' | 'isolate-leader' | 'drop'
  | 'pause-leader-lease' | 'wal-damage' | 'fd-limit'
  | 'transfer-leader' | 'rolling-restart' | 'replace-node' | 'grow-shrink';

export const FAULT_KINDS: readonly FaultKind[] = [
  'kill', 'kill-leader', 'kill-all', 'pause', 'pause-leader', 'partition', 'isolate-leader', 'drop',
  'pause-leader-lease', 'wal-damage', 'fd-limit',
  'transfer-leader', 'rolling-restart', 'replace-node', 'grow-shrink',
];

/** The membership faults (issue 10): they change the set of nodes while the clients run. */
export const MEMBERSHIP_FAULTS: readonly FaultKind[] = ['transfer-leader', 'rolling-restart', 'replace-node', 'grow-shrink'];

/** A fault as it happened. */
export interface FaultWindow {
  readonly kind: FaultKind;
  /** e.g. `kill n2 (leader)`, `partition {n1} | {n2,n3}`. */
  readonly label: string;
  readonly start: number;
  /** When it was healed; the run's end if it never was. */
  readonly end: number;
}

/** A stretch of time during which the status poller saw one leader in one term. */
export interface LeaderSpan {
  readonly node: string;
  readonly term: number;
  readonly start: number;
  readonly end: number;
}

/** A stretch of time during which a node did not answer /v1/status (dead, starting, paused). */
export interface NodeSilence {
  readonly node: string;
  readonly start: number;
  readonly end: number;
}

/** An acknowledged write whose value is gone with nothing that could have overwritten it. */
export interface LostWrite {
  readonly op: KvOp;
  readonly key: string;
  readonly value: string;
  /** The final linearizable read of the key; null if absent. */
  readonly finalValue: string | null;
}
