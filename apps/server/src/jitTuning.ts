import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags the CLI sets before it loads the server (`--fast-jit`, on by default), so that the
 * server's hot functions are optimized after a few hundred calls instead of thousands.
 *
 * V8's defaults suit a web page, where most code runs briefly. A server runs the same request
 * and replication paths for days, and each calls hundreds of small functions about once per
 * request or per Raft batch: with the defaults, a node serving one client at a time needs
 * 10-20 s of traffic to optimize them, and meanwhile spends most of its CPU in the
 * interpreter, in inline-cache stubs and in TurboFan compiling. A `perf record` of a cluster
 * under PUTs at c=1, in the 8 s after a 2 s warm-up (issue 11): V8 builtins 22%, other V8 and
 * node C++ 14%, TurboFan 12%, optimized code 6%, the kernel 11%, idle 22%. This cost is paid
 * again after every restart and failover.
 *
 * - `--interrupt-budget` (V8 default 67584): bytecode a function runs between two tier-up
 *   checks; it needs several checks before it is optimized.
 * - `--minimum-invocations-after-ic-update` (default 500): calls a function must make after
 *   its type feedback last changed before it may be optimized.
 */
export const FAST_JIT_FLAGS: Readonly<Record<string, number>> = {
  'interrupt-budget': 1000,
  'minimum-invocations-after-ic-update': 50,
};

/** A V8 flag as node's command line or NODE_OPTIONS may spell it (dashes or underscores). */
function flagPattern(name: string): RegExp {
  return new RegExp(`^--${name.replace(/-/g, '[-_]')}(=|$)`);
}

/** The flags of FAST_JIT_FLAGS the user already set on node's command line or in NODE_OPTIONS. */
export function userJitFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return Object.keys(FAST_JIT_FLAGS).filter((name) => given.some((a) => flagPattern(name).test(a)));
}

/**
 * Sets FAST_JIT_FLAGS for the code loaded from now on (functions take the budget when first
 * called), except any the user set themselves, which stay theirs. Returns the flags it set.
 */
export function applyJitTuning(
  opts: { execArgv?: readonly string[]; nodeOptions?: string | undefined; set?: (flags: string) => void } = {},
): string[] {
  const nodeOptions = 'nodeOptions' in opts ? opts.nodeOptions : process.env['NODE_OPTIONS'];
  const theirs = new Set(userJitFlags(opts.execArgv ?? process.execArgv, nodeOptions));
  const set = opts.set ?? setFlagsFromString;
  const applied: string[] = [];
  for (const [name, value] of Object.entries(FAST_JIT_FLAGS)) {
    if (theirs.has(name)) continue;
    const flag = `--${name}=${value}`;
    set(flag);
    applied.push(flag);
  }
  return applied;
}
