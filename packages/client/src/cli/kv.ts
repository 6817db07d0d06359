import { readFile } from 'node:fs/promises';
import type { Consistency } from '../types.js';
import type { KvValue } from '../values.js';
import { type Command, type CommandContext, UsageError, intArg } from './command.js';
import { printJson, valueText } from './output.js';

const consistencies = new Set(['linearizable', 'lease', 'stale']);

function consistencyOf(ctx: CommandContext): Consistency | undefined {
  const c = ctx.flags['consistency'];
  if (c === undefined) return undefined;
  if (typeof c !== 'string' || !consistencies.has(c)) throw new UsageError(`--consistency must be linearizable, lease or stale, got ${JSON.stringify(c)}`);
  return c as Consistency;
}

async function valueOf(ctx: CommandContext): Promise<KvValue> {
  const file = ctx.flags['file'];
  const raw = ctx.args[1];
  if (typeof file === 'string') {
    if (raw !== undefined) throw new UsageError('give the value or --file, not both');
    return new Uint8Array(file === '-' ? await ctx.io.readStdin() : await readFile(file));
  }
  if (raw === undefined) throw new UsageError('put needs a value (or --file FILE, - for stdin)');
  if (ctx.flags['json-value']) {
    try {
      return JSON.parse(raw) as KvValue;
    } catch {
      throw new UsageError(`--json-value: ${JSON.stringify(raw)} is not JSON`);
    }
  }
  return raw;
}

function line(ctx: CommandContext, key: string, v: KvValue): void {
  if (!ctx.flags['print-value-only']) ctx.io.stdout(`${key}\n`);
  ctx.io.stdout(valueText(v));
  ctx.io.stdout('\n');
}

export const kvCommands: Command[] = [
  {
    path: ['put'],
    usage: 'put KEY [VALUE] [--json-value] [--file FILE|-] [--lease ID]',
    summary: 'write a key: VALUE as a string, parsed as JSON with --json-value, or bytes from --file; prints OK',
    arity: [1, 2],
    options: { 'json-value': { type: 'boolean' }, file: { type: 'string' }, lease: { type: 'string' } },
    async run(ctx) {
      const key = ctx.args[0]!;
      const value = await valueOf(ctx);
      const lease = ctx.flags['lease'] === undefined ? undefined : intArg(ctx.flags['lease'] as string, '--lease');
      const r = await ctx.client().put(key, value, { signal: ctx.signal, ...(lease !== undefined ? { lease } : {}) });
      if (ctx.json) printJson(ctx.io, r);
      else ctx.io.stdout('OK\n');
    },
  },
  {
    path: ['get'],
    usage: 'get KEY [--prefix] [--limit N] [--consistency linearizable|lease|stale] [--print-value-only]',
    summary: 'read a key (a missing key prints nothing and exits 0), or with --prefix every key starting with KEY',
    arity: [0, 1],
    options: { prefix: { type: 'boolean' }, limit: { type: 'string' }, consistency: { type: 'string' }, 'print-value-only': { type: 'boolean' } },
    async run(ctx) {
      const consistency = consistencyOf(ctx);
      const base = { signal: ctx.signal, ...(consistency ? { consistency } : {}) };
      if (ctx.flags['prefix']) {
        const limit = ctx.flags['limit'] === undefined ? undefined : intArg(ctx.flags['limit'] as string, '--limit');
        const r = await ctx.client().range(ctx.args[0] ?? '', { ...base, ...(limit !== undefined ? { limit } : {}) });
        if (ctx.json) printJson(ctx.io, r);
        else for (const e of r.entries) line(ctx, e.key, e.value);
        return;
      }
      if (ctx.args[0] === undefined) throw new UsageError('get needs a KEY (or --prefix)');
      if (ctx.flags['limit'] !== undefined) throw new UsageError('--limit goes with --prefix');
      const r = await ctx.client().get(ctx.args[0], base);
      if (ctx.json) printJson(ctx.io, r);
      else if (r.value !== null) line(ctx, r.key, r.value);
    },
  },
  {
    path: ['del'],
    usage: 'del KEY',
    summary: 'delete a key; prints 1 if it existed, else 0',
    arity: [1, 1],
    async run(ctx) {
      const r = await ctx.client().delete(ctx.args[0]!, { signal: ctx.signal });
      if (ctx.json) printJson(ctx.io, r);
      else ctx.io.stdout(`${r.deleted ? 1 : 0}\n`);
    },
  },
];
