import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileValueStore } from '../../../src/fileValues/index.js';

/**
 * Value files for a simulation run's machines: every value on disk (minBytes 0) in tiny
 * segments, so segments roll, are reclaimed and compacted all through the run. Each machine
 * (every restart makes a new one) gets its own directory; a crashed replica's store is left
 * open, as a killed process leaves its files, and everything is closed and deleted at the end.
 */
export class SimValueFiles {
  private readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-sim-values-'));
  private readonly stores: FileValueStore[] = [];

  open(): FileValueStore {
    const store = FileValueStore.open({ dir: path.join(this.root, String(this.stores.length)), minBytes: 0, segmentBytes: 4096 });
    this.stores.push(store);
    return store;
  }

  /** Bytes moved by compaction, and values that could not be written (a run must have none), over every store. */
  stats(): { movedBytes: number; fallbacks: number } {
    return {
      movedBytes: this.stores.reduce((n, s) => n + s.stats().movedBytes, 0),
      fallbacks: this.stores.reduce((n, s) => n + s.stats().fallbacks, 0),
    };
  }

  close(): void {
    for (const s of this.stores) s.close();
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
