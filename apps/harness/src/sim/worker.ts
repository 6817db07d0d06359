// Runs a share of the seeds in a worker thread and reports each outcome to the parent.
import { parentPort, workerData } from 'node:worker_threads';
import { runSeed, type SimOptions } from './runSeed.js';

interface Job {
  seeds: number[];
  base: Omit<SimOptions, 'seed'>;
}

const { seeds, base } = workerData as Job;
for (const seed of seeds) {
  const outcome = await runSeed({ ...base, seed });
  parentPort!.postMessage(outcome);
}
