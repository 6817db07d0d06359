import { ErrorCode, isRaftError, seededRandom } from '@raftkit/core';
import { sampleMessages, sequencedMessage } from '@raftkit/transport-suite';
import { describe, expect, it } from 'vitest';
import { WIRE_MAGIC, WIRE_VERSION, decodeBatch, encodeMessages } from '../src/index.js';

// Replay a failure with FUZZ_SEED=<seed> pnpm test.
const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
console.log(`fuzz seed ${SEED}`);

type Verdict = 'rejected' | 'accepted';

/**
 * The decoder's contract on any input: throw RAFT_BAD_MESSAGE, or return messages that are
 * valid, which we check by re-encoding them (the encoder validates every field) and getting
 * back the very same bytes (the encoding is canonical).
 */
function judge(bytes: Uint8Array, origin: string): Verdict {
  let decoded;
  try {
    decoded = decodeBatch(bytes);
  } catch (err) {
    if (isRaftError(err, ErrorCode.BadMessage)) return 'rejected';
    throw new Error(`seed ${SEED}, ${origin}: decoder threw ${String(err)} on ${Buffer.from(bytes).toString('hex').slice(0, 400)}`);
  }
  const again = encodeMessages(decoded);
  if (!Buffer.from(again).equals(Buffer.from(bytes))) throw new Error(`seed ${SEED}, ${origin}: accepted bytes do not re-encode identically`);
  return 'accepted';
}

function randomBytes(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

function tally(verdicts: Verdict[]): Record<Verdict, number> {
  return { rejected: verdicts.filter((v) => v === 'rejected').length, accepted: verdicts.filter((v) => v === 'accepted').length };
}

const valid = encodeMessages([...sampleMessages('n1', 'n2'), ...Array.from({ length: 8 }, (_, i) => sequencedMessage('n1', 'n2', i))]);
const small = encodeMessages([sequencedMessage('a', 'b', 3), sequencedMessage('a', 'b', 4), sequencedMessage('a', 'b', 6)]);

// CPU-bound and deterministic: the timeout only catches a hang, on a 2-core machine shared
// with other suites (the flips alone take 2-5 s there).
describe(`decoder fuzzing (seed ${SEED})`, { timeout: 30_000 }, () => {
  it('rejects 5,000 random byte strings cleanly', () => {
    const random = seededRandom(SEED);
    const verdicts = Array.from({ length: 5000 }, (_, i) => judge(randomBytes(random, Math.floor(random() * 300)), `random #${i}`));
    expect(tally(verdicts).rejected).toBe(5000);
  });

  it('survives 5,000 random bodies behind a valid header', () => {
    const random = seededRandom(SEED + 1);
    const header = [...WIRE_MAGIC, WIRE_VERSION, 0, 0, 0];
    const verdicts = Array.from({ length: 5000 }, (_, i) => {
      const body = randomBytes(random, Math.floor(random() * 200));
      return judge(Uint8Array.from([...header, 1 + Math.floor(random() * 3), ...body]), `headed #${i}`);
    });
    expect(tally(verdicts).rejected).toBeGreaterThan(4900);
  });

  it('rejects every proper prefix of a valid batch of every message type', () => {
    const verdicts = Array.from({ length: valid.length }, (_, n) => judge(valid.subarray(0, n), `prefix ${n}`));
    expect(tally(verdicts)).toEqual({ rejected: valid.length, accepted: 0 });
    expect(judge(valid, 'whole')).toBe('accepted');
  });

  it('survives 20,000 batches with 1-3 flipped bits', () => {
    const random = seededRandom(SEED + 2);
    const verdicts = Array.from({ length: 20_000 }, (_, i) => {
      const source = i % 2 === 0 ? valid : small;
      const copy = source.slice();
      const flips = 1 + Math.floor(random() * 3);
      for (let f = 0; f < flips; f++) copy[Math.floor(random() * copy.length)] ^= 1 << Math.floor(random() * 8);
      return judge(copy, `bit flips #${i}`);
    });
    // Flips inside data or numbers still decode; flips in structure must not crash.
    const { accepted, rejected } = tally(verdicts);
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });

  it('survives 10,000 batches with bytes overwritten, inserted or deleted', () => {
    const random = seededRandom(SEED + 3);
    const verdicts = Array.from({ length: 10_000 }, (_, i) => {
      const bytes = Array.from(small);
      const at = Math.floor(random() * bytes.length);
      const op = i % 3;
      if (op === 0) bytes[at] = Math.floor(random() * 256);
      if (op === 1) bytes.splice(at, 0, ...randomBytes(random, 1 + Math.floor(random() * 8)));
      if (op === 2) bytes.splice(at, 1 + Math.floor(random() * 8));
      return judge(Uint8Array.from(bytes), `splice #${i}`);
    });
    expect(tally(verdicts).rejected).toBeGreaterThan(0);
  });
});
