import { type Command, intArg } from './command.js';
import { printJson, valueText } from './output.js';

export const watchCommands: Command[] = [
  {
    path: ['watch'],
    usage: 'watch KEY [--prefix] [--from-revision N] [--prev-value]',
    summary: 'print each change of KEY (or of every key starting with KEY, with --prefix) as it commits, one line per event ("REVISION PUT key value", "REVISION DELETE key"); runs until Ctrl-C',
    arity: [1, 1],
    options: { prefix: { type: 'boolean' }, 'from-revision': { type: 'string' }, 'prev-value': { type: 'boolean' } },
    async run(ctx) {
      const from = ctx.flags['from-revision'] === undefined ? undefined : intArg(ctx.flags['from-revision'] as string, '--from-revision');
      const target = ctx.flags['prefix'] ? { prefix: ctx.args[0]! } : { key: ctx.args[0]! };
      const events = ctx.client().watch({ ...target, signal: ctx.signal, prevValue: ctx.flags['prev-value'] === true, ...(from !== undefined ? { fromRevision: from } : {}) });
      for await (const ev of events) {
        if (ctx.json) {
          printJson(ctx.io, ev);
          continue;
        }
        const text = (v: unknown) => {
          const t = valueText(v as never);
          return typeof t === 'string' ? t : `(${t.length} bytes)`;
        };
        const prev = ev.prevValue !== undefined ? ` (was ${text(ev.prevValue)})` : '';
        ctx.io.stdout(ev.type === 'put' ? `${ev.revision} PUT ${ev.key} ${text(ev.value)}${prev}\n` : `${ev.revision} DELETE ${ev.key}${prev}\n`);
      }
    },
  },
];
