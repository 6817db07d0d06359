#!/usr/bin/env node
import { ConfigError, loadConfig, usage } from './config.js';
import { applyJitTuning } from './jitTuning.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'recover') {
    // Offline disaster recovery; loaded only here, like the server.
    const { runRecover, recoverUsage } = await import('./recover.js');
    if (argv.includes('--help') || argv.includes('-h')) process.stdout.write(`${recoverUsage}\n`);
    else process.exitCode = await runRecover(argv.slice(1));
    return;
  }
  if (argv[0] === 'restore') {
    // Offline: seeds a new node from a backup (GET /v1/snapshot).
    const { runRestore, restoreUsage } = await import('./restore.js');
    if (argv.includes('--help') || argv.includes('-h')) process.stdout.write(`${restoreUsage}\n`);
    else process.exitCode = await runRestore(argv.slice(1));
    return;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  let cfg;
  try {
    cfg = loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`raftkit-server: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // Before the server's code is loaded: its functions take the flags as they are first called.
  const jitFlags = cfg.fastJit ? applyJitTuning() : [];
  // Loaded only now, so --help and configuration errors answer at once, without RocksDB.
  const { startServer } = await import('./server.js');
  const server = await startServer(cfg);
  if (jitFlags.length > 0) server.logger.info({ v8Flags: jitFlags }, 'fast JIT tuning on (--fast-jit=false turns it off)');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, 'signal received');
    server.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        server.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  server.replica.node.on('error', () => {
    server.logger.fatal('exiting: the raft node stopped on a fatal error');
    process.exit(70);
  });
}

main().catch((err: unknown) => {
  // The code (e.g. RAFT_STORAGE_LOST) is what an operator or a supervisor greps for.
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`raftkit-server: failed to start: ${typeof code === 'string' ? `${code}: ` : ''}${message}\n`);
  process.exit(1);
});
