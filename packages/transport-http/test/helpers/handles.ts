import { createHook } from 'node:async_hooks';

const watched = /^(Timeout|Immediate|TCPWRAP|TCPSERVERWRAP|TCPCONNECTWRAP|TLSWRAP|GETADDRINFOREQWRAP)$/;

/**
 * Records timers and sockets created while `track` runs `body`, then waits briefly for them to
 * be destroyed and returns those still alive (the idea of the suite's ResourceTracker, which
 * it does not export).
 */
export async function leftoverHandles(body: () => Promise<void>, graceMs = 200): Promise<string[]> {
  const live = new Map<number, string>();
  let recording = true;
  const hook = createHook({
    init: (id, type) => {
      if (recording && watched.test(type)) live.set(id, type);
    },
    destroy: (id) => void live.delete(id),
  });
  hook.enable();
  try {
    await body();
    recording = false;
    const deadline = Date.now() + graceMs;
    while (live.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    return [...live.values()];
  } finally {
    hook.disable();
  }
}
