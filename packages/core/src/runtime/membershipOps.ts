import type { ConfChange, MemberChange } from '../consensus/membership/config.js';
import type { MembershipStatus, RawNode } from '../consensus/rawNode.js';
import type { NodeId } from '../consensus/types.js';
import { ErrorCode, NotLeaderError, RaftError } from '../errors.js';
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
  readonly raw: RawNode;
  readonly clock: Clock;
  readonly maxLearnerLag: number;
  readonly defaultTimeoutMs: number;
  readonly electionMs: number;
  /** Runs `fn` on the core of a running node (ticks caught up first), then drives; throws if stopped. */
  act<T>(fn: (raw: RawNode) => T): T;
  /** Resolves once the entry at `index` of `term` is applied here (proposal semantics). */
  waitApplied(index: number, term: number, timeoutMs: number): Promise<unknown>;
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
    const cc = { changes: spec.changes, transition: spec.transition ?? 'auto' } as const;
    const opts2 = { addresses: spec.addresses ?? {}, maxLearnerLag: this.host.maxLearnerLag };
    await this.untilChangeMayStart(deadline, opts.signal);
    const pos = this.host.act((raw) => raw.proposeConfChange(cc, opts2));
    await this.host.waitApplied(pos.index, pos.term, timeoutMs);
    const m = this.host.raw.membership();
    if (m.config.autoLeave) {
      // Joint with auto-leave: done once the leader has left C_old,new and that is committed.
      await this.host.until(
        () => {
          const now = this.host.raw.membership();
          return now.committed && now.config.votersOutgoing.length === 0;
        },
        Math.max(0, deadline - this.host.clock.now()),
        'leaving the joint configuration',
        opts.signal,
      );
    }
    return this.host.raw.membership();
  }

  /**
   * A change right after an election (or right after another change) would be refused only
   * until the leader's first entry (or that change) commits: wait for that, within the
   * deadline, instead of failing. Anything that does not pass by itself is left to
   * `proposeConfChange` to refuse with its coded error; so is a wait that outlasts the deadline.
   */
  private async untilChangeMayStart(deadline: number, signal: AbortSignal | undefined): Promise<void> {
    const raw = this.host.raw;
    if (!raw.confChangePending()) return;
    try {
      await this.host.until(() => !raw.confChangePending(), Math.max(0, deadline - this.host.clock.now()), 'a membership change may start', signal);
    } catch (err) {
      if (signal?.aborted) throw err;
    }
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
    const role = isMember(this.host.raw.membership(), id);
    if (role.voter) throw new RaftError(ErrorCode.InvalidArgument, `node ${id} is already a voter`);
    if (!role.learner) await this.addLearner(id, address, { timeoutMs: left(), ...(opts.signal ? { signal: opts.signal } : {}) });
    await this.host.until(
      () => {
        const st = this.host.raw.status();
        if (st.role !== 'leader') throw new NotLeaderError(st.leader, `node ${st.id} lost leadership while ${id} caught up`);
        return st.lastIndex - (st.progress[id]?.match ?? 0) <= this.host.maxLearnerLag;
      },
      left(),
      `learner ${id} catching up`,
      opts.signal,
    );
    return this.promote(id, { timeoutMs: left(), ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  /** Hands leadership to `to` (default: the most up-to-date voter); resolves once it leads. */
  async transfer(to?: NodeId, opts: MembershipOpOptions = {}): Promise<NodeId> {
    const raw = this.host.raw;
    const startTerm = raw.softState().term;
    const target = this.host.act((r) => r.transferLeadership(to));
    if (target === raw.id) return target;
    let aborted = false;
    await this.host.until(
      () => {
        const s = raw.softState();
        if (s.term > startTerm && s.leader !== null) return true;
        if (s.role === 'leader' && raw.status().transferee === null) aborted = true;
        return aborted;
      },
      opts.timeoutMs ?? 2 * this.host.electionMs,
      `leadership transfer to ${target}`,
      opts.signal,
    );
    const s = raw.softState();
    if (aborted || s.leader !== target) {
      throw new RaftError(
        ErrorCode.TransferAborted,
        aborted
          ? `leadership transfer to ${target} did not complete within an election timeout; ${raw.id} still leads`
          : `leadership went to ${s.leader ?? 'nobody yet'} instead of ${target}`,
      );
    }
    return target;
  }

  /** Before a leader stops: hand over to the most up-to-date voter, if there is one (bounded). */
  async handOver(timeoutMs: number): Promise<void> {
    const raw = this.host.raw;
    if (raw.softState().role !== 'leader') return;
    const cfg = raw.membership().config;
    if (![...cfg.voters, ...cfg.votersOutgoing].some((id) => id !== raw.id)) return;
    await this.transfer(undefined, { timeoutMs }).catch(() => {});
  }

  private spec(changes: MemberChange[], id: NodeId, address: string | undefined): MembershipChangeSpec {
    return address === undefined ? { changes } : { changes, addresses: { [id]: address } };
  }
}
