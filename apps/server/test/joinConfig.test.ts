// In-process checks of the membership flags: --join, --learner, --url, --max-learner-lag,
// --membership-timeout-ms (the processes are in joinReplace.test.ts and recover.test.ts).
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const base = ['--id', 'n4', '--listen', '127.0.0.1:7004', '--data', '/tmp/x'];

describe('membership flags', () => {
  test('defaults: no join, a voter, the URL derived from --listen (https with TLS is derived the same way)', () => {
    const cfg = loadConfig(base, {});
    expect([cfg.join, cfg.learner, cfg.selfUrl, cfg.maxLearnerLag, cfg.membershipTimeoutMs]).toEqual([null, false, 'http://127.0.0.1:7004', 1000, 30_000]);
  });

  test('--join URL, --learner without a value (or =true), from flags and the environment', () => {
    const cfg = loadConfig([...base, '--join', 'http://127.0.0.1:7001/', '--learner', '--max-learner-lag', '5'], {});
    expect([cfg.join, cfg.learner, cfg.maxLearnerLag]).toEqual(['http://127.0.0.1:7001', true, 5]);
    expect(loadConfig([...base, '--join', 'http://127.0.0.1:7001', '--learner=false'], {}).learner).toBe(false);
    const env = loadConfig(base, { RAFTKIT_JOIN: 'http://127.0.0.1:7001', RAFTKIT_LEARNER: 'true', RAFTKIT_URL: 'http://node4.example:7004' });
    expect([env.join, env.learner, env.selfUrl]).toEqual(['http://127.0.0.1:7001', true, 'http://node4.example:7004']);
  });

  test('a wildcard --listen derives no URL; --url gives it', () => {
    expect(loadConfig(['--id', 'n4', '--listen', '0.0.0.0:7004', '--data', '/tmp/x'], {}).selfUrl).toBeNull();
    expect(loadConfig(['--id', 'n4', '--listen', '0.0.0.0:7004', '--data', '/tmp/x', '--url', 'http://10.0.0.4:7004'], {}).selfUrl).toBe('http://10.0.0.4:7004');
  });

  test.each([
    [['--join', 'http://127.0.0.1:7001', '--peers', 'n1=http://127.0.0.1:7001'], 'not both'],
    [['--learner'], '--learner needs --join'],
    [['--join', 'ftp://127.0.0.1:7001'], '--join must be an http(s) URL'],
    [['--join', 'not a url'], 'is not a URL'],
    [['--join', 'http://127.0.0.1:7001/?x=1'], 'without query'],
    [['--join', 'http://localhost:7004'], 'points at this node itself'],
    [['--learner=maybe', '--join', 'http://127.0.0.1:7001'], '--learner takes no value'],
    [['--url', 'ftp://x:1'], '--url must be an http(s) URL'],
    [['--max-learner-lag', '-1'], '--max-learner-lag must be an integer'],
    [['--membership-timeout-ms', '5'], '--membership-timeout-ms must be an integer'],
  ])('refuses %j', (args, message) => {
    expect(() => loadConfig([...base, ...args], {})).toThrow(ConfigError);
    expect(() => loadConfig([...base, ...args], {})).toThrow(message);
  });

  test('--join with a wildcard --listen and no --url is refused: nothing to tell the cluster', () => {
    expect(() => loadConfig(['--id', 'n4', '--listen', '0.0.0.0:7004', '--data', '/tmp/x', '--join', 'http://10.0.0.1:7001'], {})).toThrow('--join needs --url');
  });
});
