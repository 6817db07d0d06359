import { NotLeaderError, RaftError, ErrorCode } from '@raftkit/core';
import { KvStateMachine, type KvNode, type KvReplica, type KvStateMachineOptions } from '../../src/index.js';

/**
 * A one-node "cluster" for client unit tests: propose applies at once, readIndex answers the
 * applied index. `fail` makes the next calls reject, to exercise retries and redirects.
 */
export class FakeNode implements KvNode {
  readonly machine: KvStateMachine;
  readonly proposals: Uint8Array[] = [];
  readonly reads: { timeoutMs?: number; lease?: boolean }[] = [];
  /** Errors the next proposals reject with, in order (applying first if `applyThenFail`). */
  failures: { error: RaftError; applyFirst?: boolean }[] = [];
  /** Calls that never answer by themselves (only an abort of the signal they were given ends them). */
  hang = false;
  /** The options of every call, as the client passed them. */
  readonly calls: { timeoutMs?: number; lease?: boolean; signal?: AbortSignal }[] = [];
  private index = 0;

  constructor(
    readonly id = 'solo',
    options?: KvStateMachineOptions,
  ) {
    this.machine = new KvStateMachine(options);
  }

  async propose(command: Uint8Array, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<unknown> {
    this.calls.push(opts);
    if (this.hang) return this.hung(opts.signal);
    this.proposals.push(command);
    const failure = this.failures.shift();
    if (failure && !failure.applyFirst) throw failure.error;
    const result = this.machine.apply({ index: ++this.index, term: 1, data: command });
    if (failure) throw failure.error;
    return result;
  }

  async readIndex(opts: { timeoutMs?: number; lease?: boolean; signal?: AbortSignal } = {}): Promise<number> {
    this.calls.push(opts);
    if (this.hang) return this.hung(opts.signal);
    this.reads.push({ timeoutMs: opts.timeoutMs, lease: opts.lease });
    return this.index;
  }

  private hung(signal: AbortSignal | undefined): Promise<never> {
    return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
  }

  replica(checkQuorum = false): KvReplica {
    return { node: this, machine: this.machine, checkQuorum };
  }
}

export const timeout = (): RaftError => new RaftError(ErrorCode.Timeout, 'timed out');
export const dropped = (): RaftError => new RaftError(ErrorCode.ProposalDropped, 'dropped');
export const notLeader = (hint: string | null): NotLeaderError => new NotLeaderError(hint);
