import { describe, expect, it } from 'vitest';
import { checkHistory, formatResult, kv, kvModel, LincheckError, LincheckErrorCode, type Model } from '../src/index.js';
import { ok } from './helpers/history.js';

/** A FIFO queue: order of unknown enqueues matters, so nothing about them can be assumed. */
type QueueInput = { op: 'enq'; value: number } | { op: 'deq' };
const queueModel: Model<readonly number[], QueueInput, number | null> = {
  init: () => [],
  step(state, input, output) {
    if (input.op === 'enq') return [true, [...state, input.value]];
    const head = state.length > 0 ? state[0] : null;
    return [output === undefined || output === head, state.slice(1)];
  },
  describeOperation: (input, output) => (input.op === 'enq' ? `enq(${input.value})` : `deq() → ${output ?? '?'}`),
};

const q = (id: number, call: number, ret: number, input: QueueInput, output: number | null = null) => ({
  id,
  clientId: id,
  call,
  return: ret,
  input,
  output,
});

describe('a user-defined model', () => {
  it('accepts concurrent enqueues dequeued in either order', () => {
    const history = [
      q(0, 0, 10, { op: 'enq', value: 1 }),
      q(1, 0, 10, { op: 'enq', value: 2 }),
      q(2, 11, 12, { op: 'deq' }, 2),
      q(3, 13, 14, { op: 'deq' }, 1),
    ];
    expect(checkHistory(queueModel, history).result).toBe('ok');
  });

  it('rejects sequential enqueues dequeued out of order, with the default JSON state hash', () => {
    const history = [
      q(0, 0, 1, { op: 'enq', value: 1 }),
      q(1, 2, 3, { op: 'enq', value: 2 }),
      q(2, 4, 5, { op: 'deq' }, 2),
    ];
    const result = checkHistory(queueModel, history);
    expect(result.result).toBe('illegal');
    expect(result.violation?.stateAfterPrefix).toBe('[1,2]');
    expect(result.violation?.partition).toBe('part 0');
    expect(formatResult(result)).toContain('deq() → 2');
  });

  it('applies an unknown operation with the output undefined', () => {
    const history = [
      { id: 0, clientId: 'a', call: 0, status: 'unknown' as const, input: { op: 'enq', value: 7 } as QueueInput },
      q(1, 5, 6, { op: 'deq' }, 7),
    ];
    expect(checkHistory(queueModel, history).result).toBe('ok');
  });
});

describe('history validation', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof LincheckError ? err.code : 'not a LincheckError';
    }
    return 'no error';
  };

  it('rejects a return before the call', () => {
    expect(code(() => checkHistory(kvModel, [ok(0, 'a', 5, 4, kv.get('x'), { value: null })]))).toBe(
      LincheckErrorCode.InvalidHistory,
    );
  });

  it('rejects duplicate ids', () => {
    const history = [ok(1, 'a', 0, 1, kv.put('x', '1')), ok(1, 'a', 2, 3, kv.put('x', '2'))];
    expect(code(() => checkHistory(kvModel, history))).toBe(LincheckErrorCode.InvalidHistory);
  });

  it('rejects an ok operation without an output', () => {
    const history = [{ clientId: 'a', call: 0, return: 1, status: 'ok' as const, input: kv.get('x') }];
    expect(code(() => checkHistory(kvModel, history))).toBe(LincheckErrorCode.InvalidHistory);
  });

  it('rejects a KV get whose output has no value, naming the operation', () => {
    const history = [ok(7, 'a', 0, 1, kv.get('x'), {})];
    expect(code(() => checkHistory(kvModel, history))).toBe(LincheckErrorCode.InvalidOperation);
    expect(() => checkHistory(kvModel, history)).toThrow(/#7/);
  });

  it('defaults ids to array positions', () => {
    const history = [
      { clientId: 'a', call: 0, return: 1, input: kv.put('x', '1'), output: {} },
      { clientId: 'a', call: 2, return: 3, input: kv.get('x'), output: { value: '2' } },
    ];
    expect(checkHistory(kvModel, history).violation?.stuck.id).toBe(1);
  });
});
