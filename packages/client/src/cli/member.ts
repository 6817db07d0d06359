import type { Membership } from '../types.js';
import { type Command, type CommandContext, UsageError } from './command.js';
import { printJson, printTable } from './output.js';

function printMembers(ctx: CommandContext, m: Membership): void {
  if (ctx.json) {
    printJson(ctx.io, m);
    return;
  }
  printTable(ctx.io, ['ID', 'ROLE', 'URL', 'LEADER'], m.members.map((x) => [x.id, x.outgoing ? `${x.role} (outgoing)` : x.role, x.url ?? '-', x.id === m.leader ? 'yes' : '']));
}

export const memberCommands: Command[] = [
  {
    path: ['member', 'list'],
    usage: 'member list',
    summary: 'the members: id, role, URL, which one leads',
    arity: [0, 0],
    async run(ctx) {
      printMembers(ctx, await ctx.client().members({ signal: ctx.signal }));
    },
  },
  {
    path: ['member', 'add'],
    usage: 'member add ID URL [--learner]',
    summary: 'add a member (as a voter: a learner first, promoted once caught up; with --learner it stays one)',
    arity: [2, 2],
    options: { learner: { type: 'boolean' } },
    async run(ctx) {
      const [id, url] = ctx.args as [string, string];
      printMembers(ctx, await ctx.client().addMember({ id, url, role: ctx.flags['learner'] ? 'learner' : 'voter' }, { signal: ctx.signal }));
    },
  },
  {
    path: ['member', 'remove'],
    usage: 'member remove ID',
    summary: 'remove a member (the leader too)',
    arity: [1, 1],
    async run(ctx) {
      printMembers(ctx, await ctx.client().removeMember(ctx.args[0]!, { signal: ctx.signal }));
    },
  },
  {
    path: ['member', 'promote'],
    usage: 'member promote ID',
    summary: 'promote a learner to voter',
    arity: [1, 1],
    async run(ctx) {
      printMembers(ctx, await ctx.client().promoteMember(ctx.args[0]!, { signal: ctx.signal }));
    },
  },
  {
    path: ['leader', 'transfer'],
    usage: 'leader transfer [ID]',
    summary: 'hand leadership to ID (default: the most up-to-date voter); prints the new leader',
    arity: [0, 1],
    async run(ctx) {
      const to = ctx.args[0];
      if (to === '') throw new UsageError('the target id is empty');
      const r = await ctx.client().transferLeader(to, { signal: ctx.signal });
      if (ctx.json) printJson(ctx.io, r);
      else ctx.io.stdout(`leader: ${r.leader}\n`);
    },
  },
];
