import { ErrorCode, RaftError, allMembers, isJoint, isRaftError, type MemberChange, type MembershipConfig, type MembershipStatus } from '@raftkit/core';
import type { KvRaftReplica } from '@raftkit/kv';
import type { SimCluster } from './cluster.js';
import { Violation } from './safety.js';

/** Deadline of one membership operation, in virtual ms (a few election timeouts). */
const OP_TIMEOUT_MS = 1500;

/** What the membership nemesis did, for the summary. */
export interface MembershipStats {
  /** Operations that resolved (changes committed, transfers done), by kind. */
  done: Record<string, number>;
  /** Operations refused or failed with a coded error, by code. */
  refused: Record<string, number>;
  /** Nodes created (each a new id with empty storage) and retired after their removal. */
  created: number;
  retired: number;
}

type Log = (kind: string, detail: string) => void;
/** What a burst of changes did: the partition it asks for (leader's side first), if any. */
export type Cut = [string[], string[]];

/**
 * Membership churn: adds learners and promotes them, adds voters (learner first), removes
 * followers, the leader itself and learners, replaces a node by a brand-new one (new id, empty
 * storage), changes two voters at once through a joint configuration (auto-leave or left
 * explicitly), and transfers leadership. One operation at a time, each through the RaftNode
 * API of the current leader, keeping 1..maxVoters voters. A burst proposes two changes back to
 * back without waiting (the in-flight guard must refuse the second) and may cut the leader and
 * the nodes the changes favour off from the rest: with overlapping changes, two disjoint
 * majorities. A removed node keeps running a while (it must not disrupt anyone), then retires.
 */
export class MembershipNemesis {
  readonly stats: MembershipStats = { done: {}, refused: {}, created: 0, retired: 0 };
  private op: string | null = null;
  /** Members of some committed configuration: once not members any more, they retire. */
  private readonly everMember: Set<string>;
  private readonly retireAt = new Map<string, number>();

  constructor(
    private readonly c: SimCluster,
    private readonly maxVoters: number,
    private readonly log: Log,
  ) {
    this.everMember = new Set(c.bootstrap);
  }

  /** No operation is running. */
  idle(): boolean {
    return this.op === null;
  }

  /** The leader of the highest term, if any. */
  leader(): KvRaftReplica | null {
    const ls = this.c.replicas().filter((r) => r.node.status().role === 'leader');
    return ls.sort((a, b) => b.node.status().term - a.node.status().term)[0] ?? null;
  }

  /** Called every step of the fault phase: retire removed nodes, maybe start an operation. */
  async step(rate: number): Promise<Cut | null> {
    await this.retireRemoved(false);
    if (this.op !== null) {
      if (this.op === 'transfer' || this.op.includes('leader')) this.c.disturb(2 * this.c.electionMs());
      return null;
    }
    if (this.c.rand() > rate) return null;
    const leader = this.leader();
    if (!leader) return null;
    return this.choose(leader, leader.node.membership());
  }

