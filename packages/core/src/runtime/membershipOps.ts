import type { ConfChange, MemberChange } from '../consensus/membership/config.js';
import type { MembershipStatus } from '../consensus/rawNode.js';
import type { NodeId, SoftState } from '../consensus/types.js';
import { ErrorCode, RaftError } from '../errors.js';
import type { Clock } from './clock.js';

/** A membership change as the runtime takes it: the changes, and new members' addresses. */
export interface MembershipChangeSpec extends ConfChange {
  /** Address of each new member (the transport uses it to reach the node). */
  readonly addresses?: Readonly<Record<NodeId, string>>;
}

export interface MembershipOpOptions {
  /** Deadline for the whole operation. Default: the node's `membershipTimeoutMs` (30 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** What membership operations need of their RaftNode. */
export interface ConfHost {
  readonly id: NodeId;
  readonly clock: Clock;
  readonly maxLearnerLag: number;
  readonly defaultTimeoutMs: number;
  readonly electionMs: number;
  /** Proposes the change; resolves once its entry is applied here. */
  proposeConf(cc: ConfChange, addresses: Readonly<Record<NodeId, string>>, timeoutMs: number): Promise<void>;
  membership(): MembershipStatus;
  softState(): SoftState;
  /** Leader only: match index per member and the leader's last index. */
  progress(): { lastIndex: number; match: Readonly<Record<NodeId, number>> } | null;
  transferee(): NodeId | null;
  startTransfer(to: NodeId | undefined): NodeId;
  /** Calls `check` after every event that may change the answer; resolves when it returns true. */
  until(check: () => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void>;
}

const isMember = (m: MembershipStatus, id: NodeId): { voter: boolean; learner: boolean } => ({
  voter: m.config.voters.includes(id) || m.config.votersOutgoing.includes(id),
  learner: m.config.learners.includes(id) || m.config.learnersNext.includes(id),
});

/**
 * Membership operations of a RaftNode, each resolving once the change is committed (joint
 * changes with auto-leave: once the joint configuration has been left) or, for a transfer,
 * once the target leads.
 */
export class MembershipOps {
  constructor(private readonly host: ConfHost) {}

  async change(spec: MembershipChangeSpec, opts: MembershipOpOptions = {}): Promise<MembershipStatus> {
    const timeoutMs = opts.timeoutMs ?? this.host.defaultTimeoutMs;
    const deadline = this.host.clock.now() + timeoutMs;
    await this.host.proposeConf({ changes: spec.changes, transition: spec.transition ?? 'auto' }, spec.addresses ?? {}, timeoutMs);
    const m = this.host.membership();
    if (m.config.autoLeave) {
      // Joint with auto-leave: done once the leader has left C_old,new and that is committed.
      await this.host.until(
        () => {
          const now = this.host.membership();
          return now.committed && now.config.votersOutgoing.length === 0;
        },
        Math.max(0, deadline - this.host.clock.now()),
        'leaving the joint configuration',
        opts.signal,
      );
    }
    return this.host.membership();
  }

  addLearner(id: NodeId, address?: string, opts?: MembershipOpOptions): Promise<MembershipStatus> {
    return this.change(this.spec([{ type: 'addLearner', node: id }], id, address), opts);
  }

  promote(id: NodeId, opts?: MembershipOpOptions): Promise<MembershipStatus> {
    return this.change({ changes: [{ type: 'addVoter', node: id }] }, opts);
  }

  remove(id: NodeId, opts?: MembershipOpOptions): Promise<MembershipStatus> {
    return this.change({ changes: [{ type: 'removeNode', node: id }] }, opts);
  }

  /**
   * Adds a voter the safe way: as a learner first (unless it is one), waits until it holds
   * the log up to `maxLearnerLag` entries of the leader's, then promotes it.
   */
  async addVoter(id: NodeId, address?: string, opts: MembershipOpOptions = {}): Promise<MembershipStatus> {
    const timeoutMs = opts.timeoutMs ?? this.host.defaultTimeoutMs;
    const deadline = this.host.clock.now() + timeoutMs;
    const left = (): number => Math.max(0, deadline - this.host.clock.now());
    const role = isMember(this.host.membership(), id);
    if (role.voter) throw new RaftError(ErrorCode.InvalidArgument, `node ${id} is already a voter`);
    if (!role.learner) await this.addLearner(id, address, { timeoutMs: left(), ...(opts.signal ? { signal: opts.signal } : {}) });
    await this.host.until(
      () => {
        const p = this.host.progress();
        if (p === null) throw new RaftError(ErrorCode.NotLeader, `node ${this.host.id} lost leadership while ${id} caught up`);
        return p.lastIndex - (p.match[id] ?? 0) <= this.host.maxLearnerLag;
      },
      left(),
      `learner ${id} catching up`,
      opts.signal,
    );
    return this.promote(id, { timeoutMs: left(), ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  /** Hands leadership to `to` (default: the most up-to-date voter); resolves once it leads. */
  async transfer(to?: NodeId, opts: MembershipOpOptions = {}): Promise<NodeId> {
    const startTerm = this.host.softState().term;
    const target = this.host.startTransfer(to);
    if (target === this.host.id) return target;
    let aborted = false;
    await this.host.until(
      () => {
        const s = this.host.softState();
        if (s.term > startTerm && s.leader !== null) return true;
        if (s.role === 'leader' && this.host.transferee() === null) aborted = true;
        return aborted;
      },
      opts.timeoutMs ?? 2 * this.host.electionMs,
      `leadership transfer to ${target}`,
      opts.signal,
    );
    const s = this.host.softState();
    if (aborted || s.leader !== target) {
      throw new RaftError(
        ErrorCode.TransferAborted,
        aborted
          ? `leadership transfer to ${target} did not complete within an election timeout; ${this.host.id} still leads`
          : `leadership went to ${s.leader ?? 'nobody yet'} instead of ${target}`,
      );
    }
    return target;
  }

  private spec(changes: MemberChange[], id: NodeId, address: string | undefined): MembershipChangeSpec {
    return address === undefined ? { changes } : { changes, addresses: { [id]: address } };
  }
}
