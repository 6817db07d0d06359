import { LincheckError, LincheckErrorCode } from './errors.js';
import type { ClientId, NormalizedOperation, OpStatus } from './types.js';

export interface RecorderOptions {
  /**
   * The clock for call and return times. Defaults to a logical counter (0, 1, 2, ...), which
   * orders events exactly as this recorder saw them: right for one process. A simulator
   * passes its virtual clock; several processes need one shared clock.
   */
  readonly now?: () => number;
  /** The id of the first operation; give each recorder its own range to merge histories. */
  readonly firstId?: number;
}

/** The pending end of one invoked operation. Complete it exactly once. */
export interface OperationHandle<O> {
  readonly id: number;
  /** The operation returned `output`. */
  ok(output: O): void;
  /** The operation definitely did not take effect. */
  fail(): void;
  /** The outcome will never be known (e.g. a timeout): it may take effect at any time. */
  unknown(): void;
}

interface Recorded<I, O> {
  readonly id: number;
  readonly clientId: ClientId;
  readonly call: number;
  readonly input: I;
  /** `pending` until the handle is completed. */
  status: OpStatus | 'pending';
  return: number;
  output: O | undefined;
}

/**
 * Records a client history as it happens.
 * ```ts
 * const h = rec.invoke('c1', kv.put('x', '1'));
 * try { await client.put('x', '1'); h.ok({}); } catch { h.unknown(); }
 * ```
 */
export class HistoryRecorder<I, O> {
  private readonly records: Recorded<I, O>[] = [];
  private readonly now: () => number;
  private readonly firstId: number;
  private ticks = 0;

  constructor(options: RecorderOptions = {}) {
    this.now = options.now ?? (() => this.ticks++);
    this.firstId = options.firstId ?? 0;
  }

  invoke(clientId: ClientId, input: I): OperationHandle<O> {
    const record: Recorded<I, O> = {
      id: this.firstId + this.records.length,
      clientId,
      call: this.now(),
      input,
      status: 'pending',
      return: Infinity,
      output: undefined,
    };
    this.records.push(record);
    const complete = (status: OpStatus, output?: O): void => {
      if (record.status !== 'pending') {
        throw new LincheckError(LincheckErrorCode.AlreadyCompleted, `operation #${record.id} already ${record.status}`);
      }
      record.status = status;
      record.return = status === 'unknown' ? Infinity : this.now();
      record.output = output;
    };
    return {
      id: record.id,
      ok: (output) => complete('ok', output),
      fail: () => complete('fail'),
      unknown: () => complete('unknown'),
    };
  }

  /** The operations so far, in invocation order. Pending ones are reported as `unknown`. */
  history(): NormalizedOperation<I, O>[] {
    return this.records.map((r) => ({
      id: r.id,
      clientId: r.clientId,
      call: r.call,
      return: r.status === 'pending' ? Infinity : r.return,
      status: r.status === 'pending' ? 'unknown' : r.status,
      input: r.input,
      output: r.output,
    }));
  }
}
