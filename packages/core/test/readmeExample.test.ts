import { readFileSync } from 'node:fs';
import { expect, test, vi } from 'vitest';
// --- README example: begin imports
import { RaftNode, snapshotBytes, type StateMachine } from '@raftkit/core';
import { MemoryLogStorage } from '@raftkit/log-memory'; // or @raftkit/log-rocksdb for durability
import { MemoryNetwork } from '@raftkit/transport-memory'; // or @raftkit/transport-http between processes
// --- README example: end imports

/** The "RaftNode in a few lines" example, copied verbatim (the test below checks it still is). */
async function readmeExample(): Promise<void> {
  // --- README example: begin body
// A tiny state machine: a counter. apply must be deterministic; snapshot/restore capture it.
let count = 0;
const stateMachine: StateMachine<number> = {
  apply: () => ++count,
  snapshot: () => new TextEncoder().encode(String(count)),
  restore: async (data) => { count = Number(new TextDecoder().decode(await snapshotBytes(data))); },
};

const node = await RaftNode.create({
  id: 'n1', voters: ['n1'],            // a cluster of one: it elects itself
  storage: new MemoryLogStorage(),
  transport: new MemoryNetwork({ seed: 1 }).transport('n1'),
  stateMachine,
  tickMs: 50, electionTicks: 10, heartbeatTicks: 1,
});
await node.start();
await node.waitForLeader({ timeoutMs: 5000 });                       // a proposal needs a leader
const result = await node.propose(new TextEncoder().encode('incr')); // resolves once applied: 1
const readAt = await node.readIndex();  // linearizable read point (thesis §6.4); then read your state machine
console.log(result, readAt, count);
await node.stop();
  // --- README example: end body
}

/** The text after the first `begin` up to the next `end`, trimmed. */
const between = (text: string, begin: string, end: string): string => {
  const from = text.indexOf(begin) + begin.length;
  return text.slice(from, text.indexOf(end, from)).trim();
};

test("the README example is this file's copy, verbatim", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## RaftNode in a few lines'));
  const block = between(section, '```ts runnable\n', '\n```');
  const self = readFileSync(new URL(import.meta.url), 'utf8');
  const imports = between(self, '// --- README example: begin imports', '// --- README example: end imports');
  const body = between(self, '// --- README example: begin body', '// --- README example: end body');
  expect(block).toBe(`${imports}\n\n${body}`);
});

test('the README example runs: a single node elects itself, applies a proposal and serves a read', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    await readmeExample();
    // result 1 (the first increment), a read point at or after it (entry 1 is the bootstrap configuration), count 1.
    expect(log).toHaveBeenCalledTimes(1);
    const [result, readAt, count] = log.mock.calls[0] as [number, number, number];
    expect(result).toBe(1);
    expect(count).toBe(1);
    expect(readAt).toBeGreaterThanOrEqual(2);
  } finally {
    log.mockRestore();
  }
}, 10_000);
