import { ErrorCode, RaftNode, isRaftError, realClock, resolveConfig, type RaftNodeOptions } from '@raftkit/core';
import { encodeCommand } from './commands.js';
import { KvError, KvErrorCode } from './errors.js';
import { LeaseKeeper } from './leaseKeeper.js';
import type { KvCommandResult } from './results.js';
import { KvStateMachine, type KvStateMachineOptions } from './stateMachine.js';
import type { KvReplica } from './types.js';

export interface KvReplicaOptions extends Omit<RaftNodeOptions<KvCommandResult>, 'stateMachine'> {
  /** Options of the state machine; every replica of a cluster must use the same. */
  readonly kv?: KvStateMachineOptions;
  /** Least time between two lease expiry scans of the leader, and its retry pause. Default 100 ms. */
  readonly leaseCheckIntervalMs?: number;
}

/** A replica whose node is a RaftNode (so it can be started, stopped and observed). */
export interface KvRaftReplica extends KvReplica {
  readonly node: RaftNode<KvCommandResult>;
  readonly checkQuorum: boolean;
  readonly clock: NonNullable<KvReplica['clock']>;
  /** The lease deadlines, kept while this node leads (see `keepLeases`). */
  readonly leases: LeaseKeeper;
}

/**
 * Creates a KvStateMachine and a RaftNode applying to it (restoring both from `storage`),
 * records the node's resolved check-quorum setting, which lease reads need, and attaches a
 * LeaseKeeper (`keepLeases`). The node is not started: call `replica.node.start()`.
 */
export async function createKvReplica(options: KvReplicaOptions): Promise<KvRaftReplica> {
  const { kv, leaseCheckIntervalMs, ...raft } = options;
  // The core's own resolution, so the default (and any validation) matches the node's.
  const resolved = resolveConfig({ ...raft, random: raft.random ?? Math.random });
  const machine = new KvStateMachine(kv);
  const node = await RaftNode.create<KvCommandResult>({ ...raft, stateMachine: machine });
  const clock = raft.clock ?? realClock;
  const electionTimeoutMs = resolved.electionTicks * (raft.tickMs ?? 50);
  const leases = keepLeases(node, machine, { clock, electionTimeoutMs, ...(leaseCheckIntervalMs !== undefined && { checkIntervalMs: leaseCheckIntervalMs }) });
  return { node, machine, checkQuorum: resolved.checkQuorum, clock, leases };
}

/**
 * Runs lease expiry for `node`: a LeaseKeeper told of every grant and revoke `machine`
 * applies, started (from the applied table, read in the event handler itself) when the node
 * becomes leader and stopped when it steps down, fails or is stopped. Expired leases are
 * revoked by proposals `leaseRevoke { id, grantRevision, expired: true }` without a session;
 * naming the grant revision makes a repeated proposal harmless to a later grant of the same
 * id. For a node built by hand; `createKvReplica` calls it.
 */
export function keepLeases(
  node: RaftNode<KvCommandResult>,
  machine: KvStateMachine,
  options: { readonly clock: NonNullable<KvReplica['clock']>; readonly electionTimeoutMs: number; readonly checkIntervalMs?: number },
): LeaseKeeper {
  const keeper: LeaseKeeper = new LeaseKeeper({
    ...options,
    revoke: (ids) => revokeExpired(node, machine, ids),
    onRevokeError: (err) => {
      if (isRaftError(err, ErrorCode.Stopped)) keeper.steppedDown();
    },
  });
  machine.subscribeLeases(keeper);
  node.on('stateChange', (s) => {
    if (s.role !== 'leader') keeper.steppedDown();
    else if (!keeper.isLeader) keeper.becameLeader(machine.leaseList());
  });
  node.on('error', () => keeper.steppedDown());
  // RaftNode emits nothing when stopped: without this a leader's keeper would keep its timer.
  const stop = node.stop.bind(node);
  node.stop = (opts) => {
    keeper.steppedDown();
    return stop(opts);
  };
  return keeper;
}

/** Proposes the revoke of each lease still in the table; resolves once all applied. */
async function revokeExpired(node: RaftNode<KvCommandResult>, machine: KvStateMachine, ids: readonly number[]): Promise<void> {
  await Promise.all(
    ids.map(async (id) => {
      const lease = machine.lease(id);
      if (lease === undefined) return;
      const write = { op: 'leaseRevoke', id, grantRevision: lease.grantRevision, expired: true } as const;
      // Stamp 0: the keeper has no wall clock, and the log clock takes the largest stamp anyway.
      const result = await node.propose(encodeCommand({ type: 'write', stamp: 0, session: null, write }));
      if (result.type === 'error') throw new KvError(result.code, result.message);
      if (result.type !== 'leaseRevoke') throw new KvError(KvErrorCode.UnexpectedResult, `a lease revoke got a ${result.type} result`);
    }),
  );
}
