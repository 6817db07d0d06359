import { seededRandom } from '@raftkit/core';
import { decodeCommand, isKvError, KvErrorCode, type KvClient, type KvCommandResult, type KvRaftReplica } from '../../../src/index.js';
import type { VirtualClock } from '../virtualClock.js';
import type { Audit } from './auditedMachine.js';

/** One lease a client was granted (its grant acknowledged), and what it did with it. */
export interface LeaseRecord {
  readonly id: number;
  readonly grantRevision: number;
  readonly ttlMs: number;
  /** Virtual times at which keep-alives were acknowledged, ascending. */
  readonly acks: number[];
}

export interface LeaseStats {
  granted: number;
  keepAlives: number;
  /** Keys put with a lease (acknowledged). */
  leasedPuts: number;
  revokedByClients: number;
  /** Committed expiry revokes that removed a lease. */
  expired: number;
  /** Of those, leases that had acknowledged keep-alives (the timing check applies). */
  expiredAfterKeepAlive: number;
}

/**
 * A client of leases: grants one (TTL 150-600 ms), puts 1-2 keys under it (keys `L/<name>/n`,
 * outside the linearizability check, which does not model leases), keeps it alive 0-5 times
 * at 20-60% of its TTL, then revokes it or lets it expire. Records every acknowledged
 * keep-alive on the virtual clock.
 */
export class LeaseClient {
  readonly leases: LeaseRecord[] = [];
  readonly stats = { granted: 0, keepAlives: 0, leasedPuts: 0, revokedByClients: 0 };
  finished = false;
  private readonly rand: () => number;
  private n = 0;

  constructor(
    readonly name: string,
    private readonly kv: KvClient,
    private readonly clock: VirtualClock,
    seed: number,
  ) {
    this.rand = seededRandom(seed);
  }

  async run(stop: () => boolean): Promise<void> {
    try {
      while (!stop()) {
        await this.cycle(stop);
        await this.sleep(Math.floor(this.rand() * 50));
      }
    } finally {
      this.finished = true;
    }
  }

  private async cycle(stop: () => boolean): Promise<void> {
    const ttlMs = 150 + Math.floor(this.rand() * 450);
    let rec: LeaseRecord;
    try {
      const g = await this.kv.grantLease(ttlMs);
      rec = { id: g.id, grantRevision: g.revision, ttlMs: g.ttlMs, acks: [] };
    } catch {
      return;
    }
    this.leases.push(rec);
    this.stats.granted++;
    for (let i = Math.floor(this.rand() * 2); i < 2; i++) {
      try {
        await this.kv.put(`L/${this.name}/${++this.n}`, `${this.name}-l${this.n}`, { lease: rec.id });
        this.stats.leasedPuts++;
      } catch {
        // Expired already, or the outcome is unknown: the check does not need it.
      }
    }
    const keeps = Math.floor(this.rand() * 6);
    for (let i = 0; i < keeps && !stop(); i++) {
      await this.sleep(Math.floor(rec.ttlMs * (0.2 + this.rand() * 0.4)));
      try {
        await this.kv.keepAlive(rec.id, { timeoutMs: Math.floor(rec.ttlMs / 2) });
        rec.acks.push(this.clock.now());
        this.stats.keepAlives++;
      } catch (err) {
        if (isKvError(err, KvErrorCode.LeaseNotFound)) return;
      }
    }
    if (this.rand() < 0.4) {
      try {
        if ((await this.kv.revokeLease(rec.id)).revoked) this.stats.revokedByClients++;
      } catch {
        // Unknown: it is revoked or it expires.
      }
    } else {
      await this.sleep(rec.ttlMs + 50);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Byte 1 of a kv command is its kind; 10 is leaseRevoke (commands.ts), so most skip decoding. */
const isRevoke = (command: Uint8Array): boolean => command[1] === 10;

/** Expiry revokes as leaders proposed them: the entry's bytes, the proposer's term, the time. */
export class ExpiryProposals {
  private readonly byEntry = new Map<string, number>();

  constructor(private readonly clock: VirtualClock) {}

  /** Records every expiry revoke `replica`'s node proposes (its LeaseKeeper's). Call right after boot. */
  watch(replica: KvRaftReplica): void {
    const node = replica.node;
    const propose = node.propose.bind(node);
    node.propose = (command, opts) => {
      const cmd = isRevoke(command) ? decodeCommand(command) : undefined;
      if (cmd?.type === 'write' && cmd.write.op === 'leaseRevoke' && cmd.write.expired) {
        const key = `${node.status().term}:${hex(command)}`;
        // The earliest proposal of these bytes in this term: the strictest time to check.
        if (!this.byEntry.has(key)) this.byEntry.set(key, this.clock.now());
      }
      return propose(command, opts);
    };
  }

  /** When the leader of `term` first proposed `data`, if it did. */
  proposedAt(term: number, data: Uint8Array): number | undefined {
    return this.byEntry.get(`${term}:${hex(data)}`);
  }
}

/**
 * Lease expiry never deletes a key whose lease was kept alive: every committed expiry revoke
 * of a lease a client held was proposed at least its TTL after the lease's last acknowledged
 * keep-alive, and no keep-alive was acknowledged after it. Returns the problems found.
 */
export function checkExpiries(
  audit: Audit,
  results: ReadonlyMap<number, KvCommandResult>,
  proposals: ExpiryProposals,
  records: readonly LeaseRecord[],
  stats: LeaseStats,
): string[] {
  const problems: string[] = [];
  const held = new Map(records.map((r) => [`${r.id}@${r.grantRevision}`, r]));
  for (const entry of [...audit.entries.values()].sort((a, b) => a.index - b.index)) {
    if (!isRevoke(entry.data)) continue;
    const cmd = decodeCommand(entry.data);
    if (cmd.type !== 'write' || cmd.write.op !== 'leaseRevoke' || !cmd.write.expired) continue;
    const result = results.get(entry.index);
    if (result?.type !== 'leaseRevoke' || !result.revoked) continue;
    stats.expired++;
    const at = proposals.proposedAt(entry.term, entry.data);
    if (at === undefined) {
      problems.push(`expiry revoke of lease ${cmd.write.id} at index ${entry.index} (term ${entry.term}) was proposed by no leader of that term`);
      continue;
    }
    const rec = held.get(`${cmd.write.id}@${cmd.write.grantRevision}`);
    if (rec === undefined || rec.acks.length === 0) continue;
    stats.expiredAfterKeepAlive++;
    const last = rec.acks[rec.acks.length - 1]!;
    if (last > at) problems.push(`lease ${rec.id} (ttl ${rec.ttlMs} ms): keep-alive acknowledged at ${last} ms, after its expiry revoke was proposed at ${at} ms (index ${entry.index})`);
    else if (at - last < rec.ttlMs) {
      problems.push(`lease ${rec.id} (ttl ${rec.ttlMs} ms) expired early: revoke proposed at ${at} ms (index ${entry.index}), ${at - last} ms after the keep-alive acknowledged at ${last} ms`);
    }
  }
  return problems;
}
