import { describe, expect, it } from 'vitest';
import { ManualScheduler, systemScheduler } from '../src/index.js';

describe('ManualScheduler', () => {
  it('fires due callbacks by time, then in the order they were scheduled, each at its own time', () => {
    const clock = new ManualScheduler();
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${clock.now()}`);
    clock.setTimeout(at('c'), 10);
    clock.setTimeout(at('a'), 5);
    clock.setTimeout(at('b'), 5);
    expect(clock.advance(10)).toBe(3);
    expect(fired).toEqual(['a@5', 'b@5', 'c@10']);
  });

  it('advance runs only what falls due, including callbacks scheduled on the way, and lands on the target', () => {
    const clock = new ManualScheduler({ startTime: 100 });
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 3);
      clock.setTimeout(() => fired.push(clock.now()), 30);
    }, 2);
    clock.advance(10);
    expect(fired).toEqual([102, 105]);
    expect(clock.now()).toBe(110);
    expect([clock.pending, clock.nextAt()]).toEqual([1, 132]);
  });

  it('never runs a zero-delay callback synchronously', () => {
    const clock = new ManualScheduler();
    let ran = false;
    clock.setTimeout(() => (ran = true), 0);
    expect(ran).toBe(false);
    clock.advance(0);
    expect(ran).toBe(true);
  });

  it('clearTimeout cancels; clearing twice or after firing does nothing', () => {
    const clock = new ManualScheduler();
    let count = 0;
    const a = clock.setTimeout(() => count++, 1);
    const b = clock.setTimeout(() => count++, 2);
    clock.clearTimeout(a);
    clock.clearTimeout(a);
    expect(clock.pending).toBe(1);
    clock.runUntilIdle();
    clock.clearTimeout(b);
    expect([count, clock.pending, clock.nextAt()]).toEqual([1, 0, undefined]);
  });

  it('runUntilIdle moves time to each callback and returns how many ran', () => {
    const clock = new ManualScheduler();
    clock.setTimeout(() => clock.setTimeout(() => {}, 50), 20);
    expect(clock.runUntilIdle()).toBe(2);
    expect(clock.now()).toBe(70);
    expect(clock.runNext()).toBe(false);
  });

  it('throws RAFT_TIMEOUT when callbacks keep rescheduling with zero delay', () => {
    const clock = new ManualScheduler({ maxCallbacks: 50 });
    const loop = () => clock.setTimeout(loop, 0);
    loop();
    const timeout = expect.objectContaining({ code: 'RAFT_TIMEOUT' });
    expect(() => clock.runUntilIdle()).toThrow(timeout);
    expect(() => clock.advance(1)).toThrow(timeout);
    expect(clock.now()).toBe(0);
  });

  it('treats a negative or NaN delay as zero and rejects going back in time', () => {
    const clock = new ManualScheduler({ startTime: 10 });
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(1), -5);
    clock.setTimeout(() => fired.push(2), Number.NaN);
    clock.advance(0);
    expect(fired).toEqual([1, 2]);
    const invalid = expect.objectContaining({ code: 'RAFT_INVALID_ARGUMENT' });
    expect(() => clock.advanceTo(5)).toThrow(invalid);
    expect(() => clock.advance(-1)).toThrow(invalid);
    expect(() => clock.setTimeout(() => {}, Number.POSITIVE_INFINITY)).toThrow(invalid);
    expect(() => new ManualScheduler({ maxCallbacks: 0 })).toThrow(expect.objectContaining({ code: 'RAFT_INVALID_CONFIG' }));
  });
});

describe('systemScheduler', () => {
  it('runs a zero delay after the current code, and a positive delay later', async () => {
    const order: string[] = [];
    const done = new Promise<void>((resolve) => {
      systemScheduler.setTimeout(() => {
        order.push('timeout');
        resolve();
      }, 2);
    });
    systemScheduler.setTimeout(() => order.push('immediate'), 0);
    order.push('sync');
    await done;
    expect(order).toEqual(['sync', 'immediate', 'timeout']);
  });

  it('clears both kinds of handle', async () => {
    let fired = 0;
    systemScheduler.clearTimeout(systemScheduler.setTimeout(() => fired++, 0));
    systemScheduler.clearTimeout(systemScheduler.setTimeout(() => fired++, 1));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fired).toBe(0);
  });

  it('has a clock that never goes backwards', () => {
    const a = systemScheduler.now();
    expect(systemScheduler.now()).toBeGreaterThanOrEqual(a);
  });
});
