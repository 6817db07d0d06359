// In-process checks of config parsing (the CLI's exit codes are covered in config.test.ts).
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const base = ['--id', 'n1', '--listen', '127.0.0.1:7001', '--data', '/tmp/x', '--peers', 'n2=http://127.0.0.1:8002,n3=http://127.0.0.1:8003'];

describe('--client-urls', () => {
  test('defaults to nothing: clients reach a node at its --peers URL', () => {
    expect(loadConfig(base, {}).clientUrls).toEqual({});
  });

  test('maps a peer to the URL clients use when peer traffic goes elsewhere (a proxy)', () => {
    const cfg = loadConfig([...base, '--client-urls', 'n2=http://127.0.0.1:7002/'], {});
    expect(cfg.clientUrls).toEqual({ n2: 'http://127.0.0.1:7002' });
    expect(cfg.peers['n2']).toBe('http://127.0.0.1:8002');
  });

  test.each([
    ['n4=http://127.0.0.1:7004', 'not in --peers'],
    ['n1=http://127.0.0.1:7001', 'must not list this node'],
    ['n2=ftp://x', 'must be http(s)'],
    ['n2', 'must be ID=URL'],
  ])('rejects %s', (value, message) => {
    expect(() => loadConfig([...base, '--client-urls', value], {})).toThrow(ConfigError);
    expect(() => loadConfig([...base, '--client-urls', value], {})).toThrow(message);
  });
});
