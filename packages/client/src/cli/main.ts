import { parseArgs } from 'node:util';
import { RaftkitClient } from '../client.js';
import { type CliIo, type Command, type OptionsConfig, UsageError, durationMs } from './command.js';
import { endpointCommands } from './endpoint.js';
import { kvCommands } from './kv.js';
import { leaseCommands } from './lease.js';
import { memberCommands } from './member.js';
import { Exit, reportError } from './output.js';
import { snapshotCommands } from './snapshot.js';
import { txnCommands } from './txn.js';
import { watchCommands } from './watch.js';

export const commands: readonly Command[] = [...kvCommands, ...txnCommands, ...watchCommands, ...leaseCommands, ...memberCommands, ...endpointCommands, ...snapshotCommands];

export const DEFAULT_ENDPOINTS = 'http://127.0.0.1:7001,http://127.0.0.1:7002,http://127.0.0.1:7003';

const globalOptions: OptionsConfig = {
  endpoints: { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const valueOptions = new Set([...Object.entries(globalOptions), ...commands.flatMap((c) => Object.entries(c.options ?? {}))].filter(([, o]) => o.type === 'string').map(([k]) => `--${k}`));

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.usage.length));
  return [
    'raftkit: a command-line client for a raftkit cluster',
    '',
    'usage: raftkit COMMAND [ARGS] [--endpoints URL,URL,...] [--json] [--timeout 10s]',
    '',
    ...commands.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'global options:',
    `  --endpoints URL,...  the cluster's nodes (default $RAFTKIT_ENDPOINTS, else ${DEFAULT_ENDPOINTS})`,
    '  --json               machine-readable output (one JSON value per line)',
    '  --timeout D          deadline of the command, retries included (default 10s; not for watch and lease keep-alive)',
    '',
    'exit codes: 0 ok, 1 refused (the cluster said no), 2 usage error, 3 cluster unavailable (no endpoint answered, no leader), 4 outcome unknown (a write may or may not have applied), 130 interrupted',
    '',
  ].join('\n');
}

/** The command named by the first words of the command line that are not flags. */
function findCommand(argv: readonly string[]): { command: Command | null; words: string[] } {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (!a.includes('=') && valueOptions.has(a)) i++;
      continue;
    }
    words.push(a);
  }
  const command = commands.find((c) => c.path.every((w, i) => words[i] === w)) ?? null;
  return { command, words };
}

/** Runs one command line; resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo, signal: AbortSignal): Promise<number> {
  const { command, words } = findCommand(argv);
  try {
    if (command === null) {
      if (words.length === 0 && (argv.includes('--help') || argv.includes('-h'))) {
        io.stdout(usage());
        return Exit.Ok;
      }
      if (words.length === 0) {
        io.stderr(usage());
        return Exit.Usage;
      }
      const group = commands.filter((c) => c.path.length > 1 && c.path[0] === words[0]);
      if (group.length > 0) {
        const help = argv.includes('--help') || argv.includes('-h');
        const list = group.map((c) => `  raftkit ${c.usage}  ${c.summary}`).join('\n');
        if (help && words.length === 1) {
          io.stdout(`${list}\n`);
          return Exit.Ok;
        }
        throw new UsageError(`${words.length > 1 ? `unknown command ${JSON.stringify(words.join(' '))}` : `${words[0]} needs a subcommand`}; one of:\n${list}\n`);
      }
      throw new UsageError(`unknown command ${JSON.stringify(words.join(' '))}`);
    }
    let parsed;
    try {
      parsed = parseArgs({ args: [...argv], options: { ...globalOptions, ...(command.options ?? {}) }, strict: true, allowPositionals: true });
    } catch (err) {
      throw new UsageError((err as Error).message.split('\n')[0]!);
    }
    const { values, positionals } = parsed;
    if (values['help']) {
      io.stdout(`usage: raftkit ${command.usage}\n\n${command.summary}\n`);
      return Exit.Ok;
    }
    const args = positionals.slice(command.path.length);
    const [min, max] = command.arity;
    if (args.length < min || args.length > max) throw new UsageError(`${command.path.join(' ')} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}: raftkit ${command.usage}`);
    const endpoints = String(values['endpoints'] ?? io.env['RAFTKIT_ENDPOINTS'] ?? DEFAULT_ENDPOINTS).split(',').map((s) => s.trim()).filter(Boolean);
    if (endpoints.length === 0) throw new UsageError('--endpoints is empty');
    const timeoutMs = values['timeout'] === undefined ? 10_000 : durationMs(values['timeout'] as string, '--timeout');
    let client: RaftkitClient | null = null;
    const make = (): RaftkitClient => {
      try {
        client ??= new RaftkitClient({ endpoints, timeoutMs, attemptTimeoutMs: Math.min(7000, timeoutMs) });
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      return client;
    };
    make();
    const code = await command.run({ args, flags: values as Record<string, string | boolean | undefined>, json: values['json'] === true, timeoutMs, client: make, io, signal });
    return code ?? Exit.Ok;
  } catch (err) {
    return reportError(io, err, signal.aborted);
  }
}
