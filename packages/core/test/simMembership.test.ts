import { expect, test } from 'vitest';
import { Simulation } from '../src/testing/index.js';

// SIM_SEED=N replays one seed; SIM_MEMBERSHIP_SEEDS=N sets how many seeds run (default 300).
const only = process.env.SIM_SEED ? Number(process.env.SIM_SEED) : undefined;
const seeds = Number(process.env.SIM_MEMBERSHIP_SEEDS ?? 300);
const firstSeed = Number(process.env.SIM_FIRST_SEED ?? 1);

test(`membership churn: ${only !== undefined ? `seed ${only}` : `${seeds} seeds`} of joins, promotions, removals (the leader too), joint swaps and transfers under faults`, () => {
  const list = only !== undefined ? [only] : Array.from({ length: seeds }, (_, i) => firstSeed + i);
  const total = { changes: 0, joint: 0, transfers: 0, refused: 0, spawned: 0, elections: 0, committed: 0, crashes: 0, snapshots: 0 };
  for (const seed of list) {
    const nodes = seed % 2 === 0 ? 3 : 5;
    try {
      const r = new Simulation({ seed, nodes, faultSteps: 1500, quietSteps: 800, profile: 'membership' }).run();
      for (const k of ['changes', 'joint', 'transfers', 'refused', 'spawned'] as const) total[k] += r.membership[k];
      total.elections += r.elections;
      total.committed += r.committed;
      total.crashes += r.crashes;
      total.snapshots += r.snapshots;
    } catch (err) {
      console.error(`membership simulation FAILED: nodes=${nodes} seed=${seed} — replay with SIM_SEED=${seed}`);
      throw err;
    }
  }
  console.log(`membership simulation: seeds ${list[0]}..${list.at(-1)} ok; ${JSON.stringify(total)}`);
  // The churn must really have happened for this to mean anything.
  if (only !== undefined) return;
  expect(total.changes).toBeGreaterThan(list.length * 3);
  expect(total.joint).toBeGreaterThan(0);
  expect(total.transfers).toBeGreaterThan(list.length);
  expect(total.spawned).toBeGreaterThan(list.length);
  expect(total.crashes).toBeGreaterThan(0);
}, 300_000);
