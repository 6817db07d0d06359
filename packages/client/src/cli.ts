#!/usr/bin/env node
// The `raftkit` command-line client (see README.md, "CLI").
import { runCli } from './cli/main.js';

const ctl = new AbortController();
let signals = 0;
const stop = (): void => {
  // The first Ctrl-C ends the command (a watch or keep-alive returns; a request is aborted);
  // a second one exits at once.
  if (++signals > 1) process.exit(130);
  ctl.abort(new Error('interrupted'));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const code = await runCli(process.argv.slice(2), {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return new Uint8Array(Buffer.concat(chunks));
  },
  env: process.env,
}, ctl.signal);
process.exitCode = code;
// Let stdout drain, then leave even if a socket of the keep-alive pool lingers.
process.stdout.write('', () => process.exit(code));
