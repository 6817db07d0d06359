import { ErrorCode, RaftError } from '@raftkit/core';
import type { NodeId, Transport } from '@raftkit/core';
import { afterEach, beforeEach } from 'vitest';
import { Inbox } from './inbox.js';

/** What a factory returns: one transport per requested id, not yet started. */
export interface TransportCluster {
  /** `transports[i].id === ids[i]`. The suite calls `start` and `close` on each. */
  readonly transports: readonly Transport[];
  /**
   * Each transport's own address, in the form its peers' `updatePeers` takes (a base URL for
   * HTTP). Required when the transports implement `updatePeers`; the suite's updatePeers cases
   * then also call the factory for a lone extra node, which must be able to reach (and be
   * reached by) the others once each side is told the other's address.
   */
  readonly addresses?: Readonly<Record<NodeId, string>>;
  /** Releases whatever the factory shares between transports (a hub, a port range). */
  cleanup(): Promise<void>;
}

/**
 * Creates `ids.length` transports that can all reach each other once all are started. A
 * network transport listens on 127.0.0.1 (port 0 or a free port) and is told its peers' addresses.
 */
export type TransportFactory = (ids: readonly NodeId[]) => Promise<TransportCluster>;

/** Optional behaviour, each on by default; turn off what the transport documents it lacks. */
export interface TransportSupports {
  /** Messages from one sender to one receiver arrive in send order, across all types. */
  readonly ordered?: boolean;
  /** On a healthy local network every message arrives, and exactly once. */
  readonly lossless?: boolean;
  /** Sending to a peer whose transport has closed is reported through `onUnreachable`. */
  readonly closedPeerUnreachable?: boolean;
}

export interface TransportSuiteOptions {
  readonly factory: TransportFactory;
  /** Shown in the suite's title. */
  readonly name?: string;
  readonly supports?: TransportSupports;
  /** How long to wait for an expected delivery or report; default 5000 ms. */
  readonly timeoutMs?: number;
  /** How long to watch for something that must not arrive; default 100 ms. */
  readonly quietMs?: number;
}

/** Options with every default filled in. */
export interface SuiteConfig {
  readonly factory: TransportFactory;
  readonly name: string;
  readonly supports: Required<TransportSupports>;
  readonly timeoutMs: number;
  readonly quietMs: number;
}

export function resolveConfig(options: TransportSuiteOptions): SuiteConfig {
  if (typeof options?.factory !== 'function') {
    throw new RaftError(ErrorCode.InvalidArgument, 'runTransportSuite needs a factory function');
  }
  const supports = { ordered: true, lossless: true, closedPeerUnreachable: true, ...options.supports };
  return {
    factory: options.factory,
    name: options.name ?? 'transport',
    supports,
    timeoutMs: options.timeoutMs ?? 5000,
    quietMs: options.quietMs ?? 100,
  };
}

/** A started cluster: node i is `ids[i]`, sends through `transports[i]`, receives into `inboxes[i]`. */
export interface RunningCluster {
  readonly ids: readonly NodeId[];
  readonly transports: readonly Transport[];
  readonly inboxes: readonly Inbox[];
  /** From the factory, if it gave them. */
  readonly addresses: Readonly<Record<NodeId, string>> | undefined;
  /** Closes every transport, then runs the factory's cleanup. Idempotent. */
  close(): Promise<void>;
}

export const defaultIds: readonly NodeId[] = Object.freeze(['n1', 'n2', 'n3']);

function checkCluster(ids: readonly NodeId[], cluster: TransportCluster): void {
  const got = cluster?.transports?.map((t) => t.id) ?? [];
  if (got.length !== ids.length || got.some((id, i) => id !== ids[i])) {
    throw new RaftError(
      ErrorCode.InvalidArgument,
      `factory must return transports with ids [${ids.join(', ')}] in order, got [${got.join(', ')}]`,
    );
  }
}

/** Creates a cluster through the factory and starts every transport with a recording Inbox. */
export async function startCluster(config: SuiteConfig, ids: readonly NodeId[] = defaultIds): Promise<RunningCluster> {
  const made = await config.factory(ids);
  checkCluster(ids, made);
  const inboxes = ids.map(() => new Inbox());
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    const results = await Promise.allSettled(made.transports.map((t) => t.close()));
    await made.cleanup();
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  };
  const running: RunningCluster = {
    ids,
    transports: made.transports,
    inboxes,
    addresses: made.addresses,
    close: () => (closing ??= close()),
  };
  try {
    await Promise.all(made.transports.map((t, i) => t.start(inboxes[i])));
  } catch (err) {
    await running.close().catch(() => undefined);
    throw err;
  }
  return running;
}

/** Registers hooks that give each test of the enclosing `describe` a fresh started cluster. */
export function useCluster(config: SuiteConfig): { readonly cluster: RunningCluster } {
  let current: RunningCluster | undefined;
  beforeEach(async () => {
    current = await startCluster(config);
  });
  afterEach(async () => {
    const done = current;
    current = undefined;
    await done?.close();
  });
  return {
    get cluster(): RunningCluster {
      if (!current) throw new RaftError(ErrorCode.InvalidArgument, 'no cluster outside a test');
      return current;
    },
  };
}
