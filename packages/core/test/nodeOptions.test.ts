// RaftNode.create checks its wiring: each mistake is a RAFT_INVALID_CONFIG error naming it.
import { describe, expect, test } from 'vitest';
import { RaftNode } from '../src/runtime/raftNode.js';
import type { RaftNodeOptions } from '../src/runtime/options.js';
import { FakeNetwork, FakeStorage, LogMachine, ManualClock } from './helpers/fakes.js';

function options(over: Record<string, unknown> = {}): RaftNodeOptions<number> {
  return {
    id: 'a',
    voters: ['a'],
    storage: new FakeStorage(),
    transport: new FakeNetwork().transport('a'),
    stateMachine: new LogMachine(),
    clock: new ManualClock(),
    ...over,
  } as RaftNodeOptions<number>;
}

async function rejection(over: Record<string, unknown>): Promise<{ code?: string; message: string }> {
  try {
    await RaftNode.create(options(over));
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('RaftNode.create accepted the options');
}

const withoutMethod = (obj: object, name: string): object => {
  const copy: Record<string, unknown> = {};
  for (const k of [...Object.keys(obj), ...Object.getOwnPropertyNames(Object.getPrototypeOf(obj))]) {
    if (k !== 'constructor' && k !== name) copy[k] = (obj as Record<string, unknown>)[k];
  }
  return copy;
};

describe('RaftNode.create validates its options', () => {
  test('valid options are accepted', async () => {
    await expect(RaftNode.create(options())).resolves.toBeInstanceOf(RaftNode);
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['missing storage', { storage: undefined }, /storage is missing/],
    ['storage without save', { storage: withoutMethod(new FakeStorage(), 'save') }, /storage is not a LogStorage .*: it has no save method/],
    ['storage that is not an object', { storage: 'memory' }, /storage is not a LogStorage/],
    ['missing transport', { transport: undefined }, /transport is missing/],
    ['transport without send', { transport: { ...new FakeNetwork().transport('a'), send: undefined } }, /transport is not a Transport .*: it has no send method/],
    ['transport of another node', { transport: new FakeNetwork().transport('b') }, /transport\.id \(b\) must equal id \(a\)/],
    ['missing state machine', { stateMachine: undefined }, /stateMachine is missing/],
    ['state machine without restore', { stateMachine: { apply: () => 1, snapshot: () => new Uint8Array() } }, /stateMachine is not .*: it has no restore method/],
    ['tickMs 0', { tickMs: 0 }, /tickMs must be a positive integer, got 0/],
    ['requestTimeoutMs negative', { requestTimeoutMs: -5 }, /requestTimeoutMs must be a positive integer, got -5/],
    ['snapshotEvery fractional', { snapshotEvery: 1.5 }, /snapshotEvery must be a positive integer, got 1.5/],
    ['maxLearnerLag NaN', { maxLearnerLag: Number.NaN }, /maxLearnerLag must be a positive integer, got NaN/],
    ['membershipTimeoutMs a string', { membershipTimeoutMs: '1000' }, /membershipTimeoutMs must be a positive integer, got 1000/],
  ];
  test.each(cases)('%s', async (_name, over, message) => {
    const err = await rejection(over);
    expect(err.code).toBe('RAFT_INVALID_CONFIG');
    expect(err.message).toMatch(message);
  });

  test('nothing is read from a storage before the options are valid', async () => {
    const storage = new FakeStorage();
    let reads = 0;
    const state = storage.state.bind(storage);
    storage.state = () => (reads++, state());
    await rejection({ storage, stateMachine: undefined });
    expect(reads).toBe(0);
  });
});
