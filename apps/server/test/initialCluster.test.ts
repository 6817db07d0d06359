// --initial-cluster: one peer list for every node (a StatefulSet's pods share one spec; each
// takes its id from RAFTKIT_ID, set from the pod name), the way deploy/k8s runs the server.
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const cluster = 'raftkit-0=http://raftkit-0.raftkit-peers:7000,raftkit-1=http://raftkit-1.raftkit-peers:7000,raftkit-2=http://raftkit-2.raftkit-peers:7000';
const env = (id: string) => ({ RAFTKIT_ID: id, RAFTKIT_LISTEN: '0.0.0.0:7000', RAFTKIT_DATA: '/tmp/raftkit-x', RAFTKIT_INITIAL_CLUSTER: cluster });

describe('--initial-cluster', () => {
  test.each(['raftkit-0', 'raftkit-1', 'raftkit-2'])('%s: its own entry is its URL, the others are its peers', (id) => {
    const cfg = loadConfig([], env(id));
    expect(cfg.id).toBe(id);
    expect(cfg.selfUrl).toBe(`http://${id}.raftkit-peers:7000`);
    const others = ['raftkit-0', 'raftkit-1', 'raftkit-2'].filter((p) => p !== id);
    expect(cfg.peers).toEqual(Object.fromEntries(others.map((p) => [p, `http://${p}.raftkit-peers:7000`])));
  });

  test('the same as the flag, and --url still wins over the list', () => {
    const flags = ['--id', 'a', '--listen', '0.0.0.0:7000', '--data', '/tmp/x', '--initial-cluster', 'a=http://a:7000, b=http://b:7000'];
    expect(loadConfig(flags, {}).peers).toEqual({ b: 'http://b:7000' });
    expect(loadConfig([...flags, '--url', 'http://a.example:7000'], {}).selfUrl).toBe('http://a.example:7000');
  });

  test('a one-node list is a single-node cluster', () => {
    const cfg = loadConfig(['--id', 'a', '--listen', '127.0.0.1:7000', '--data', '/tmp/x', '--initial-cluster', 'a=http://127.0.0.1:7000'], {});
    expect(cfg.peers).toEqual({});
    expect(cfg.selfUrl).toBe('http://127.0.0.1:7000');
  });

  test('with --join: a node the list names bootstraps (--join ignored), any other joins through it', () => {
    const join = { RAFTKIT_JOIN: 'http://raftkit:7000' };
    const listed = loadConfig([], { ...env('raftkit-1'), ...join });
    expect(listed.join).toBeNull();
    expect(Object.keys(listed.peers)).toEqual(['raftkit-0', 'raftkit-2']);
    const extra = loadConfig([], { ...env('raftkit-3'), ...join, RAFTKIT_URL: 'http://raftkit-3.raftkit-peers:7000' });
    expect(extra).toMatchObject({ join: 'http://raftkit:7000', peers: {}, selfUrl: 'http://raftkit-3.raftkit-peers:7000' });
    // A joining node must say where it is reached: the list has no entry for it.
    expect(() => loadConfig([], { ...env('raftkit-3'), ...join })).toThrow(/--join needs --url/);
  });

  test.each([
    ['not listing this node', { RAFTKIT_ID: 'raftkit-3' }, /--initial-cluster must list this node \(raftkit-3\) exactly once \(or give --join, to add this node to the running cluster\), got no entries/],
    ['listing it twice', { RAFTKIT_INITIAL_CLUSTER: `${cluster},raftkit-0=http://x:7000` }, /exactly once, got 2 entries/],
    ['with --peers', { RAFTKIT_PEERS: 'raftkit-1=http://raftkit-1:7000' }, /--initial-cluster .* or --peers .*, not both/],
    ['a bad URL in it', { RAFTKIT_INITIAL_CLUSTER: `${cluster},raftkit-9=ftp://x` }, /--peers: raftkit-9 URL must be http\(s\)/],
  ])('refuses a list %s', (_what, extra, message) => {
    expect(() => loadConfig([], { ...env('raftkit-0'), ...extra })).toThrow(ConfigError);
    expect(() => loadConfig([], { ...env('raftkit-0'), ...extra })).toThrow(message);
  });
});
