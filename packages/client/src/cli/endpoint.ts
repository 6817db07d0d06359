import type { EndpointReport } from '../types.js';
import type { Command, CommandContext } from './command.js';
import { Exit, printJson, printTable } from './output.js';

/** 0 when every endpoint answered, 3 when none did, else 1. */
function exitOf(reports: readonly EndpointReport<unknown>[]): number {
  const bad = reports.filter((r) => !r.ok).length;
  return bad === 0 ? Exit.Ok : bad === reports.length ? Exit.Unavailable : Exit.Refused;
}

async function report<R>(ctx: CommandContext, probe: (endpoint: string) => Promise<R>): Promise<EndpointReport<R>[]> {
  const reports = await ctx.client().probeAll(probe);
  for (const r of reports) if (!r.ok && !ctx.json) ctx.io.stderr(`Error: ${r.error.code}: ${r.endpoint}: ${r.error.message}\n`);
  return reports;
}

export const endpointCommands: Command[] = [
  {
    path: ['endpoint', 'status'],
    usage: 'endpoint status',
    summary: "each endpoint's id, role, term, leader, commit and applied index (exit 1 if one did not answer, 3 if none did)",
    arity: [0, 0],
    async run(ctx) {
      const client = ctx.client();
      const reports = await report(ctx, (endpoint) => client.status({ endpoint, signal: ctx.signal }));
      if (ctx.json) printJson(ctx.io, reports);
      else {
        printTable(ctx.io, ['ENDPOINT', 'ID', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'SNAPSHOT'], reports.map((r) =>
          r.ok ? [r.endpoint, r.result.id, r.result.role, String(r.result.term), r.result.leader ?? '-', String(r.result.commitIndex), String(r.result.appliedIndex), String(r.result.snapshotIndex)] : [r.endpoint, '-', 'unreachable', '-', '-', '-', '-', '-']));
      }
      return exitOf(reports);
    },
  },
  {
    path: ['endpoint', 'health'],
    usage: 'endpoint health',
    summary: 'whether each endpoint is healthy (/healthz), and how long it took (exit 1 if one is not, 3 if none is)',
    arity: [0, 0],
    async run(ctx) {
      const client = ctx.client();
      const reports = await report(ctx, (endpoint) => client.health({ endpoint, signal: ctx.signal }));
      if (ctx.json) printJson(ctx.io, reports.map((r) => ({ endpoint: r.endpoint, health: r.ok, tookMs: r.tookMs, ...(r.ok ? {} : { error: r.error }) })));
      else printTable(ctx.io, ['ENDPOINT', 'HEALTHY', 'TOOK', 'ERROR'], reports.map((r) => [r.endpoint, String(r.ok), `${r.tookMs}ms`, r.ok ? '' : r.error.code]));
      return exitOf(reports);
    },
  },
];
