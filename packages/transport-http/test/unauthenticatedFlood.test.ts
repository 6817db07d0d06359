// Issue 9 item 8: unauthenticated peer requests were buffered whole before the signature was
// checked: 40 concurrent 60 MiB bodies with a bad signature took a node from 0.4 to 2.6 GB RSS.
// Now at most `maxConcurrentBodies` (8) large bodies are received at once, each into one buffer
// while its HMAC is computed; the rest are refused from their headers with 503 RAFT_HTTP_BUSY.
// This file runs in its own vitest worker process, so the peak RSS measured is this test's.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HeartbeatRequest } from '@raftkit/core';
import { MiB, largeAppend, samplesOfType } from '@raftkit/transport-suite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpErrorCode, HttpTransport, MESSAGES_PATH } from '../src/index.js';
import { closeAll, startAll, waitFor } from './helpers/net.js';
import { signedHeaders } from './helpers/requests.js';

const ATTACKERS = 40;
const BODY_BYTES = 60 * MiB;

let n1: HttpTransport;
let n2: HttpTransport;
let inbox: { messages: unknown[] };
beforeAll(async () => {
  const { transports, inboxes } = await startAll(['n1', 'n2']);
  [n1, n2] = transports;
  inbox = inboxes[1];
});
afterAll(() => closeAll([n1, n2]));

/**
 * Runs the attack from another process (as the finding did), so the memory measured here is
 * the receiving node's alone: forged requests with valid-looking headers from n1, signed with
 * another secret.
 */
function flood(url: string): Promise<string[]> {
  const headers = signedHeaders(new Uint8Array(1), { secret: 'not-the-cluster-secret-at-all' });
  const script = fileURLToPath(new URL('./helpers/flood.mjs', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, `${url}${MESSAGES_PATH}`, JSON.stringify(headers), String(ATTACKERS), String(BODY_BYTES)], (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout) as string[]);
    });
  });
}

const heartbeat = (n: number): HeartbeatRequest => ({ ...samplesOfType('heartbeat', 'n1', 'n2')[0], context: n });
const peakRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

describe('a flood of large unauthenticated bodies', () => {
  it(`${ATTACKERS} concurrent ${BODY_BYTES / MiB} MiB bodies with a bad signature: all refused, memory stays bounded, peers keep talking`, async () => {
    const peakBefore = peakRssMiB();
    const attack = flood(n2.url!);
    let settled = false;
    void attack.then(() => (settled = true));
    // Heartbeats from the real peer all through the attack.
    let sent = 0;
    let deliveredDuringAttack = 0;
    while (!settled) {
      n1.send([heartbeat(++sent)]);
      deliveredDuringAttack = inbox.messages.length;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const statuses = await attack;
    const peakGrowth = peakRssMiB() - peakBefore;
    console.log(`flood: peak RSS +${Math.round(peakGrowth)} MiB; ${statuses.filter((s) => s.startsWith('401')).length} bodies read and refused 401; ${sent} heartbeats sent during it`);
    // The old code read every body at once (40 × 60 MiB; measured here: peak +1.5 GB); now at
    // most 8 are received at a time (8 × 60 MiB; measured: peak +520 MiB).
    expect(peakGrowth, `peak RSS grew by ${Math.round(peakGrowth)} MiB`).toBeLessThan(800);
    expect(statuses.filter((s) => !['401 RAFT_HTTP_UNAUTHORIZED', '503 RAFT_HTTP_BUSY', 'reset'].includes(s))).toEqual([]);
    expect(statuses.filter((s) => s.startsWith('401')).length).toBeGreaterThan(0);
    expect(n2.stats().inbound.rejected[HttpErrorCode.Busy] ?? 0).toBeGreaterThan(0);

    // The real peer was never refused, and its messages kept arriving during the attack.
    expect(deliveredDuringAttack).toBeGreaterThan(0);
    await waitFor(() => inbox.messages.length === sent, 'every heartbeat');
    expect(n1.stats().peers.n2.failures).toBe(0);

    // A large legitimate message goes through once the flood is over.
    n1.send([largeAppend('n1', 'n2', 4 * MiB)]);
    await waitFor(() => inbox.messages.length === sent + 1, 'a 4 MiB append after the flood');
  }, 30_000);
});
