// --fast-jit: which V8 flags the CLI sets before it loads the server, that a user's own flags
// win, that this node's V8 still knows the flags (v8.setFlagsFromString ignores a name it does
// not know, silently), and how the option parses.
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { FAST_JIT_FLAGS, applyJitTuning, userJitFlags } from '../src/jitTuning.js';

const ours = Object.entries(FAST_JIT_FLAGS).map(([name, value]) => `--${name}=${value}`);

describe('applyJitTuning', () => {
  test('sets every flag when the user set none', () => {
    const set: string[] = [];
    expect(applyJitTuning({ execArgv: ['--enable-source-maps'], nodeOptions: '--max-old-space-size=512', set: (f) => set.push(f) })).toEqual(ours);
    expect(set).toEqual(['--interrupt-budget=1000', '--minimum-invocations-after-ic-update=50']);
  });

  test("a flag on node's command line or in NODE_OPTIONS stays the user's, in either spelling", () => {
    const set: string[] = [];
    const applied = applyJitTuning({ execArgv: ['--interrupt-budget=5000'], nodeOptions: '', set: (f) => set.push(f) });
    expect(applied).toEqual(['--minimum-invocations-after-ic-update=50']);
    expect(set).toEqual(applied);
    expect(userJitFlags([], ' --trace-gc  --minimum_invocations_after_ic_update=7 ')).toEqual(['minimum-invocations-after-ic-update']);
    expect(userJitFlags(['--interrupt_budget', '100'], '--minimum-invocations-after-ic-update=1')).toEqual(['interrupt-budget', 'minimum-invocations-after-ic-update']);
    // A flag that only starts the same way is not one of ours.
    expect(userJitFlags(['--interrupt-budget-for-feedback-allocation=10'], undefined)).toEqual([]);
  });

  test("this node's V8 knows every flag (node refuses an unknown one; setFlagsFromString would not)", () => {
    const known = spawnSync(process.execPath, [...ours, '-e', '0'], { encoding: 'utf8' });
    expect(known.stderr).toBe('');
    expect(known.status).toBe(0);
    // The check can fail: a misspelt flag is refused.
    const unknown = spawnSync(process.execPath, ['--interrupt-budgett=1000', '-e', '0'], { encoding: 'utf8' });
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/bad option: --interrupt-budgett/);
  });
});

describe('--fast-jit', () => {
  const base = ['--id', 'n1', '--listen', '127.0.0.1:7001', '--data', '/tmp/never-used'];

  test('is on by default and turned off with --fast-jit=false or RAFTKIT_FAST_JIT=false', () => {
    expect(loadConfig(base, {}).fastJit).toBe(true);
    expect(loadConfig([...base, '--fast-jit'], {}).fastJit).toBe(true);
    expect(loadConfig([...base, '--fast-jit=false'], {}).fastJit).toBe(false);
    expect(loadConfig(base, { RAFTKIT_FAST_JIT: 'false' }).fastJit).toBe(false);
  });

  test('refuses a value that is not a boolean', () => {
    expect(() => loadConfig([...base, '--fast-jit=sometimes'], {})).toThrow(ConfigError);
    expect(() => loadConfig([...base, '--fast-jit=sometimes'], {})).toThrow('--fast-jit takes no value (or true/false), got "sometimes"');
  });
});
