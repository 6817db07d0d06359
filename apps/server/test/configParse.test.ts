// In-process checks of config parsing (the CLI's exit codes are covered in config.test.ts).
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { planFds, readFdLimit } from '../src/fdBudget.js';
import { pointsAt } from '../src/selfUrl.js';

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

describe('file-descriptor budget (issue 9 item 4)', () => {
  test('under ulimit -n 1024, client connections, peers and RocksDB fit with room to spare', () => {
    // Redirect mode: forward mode (the default) halves the client share, see the next test.
    const { fds, maxInflightRequests } = loadConfig([...base, '--follower-mode', 'redirect'], {}, 1024);
    expect(fds).toMatchObject({ fdLimit: 1024, storageFiles: 256, peerConnections: 8 });
    expect(fds.maxClientConnections).toBeGreaterThanOrEqual(256);
    expect(fds.total).toBeLessThanOrEqual(0.85 * 1024);
    expect(maxInflightRequests).toBe(Math.min(fds.maxClientConnections, 512));
  });

  test('forward mode counts a second socket per request', () => {
    const redirect = loadConfig([...base, '--follower-mode', 'redirect'], {}, 1024).fds;
    const forward = loadConfig([...base, '--follower-mode', 'forward'], {}, 1024).fds;
    expect(loadConfig(base, {}, 1024).fds, 'forward is the default (issue 13 item 1)').toEqual(forward);
    expect(forward.maxClientConnections).toBeLessThan(redirect.maxClientConnections / 1.9);
    expect(forward.total).toBeLessThanOrEqual(1024);
  });

  test('an explicit cap is kept when it fits and refused when it does not', () => {
    expect(loadConfig([...base, '--max-client-connections', '300'], {}, 1024).fds.maxClientConnections).toBe(300);
    expect(() => loadConfig([...base, '--max-client-connections', '900'], {}, 1024)).toThrow(/--max-client-connections 900 needs about \d+ file descriptors/);
    expect(() => loadConfig([...base, '--max-client-connections', '900'], {}, 1024)).toThrow(ConfigError);
  });

  test('an unknown limit means 1024 connections; a tiny one is refused', () => {
    expect(loadConfig(base, {}, null).fds.maxClientConnections).toBe(1024);
    expect(() => planFds({ fdLimit: 100, peers: 2, forward: false })).toThrow(/ulimit -n\) is 100, too low/);
    expect(planFds({ fdLimit: 1 << 20, peers: 2, forward: false }).maxClientConnections).toBe(4096);
  });

  test('reads the soft limit of this process', () => {
    const limit = readFdLimit();
    if (process.platform === 'linux') expect(limit === null || limit > 0).toBe(true);
    expect(readFdLimit('/nonexistent/limits')).toBeNull();
  });
});

describe('URLs pointing back at this node (issue 9 item 10)', () => {
  test.each([
    ['http://127.0.0.1:7001', '127.0.0.1', 7001, true],
    ['http://localhost:7001/', '127.0.0.1', 7001, true],
    ['http://[::1]:7001', 'localhost', 7001, true],
    ['http://127.0.0.1:7001', '0.0.0.0', 7001, true],
    ['https://example.test', 'example.test', 443, true],
    ['http://127.0.0.1:7002', '127.0.0.1', 7001, false],
    ['http://10.9.9.9:7001', '127.0.0.1', 7001, false],
    ['http://127.0.0.1:7001', '127.0.0.1', 0, false],
  ])('%s against a listener on %s:%d: %s', (url, host, port, self) => {
    expect(pointsAt(url, { host, port })).toBe(self);
  });

  test('refused in --peers and --client-urls, allowed elsewhere', () => {
    expect(() => loadConfig([...base, '--client-urls', 'n2=http://127.0.0.1:7001'], {})).toThrow(/--client-urls gives n2 the URL http:\/\/127\.0\.0\.1:7001, which is this node's own --listen address/);
    expect(() => loadConfig(['--id', 'n1', '--listen', '127.0.0.1:7001', '--data', '/tmp/x', '--peers', 'n2=http://localhost:7001'], {})).toThrow(ConfigError);
    expect(loadConfig([...base, '--client-urls', 'n2=http://127.0.0.1:7002'], {}).clientUrls).toEqual({ n2: 'http://127.0.0.1:7002' });
  });
});
