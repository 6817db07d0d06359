import { describe, expect, it } from 'vitest';
import { Inbox, resolveConfig, sequencedMessage } from '../src/index.js';

describe('Inbox', () => {
  it('resolves a wait once enough messages arrive', async () => {
    const inbox = new Inbox();
    const waiting = inbox.untilMessages(2, 1000);
    inbox.onMessage(sequencedMessage('a', 'b', 0));
    inbox.onMessage(sequencedMessage('a', 'b', 1));
    await expect(waiting).resolves.toBeUndefined();
  });

  it('rejects a wait that times out, saying what it waited for', async () => {
    const inbox = new Inbox();
    inbox.onUnreachable('x');
    await expect(inbox.untilMessages(1, 20)).rejects.toThrow(/waiting for 1 messages \(have 0 messages, 1 unreachable/);
  });
});

describe('resolveConfig', () => {
  it('turns every supported behaviour on by default', () => {
    const config = resolveConfig({ factory: async () => ({ transports: [], cleanup: async () => {} }) });
    expect(config.supports).toEqual({ ordered: true, lossless: true, closedPeerUnreachable: true });
    expect([config.timeoutMs, config.quietMs]).toEqual([5000, 100]);
  });

  it('rejects options without a factory with a coded error', () => {
    expect(() => resolveConfig({} as never)).toThrow(expect.objectContaining({ code: 'RAFT_INVALID_ARGUMENT' }));
  });
});
