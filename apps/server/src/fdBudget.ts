import { readFileSync } from 'node:fs';

/**
 * How a node shares its file descriptors (RLIMIT_NOFILE). Every client connection, peer
 * connection and RocksDB file takes one; when they run out, RocksDB cannot open its next WAL or
 * table file and the node stops on a fatal storage error (issue 9: 1,500 connections under
 * `ulimit -n 1024` made a leader exit 70). So client connections are capped at what is left
 * after everything else, with room to spare.
 */

/** The process itself: stdio, libuv's epoll/eventfds/signal pipes, the listener, RocksDB's WAL, MANIFEST, LOG, LOCK, directories. */
export const PROCESS_FDS = 64;
/** Per peer: its inbound connection, ours to it (one keep-alive socket each way), and a reconnect of each. */
export const FDS_PER_PEER = 4;
/** Never allow fewer client connections than this; a limit that leaves fewer is refused. */
export const MIN_CLIENT_CONNECTIONS = 16;
/** Default cap when the fd limit is unknown or very large. */
export const MAX_DEFAULT_CLIENT_CONNECTIONS = 4096;
/** Share of the descriptors left over (after process, storage and peers) that clients may use by default. */
const CLIENT_SHARE = 0.75;

export interface FdBudgetInput {
  /** The soft RLIMIT_NOFILE, or null if unknown or unlimited. */
  readonly fdLimit: number | null;
  readonly peers: number;
  /** Forward mode: every forwarded request also holds a socket to the leader. */
  readonly forward: boolean;
  /** --max-client-connections if given; else derived. */
  readonly maxClientConnections?: number | undefined;
}

export interface FdBudget {
  readonly fdLimit: number | null;
  /** Client connections served at once; more are refused (see connLimits.ts). */
  readonly maxClientConnections: number;
  /** Connections beyond the cap still accepted just long enough to be told 503; more are closed at accept. */
  readonly overflowConnections: number;
  /** Connections kept for peers (never counted against clients). */
  readonly peerConnections: number;
  /** Table files RocksDB may keep open (its max_open_files). */
  readonly storageFiles: number;
  /** Descriptors this budget can use in the worst case. */
  readonly total: number;
}

export class FdBudgetError extends Error {}

/** Connections accepted beyond the cap, only to answer 503 SERVER_OVERLOADED. */
export function overflowFor(maxClientConnections: number): number {
  return Math.min(64, Math.max(8, Math.ceil(maxClientConnections / 8)));
}

/** RocksDB's share: a quarter of the limit, between 32 and 512 table files. */
export function storageFilesFor(fdLimit: number | null): number {
  return fdLimit === null ? 512 : Math.min(512, Math.max(32, Math.floor(fdLimit / 4)));
}

/** Derives (or checks) the client connection cap against the fd limit; throws FdBudgetError when it cannot fit. */
export function planFds(input: FdBudgetInput): FdBudget {
  const storageFiles = storageFilesFor(input.fdLimit);
  const peerConnections = FDS_PER_PEER * input.peers;
  const perClient = input.forward ? 2 : 1;
  const fixed = PROCESS_FDS + storageFiles + peerConnections;
  const cost = (clients: number) => fixed + perClient * (clients + overflowFor(clients));
  let clients = input.maxClientConnections;
  if (clients === undefined) {
    if (input.fdLimit === null) clients = 1024;
    else clients = Math.min(MAX_DEFAULT_CLIENT_CONNECTIONS, Math.floor((CLIENT_SHARE * (input.fdLimit - fixed)) / (perClient * 1.125)));
    if (clients < MIN_CLIENT_CONNECTIONS) {
      const need = cost(MIN_CLIENT_CONNECTIONS);
      throw new FdBudgetError(`the file-descriptor limit (ulimit -n) is ${input.fdLimit}, too low for a node with ${input.peers} peers: it needs at least ${Math.ceil(need / CLIENT_SHARE)}; raise it (ulimit -n, systemd LimitNOFILE=)`);
    }
  } else if (input.fdLimit !== null && cost(clients) > input.fdLimit) {
    throw new FdBudgetError(
      `--max-client-connections ${clients} needs about ${cost(clients)} file descriptors (${perClient * (clients + overflowFor(clients))} for clients${input.forward ? ' and their forwarded requests' : ''}, ${storageFiles} for RocksDB, ${peerConnections} for peers, ${PROCESS_FDS} for the process), over this process's limit of ${input.fdLimit} (ulimit -n): lower it or raise the limit`,
    );
  }
  return { fdLimit: input.fdLimit, maxClientConnections: clients, overflowConnections: overflowFor(clients), peerConnections, storageFiles, total: cost(clients) };
}

/**
 * The soft "Max open files" limit of this process, from /proc/self/limits (Linux); null where
 * it cannot be read or is unlimited. Read at start: the limit is inherited and rarely changes.
 */
export function readFdLimit(path = '/proc/self/limits'): number | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m || m[1] === 'unlimited') return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}
