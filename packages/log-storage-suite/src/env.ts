import type { LogStorage, StoredState } from '@raftkit/core';
import { expect } from 'vitest';

/** A place where one storage lives; it can be opened, closed and opened again. */
export interface LogStorageLocation {
  /** Opens the storage held at this location. Called again after `close()` to reopen it. */
  open(): Promise<LogStorage>;
  /** Removes everything at this location. Called once per test, after the last `close()`. */
  destroy(): Promise<void>;
}

/** Optional behaviour an adapter declares; the cases that need it are skipped otherwise. */
export interface LogStorageSupports {
  /** Closing and reopening a location yields exactly what was durable. */
  readonly reopen: boolean;
  /** Entries of several MiB (the suite writes 8 MiB entries). Default true. */
  readonly largeEntries?: boolean;
}

export interface LogStorageSuiteOptions {
  /** Title of the top-level `describe`. Default "LogStorage conformance". */
  readonly name?: string;
  /** Creates a fresh, empty location for one test. */
  readonly factory: () => Promise<LogStorageLocation>;
  readonly supports: LogStorageSupports;
  /** Timeout of each case in ms. Default 30,000. */
  readonly timeout?: number;
}

/** What a case needs to run: the options with defaults filled in. */
export interface SuiteEnv {
  readonly factory: () => Promise<LogStorageLocation>;
  readonly supports: Required<LogStorageSupports>;
}

export function suiteEnv(options: Pick<LogStorageSuiteOptions, 'factory' | 'supports'>): SuiteEnv {
  return {
    factory: options.factory,
    supports: { largeEntries: true, ...options.supports },
  };
}

/** An open storage plus the location it came from, so a case can reopen it. */
export class LogUnderTest {
  private current: LogStorage | null = null;
  constructor(private readonly location: LogStorageLocation) {}

  get storage(): LogStorage {
    if (!this.current) throw new Error('storage is closed');
    return this.current;
  }

  async open(): Promise<LogStorage> {
    this.current = await this.location.open();
    return this.current;
  }

  /** Closes the storage and opens the same location again (a clean restart). */
  async reopen(): Promise<LogStorage> {
    await this.close();
    return this.open();
  }

  async close(): Promise<void> {
    const storage = this.current;
    this.current = null;
    if (storage) await storage.close();
  }
}

/**
 * Runs `body` against a freshly created, opened location; closes and destroys it afterwards.
 * A failure of `close()` fails the case unless the body already failed.
 */
export async function withLog(env: SuiteEnv, body: (log: LogUnderTest) => Promise<void>): Promise<void> {
  const location = await env.factory();
  const log = new LogUnderTest(location);
  try {
    await log.open();
    try {
      await body(log);
    } catch (error) {
      await log.close().catch(() => undefined);
      throw error;
    }
    await log.close();
  } finally {
    await location.destroy();
  }
}

export interface ExpectedState {
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly hardState?: StoredState['hardState'];
  /** `null` asserts there is no snapshot; omit to skip the check. */
  readonly snapshotIndex?: number | null;
}

/** Asserts the parts of `state()` named in `expected`. */
export async function expectState(storage: LogStorage, expected: ExpectedState): Promise<StoredState> {
  const state = await storage.state();
  expect(state.firstIndex, 'firstIndex').toBe(expected.firstIndex);
  expect(state.lastIndex, 'lastIndex').toBe(expected.lastIndex);
  if (expected.hardState) {
    expect({ ...state.hardState }, 'hardState').toEqual({ ...expected.hardState });
  }
  if (expected.snapshotIndex === null) expect(state.snapshot, 'snapshot').toBeNull();
  if (typeof expected.snapshotIndex === 'number') {
    expect(state.snapshot?.index, 'snapshot index').toBe(expected.snapshotIndex);
  }
  return state;
}

/** One conformance case: a named check of one rule of the LogStorage contract. */
export interface LogStorageCase {
  /** The group it is reported under (a `describe`). */
  readonly group: string;
  readonly name: string;
  /** A `supports` flag the case needs; it is skipped when the adapter lacks it. */
  readonly requires?: 'reopen' | 'largeEntries';
  run(env: SuiteEnv): Promise<void>;
}
