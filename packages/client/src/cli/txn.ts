import { readFile } from 'node:fs/promises';
import type { TxnRequest } from '../types.js';
import { type Command, UsageError } from './command.js';
import { printJson, valueText } from './output.js';

export const txnCommands: Command[] = [
  {
    path: ['txn'],
    usage: 'txn [FILE|-]',
    summary: 'run a transaction given as JSON ({ "compare": [...], "success": [...], "failure": [...] }) from FILE or stdin; prints SUCCEEDED or FAILED and each result',
    arity: [0, 1],
    async run(ctx) {
      const src = ctx.args[0] ?? '-';
      const text = new TextDecoder().decode(src === '-' ? await ctx.io.readStdin() : await readFile(src));
      let request: TxnRequest;
      try {
        request = JSON.parse(text) as TxnRequest;
      } catch {
        throw new UsageError(`the txn in ${src === '-' ? 'stdin' : src} is not JSON`);
      }
      if (!request || !Array.isArray(request.compare) || !Array.isArray(request.success) || !Array.isArray(request.failure)) {
        throw new UsageError('a txn is a JSON object { "compare": [...], "success": [...], "failure": [...] }');
      }
      const r = await ctx.client().txn(request, { signal: ctx.signal });
      if (ctx.json) {
        printJson(ctx.io, r);
        return;
      }
      ctx.io.stdout(`${r.succeeded ? 'SUCCEEDED' : 'FAILED'}\n`);
      for (const x of r.results) {
        if (x.op === 'put') ctx.io.stdout('OK\n');
        else if (x.op === 'delete') ctx.io.stdout(`${x.deleted ? 1 : 0}\n`);
        else if (x.op === 'get') {
          if (x.value !== null) {
            ctx.io.stdout(valueText(x.value));
            ctx.io.stdout('\n');
          }
        } else for (const e of x.entries) {
          ctx.io.stdout(`${e.key}\n`);
          ctx.io.stdout(valueText(e.value));
          ctx.io.stdout('\n');
        }
      }
    },
  },
];
