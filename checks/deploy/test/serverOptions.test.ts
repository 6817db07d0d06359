// Every server flag and RAFTKIT_* variable that deploy/ uses is one the server knows: each is
// put to the server's own parser (apps/server's loadConfig, built), which refuses an unknown
// flag with "unknown option" (and reads RAFTKIT_<NAME> exactly for each flag --<name>).
import { loadConfig } from '@raftkit/server/dist/index.js';
import { describe, expect, test } from 'vitest';
import { execForm, parseDockerfile } from './helpers/dockerfile.js';
import { k8sManifestFiles, k8sObjects, read, yamlFile } from './helpers/deployFiles.js';

/** Whether the server's parser knows --`name` (any other complaint is about the value). */
function knownFlag(name: string): boolean {
  try {
    loadConfig([`--${name}=x`], {});
    return true;
  } catch (err) {
    return !(err as Error).message.startsWith(`unknown option --${name}`);
  }
}

const flagOfEnv = (v: string): string => v.slice('RAFTKIT_'.length).toLowerCase().replace(/_/g, '-');

const files = ['deploy/Dockerfile', 'deploy/compose.yaml', 'deploy/secret.env.example', ...k8sManifestFiles().map((f) => `deploy/k8s/${f}`)];

/** RAFTKIT_* names anywhere in the files, comments included (a comment tells operators to set them). */
function envNames(): Map<string, string> {
  const found = new Map<string, string>();
  for (const f of files) for (const m of read(f).matchAll(/\bRAFTKIT_[A-Z0-9_]+\b/g)) found.set(m[0], f);
  return found;
}

/** Server arguments: compose `command`s, containers' `command`/`args`, the image's ENTRYPOINT/CMD. */
function serverArgs(): Array<{ where: string; args: string[] }> {
  const out: Array<{ where: string; args: string[] }> = [];
  const compose = yamlFile('deploy/compose.yaml') as { services: Record<string, { command?: string[]; entrypoint?: unknown }> };
  for (const [name, s] of Object.entries(compose.services)) {
    expect(s.entrypoint, `compose ${name} keeps the image's entrypoint`).toBeUndefined();
    if (s.command) out.push({ where: `compose.yaml ${name}`, args: s.command });
  }
  for (const { file, object } of k8sObjects()) {
    for (const c of object['spec']?.template?.spec?.containers ?? []) {
      expect(c.command, `${file} ${c.name} keeps the image's entrypoint`).toBeUndefined();
      if (c.args) out.push({ where: `${file} ${c.name}`, args: c.args });
    }
  }
  for (const i of parseDockerfile(read('deploy/Dockerfile')).filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT')) {
    out.push({ where: `Dockerfile ${i.keyword}`, args: (execForm(i.args) ?? []).slice(i.keyword === 'ENTRYPOINT' ? 1 : 0) });
  }
  return out;
}

describe('server options used in deploy/', () => {
  test('the parser check tells a known option from a typo', () => {
    expect(knownFlag('initial-cluster')).toBe(true);
    expect(knownFlag('request-timeout-ms')).toBe(true);
    expect(knownFlag('config')).toBe(true);
    expect(knownFlag('initial-clusters')).toBe(false);
    expect(knownFlag(flagOfEnv('RAFTKIT_PEER'))).toBe(false);
  });

  test('every RAFTKIT_* variable is a server option', () => {
    const names = envNames();
    for (const must of ['RAFTKIT_ID', 'RAFTKIT_LISTEN', 'RAFTKIT_DATA', 'RAFTKIT_SECRET', 'RAFTKIT_INITIAL_CLUSTER']) expect([...names.keys()]).toContain(must);
    const unknown = [...names].filter(([v]) => !knownFlag(flagOfEnv(v))).map(([v, f]) => `${v} (${f})`);
    expect(unknown).toEqual([]);
  });

  test('every --flag given to the server is a server option', () => {
    const all = serverArgs();
    expect(all.flatMap((a) => a.args).filter((a) => a.startsWith('--')).length).toBeGreaterThan(0);
    const unknown: string[] = [];
    for (const { where, args } of all) {
      for (const a of args) {
        if (!a.startsWith('--')) continue;
        const name = a.slice(2).split('=')[0]!;
        if (!knownFlag(name)) unknown.push(`--${name} (${where})`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
