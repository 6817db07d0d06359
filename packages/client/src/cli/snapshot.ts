import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Command } from './command.js';
import { printJson } from './output.js';

export const snapshotCommands: Command[] = [
  {
    path: ['snapshot', 'save'],
    usage: 'snapshot save FILE',
    summary: "take a snapshot on a node and save it as a backup file (fsync'd; restore it with raftkit-server restore)",
    arity: [1, 1],
    async run(ctx) {
      const file = ctx.args[0]!;
      const dl = await ctx.client().snapshotSave({ signal: ctx.signal, timeoutMs: Math.max(60_000, ctx.timeoutMs) });
      // Written beside the target, synced, then renamed and the directory synced: a crash
      // leaves the old file or the whole new one, never a torn backup under FILE.
      const part = join(dirname(file), `.${basename(file)}.part`);
      const fh = await open(part, 'w');
      let bytes = 0;
      try {
        for await (const chunk of dl) {
          await fh.write(chunk);
          bytes += chunk.length;
        }
        await fh.sync();
      } catch (err) {
        await fh.close();
        await rm(part, { force: true });
        throw err;
      }
      await fh.close();
      await rename(part, file);
      const dir = await open(dirname(file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      if (ctx.json) printJson(ctx.io, { file, bytes, index: dl.index, term: dl.term, sha256: dl.sha256, endpoint: dl.endpoint });
      else ctx.io.stdout(`Snapshot saved at ${file} (index ${dl.index}, term ${dl.term}, ${bytes} bytes, from ${dl.endpoint})\n`);
    },
  },
];
