import { seededRandom } from '@raftkit/core';
import type { KvCommand } from '../../src/index.js';
import { cas, del, put, putMany, tag } from './machine.js';

/** A seeded mix of everything the machine does: sessions, retries, acks, expiry, all commands. */
export function workload(seed: number, n: number): KvCommand[] {
  const rand = seededRandom(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const keys = ['a', 'b', 'b/1', 'b/2', 'ключ', '🔑', 'z'];
  const values = ['x', 42, { nested: [1, 2] }, new Uint8Array([1, 2, 3]), true];
  const cmds: KvCommand[] = [];
  const sessions: { id: number; seq: number; acked: number }[] = [];
  let stamp = 0;
  for (let i = 0; i < n; i++) {
    stamp += Math.floor(rand() * 400);
    const r = rand();
    if (r < 0.1 || sessions.length === 0) {
      cmds.push({ type: 'registerSession', stamp });
      sessions.push({ id: i + 1, seq: 0, acked: 1 });
      continue;
    }
    const s = pick(sessions);
    const retry = rand() < 0.2 && s.seq > 0;
    const seq = retry ? Math.max(s.acked, s.seq - Math.floor(rand() * 3)) : ++s.seq;
    if (rand() < 0.3) s.acked = Math.min(seq, s.acked + 1);
    const write = pick([
      () => put(pick(keys), pick(values)),
      () => del(pick(keys)),
      () => cas(pick(keys), rand() < 0.5 ? null : pick(values), pick(values)),
      () => putMany([pick(keys.slice(0, 3)), pick(values)], [pick(keys.slice(3)), pick(values)]),
    ])();
    cmds.push({ type: 'write', stamp, session: rand() < 0.1 ? null : tag(s.id, seq, Math.min(seq, s.acked)), write });
  }
  return cmds;
}

