import { snapshotBytes } from '@raftkit/core';
import { encodeCommand, KvStateMachine, type KvCommand, type KvCommandResult, type KvStateMachineOptions, type KvWrite, type SessionTag } from '../../src/index.js';
import { toStoredValue, type StoredValue } from '../../src/values.js';

export const val = (v: unknown): StoredValue => toStoredValue(v, 1 << 20);
export const text = (s: StoredValue | undefined | null): string | null => (s ? new TextDecoder().decode(s.data) : null);

/** A machine's snapshot, collected, in hex (for comparing states byte for byte). */
export const snapshotHex = async (m: KvStateMachine): Promise<string> => Buffer.from(await snapshotBytes(m.snapshot())).toString('hex');

export const put = (key: string, value: unknown): KvWrite => ({ op: 'put', key, value: val(value) });
export const del = (key: string): KvWrite => ({ op: 'delete', key });
export const cas = (key: string, expected: unknown, value: unknown): KvWrite => ({
  op: 'cas',
  key,
  expected: expected === null ? null : val(expected),
  value: val(value),
});
export const putMany = (...pairs: [string, unknown][]): KvWrite => ({ op: 'putMany', entries: pairs.map(([key, v]) => ({ key, value: val(v) })) });

export const tag = (clientId: number, seq: number, firstOutstanding = seq): SessionTag => ({ clientId, seq, firstOutstanding });

/** Feeds encoded commands to a KvStateMachine at consecutive indexes, as RaftNode would. */
export class MachineHarness {
  readonly machine: KvStateMachine;
  index = 0;
  /** Log clock stamp put on the next command. */
  stamp = 0;
  /** Every entry applied, to replay on another machine. */
  readonly log: { index: number; data: Uint8Array }[] = [];

  constructor(options?: KvStateMachineOptions) {
    this.machine = new KvStateMachine(options);
  }

  apply(cmd: KvCommand): KvCommandResult {
    return this.applyRaw(encodeCommand(cmd));
  }

  applyRaw(data: Uint8Array, skip = 0): KvCommandResult {
    this.index += 1 + skip; // `skip` models no-op entries between commands
    this.log.push({ index: this.index, data });
    return this.machine.apply({ index: this.index, term: 1, data });
  }

  register(): number {
    const r = this.apply({ type: 'registerSession', stamp: this.stamp });
    if (r.type !== 'session') throw new Error(`register failed: ${JSON.stringify(r)}`);
    return r.clientId;
  }

  write(write: KvWrite, session: SessionTag | null = null): KvCommandResult {
    return this.apply({ type: 'write', stamp: this.stamp, session, write });
  }

  value(key: string): string | null {
    return text(this.machine.read(key)?.value);
  }
}
