// One app can load both builds of @raftkit/core (an ESM dependency and a CJS one), or two
// versions: each has its own RaftError class, so errors must be recognised by brand and code.
// Runs against dist (turbo builds core before its tests).
import { createRequire } from 'node:module';
import { expect, test } from 'vitest';

type Core = typeof import('../src/index.js');
const esm = (await import(new URL('../dist/index.js', import.meta.url).href)) as Core;
const cjs = createRequire(import.meta.url)('../dist/index.cjs') as Core;

test('the ESM and CJS builds are two copies: instanceof cannot see across them', () => {
  expect(esm.RaftError).not.toBe(cjs.RaftError);
  expect(new cjs.NotLeaderError('b') instanceof esm.RaftError).toBe(false);
});

test.each([
  ['ESM recognises CJS errors', esm, cjs],
  ['CJS recognises ESM errors', cjs, esm],
] as const)('%s', (_name, checker, thrower) => {
  const notLeader = new thrower.NotLeaderError('n2');
  const timeout = new thrower.RaftError(thrower.ErrorCode.Timeout, 'slow');
  expect(checker.isRaftError(notLeader)).toBe(true);
  expect(checker.isRaftError(notLeader, 'RAFT_NOT_LEADER')).toBe(true);
  expect(checker.isRaftError(notLeader, 'RAFT_TIMEOUT')).toBe(false);
  expect(checker.isNotLeaderError(notLeader)).toBe(true);
  expect(checker.isNotLeaderError(notLeader) && notLeader.leaderHint).toBe('n2');
  expect(checker.isRaftError(timeout, 'RAFT_TIMEOUT')).toBe(true);
  expect(checker.isNotLeaderError(timeout)).toBe(false);
  expect(timeout.fatal).toBe(false);
});

test('look-alikes without the brand are not raftkit errors', () => {
  const plain = Object.assign(new Error('not leader'), { code: 'RAFT_NOT_LEADER', leaderHint: 'n2' });
  for (const core of [esm, cjs]) {
    expect(core.isRaftError(plain)).toBe(false);
    expect(core.isNotLeaderError(plain)).toBe(false);
    expect(core.isRaftError(null)).toBe(false);
    expect(core.isRaftError('RAFT_NOT_LEADER')).toBe(false);
  }
});
