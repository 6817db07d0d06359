// deploy/compose.yaml against the Compose Specification's JSON schema (vendored, see
// vendor/compose-spec/README.md) with ajv, and each node's settings through the server's loader.
import { readFileSync } from 'node:fs';
import { loadConfig } from '@raftkit/server/dist/index.js';
import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { read, yamlFile } from './helpers/deployFiles.js';

const schema = JSON.parse(readFileSync(new URL('../vendor/compose-spec/compose-spec.json', import.meta.url), 'utf8'));
// The schema names draft-07 by its https URL, which ajv knows as http://...#: same meta-schema.
delete schema.$schema;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  env_file?: Array<{ path: string; required?: boolean }>;
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  healthcheck?: { test: string[] };
  [key: string]: unknown;
}
const compose = yamlFile('deploy/compose.yaml') as { services: Record<string, Service>; volumes: Record<string, unknown> };
const errorsOf = (doc: unknown): string[] => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

/** KEY=VALUE lines of an env file (comments and blanks skipped). */
function envFile(relative: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of read(relative).split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** What the server in service `name` is configured with: the image's ENV, the env file, environment, command. */
function configOf(name: string) {
  const s = compose.services[name]!;
  // The env file is the operator's (deploy/secret.env, not in git): the example stands for it.
  const fromFile = envFile('deploy/secret.env.example');
  return loadConfig(s.command ?? [], { ...fromFile, ...s.environment });
}

describe('deploy/compose.yaml', () => {
  test('is valid against the compose-spec schema', () => {
    expect(errorsOf(compose)).toEqual([]);
  });

  test('the schema says no to a broken file (so the check above can fail)', () => {
    const broken = structuredClone(compose) as any;
    broken.services.n1.ports = 7001;
    broken.services.n2.restart_policy = 'always';
    const errors = errorsOf(broken);
    expect(errors.some((e) => e.startsWith('/services/n1/ports'))).toBe(true);
    expect(errors.some((e) => e.includes('must NOT have additional properties'))).toBe(true);
  });

  const voters = Object.entries(compose.services).filter(([, s]) => !s.profiles).map(([n]) => n);

  test('three nodes by default, a fourth only in the "grow" profile', () => {
    expect(voters).toEqual(['n1', 'n2', 'n3']);
    expect(compose.services['n4']?.profiles).toEqual(['grow']);
  });

  test.each(voters)('%s: the server accepts its settings; its peers are the other services, by name', (name) => {
    const cfg = configOf(name);
    // nN listens on 700N, the port its URL names (and the host publishes).
    const urlOf = (v: string) => `http://${v}:${7000 + Number(v.slice(1))}`;
    expect(cfg.id).toBe(name);
    expect(cfg.listen).toEqual({ host: '0.0.0.0', port: 7000 + Number(name.slice(1)) });
    expect(cfg.selfUrl).toBe(urlOf(name));
    expect(cfg.peers).toEqual(Object.fromEntries(voters.filter((v) => v !== name).map((v) => [v, urlOf(v)])));
  });

  test('n4 joins through n1 as a learner, at its own service name', () => {
    expect(configOf('n4')).toMatchObject({ id: 'n4', join: 'http://n1:7001', learner: true, selfUrl: 'http://n4:7004', listen: { port: 7004 }, peers: {} });
  });

  test.each(Object.keys(compose.services))('%s: client port on 127.0.0.1 only, its own named volume, a /healthz check, the secret from the env file', (name) => {
    const s = compose.services[name]!;
    const n = Number(name.slice(1));
    expect(s.ports).toEqual([`127.0.0.1:${7000 + n}:${7000 + n}`]);
    expect(s.volumes).toEqual([`${name}-data:/var/lib/raftkit`]);
    expect(Object.keys(compose.volumes)).toContain(`${name}-data`);
    expect(s.healthcheck?.test.join(' ')).toContain('/healthz');
    expect(s.env_file?.map((f) => f.path)).toEqual(['secret.env']);
    expect(s.environment?.['RAFTKIT_SECRET']).toBeUndefined();
  });

  test('the secret file stays out of git and out of the image', () => {
    expect(read('deploy/.gitignore').split('\n')).toContain('secret.env');
    expect(read('.dockerignore').split('\n')).toContain('deploy/secret.env');
    expect(Buffer.byteLength(envFile('deploy/secret.env.example')['RAFTKIT_SECRET'] ?? '')).toBeGreaterThanOrEqual(16);
  });
});
