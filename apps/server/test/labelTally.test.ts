import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { LabelTally } from '../src/labelTally.js';

/** The samples of `name` in the registry's exposition text, as an operator scrapes them. */
async function samples(registry: Registry, name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await registry.metrics()).split('\n')) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m) out[m[1] ?? ''] = Number(m[2]);
  }
  return out;
}

describe('LabelTally', () => {
  test('two labels: every count under its own labels, in the scrape and in get(), growing across scrapes', async () => {
    const registry = new Registry();
    const t = new LabelTally<string, number>({ name: 'x_requests_total', help: 'h', labelNames: ['route', 'status'], registers: [registry] });
    expect(await samples(registry, 'x_requests_total')).toEqual({});
    t.add('get', 200);
    t.add('get', 200);
    t.add('get', 404);
    t.add('put', 200, 5);
    expect(await samples(registry, 'x_requests_total')).toEqual({ '{route="get",status="200"}': 2, '{route="get",status="404"}': 1, '{route="put",status="200"}': 5 });
    t.add('get', 200);
    expect(await samples(registry, 'x_requests_total')).toEqual({ '{route="get",status="200"}': 3, '{route="get",status="404"}': 1, '{route="put",status="200"}': 5 });
    const values = (await t.counter.get()).values.map((v) => [v.labels, v.value]);
    expect(values).toEqual([
      [{ route: 'get', status: '200' }, 3],
      [{ route: 'get', status: '404' }, 1],
      [{ route: 'put', status: '200' }, 5],
    ]);
  });

  test('one label', async () => {
    const registry = new Registry();
    const t = new LabelTally<string>({ name: 'x_proposals_total', help: 'h', labelNames: ['outcome'], registers: [registry] });
    t.add('ok');
    t.add('ok');
    expect(await samples(registry, 'x_proposals_total')).toEqual({ '{outcome="ok"}': 2 });
  });
});
