import type { NodeStatus } from './cluster.js';
import type { LeaderSpan, NodeSilence } from './types.js';

export interface StatusSource {
  readonly ids: readonly string[];
  statuses(timeoutMs?: number): Promise<NodeStatus[]>;
}

/**
 * Polls every node's /v1/status: the leader and the silent nodes over time for the report,
 * and a cheap check of Election Safety (Raft §5.2: at most one leader per term) from what
 * the nodes say. A sampler: a leadership shorter than the interval can go unseen.
 */
export class LeaderWatch {
  readonly spans: LeaderSpan[] = [];
  readonly silences: NodeSilence[] = [];
  /** Invariant: holds exactly the nodes that did not answer the latest round, since when. */
  private readonly silentSince = new Map<string, number>();
  /** Human-readable breaches of Election Safety; empty when all is well. */
  readonly conflicts: string[] = [];
  /** Invariant: holds the first node seen leading each term. */
  private readonly leaderOfTerm = new Map<number, string>();
  private open: { node: string; term: number; start: number; end: number } | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly source: StatusSource,
    private readonly now: () => number,
    private readonly intervalMs = 200,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    this.closeSpan();
    for (const [node, start] of this.silentSince) this.silences.push({ node, start, end: this.now() });
    this.silentSince.clear();
  }

  /** Every (term, leader) pair seen, in term order. */
  leadersSeen(): { term: number; node: string }[] {
    return [...this.leaderOfTerm].sort(([a], [b]) => a - b).map(([term, node]) => ({ term, node }));
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const started = this.now();
      this.observe(await this.source.statuses(this.intervalMs), started);
      const wait = this.intervalMs - (this.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Folds one round of answers in; `at` is when the round began. */
  observe(statuses: readonly NodeStatus[], at: number): void {
    this.noteSilences(statuses, at);
    const leaders = statuses.filter((s) => s.role === 'leader');
    for (const s of leaders) {
      const known = this.leaderOfTerm.get(s.term);
      if (known === undefined) this.leaderOfTerm.set(s.term, s.id);
      else if (known !== s.id) this.conflicts.push(`term ${s.term}: both ${known} and ${s.id} said they were leader`);
    }
    // A deposed leader that has not heard of the new term yet still says "leader": the
    // highest term is the real one.
    const top = [...leaders].sort((a, b) => b.term - a.term)[0];
    if (!top || !this.open || this.open.node !== top.id || this.open.term !== top.term) this.closeSpan();
    if (top) this.open ??= { node: top.id, term: top.term, start: at, end: at };
    if (this.open) this.open.end = this.now();
  }

  private noteSilences(statuses: readonly NodeStatus[], at: number): void {
    const answered = new Set(statuses.map((s) => s.id));
    for (const node of this.source.ids) {
      const since = this.silentSince.get(node);
      if (!answered.has(node) && since === undefined) this.silentSince.set(node, at);
      if (answered.has(node) && since !== undefined) {
        this.silences.push({ node, start: since, end: at });
        this.silentSince.delete(node);
      }
    }
  }

  private closeSpan(): void {
    if (this.open) this.spans.push({ ...this.open });
    this.open = null;
  }
}