  private async choose(leader: KvRaftReplica, m: MembershipStatus): Promise<Cut | null> {
    const cfg = m.config;
    const me = leader.node.id;
    if (isJoint(cfg)) {
      if (!cfg.autoLeave) this.run('leave-joint', 'leave the joint configuration', leader, () => leader.node.changeMembership({ changes: [] }, { timeoutMs: OP_TIMEOUT_MS }));
      return null;
    }
    const voters = cfg.voters;
    const followers = voters.filter((x) => x !== me);
    const learners = cfg.learners.filter((x) => this.c.ids.includes(x));
    const room = this.c.ids.length < this.maxVoters + 2;
    const r = this.c.rand();
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(this.c.rand() * xs.length)]!;
    if (r < 0.12 && room) await this.addLearner(leader);
    else if (r < 0.22 && room && voters.length < this.maxVoters) await this.addVoter(leader);
    else if (r < 0.3 && learners.length > 0 && voters.length < this.maxVoters) this.promote(leader, pick(learners));
    else if (r < 0.38 && followers.length > 0) this.remove(leader, pick(followers), 'remove-follower');
    else if (r < 0.43 && voters.length > 1 && voters.includes(me)) this.remove(leader, me, 'remove-leader');
    else if (r < 0.46 && learners.length > 0) this.remove(leader, pick(learners), 'remove-learner');
    else if (r < 0.54 && voters.length > 1) this.replace(leader, pick(voters));
    else if (r < 0.66) this.joint(leader, cfg, learners, pick);
    else if (r < 0.78 && followers.length > 0) this.transfer(leader, this.c.rand() < 0.3 ? undefined : pick(followers));
    else return this.burst(leader, cfg, learners, pick);
    return null;
  }

  /** Runs one operation in the background; its outcome is counted when it settles. */
  private run(kind: string, detail: string, on: KvRaftReplica, f: () => Promise<unknown>, check?: (result: unknown) => string | null): void {
    this.op = kind;
    this.log(`member-${kind}`, `${detail} (at ${on.node.id})`);
    let p: Promise<unknown>;
    try {
      p = f();
    } catch (err) {
      p = Promise.reject(err);
    }
    void p.then(
      (result) => {
        this.op = null;
        this.stats.done[kind] = (this.stats.done[kind] ?? 0) + 1;
        const broken = check?.(result);
        if (broken) this.c.safety.violation ??= new Violation('membership operation', `${kind} ${detail} resolved, but ${broken}`);
      },
      (err: unknown) => {
        this.op = null;
        this.refused(kind, detail, err);
      },
    );
  }

  private refused(kind: string, detail: string, err: unknown): void {
    if (!isRaftError(err)) {
      this.c.safety.violation ??= new Violation('membership operation', `${kind} ${detail} failed without a coded error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return;
    }
    this.stats.refused[err.code] = (this.stats.refused[err.code] ?? 0) + 1;
  }

  private async newNode(): Promise<string> {
    const id = await this.c.createNode();
    this.stats.created++;
    return id;
  }

  private async addLearner(leader: KvRaftReplica): Promise<void> {
    const id = await this.newNode();
    this.run('add-learner', id, leader, () => leader.node.addLearner(id, undefined, { timeoutMs: OP_TIMEOUT_MS }), (s) => (isLearner(s, id) ? null : `${id} is not a learner`));
  }

  private async addVoter(leader: KvRaftReplica): Promise<void> {
    const id = await this.newNode();
    this.run('add-voter', id, leader, () => leader.node.addVoter(id, undefined, { timeoutMs: 2 * OP_TIMEOUT_MS }), (s) => (isVoter(s, id) ? null : `${id} is not a voter`));
  }

  private promote(leader: KvRaftReplica, id: string): void {
    this.run('promote', id, leader, () => leader.node.promote(id, { timeoutMs: OP_TIMEOUT_MS }), (s) => (isVoter(s, id) ? null : `${id} is not a voter`));
  }

  private remove(leader: KvRaftReplica, id: string, kind: string): void {
    if (kind === 'remove-leader') this.c.disturb(2 * this.c.electionMs());
    this.run(kind, id, leader, () => leader.node.remove(id, { timeoutMs: OP_TIMEOUT_MS }), (s) => (isMember(s, id) ? `${id} is still a member` : null));
  }

  /** A machine is replaced: the node is removed, then a brand-new one (new id, empty disk) added. */
  private replace(leader: KvRaftReplica, id: string): void {
    if (id === leader.node.id) this.c.disturb(2 * this.c.electionMs());
    this.run('replace', id, leader, async () => {
      await leader.node.remove(id, { timeoutMs: OP_TIMEOUT_MS });
      const fresh = await this.newNode();
      this.log('member-replace', `${id} by ${fresh}`);
      const now = await this.waitLeader(OP_TIMEOUT_MS);
      if (!now) throw new RaftError(ErrorCode.Timeout, `no leader to add ${fresh} to within ${OP_TIMEOUT_MS} ms`);
      return now.node.addVoter(fresh, undefined, { timeoutMs: 2 * OP_TIMEOUT_MS });
    });
  }

  /** Two voters change at once, through a joint configuration (thesis §4.3). */
  private joint(leader: KvRaftReplica, cfg: MembershipConfig, learners: string[], pick: <T>(xs: readonly T[]) => T): void {
    const voters = cfg.voters;
    const others = voters.filter((x) => x !== leader.node.id);
    let changes: MemberChange[];
    if (learners.length >= 2 && voters.length + 2 <= this.maxVoters) {
      const [a, b] = shuffle(learners, this.c.rand);
      changes = [{ type: 'addVoter', node: a! }, { type: 'addVoter', node: b! }];
    } else if (learners.length >= 1 && voters.length >= 2) {
      // A swap: the learner replaces a voter (maybe the leader) in one step.
      changes = [{ type: 'addVoter', node: pick(learners) }, { type: 'removeNode', node: this.c.rand() < 0.3 ? leader.node.id : pick(others.length > 0 ? others : voters) }];
    } else if (voters.length >= 3) {
      const [a, b] = shuffle(voters, this.c.rand);
      changes = [{ type: 'removeNode', node: a! }, { type: 'removeNode', node: b! }];
    } else if (learners.length >= 1) {
      changes = [{ type: 'addVoter', node: learners[0]! }, { type: 'addLearner', node: pick(voters) }];
    } else return;
    const transition = this.c.rand() < 0.7 ? 'auto' : 'joint-explicit';
    const detail = `${changes.map((x) => `${x.type} ${x.node}`).join(' + ')} (${transition})`;
    this.c.disturb(2 * this.c.electionMs());
    this.run('joint', detail, leader, () => leader.node.changeMembership({ changes, transition }, { timeoutMs: OP_TIMEOUT_MS }));
  }

  private transfer(leader: KvRaftReplica, to: string | undefined): void {
    this.c.disturb(2 * this.c.electionMs());
    this.run('transfer', to ?? '(most up-to-date voter)', leader, () => leader.node.transferLeadership(to, { timeoutMs: 2 * this.c.electionMs() }), (got) => (to === undefined || got === to ? null : `${String(got)} leads instead`));
  }

  /**
   * Two single changes proposed back to back: honest code refuses the second (one change in
   * flight). Half the time the leader and the nodes the changes favour are then cut off from
   * the others, so that overlapping changes would leave two majorities that do not intersect.
   */
  private burst(leader: KvRaftReplica, cfg: MembershipConfig, learners: string[], pick: <T>(xs: readonly T[]) => T): Cut | null {
    const me = leader.node.id;
    // A leader demoted to learner (it steps down soon) is not one to promote.
    learners = learners.filter((x) => x !== me);
    const promoted: string[] = [];
    const removed: string[] = [];
    const changes: MemberChange[] = [];
    for (let i = 0; i < 2; i++) {
      const left = learners.filter((x) => !promoted.includes(x));
      const others = cfg.voters.filter((x) => x !== me && !removed.includes(x));
      const voters = cfg.voters.length + promoted.length - removed.length;
      if (left.length > 0 && voters < this.maxVoters && (this.c.rand() < 0.6 || others.length === 0 || voters <= 2)) {
        promoted.push(pick(left));
        changes.push({ type: 'addVoter', node: promoted[promoted.length - 1]! });
      } else if (others.length > 0 && voters > 1) {
        removed.push(pick(others));
        changes.push({ type: 'removeNode', node: removed[removed.length - 1]! });
      }
    }
    if (changes.length < 2) return null;
    this.c.disturb(2 * this.c.electionMs());
    this.op = 'burst';
    this.log('member-burst', `${changes.map((x) => `${x.type} ${x.node}`).join(', ')} back to back (at ${me})`);
    const ps = changes.map((ch) => leader.node.changeMembership({ changes: [ch] }, { timeoutMs: OP_TIMEOUT_MS }));
    void Promise.allSettled(ps).then((rs) => {
      this.op = null;
      for (const r of rs) {
        if (r.status === 'fulfilled') this.stats.done.burst = (this.stats.done.burst ?? 0) + 1;
        else this.refused('burst', '', r.reason);
      }
    });
    if (this.c.rand() < 0.3) return null;
    const final = [...cfg.voters.filter((x) => !removed.includes(x)), ...promoted];
    const side = [...new Set([me, ...promoted])];
    for (const x of shuffle(final.filter((y) => !side.includes(y)), this.c.rand)) {
      if (side.filter((y) => final.includes(y)).length > final.length / 2) break;
      side.push(x);
    }
    return [side, this.c.ids.filter((x) => !side.includes(x))];
  }

  private async waitLeader(ms: number): Promise<KvRaftReplica | null> {
    const deadline = this.c.now() + ms;
    while (this.c.now() < deadline) {
      const l = this.leader();
      if (l) return l;
      await new Promise<void>((r) => this.c.sched.setTimeout(r, 10));
    }
    return null;
  }

  /**
   * Retires nodes no longer members of the leader's committed configuration: removed ones
   * after a while of running as outsiders (or at once when `all`), and with `all` also nodes
   * whose addition never committed.
   */
  async retireRemoved(all: boolean): Promise<void> {
    const leader = this.leader();
    const m = leader?.node.membership();
    if (m && m.committed && !isJoint(m.config)) {
      const members = allMembers(m.config);
      for (const id of members) this.everMember.add(id);
      for (const id of this.c.ids) {
        if (members.includes(id) || this.retireAt.has(id)) continue;
        if (all || this.everMember.has(id)) this.retireAt.set(id, all ? this.c.now() : this.c.now() + Math.floor(this.c.rand() * 1500));
      }
    }
    for (const [id, at] of this.retireAt) {
      if (this.c.now() < at && !all) continue;
      this.retireAt.delete(id);
      if (!this.c.ids.includes(id)) continue;
      await this.c.retire(id);
      this.stats.retired++;
      this.log('retire', `${id} (removed; its machine is switched off)`);
    }
  }

  /**
   * After the faults: the membership must settle, committed and not joint (an explicit joint
   * configuration is left), so that every remaining node is a member and must converge.
   */
  async finish(): Promise<boolean> {
    if (this.op !== null) return false;
    const leader = this.leader();
    if (!leader) return false;
    const m = leader.node.membership();
    if (isJoint(m.config)) {
      if (!m.config.autoLeave && m.committed) this.run('leave-joint', 'leave the joint configuration', leader, () => leader.node.changeMembership({ changes: [] }, { timeoutMs: OP_TIMEOUT_MS }));
      return false;
    }
    if (!m.committed) return false;
    await this.retireRemoved(true);
    return true;
  }
}

function isVoter(s: unknown, id: string): boolean {
  const m = s as MembershipStatus;
  return m.config.voters.includes(id);
}
function isLearner(s: unknown, id: string): boolean {
  return (s as MembershipStatus).config.learners.includes(id);
}
function isMember(s: unknown, id: string): boolean {
  return allMembers((s as MembershipStatus).config).includes(id);
}

function shuffle<T>(xs: readonly T[], rand: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
