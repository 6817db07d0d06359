// deploy/Dockerfile has what the deployment relies on, read by a small parser (no container
// engine here). Its HEALTHCHECK command is run for real against a real server.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { envOf, execForm, parseDockerfile, type Instruction } from './helpers/dockerfile.js';
import { read, yamlFile } from './helpers/deployFiles.js';
import { startServer, type RealServer } from './helpers/realServer.js';

const all = parseDockerfile(read('deploy/Dockerfile'));
const froms = all.filter((i) => i.keyword === 'FROM');
const final = froms.at(-1)!.stage;
const inStage = (stage: string | null, keyword: string): Instruction[] => all.filter((i) => i.stage === stage && i.keyword === keyword);
const runtimeEnv = Object.assign({}, ...inStage(final, 'ENV').map((i) => envOf(i.args))) as Record<string, string>;

describe('the parser', () => {
  test('joins continued lines, drops comments, names stages', () => {
    const p = parseDockerfile('# c\nFROM a AS one\nRUN x \\\n  && y\n# between\nFROM one\nENV A=1 B="two words"\n');
    expect(p).toEqual([
      { keyword: 'FROM', args: 'a AS one', stage: 'one' },
      { keyword: 'RUN', args: 'x && y', stage: 'one' },
      { keyword: 'FROM', args: 'one', stage: '1' },
      { keyword: 'ENV', args: 'A=1 B="two words"', stage: '1' },
    ]);
    expect(envOf('A=1 B="two words"')).toEqual({ A: '1', B: 'two words' });
    expect(() => parseDockerfile('RUN a \\')).toThrow(/continued line/);
  });
});

describe('deploy/Dockerfile', () => {
  test('multi-stage: a build stage and a runtime stage, both node:20-slim', () => {
    expect(froms.map((f) => f.stage)).toEqual(['build', 'runtime']);
    const arg = all.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    expect(arg?.args).toBe('NODE_IMAGE=node:20-slim');
    for (const f of froms) expect(f.args).toMatch(/^\$\{NODE_IMAGE\} AS /);
  });

  test('builds with pnpm 12.4.2 from the lockfile, then a production-only deploy of the server', () => {
    const runs = inStage('build', 'RUN').map((i) => i.args).join('\n');
    expect(runs).toContain('npm i -g pnpm@12.4.2');
    expect(runs).not.toMatch(/corepack/);
    expect(runs).toMatch(/pnpm install .*--frozen-lockfile/);
    expect(runs).toMatch(/pnpm --filter @raftkit\/server deploy --prod /);
    expect(inStage(final, 'COPY').every((c) => c.args.startsWith('--from=build '))).toBe(true);
    expect(read('package.json')).toContain('"packageManager": "pnpm@12.4.2"');
  });

  test('runs as a non-root user with its data on a volume', () => {
    const user = inStage(final, 'USER');
    expect(user).toHaveLength(1);
    expect(user[0]!.args.split(':')[0]).not.toMatch(/^(root|0)$/);
    const volumes = inStage(final, 'VOLUME').flatMap((v) => execForm(v.args) ?? v.args.split(/\s+/));
    expect(volumes).toContain(runtimeEnv['RAFTKIT_DATA']);
  });

  test('exposes the port it listens on, and starts raftkit-server', () => {
    const port = runtimeEnv['RAFTKIT_LISTEN']!.split(':').pop();
    expect(inStage(final, 'EXPOSE').map((e) => e.args)).toEqual([port]);
    expect(execForm(inStage(final, 'ENTRYPOINT')[0]!.args)).toEqual(['raftkit-server']);
    expect(inStage(final, 'RUN').map((r) => r.args).join('\n')).toMatch(/ln -s \/opt\/raftkit\/server\/dist\/cli\.js \/usr\/local\/bin\/raftkit-server/);
  });

  test('the HEALTHCHECK asks /healthz with node (the slim image has no curl)', () => {
    const hc = inStage(final, 'HEALTHCHECK');
    expect(hc).toHaveLength(1);
    const cmd = execForm(hc[0]!.args.replace(/^.*?\bCMD\s+/, ''))!;
    expect(cmd[0]).toBe('node');
    expect(cmd.join(' ')).toContain('/healthz');
    expect(cmd.join(' ')).not.toMatch(/curl|wget/);
  });
});

describe('the health checks, run against a real server', () => {
  let server: RealServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.stop());

  const dockerCheck = () => execForm(inStage(final, 'HEALTHCHECK')[0]!.args.replace(/^.*?\bCMD\s+/, ''))!;
  const run = (cmd: string[], env: Record<string, string>) => spawnSync(process.execPath, cmd.slice(1), { env: { PATH: process.env['PATH'], ...env }, timeout: 10_000 }).status;

  test("the image's check passes on the port of RAFTKIT_LISTEN, and fails where nothing answers", async () => {
    expect(run(dockerCheck(), { RAFTKIT_LISTEN: `127.0.0.1:${server.port}` })).toBe(0);
    expect(run(dockerCheck(), { RAFTKIT_LISTEN: '127.0.0.1:1' })).toBe(1);
  });

  test("compose's check is the image's script, and passes for a node listening where RAFTKIT_LISTEN says", () => {
    const compose = yamlFile('deploy/compose.yaml') as { services: Record<string, { healthcheck: { test: string[] }; environment: Record<string, string> }> };
    for (const s of Object.values(compose.services)) expect(s.healthcheck.test).toEqual(['CMD', ...dockerCheck()]);
    expect(run(dockerCheck(), { RAFTKIT_LISTEN: compose.services['n1']!.environment['RAFTKIT_LISTEN']!.replace(/:\d+$/, `:${server.port}`) })).toBe(0);
  });
});
