/**
 * Makes sure a run's children die with the harness: on Ctrl-C, SIGTERM or any exit, calls
 * `killAll` (which must be synchronous: an exit handler cannot wait) and then `cleanUp`.
 * Returns a function that removes the handlers once the run has cleaned up by itself.
 */
export function guardChildren(killAll: () => void, cleanUp: () => void): () => void {
  let done = false;
  const now = (): void => {
    if (done) return;
    done = true;
    killAll();
    try {
      cleanUp();
    } catch {
      // Best effort: the process is on its way out.
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    now();
    process.stderr.write(`raftkit-harness chaos: ${signal}, stopped every server\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', now);
  return () => {
    done = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', now);
  };
}
