import { RaftNode, realClock, resolveConfig, type RaftNodeOptions } from '@raftkit/core';
import type { KvCommandResult } from './results.js';
import { KvStateMachine, type KvStateMachineOptions } from './stateMachine.js';
import type { KvReplica } from './types.js';

export interface KvReplicaOptions extends Omit<RaftNodeOptions<KvCommandResult>, 'stateMachine'> {
  /** Options of the state machine; every replica of a cluster must use the same. */
  readonly kv?: KvStateMachineOptions;
}

/** A replica whose node is a RaftNode (so it can be started, stopped and observed). */
export interface KvRaftReplica extends KvReplica {
  readonly node: RaftNode<KvCommandResult>;
  readonly checkQuorum: boolean;
  readonly clock: NonNullable<KvReplica['clock']>;
}

/**
 * Creates a KvStateMachine and a RaftNode applying to it (restoring both from `storage`),
 * and records the node's resolved check-quorum setting, which lease reads need. The node is
 * not started: call `replica.node.start()`.
 */
export async function createKvReplica(options: KvReplicaOptions): Promise<KvRaftReplica> {
  const { kv, ...raft } = options;
  // The core's own resolution, so the default (and any validation) matches the node's.
  const { checkQuorum } = resolveConfig({ ...raft, random: raft.random ?? Math.random });
  const machine = new KvStateMachine(kv);
  const node = await RaftNode.create<KvCommandResult>({ ...raft, stateMachine: machine });
  return { node, machine, checkQuorum, clock: raft.clock ?? realClock };
}
