import { type Command, durationMs, intArg } from './command.js';
import { printJson, printTable } from './output.js';

export const leaseCommands: Command[] = [
  {
    path: ['lease', 'grant'],
    usage: 'lease grant TTL',
    summary: 'grant a lease (TTL: 10s, 500ms, 2m, or plain seconds); prints its id',
    arity: [1, 1],
    async run(ctx) {
      const r = await ctx.client().grantLease(durationMs(ctx.args[0], 'TTL'), { signal: ctx.signal });
      if (ctx.json) printJson(ctx.io, r);
      else ctx.io.stdout(`lease ${r.id} granted with TTL ${r.ttlMs}ms\n`);
    },
  },
  {
    path: ['lease', 'keep-alive'],
    usage: 'lease keep-alive ID [--once]',
    summary: 'keep a lease alive until Ctrl-C (a line per renewal), or renew it once with --once',
    arity: [1, 1],
    options: { once: { type: 'boolean' } },
    async run(ctx) {
      const id = intArg(ctx.args[0], 'lease ID');
      const print = (r: { id: number; ttlMs: number }) => (ctx.json ? printJson(ctx.io, r) : ctx.io.stdout(`lease ${r.id} kept alive, TTL ${r.ttlMs}ms\n`));
      if (ctx.flags['once']) {
        print(await ctx.client().keepAlive(id, { signal: ctx.signal }));
        return;
      }
      await ctx.client().keepAliveLoop(id, { signal: ctx.signal, onRenew: print });
    },
  },
  {
    path: ['lease', 'revoke'],
    usage: 'lease revoke ID',
    summary: 'revoke a lease, deleting every key attached to it',
    arity: [1, 1],
    async run(ctx) {
      const r = await ctx.client().revokeLease(intArg(ctx.args[0], 'lease ID'), { signal: ctx.signal });
      if (ctx.json) printJson(ctx.io, r);
      else ctx.io.stdout(r.revoked ? `lease ${ctx.args[0]} revoked (${r.deleted} keys deleted)\n` : `lease ${ctx.args[0]} was not there\n`);
    },
  },
  {
    path: ['lease', 'list'],
    usage: 'lease list',
    summary: 'list the leases with their remaining and granted TTL',
    arity: [0, 0],
    async run(ctx) {
      const l = await ctx.client().leases({ signal: ctx.signal });
      if (ctx.json) printJson(ctx.io, { leases: l });
      else printTable(ctx.io, ['ID', 'TTL(ms)', 'GRANTED(ms)'], l.map((x) => [String(x.id), String(x.ttlMs), String(x.grantedTtlMs)]));
    },
  },
];
