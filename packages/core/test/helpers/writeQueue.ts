/**
 * For fake storages: writes take effect, and resolve, in call order (the LogStorage contract;
 * RaftNode keeps several in flight), each after `delay`.
 */
export class WriteQueue {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly delay: () => Promise<void>) {}

  run(write: () => void): Promise<void> {
    const done = this.tail.then(async () => {
      await this.delay();
      write();
    });
    this.tail = done.catch(() => undefined);
    return done;
  }
}
