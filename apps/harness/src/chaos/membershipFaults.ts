// Membership faults (issue 10): what an operator does to a running cluster, done under the
// clients' load: hand leadership over, restart every node gracefully one by one, replace a
// dead machine (its disk gone) by a new node, grow the cluster by two and shrink it back.
// Each starts in the background and is awaited when its window heals; findings (a node that
// does not stop cleanly on SIGTERM, a change that never completes) fail the run.
import { sleep, type ChaosCluster } from './cluster.js';
import { MemberAdmin, votersOf, type MembersBody } from './memberAdmin.js';
import { pick, shuffled, type Random } from './random.js';

/** The window of an active fault, as the nemesis runs it (see nemesis.ts). */
export interface ActiveFault {
  readonly label: string;
  heal(): void | Promise<string | void>;
}

/** A membership change as it happened, for the report's timeline. */
export interface MembershipEvent {
  readonly at: number;
  /** e.g. `n4 joined as a voter`, `removed n2`, `leadership n1→n3`. */
  readonly label: string;
}

/** How long one membership step (a join with its catch-up, a removal) may take. */
const STEP_MS = 20_000;
/** How long a node restarted on SIGTERM has to follow a leader and catch up. */
const REJOIN_MS = 15_000;

export class MembershipFaults {
  readonly events: MembershipEvent[] = [];
  private readonly admin: MemberAdmin;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly now: () => number,
    /** Findings: they fail the run. */
    private readonly problems: string[],
  ) {
    this.admin = new MemberAdmin(cluster);
  }

  /** POST /v1/leader/transfer to the leader, to a random voter or (half the time) to whoever is most up to date. */
  async transferLeader(rand: Random, leader: string): Promise<ActiveFault> {
    const m = await this.admin.members();
    const voters = m ? votersOf(m).filter((id) => id !== leader && this.cluster.isUp(id)) : [];
    const to = voters.length > 0 && rand() < 0.5 ? pick(rand, voters) : undefined;
    const out = await this.admin.request('POST', '/v1/leader/transfer', to ? { to } : {}, leader, 5000);
    const got = out.ok ? (out.body as { leader?: string }).leader : undefined;
    const label = `transfer-leader ${leader}→${to ?? 'any'}`;
    if (got) this.note(`leadership ${leader}→${got}`);
    // A transfer may abort (the target fell behind); that it is refused with a code is the contract.
    return { label: `${label}: ${got ? `${got} leads` : `not done (${out.ok ? 'no leader in the answer' : out.why})`}`, heal: () => undefined };
  }

  /** SIGTERM each member in turn and start it again on its data once the previous one is back. */
  rollingRestart(): ActiveFault {
    const ids = this.cluster.ids.filter((id) => this.cluster.isUp(id) && !this.cluster.retired.has(id));
    const work = this.restartEach(ids);
    return { label: `rolling-restart ${set(ids)} (SIGTERM one by one)`, heal: () => work };
  }

  private async restartEach(ids: readonly string[]): Promise<string> {
    const parts: string[] = [];
    for (const id of ids) {
      const t0 = this.now();
      const exit = await this.cluster.terminate(id);
      if (exit.code !== 0) this.problems.push(`${id} did not shut down cleanly on SIGTERM (code ${exit.code}, signal ${exit.signal}); see its log`);
      this.cluster.restart(id);
      const back = await this.rejoined(id, REJOIN_MS);
      if (!back) {
        this.problems.push(`${id} did not follow a leader and catch up within ${REJOIN_MS / 1000} s of its restart after SIGTERM`);
        parts.push(`${id} not back`);
        break;
      }
      parts.push(`${id} ${((this.now() - t0) / 1000).toFixed(1)} s`);
      this.note(`${id} restarted (SIGTERM)`);
    }
    return parts.join(', ');
  }

  /**
   * A dead machine replaced: SIGKILL a follower, delete its data, remove it from the
   * configuration, start a new empty node under a new id with --join; it must become a voter.
   */
  replaceNode(rand: Random, leader: string | null): ActiveFault {
    const candidates = this.cluster.ids.filter((id) => id !== leader && this.cluster.isUp(id) && !this.cluster.retired.has(id));
    if (candidates.length === 0) return { label: 'replace-node: skipped (no follower up)', heal: () => undefined };
    const dead = pick(rand, candidates);
    const fresh = this.cluster.nextId();
    const work = this.replace(dead, fresh);
    return { label: `replace-node ${dead} (kill -9, data deleted) by ${fresh} (--join)`, heal: () => work };
  }

  private async replace(dead: string, fresh: string): Promise<string> {
    await this.cluster.kill(dead);
    this.cluster.wipe(dead);
    this.cluster.retire(dead);
    const removed = await this.remove(dead);
    if (!removed) return `could not remove ${dead}`;
    return (await this.add(fresh)).text;
  }

  /** Two new nodes join, then two members picked at random (the leader may be one) are removed. */
  growShrink(rand: Random): ActiveFault {
    const fresh = [this.cluster.nextId(), `n${this.cluster.allIds.length + 2}`];
    const work = this.grow(fresh).then(async (grown) => {
      if (grown !== null) return grown;
      const up = this.cluster.ids.filter((id) => this.cluster.isUp(id) && !this.cluster.retired.has(id));
      const victims = shuffled(rand, up).slice(0, 2);
      const done: string[] = [];
      for (const id of victims) {
        // Removed, it steps down or just stops hearing from the leader; the harness stops it.
        this.cluster.expectExit(id);
        if (!(await this.remove(id))) return `grew by ${set(fresh)}; removing ${id} failed`;
        await this.cluster.terminate(id);
        done.push(id);
      }
      return `grew by ${set(fresh)}, removed ${set(done)}`;
    });
    return { label: `grow-shrink: +${set(fresh)} then 2 removed`, heal: () => work };
  }

  /** Adds each node in turn; null when all became voters, else what went wrong. */
  private async grow(ids: readonly string[]): Promise<string | null> {
    for (const id of ids) {
      const out = await this.add(id);
      if (!out.ok) return out.text;
    }
    return null;
  }

  /** Starts `id` empty with --join through the leader; ok once it is a voter. */
  private async add(id: string): Promise<{ ok: boolean; text: string }> {
    const t0 = this.now();
    const m = await this.admin.members();
    const via = m?.leader ?? this.cluster.ids.find((x) => this.cluster.isUp(x));
    if (!via) return { ok: false, text: `no member up to join ${id} through` };
    await this.cluster.join(id, via);
    const ok = await this.admin.waitFor((x) => votersOf(x).includes(id), STEP_MS);
    if (!ok) {
      this.problems.push(`${id} started with --join but was no voter within ${STEP_MS / 1000} s`);
      return { ok: false, text: `${id} did not become a voter` };
    }
    this.note(`${id} joined as a voter`);
    return { ok: true, text: `${id} a voter after ${((this.now() - t0) / 1000).toFixed(1)} s, voters ${set(votersOf(ok))}` };
  }

  /** DELETE /v1/members/{id} through the leader; true once the committed configuration lacks it. */
  private async remove(id: string): Promise<boolean> {
    const via = (await this.admin.members())?.leader ?? this.cluster.ids.find((x) => x !== id && this.cluster.isUp(x));
    if (!via) return false;
    const out = await this.admin.request('DELETE', `/v1/members/${encodeURIComponent(id)}`, undefined, via, STEP_MS);
    // 404: not a member (an earlier attempt got through before its answer was lost).
    if (!out.ok && !out.why.startsWith('404')) {
      this.problems.push(`DELETE /v1/members/${id} failed: ${out.why}`);
      return false;
    }
    const gone = await this.admin.waitFor((x) => !x.members.some((mm) => mm.id === id), STEP_MS);
    if (!gone) {
      this.problems.push(`${id} was still a member ${STEP_MS / 1000} s after DELETE /v1/members/${id} succeeded`);
      return false;
    }
    this.cluster.forget(id);
    this.note(`removed ${id}`);
    return true;
  }

  /** Whether `id` follows a leader and has applied what that leader had committed. */
  private async rejoined(id: string, timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    while (this.now() < deadline) {
      const leader = await this.cluster.findLeader();
      const s = await this.cluster.status(id);
      if (leader && s && s.leader === leader.id && s.term === leader.term && s.commitIndex >= leader.commitIndex) return true;
      await sleep(100);
    }
    return false;
  }

  private note(label: string): void {
    this.events.push({ at: this.now(), label });
  }

  /** The leader's current view (for the caller's own checks). */
  members(): Promise<MembersBody | null> {
    return this.admin.members();
  }
}

const set = (ids: readonly string[]): string => `{${[...ids].sort().join(',')}}`;
