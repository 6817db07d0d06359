import type { RestoredState } from '../consensus/rawNode.js';
import { ErrorCode, RaftError } from '../errors.js';
import type { LogStorage, StateMachine } from './interfaces.js';

/**
 * What a node restarts from: the durable hard state, the held log (which may start below the
 * snapshot: a trailing log, so the term at its start is read too), and the snapshot, which the
 * state machine is restored from, streamed from storage.
 */
export async function loadStored(storage: LogStorage, stateMachine: StateMachine<unknown>): Promise<RestoredState> {
  const state = await storage.state();
  const entries = state.lastIndex >= state.firstIndex ? await storage.entries(state.firstIndex, state.lastIndex + 1) : [];
  const compacted = state.firstIndex > 1 ? { index: state.firstIndex - 1, term: await storage.term(state.firstIndex - 1) } : undefined;
  if (state.snapshot) {
    const reader = await storage.openSnapshot();
    if (!reader || reader.meta.index !== state.snapshot.index) {
      throw new RaftError(ErrorCode.StorageCorrupt, `storage reports a snapshot at ${state.snapshot.index} but cannot open it`);
    }
    try {
      await stateMachine.restore(reader.stream(), reader.meta);
    } finally {
      await reader.close();
    }
  }
  return { hardState: state.hardState, entries, snapshot: state.snapshot, ...(compacted ? { compacted } : {}) };
}
