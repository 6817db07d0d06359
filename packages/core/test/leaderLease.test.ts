import { describe, expect, test } from 'vitest';
import { LeaderLease } from '../src/consensus/lease.js';
import { JointConfig } from '../src/consensus/membership/joint.js';

const ELECTION = 10;
const DRIFT = 1;

describe('thesis §6.4.1 LeaderLease', () => {
  test('§6.4.1 the lease follows ticks, acks and the configuration, however often it is asked', () => {
    const lease = new LeaderLease();
    const abc = new JointConfig(['a', 'b', 'c']);
    const valid = (q: JointConfig = abc): boolean => lease.valid('a', q, ELECTION, DRIFT);
    expect(valid()).toBe(false); // no round acknowledged
    lease.roundSent(1);
    lease.acked('b', 1, ELECTION);
    expect(valid()).toBe(true);
    expect(valid()).toBe(true); // asked again in the same tick
    for (let t = 1; t < ELECTION - DRIFT; t++) {
      lease.ticks++;
      expect(valid(), `tick ${t}`).toBe(true);
    }
    lease.ticks++;
    expect(valid()).toBe(false); // expired: round 1 was sent at tick 0
    lease.roundSent(2);
    lease.acked('c', 2, ELECTION);
    expect(valid()).toBe(true); // a new ack renews it within the same tick
    // Another configuration, none of whose other voters acknowledged anything.
    const ade = new JointConfig(['a', 'd', 'e']);
    expect(valid(ade)).toBe(false);
    expect(valid()).toBe(true);
    // Joint: both halves must hold the lease.
    expect(valid(new JointConfig(['a', 'b', 'c'], ['a', 'd', 'e']))).toBe(false);
  });
});
