/**
 * The dashboard (issue 15): GET /v1/dashboard's shape on a leader and a follower, the /ui
 * files (types, caching, nothing outside apps/server/ui), and the page itself in headless
 * Chromium (Debian's /usr/bin/chromium driven by playwright-core) against a real 3-node
 * cluster: opened on a follower, it shows the leader and the three members; after a SIGKILL
 * of the leader it shows the new leader and the old one unreachable within seconds, then a
 * learner joining as it happens; it asks nothing of any origin but its own. Then a cluster
 * whose member URLs are host names only the servers resolve (a StatefulSet's pod names, seen
 * from a browser behind a port-forward): the page shows every member live, through its node.
 *
 * DASHBOARD_SCREENSHOT=1 also writes the screenshot to apps/server/docs/dashboard.png (the
 * README shows it); otherwise it goes to a temp directory only, so CI leaves the tree clean.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanEnv, Cluster, fastTiming, freePorts, ServerNode } from './helpers/cluster.js';
import { getKey, putJson, send } from './helpers/http.js';
import { waitFor } from './helpers/poll.js';

/** What the page functions below use of the DOM (they run in Chromium; this compile has no DOM types). */
interface PageElement {
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
}
declare const document: {
  getElementById(id: string): PageElement | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { readonly length: number };
};

const CHROMIUM = '/usr/bin/chromium';
// Names under .raftkit-test never resolve in the browser (and no DNS query leaves for them);
// the servers of the second cluster resolve them (helpers/lateDns.mjs).
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP *.raftkit-test ~NOTFOUND'];
const lateDns = fileURLToPath(new URL('./helpers/lateDns.mjs', import.meta.url));

