import { createHook } from 'node:async_hooks';

/** Resource kinds a transport could leave running: timers, immediates, sockets, lookups. */
const watched = /^(Timeout|Immediate|TCPWRAP|TCPSERVERWRAP|TCPCONNECTWRAP|UDPWRAP|PIPEWRAP|PIPESERVERWRAP|PIPECONNECTWRAP|GETADDRINFOREQWRAP)$/;

/**
 * Records the timers and sockets created between `start()` and `stop()` and reports those not
 * yet destroyed. Only resources created inside the window count, so the test runner's own
 * handles never look like leaks.
 */
export class ResourceTracker {
  private readonly live = new Map<number, string>();
  private recording = false;
  private readonly hook = createHook({
    init: (id, type) => {
      if (this.recording && watched.test(type)) this.live.set(id, `${type} created ${origin()}`);
    },
    destroy: (id) => {
      this.live.delete(id);
    },
  });

  start(): void {
    this.recording = true;
    this.hook.enable();
  }

  /** Stops recording new resources; destructions are still observed until `dispose()`. */
  stop(): void {
    this.recording = false;
  }

  /** Descriptions of recorded resources not destroyed yet. */
  leaks(): string[] {
    return [...this.live.values()];
  }

  dispose(): void {
    this.hook.disable();
    this.live.clear();
  }
}

/** The first stack frame outside Node internals and this file: where the resource came from. */
function origin(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(2);
  const frame = frames.find((f) => !f.includes('node:') && !f.includes('resources.'));
  return frame ? frame.trim() : 'at <unknown>';
}
