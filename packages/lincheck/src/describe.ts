import type { Model, NormalizedOperation } from './types.js';

function json(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** The model's rendering of an operation's input and output, or JSON. */
export function describeOperation<I, O>(
  model: Model<unknown, I, O>,
  op: NormalizedOperation<I, O>,
): string {
  if (model.describeOperation) return model.describeOperation(op.input, op.output);
  return op.output === undefined ? `${json(op.input)} → ?` : `${json(op.input)} → ${json(op.output)}`;
}

export function describeState<S>(model: Model<S, unknown, unknown>, state: S): string {
  return model.describeState ? model.describeState(state) : json(state);
}

export function describePartition<I, O>(
  model: Model<unknown, I, O>,
  ops: readonly NormalizedOperation<I, O>[],
  index: number,
): string {
  return model.describePartition ? model.describePartition(ops) : `part ${index}`;
}