/** A missing browser fails the test that needs it (a failing hook would only skip it). */
async function launch(profile: string): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard's browser test needs Debian's chromium (apt-get install -y chromium; .ci/run installs it)`);
  }
  return chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1360, height: 1000 } });
}

/** Every URL the page requests (navigations, scripts, fetches), to check their origins. */
function recordRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  return urls;
}

/** The URLs among `urls` whose origin is not `origin` (data: URLs have none and are fine). */
const foreign = (urls: readonly string[], origin: string): string[] => urls.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin);
const screenshotTarget = fileURLToPath(new URL('../docs/dashboard.png', import.meta.url));

/** A raw GET with the path exactly as given (fetch would normalize `..` away). */
function rawGet(port: number, path: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }));
    });
    req.on('error', reject);
    req.end();
  });
}

let cluster: Cluster;
let leader: ServerNode;
let follower: ServerNode;

beforeAll(async () => {
  cluster = await Cluster.start();
  leader = await cluster.leader();
  follower = cluster.nodes.find((n) => n !== leader)!;
});

afterAll(async () => {
  await cluster?.stop();
});

describe('GET /v1/dashboard', () => {
  test("the leader's and a follower's view: members, replication state, history, rates, storage", async () => {
    for (let i = 0; i < 20; i++) expect((await putJson(follower.url, `shape-${i}`, i)).status).toBe(200);
    // The leader's next one-second samples count those writes and time them.
    let seen: unknown = null;
    const lead = await waitFor('a leader sample with writes and a commit latency', async () => {
      const r = await send(`${leader.url}/v1/dashboard`);
      const b = r.json;
      seen = { role: b.role, term: b.term, samples: b.rates.samples };
      return b.rates.samples.some((s: { writes: number; commitP50Ms: number | null }) => s.writes > 0 && s.commitP50Ms !== null) ? r : null;
    }, { timeoutMs: 10_000 }).catch((err) => {
      throw new Error(`${err.message}; the leader's last answer: ${JSON.stringify(seen)}`);
    });
    expect(lead.status).toBe(200);
    // The page asks its own node for every member: no other origin needs to read this.
    expect(lead.headers.get('access-control-allow-origin')).toBeNull();
    expect(lead.headers.get('cache-control')).toBe('no-store');
    const b = lead.json;
    expect(b).toMatchObject({ id: leader.id, role: 'leader', leader: leader.id, leaderUrl: leader.url, running: true, membership: { committed: true, joint: false } });
    for (const k of ['now', 'startedAt', 'term', 'commitIndex', 'appliedIndex', 'lastIndex', 'firstIndex', 'snapshotIndex', 'elections', 'leaderChanges']) expect(typeof b[k], k).toBe('number');
    expect(b.commitIndex).toBeGreaterThanOrEqual(20);
    expect(b.members.map((m: { id: string }) => m.id)).toEqual(['n1', 'n2', 'n3']);
    for (const m of b.members) {
      expect(m).toMatchObject({ role: 'voter', outgoing: false, self: m.id === leader.id, url: cluster.node(m.id).url });
      expect(['probe', 'replicate', 'snapshot']).toContain(m.state);
      expect(m.match).toBeGreaterThan(0);
      expect(m.lag).toBe(Math.max(0, b.lastIndex - m.match));
      expect(typeof m.backoffMs).toBe('number');
    }
    expect(b.storage.logEntries).toBe(b.lastIndex - b.firstIndex + 1);
    expect(b.storage.dbBytes).toBeGreaterThan(0);
    // No snapshot until one is taken; then each node reports its own (POST /v1/snapshot acts on the node asked).
    expect(b.storage.snapshot).toBeNull();
    for (const n of cluster.nodes) {
      const taken = await send(`${n.url}/v1/snapshot`, { method: 'POST' });
      expect(taken.status).toBe(200);
      const after = (await send(`${n.url}/v1/dashboard`)).json;
      expect(after.storage.snapshot).toEqual({ index: taken.json.index, term: taken.json.term, bytes: taken.json.size });
      expect(after.snapshotIndex).toBe(taken.json.index);
    }
    // History: the state at start first, then this node's election win as the last state.
    const states = b.history.states;
    expect(states.length).toBeGreaterThanOrEqual(2);
    expect(states.at(-1)).toMatchObject({ role: 'leader', term: b.term, leader: leader.id });
    for (let i = 1; i < states.length; i++) expect(states[i].at).toBeGreaterThanOrEqual(states[i - 1].at);
    expect(b.history.memberships[0]).toMatchObject({ index: 0, voters: ['n1', 'n2', 'n3'], learners: [] });
    expect(b.rates.intervalMs).toBe(1000);
    const s = b.rates.samples.at(-1);
    for (const k of ['at', 'writes', 'reads', 'commits']) expect(typeof s[k], k).toBe('number');

    const f = (await send(`${follower.url}/v1/dashboard`)).json;
    expect(f).toMatchObject({ id: follower.id, role: 'follower', leader: leader.id, leaderUrl: leader.url });
    // Only a leader tracks its followers' progress.
    for (const m of f.members) expect(m).toMatchObject({ match: null, lag: null, state: null });
    expect(f.history.states.at(-1)).toMatchObject({ role: 'follower', leader: leader.id, term: b.term });
  });

  test('GET only (the member route too), and no CORS header', async () => {
    for (const path of ['/v1/dashboard', `/v1/dashboard/members/${leader.id}`]) {
      const post = await send(`${follower.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(post.status, path).toBe(404);
      expect(post.json.error.code, path).toBe('SERVER_NOT_FOUND');
    }
    const proxied = await send(`${follower.url}/v1/dashboard/members/${leader.id}`);
    expect([proxied.status, proxied.json.id, proxied.headers.get('access-control-allow-origin')]).toEqual([200, leader.id, null]);
  });
});

describe('/ui files', () => {
  test('index, scripts and styles with their types; no-cache with an ETag; /ui redirects to /ui/', async () => {
    const redirect = await send(`${follower.url}/ui`);
    expect(redirect.status).toBe(308);
    expect(new URL(redirect.headers.get('location')!, `${follower.url}/ui`).pathname).toBe('/ui/');
    const index = await send(`${follower.url}/ui/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    // The page may fetch from its own node only (it asks it for the other members).
    expect(index.headers.get('content-security-policy')).toContain("connect-src 'self';");
    expect(index.text).toContain('<script type="module" src="main.js">');
    const etag = index.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect((await send(`${follower.url}/ui/`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const js = await send(`${follower.url}/ui/main.js`);
    expect([js.status, js.headers.get('content-type'), js.headers.get('x-content-type-options')]).toEqual([200, 'text/javascript; charset=utf-8', 'nosniff']);
    const css = await send(`${follower.url}/ui/dashboard.css`);
    expect([css.status, css.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
    // No network at run time: nothing in the page names another host.
    for (const f of [index.text, js.text, css.text]) expect(f).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  test('serves no file outside apps/server/ui, however the path is spelled', async () => {
    const paths = [
      '/ui/../package.json',
      '/ui/..%2fpackage.json',
      '/ui/%2e%2e/package.json',
      '/ui/%2e%2e%2fpackage.json',
      '/ui/%2E%2E%2Fpackage.json',
      '/ui/..%5cpackage.json',
      '/ui/%252e%252e%252fpackage.json',
      '/ui/....//package.json',
      '/ui//etc/passwd',
      '/ui/%2fetc%2fpasswd',
      '/ui/../src/server.ts',
      '/ui/../../../package.json',
      '/ui/..',
      '/ui/.',
      '/ui/main.js%00.html',
      '/ui/main.js/',
      '/ui/nope.js',
    ];
    for (const path of paths) {
      const r = await rawGet(follower.port, path);
      expect(r.status, path).toBe(404);
      expect(r.type, path).toContain('application/json');
      expect(JSON.parse(r.body).error.code, path).toBe('SERVER_NOT_FOUND');
      expect(r.body, path).not.toContain('@raftkit/server');
    }
  });
});

describe('the page in headless Chromium', () => {
  let profile: string;
  let context: BrowserContext | undefined;

  beforeAll(() => {
    profile = mkdtempSync(join(tmpdir(), 'raftkit-dashboard-chromium-'));
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  test("served by a follower: shows the leader and three members, then the new leader and the old one unreachable after its SIGKILL", async () => {
    // In the test itself, not a hook: a missing browser must count as a failed test, not a skipped one.
    context = await launch(profile);
    const page: Page = context.pages()[0] ?? (await context.newPage());
    const requested = recordRequests(page);
    const pageErrors: string[] = [];
    let joiner: ServerNode | undefined;
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));

    // Writes through the follower (it forwards them) and reads from it while the page watches, for the charts.
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await putJson(follower.url, `ui-${i % 50}`, i).catch(() => undefined);
        await getKey(follower.url, `ui-${i % 50}`).catch(() => undefined);
      }
    })();
    try {
      await page.goto(`${follower.url}/ui`);
      expect(new URL(page.url()).pathname).toBe('/ui/');
      await page.waitForFunction((id) => document.querySelectorAll('#members-body tr[data-reachable="true"]').length === 3
        && document.getElementById('leader-id')?.textContent === id
        && document.getElementById('leader-id')?.dataset['confirmed'] === 'true', leader.id, { timeout: 10_000 });
      expect(await page.textContent('#served-by')).toBe(follower.id);
      expect(await page.getAttribute(`#members-body tr[data-node="${leader.id}"]`, 'data-role')).toBe('leader');
      expect(await page.locator('#members-body tr[data-role="follower"]').count()).toBe(2);
      // The leader's view fills the replication columns of the followers.
      expect(await page.textContent(`#members-body tr[data-node="${follower.id}"] .repl`)).toMatch(/^(replicate|probe)$/);
      await page.waitForFunction(() => Number(document.querySelector('#chart-writes svg')?.getAttribute('data-max')) > 0, undefined, { timeout: 10_000 });

      const old = leader;
      const killedAt = Date.now();
      await old.kill('SIGKILL');
      const shown = await page.waitForFunction((oldId) => {
        const id = document.getElementById('leader-id');
        const row = document.querySelector(`#members-body tr[data-node="${oldId}"]`);
        const ok = id && id.textContent !== oldId && id.textContent !== 'none' && id.dataset['confirmed'] === 'true'
          && row?.getAttribute('data-reachable') === 'false' && /unreachable for \d+/.test(row.textContent ?? '');
        return ok ? id.textContent : null;
      }, old.id, { timeout: 10_000 });
      const failoverMs = Date.now() - killedAt;
      const newLeader = await cluster.leader({ minTerm: 1 });
      expect(await shown.jsonValue()).toBe(newLeader.id);
      expect(await page.getAttribute(`#members-body tr[data-node="${old.id}"]`, 'class')).toContain('unreachable');
      process.stderr.write(`dashboard: new leader ${newLeader.id} shown ${failoverMs} ms after the SIGKILL of ${old.id}\n`);
      // The timeline has both leaders, and the old one's lane its unreachable stretch.
      await page.waitForFunction(([a, b]) => !!document.querySelector(`svg.timeline rect[data-leader="${a}"]`) && !!document.querySelector(`svg.timeline rect[data-leader="${b}"]`)
        && !!document.querySelector('svg.timeline .unreachable-seg'), [old.id, newLeader.id], { timeout: 5000 });
      expect(await page.textContent('#events')).toContain(`${old.id} does not answer`);

      // A membership change as it happens: a learner joins through the new leader.
      const [port] = await freePorts(1);
      joiner = new ServerNode('n4', port!, cluster.root, ['--id', 'n4', '--listen', `127.0.0.1:${port}`, '--join', newLeader.url, '--learner', '--data', join(cluster.root, 'n4'), ...fastTiming], cleanEnv());
      joiner.start();
      await page.waitForFunction(() => document.querySelector('#members-body tr[data-node="n4"]')?.getAttribute('data-reachable') === 'true'
        && /\+n4 \(learner\)/.test(document.getElementById('membership')?.textContent ?? '')
        && /n4 joined as learner/.test(document.getElementById('events')?.textContent ?? ''), undefined, { timeout: 15_000 });
      expect(await page.textContent('#members-body tr[data-node="n4"]')).toContain('learner');
      // For the picture: the new leader's writes on the chart.
      await page.waitForFunction(() => /[1-9]/.test(document.getElementById('writes-now')?.textContent ?? ''), undefined, { timeout: 10_000 });
      expect(pageErrors).toEqual([]);
      // Every member, the dead one and the learner included, was asked through the follower.
      expect(requested.filter((u) => u.includes('/v1/dashboard/members/')).length).toBeGreaterThan(0);
      expect(foreign(requested, follower.url)).toEqual([]);

      const shot = join(profile, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
      if (process.env['DASHBOARD_SCREENSHOT'] === '1') {
        mkdirSync(join(screenshotTarget, '..'), { recursive: true });
        copyFileSync(shot, screenshotTarget);
        process.stderr.write(`dashboard: screenshot written to ${screenshotTarget}\n`);
      }
    } catch (err) {
      // What the page said and showed, to tell a dashboard bug from a cluster problem.
      process.stderr.write(`page errors: ${pageErrors.join('\n') || 'none'}\nconsole:\n${consoleLines.slice(-30).join('\n')}\nbody text:\n${(await page.textContent('body').catch(() => '')) ?? ''}\n`);
      throw err;
    } finally {
      writing = false;
      await writer;
      await joiner?.kill('SIGKILL');
    }
  });
});

describe('the page when the browser cannot resolve the members (a StatefulSet behind a port-forward)', () => {
  let root: string;
  const nodes: ServerNode[] = [];
  let context: BrowserContext | undefined;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'raftkit-dashboard-pods-'));
  });

  afterAll(async () => {
    await context?.close();
    await Promise.all(nodes.map((n) => n.kill('SIGKILL').catch(() => undefined)));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('every member live through the serving node, the leader and its SIGKILL shown, nothing asked of another origin', async () => {
    // Every node gets one --initial-cluster list of pod-like names; only the servers resolve them.
    const ports = await freePorts(3);
    const ids = ['n1', 'n2', 'n3'];
    const host = (id: string) => `${id}.pods.raftkit-test`;
    const hostsFile = join(root, 'hosts');
    writeFileSync(hostsFile, ids.map(host).join('\n') + '\n');
    const list = ids.map((id, i) => `${id}=http://${host(id)}:${ports[i]}`).join(',');
    const env = cleanEnv({ NODE_OPTIONS: `--import ${lateDns}`, LATE_DNS_HOSTS_FILE: hostsFile, RAFTKIT_INITIAL_CLUSTER: list });
    for (const [i, id] of ids.entries()) nodes.push(new ServerNode(id, ports[i]!, root, ['--id', id, '--listen', `127.0.0.1:${ports[i]}`, '--data', join(root, id), ...fastTiming], env));
    for (const n of nodes) n.start();
    const statuses = () => Promise.all(nodes.filter((n) => n.running).map(async (n) => ({ n, s: await n.status() })));
    const leaderOf = (minTerm: number) => waitFor(`a leader in term >= ${minTerm}`, async () => {
      const all = await statuses();
      const lead = all.find(({ s }) => s?.role === 'leader' && s.term >= minTerm);
      return lead && all.some(({ n, s }) => n !== lead.n && s?.leader === lead.n.id && s.term === lead.s!.term) ? lead : null;
    }, { timeoutMs: 20_000 });
    const first = await leaderOf(1);
    const serving = nodes.find((n) => n !== first.n)!;
    // The members' URLs are the pod names, here as in every member's own view.
    const view = (await send(`${serving.url}/v1/dashboard`)).json;
    expect(view.members.map((m: { url: string }) => m.url)).toEqual(ids.map((id, i) => `http://${host(id)}:${ports[i]}`));

    context = await launch(join(root, 'chromium'));
    // The browser really cannot reach them: a member's own URL does not resolve.
    const probe = await context.newPage();
    const unresolved = await probe.goto(`http://${host(first.n.id)}:${first.n.port}/v1/dashboard`).then(() => 'loaded', (e: Error) => e.message);
    expect(unresolved).toMatch(/ERR_NAME_NOT_RESOLVED/);
    await probe.close();

    const page = await context.newPage();
    const requested = recordRequests(page);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await page.goto(`${serving.url}/ui/`);
      await page.waitForFunction((id) => document.querySelectorAll('#members-body tr[data-reachable="true"]').length === 3
        && document.getElementById('leader-id')?.textContent === id
        && document.getElementById('leader-id')?.dataset['confirmed'] === 'true', first.n.id, { timeout: 10_000 });
      expect(await page.textContent(`#members-body tr[data-node="${first.n.id}"] .url`)).toBe(`http://${host(first.n.id)}:${first.n.port}`);
      expect(await page.textContent(`#members-body tr[data-node="${serving.id}"] .repl`)).toMatch(/^(replicate|probe)$/);

      // The leader dies: the serving node's 502 for it marks it unreachable, with the code.
      await first.n.kill('SIGKILL');
      const next = await leaderOf(first.s!.term + 1);
      await page.waitForFunction(([oldId, newId]) => {
        const row = document.querySelector(`#members-body tr[data-node="${oldId}"]`);
        return document.getElementById('leader-id')?.textContent === newId && document.getElementById('leader-id')?.dataset['confirmed'] === 'true'
          && row?.getAttribute('data-reachable') === 'false';
      }, [first.n.id, next.n.id], { timeout: 10_000 });
      expect(await page.getAttribute(`#members-body tr[data-node="${first.n.id}"] .badge`, 'title')).toMatch(new RegExp(`HTTP 502 SERVER_MEMBER_UNREACHABLE: member ${first.n.id} at http://${host(first.n.id).replaceAll('.', '\\.')}`));
      expect(await page.locator('#members-body tr[data-reachable="true"]').count()).toBe(2);
      expect(pageErrors).toEqual([]);
      expect(foreign(requested, serving.url)).toEqual([]);
    } catch (err) {
      process.stderr.write(`page errors: ${pageErrors.join('\n') || 'none'}\nrequests:\n${requested.slice(-20).join('\n')}\nbody text:\n${(await page.textContent('body').catch(() => '')) ?? ''}\n`);
      for (const n of nodes) process.stderr.write(`\n----- ${n.id} log tail -----\n${n.logTail(15)}\n`);
      throw err;
    }
  });
});
