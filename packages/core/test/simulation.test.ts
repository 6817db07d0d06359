import { describe, expect, test } from 'vitest';
import { Simulation } from '../src/testing/index.js';

// SIM_SEED=N replays one seed exactly; SIM_SEEDS=N sets how many seeds each size runs.
const only = process.env.SIM_SEED ? Number(process.env.SIM_SEED) : undefined;
const seeds = Number(process.env.SIM_SEEDS ?? 300);
const firstSeed = Number(process.env.SIM_FIRST_SEED ?? 1);

describe.each([3, 5])('seeded cluster simulation, %i nodes', (nodes) => {
  test(`${only !== undefined ? `seed ${only}` : `${seeds} seeds`}: safety under faults, then liveness`, () => {
    const list = only !== undefined ? [only] : Array.from({ length: seeds }, (_, i) => firstSeed + i);
    let elections = 0;
    let committed = 0;
    let crashes = 0;
    let snapshots = 0;
    for (const seed of list) {
      try {
        const r = new Simulation({ seed, nodes, faultSteps: 1500, quietSteps: 600 }).run();
        elections += r.elections;
        committed += r.committed;
        crashes += r.crashes;
        snapshots += r.snapshots;
      } catch (err) {
        console.error(`simulation FAILED: nodes=${nodes} seed=${seed} — replay with SIM_SEED=${seed}`);
        throw err;
      }
    }
    console.log(
      `simulation ${nodes} nodes: seeds ${list[0]}..${list[list.length - 1]} ok; ` +
        `${elections} elections, ${committed} entries committed, ${crashes} crashes, ${snapshots} snapshots`,
    );
    // The faults must actually have happened for this test to mean anything.
    expect(elections).toBeGreaterThan(list.length);
    expect(crashes).toBeGreaterThan(0);
    expect(snapshots).toBeGreaterThan(0);
    expect(committed).toBeGreaterThan(list.length * 10);
  }, 300_000);
});

test('the same seed replays the same run', () => {
  const a = new Simulation({ seed: 42, nodes: 3, faultSteps: 800, quietSteps: 600 }).run();
  const b = new Simulation({ seed: 42, nodes: 3, faultSteps: 800, quietSteps: 600 }).run();
  expect(b).toEqual(a);
  const c = new Simulation({ seed: 43, nodes: 3, faultSteps: 800, quietSteps: 600 }).run();
  expect(c).not.toEqual(a);
});

// The simulation must be able to fail: with a known bug planted, some seed must report it.
test.each([
  ['commitPreviousTerm', 'leader completeness|committed entries never change|state machine safety'],
  ['doubleVote', 'election safety|invariant'],
] as const)('planted bug %s is caught within 400 seeds', (bug, property) => {
  let caught: string | null = null;
  for (let seed = 1; seed <= 400 && !caught; seed++) {
    try {
      new Simulation({ seed, nodes: 3, faultSteps: 1500, quietSteps: 600, bugs: { [bug]: true } }).run();
    } catch (err) {
      caught = (err as Error).message;
    }
  }
  expect(caught).toMatch(new RegExp(property));
}, 120_000);
