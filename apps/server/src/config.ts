import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type FdBudget, FdBudgetError, planFds, readFdLimit } from './fdBudget.js';
import { selfReference } from './selfUrl.js';

/** Everything a server needs; built from defaults < config file < environment < flags. */
export interface ServerConfig {
  readonly id: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** Other voters: id -> base URL (http://host:port). */
  readonly peers: Readonly<Record<string, string>>;
  /**
   * Where clients reach each other node (for 307 redirects, forwarding and /v1/status); a
   * node not listed is reached at its --peers URL. Needed when peer traffic goes through
   * proxies or addresses clients cannot use.
   */
  readonly clientUrls: Readonly<Record<string, string>>;
  readonly dataDir: string;
  /** Shared secret authenticating peer requests. */
  readonly secret: string;
  /** What a follower does with a request only the leader can serve. */
  readonly followerMode: 'redirect' | 'forward';
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly snapshotEvery: number;
  readonly snapshotTrailing: number;
  readonly snapshotChunkBytes: number;
  readonly maxValueBytes: number;
  readonly requestTimeoutMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Client requests served at once; more get 503 SERVER_OVERLOADED. */
  readonly maxInflightRequests: number;
  /** A node is ready while its applied index is at most this many entries behind the leader's commit index. */
  readonly readyMaxLag: number;
  /** How client connections, peers and RocksDB share the file-descriptor limit (client cap included). */
  readonly fds: FdBudget;
  /** TLS for peer and client traffic: PEM file paths. */
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string } | null;
  /**
   * This node's own URL, where peers and clients reach it (one listener serves both): what a
   * membership change records for it. --url, else derived from --listen; null when --listen
   * is a wildcard address or port 0 (nothing to derive a reachable URL from).
   */
  readonly selfUrl: string | null;
  /** --join: a member's client URL; used only when the data directory is empty. */
  readonly join: string | null;
  /** --learner: join as a non-voting member (with --join). */
  readonly learner: boolean;
  /** A learner is promoted only once at most this many entries behind the leader. */
  readonly maxLearnerLag: number;
  /** Deadline of a membership request (adding a voter includes its catch-up). */
  readonly membershipTimeoutMs: number;
  /** Revisions (that changed something) kept in memory for watches to resume from; 0: live watches only. */
  readonly watchHistory: number;
  /** Upper estimate of the bytes the watch history may hold. */
  readonly watchHistoryBytes: number;
  /** Interval of the `: ping` comment on an idle watch stream. */
  readonly watchHeartbeatMs: number;
  /**
   * --disk-values (default on): values of at least `diskValuesFrom` bytes are kept in files
   * under `<data>/values` (FileValueStore), not in memory; null when off.
   */
  readonly diskValuesFrom: number | null;
  /** --peer-stream (default on): peer messages over one long-lived stream per peer (transport-http option `stream`). */
  readonly peerStream: boolean;
  /**
   * --fast-jit (default on): the CLI sets V8 flags that optimize hot code sooner before it
   * loads the server (jitTuning.ts). Not used by `startServer` itself.
   */
  readonly fastJit: boolean;
}

export class ConfigError extends Error {
  readonly code = 'SERVER_INVALID_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, string | undefined>;

/** What a node id may be (--id, and the id of a member added over the API). */
export const NODE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Flag name -> config key. Flags use --kebab-case; env vars RAFTKIT_SNAKE_CASE. */
const keys = [
  'id', 'listen', 'peers', 'client-urls', 'data', 'secret', 'follower-mode', 'tick-ms', 'election-ticks', 'heartbeat-ticks',
  'snapshot-every', 'snapshot-trailing', 'snapshot-chunk-bytes', 'max-value-bytes', 'request-timeout-ms', 'log-level', 'tls-cert', 'tls-key', 'tls-ca',
  'max-client-connections', 'max-inflight-requests', 'ready-max-lag', 'url', 'join', 'learner', 'max-learner-lag',
  'membership-timeout-ms', 'initial-cluster', 'watch-history', 'watch-history-bytes', 'watch-heartbeat-ms', 'peer-stream',
  'disk-values', 'disk-values-from', 'fast-jit',
] as const;

/** Options that take no value on the command line (`--learner`); `=true`/`=false` also work. */
const booleanKeys: ReadonlySet<string> = new Set(['learner', 'peer-stream', 'fast-jit']);

export const usage = `usage: raftkit-server --id n1 --listen 127.0.0.1:7001 --peers n2=http://127.0.0.1:7002,n3=http://127.0.0.1:7003 --data ./data/n1 [options]
       raftkit-server --id n4 --listen 127.0.0.1:7004 --join http://127.0.0.1:7001 --data ./data/n4 [options]
       raftkit-server recover --force-new-cluster --data DIR --id ID [--url URL]   (UNSAFE disaster recovery, offline)
       raftkit-server restore --from FILE --data DIR --id ID [--url URL]   (seed a new cluster from a backup, offline)

options (each also settable as RAFTKIT_<NAME> in the environment, or in a JSON file given by --config):
  --id ID                   this node's id (required)
  --listen HOST:PORT        address for client and peer HTTP (required)
  --peers ID=URL,...        the other voters of a NEW cluster (ignored once the data directory holds a log)
  --initial-cluster ID=URL,...  instead of --peers: every voter of a NEW cluster, this node included (the same list on every node);
                            with --join, a node the list does not name joins through --join
  --join URL                join an existing cluster through any member's URL (only with an empty data directory)
  --learner                 with --join: stay a non-voting learner
  --url URL                 this node's URL for peers and clients (default http(s)://<--listen>)
  --client-urls ID=URL,...  where clients reach the other nodes, if not at their --peers URL
  --data DIR                data directory for RocksDB (required)
  --secret S                shared cluster secret for peer authentication (default: insecure dev secret)
  --follower-mode M         forward (proxy to the leader) or redirect (307 to the leader); default forward
  --tick-ms N               milliseconds per Raft tick (default 50)
  --election-ticks N        election timeout in ticks (default 10)
  --heartbeat-ticks N       heartbeat interval in ticks (default 1)
  --snapshot-every N        take a snapshot after N applied entries (default 10000)
  --snapshot-trailing N     entries kept below a snapshot, so a follower that lags less catches up from the log (default 5000)
  --snapshot-chunk-bytes N  bytes per snapshot chunk sent to a follower (default 1048576)
  --max-value-bytes N       largest value accepted (default 1048576)
  --request-timeout-ms N    deadline for a client request (default 5000)
  --log-level L             fatal|error|warn|info|debug|trace|silent (default info)
  --max-client-connections N  client connections served at once (default: derived from ulimit -n)
  --max-inflight-requests N   client requests served at once (default: the connection cap, at most 512)
  --ready-max-lag N         /readyz is 200 while at most N entries behind the leader's commit (default 100)
  --max-learner-lag N       promote a learner only within N entries of the leader (default 1000)
  --membership-timeout-ms N deadline of a membership request, a learner's catch-up included (default 30000)
  --watch-history N         revisions kept in memory for watches to resume from (default 10000; 0: live watches only)
  --watch-history-bytes N   at most about N bytes of watch history (default 67108864)
  --watch-heartbeat-ms N    ': ping' on an idle watch stream every N ms (default 15000)
  --disk-values             keep large values in files under <data>/values instead of memory
                            (default on; --disk-values=false: every value in memory)
  --disk-values-from N      smallest value kept on disk, in bytes (default 1024)
  --peer-stream             send peer messages over one long-lived stream per peer instead of a request per batch
                            (default on; --peer-stream=false: a request per batch;
                            falls back to requests for a peer without the stream route)
  --fast-jit                have V8 optimize hot code after hundreds of calls, not thousands (raftkit-server only;
                            default on; --fast-jit=false: V8's defaults; a flag given to node itself wins)
  --tls-cert/--tls-key/--tls-ca FILE   enable TLS for peer and client traffic`;

export const devSecret = 'raftkit-dev-secret-change-me';

/**
 * Parses argv (without node and script), the environment and an optional JSON file; `fdLimit`
 * (this process's RLIMIT_NOFILE, null if unknown) sizes the connection limits.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, fdLimit: number | null = readFdLimit()): ServerConfig {
  const flags = parseFlags(argv);
  const file = flags['config'] ?? env['RAFTKIT_CONFIG'];
  const fromFile = file ? readConfigFile(file) : {};
  const fromEnv: Raw = {};
  for (const k of keys) {
    const v = env[`RAFTKIT_${k.toUpperCase().replace(/-/g, '_')}`];
    if (v !== undefined) fromEnv[k] = v;
  }
  return validate({ ...fromFile, ...fromEnv, ...flags }, fdLimit);
}

function parseFlags(argv: readonly string[]): Raw {
  const out: Raw = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument "${a}"\n${usage}`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (name !== 'config' && !(keys as readonly string[]).includes(name)) throw new ConfigError(`unknown option --${name}\n${usage}`);
    const value = eq > 0 ? a.slice(eq + 1) : booleanKeys.has(name) ? 'true' : argv[++i];
    if (value === undefined) throw new ConfigError(`option --${name} needs a value`);
    out[name] = value;
  }
  return out;
}

function readConfigFile(path: string): Raw {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${path} must hold a JSON object`);
  const out: Raw = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (!(keys as readonly string[]).includes(k)) throw new ConfigError(`config file ${path}: unknown key "${k}"`);
    if ((k === 'peers' || k === 'client-urls') && v && typeof v === 'object') out[k] = Object.entries(v).map(([id, url]) => `${id}=${String(url)}`).join(',');
    else out[k] = String(v);
  }
  return out;
}

function int(raw: Raw, key: string, def: number, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(`--${key} must be an integer in [${min}, ${max}], got "${v}"`);
  return n;
}

function validate(given: Raw, fdLimit: number | null): ServerConfig {
  const id = given['id'];
  if (!id || !NODE_ID.test(id)) throw new ConfigError(`--id is required: 1-64 letters, digits, . _ - (got "${id ?? ''}")\n${usage}`);
  const raw = { ...given, ...splitInitialCluster(given, id) };
  const listen = parseListen(raw['listen']);
  const peers = parsePeers(raw['peers'] ?? '', id);
  const clientUrls = parsePeers(raw['client-urls'] ?? '', id, '--client-urls');
  for (const pid of Object.keys(clientUrls)) {
    if (!peers[pid]) throw new ConfigError(`--client-urls names ${pid}, which is not in --peers`);
  }
  // A node that names itself as another node would forward to itself, for ever (issue 9 item 10).
  const self = selfReference(listen, { '--peers': peers, '--client-urls': clientUrls });
  if (self) throw new ConfigError(`${self.flag} gives ${self.id} the URL ${self.url}, which is this node's own --listen address ${listen.host}:${listen.port}: requests for ${self.id} would come back here (a forwarding loop); give ${self.id}'s own address`);
  const dataDir = raw['data'];
  if (!dataDir) throw new ConfigError(`--data is required\n${usage}`);
  const electionTicks = int(raw, 'election-ticks', 10, 2, 10_000);
  const heartbeatTicks = int(raw, 'heartbeat-ticks', 1, 1, 10_000);
  if (electionTicks <= heartbeatTicks) throw new ConfigError(`--election-ticks (${electionTicks}) must be greater than --heartbeat-ticks (${heartbeatTicks})`);
  const followerMode = raw['follower-mode'] ?? 'forward';
  if (followerMode !== 'redirect' && followerMode !== 'forward') throw new ConfigError(`--follower-mode must be redirect or forward, got "${followerMode}"`);
  const logLevel = raw['log-level'] ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new ConfigError(`--log-level "${logLevel}" is not a level`);
  const secret = raw['secret'] ?? devSecret;
  if (Buffer.byteLength(secret) < 16) throw new ConfigError('--secret must be at least 16 bytes');
  const fds = fdBudget(raw, fdLimit, Object.keys(peers).length, followerMode === 'forward');
  const tls = parseTls(raw);
  const membership = parseMembership(raw, listen, peers, tls !== null);
  return {
    id,
    listen,
    peers,
    clientUrls,
    dataDir: resolve(dataDir),
    secret,
    followerMode,
    tickMs: int(raw, 'tick-ms', 50, 1, 60_000),
    electionTicks,
    heartbeatTicks,
    snapshotEvery: int(raw, 'snapshot-every', 10_000, 1, 1e9),
    snapshotTrailing: int(raw, 'snapshot-trailing', 5000, 0, 1e9),
    snapshotChunkBytes: int(raw, 'snapshot-chunk-bytes', 1024 * 1024, 1024, 16 * 1024 * 1024),
    maxValueBytes: int(raw, 'max-value-bytes', 1 << 20, 1, 64 << 20),
    requestTimeoutMs: int(raw, 'request-timeout-ms', 5000, 10, 600_000),
    logLevel: logLevel as ServerConfig['logLevel'],
    maxInflightRequests: int(raw, 'max-inflight-requests', Math.min(fds.maxClientConnections, 512), 1, 1e6),
    readyMaxLag: int(raw, 'ready-max-lag', 100, 0, 1e9),
    watchHistory: int(raw, 'watch-history', 10_000, 0, 1e9),
    watchHistoryBytes: int(raw, 'watch-history-bytes', 64 << 20, 0, 2 ** 40),
    watchHeartbeatMs: int(raw, 'watch-heartbeat-ms', 15_000, 100, 3_600_000),
    peerStream: bool(raw, 'peer-stream', true),
    fastJit: bool(raw, 'fast-jit', true),
    diskValuesFrom: bool(raw, 'disk-values', true) ? int(raw, 'disk-values-from', 1024, 0, 64 << 20) : null,
    fds,
    tls,
    ...membership,
  };
}

function bool(raw: Raw, key: string, unset = false): boolean {
  const v = raw[key];
  if (v === undefined) return unset;
  if (v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw new ConfigError(`--${key} takes no value (or true/false), got "${v}"`);
}

/** A base URL given by the operator: http(s), no query, no trailing slash. */
export function parseBaseUrl(flag: string, v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(`${flag}: "${v}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`${flag} must be an http(s) URL, got ${u.protocol}`);
  if (u.search || u.hash) throw new ConfigError(`${flag} must be a base URL without query or fragment, got "${v}"`);
  return v.replace(/\/+$/, '');
}

const wildcardHosts = new Set(['0.0.0.0', '::', '[::]']);

function parseMembership(raw: Raw, listen: ServerConfig['listen'], peers: Readonly<Record<string, string>>, tls: boolean) {
  const given = raw['url'] ? parseBaseUrl('--url', raw['url']) : null;
  const derivable = listen.port !== 0 && !wildcardHosts.has(listen.host);
  const host = listen.host.includes(':') && !listen.host.startsWith('[') ? `[${listen.host}]` : listen.host;
  const selfUrl = given ?? (derivable ? `${tls ? 'https' : 'http'}://${host}:${listen.port}` : null);
  const join = raw['join'] ? parseBaseUrl('--join', raw['join']) : null;
  const learner = bool(raw, 'learner');
  if (join !== null && Object.keys(peers).length > 0) {
    throw new ConfigError('give --join (add this node to a running cluster) or --peers (bootstrap a new cluster), not both');
  }
  if (learner && join === null) throw new ConfigError('--learner needs --join: only a node that joins a running cluster can be a learner');
  if (join !== null && selfUrl === null) {
    throw new ConfigError(`--join needs --url: this node listens on ${listen.host}:${listen.port}, which is no address the other members can reach`);
  }
  if (join !== null) {
    const self = selfReference(listen, { '--join': { join } });
    if (self || join === selfUrl) throw new ConfigError(`--join ${join} points at this node itself; give the URL of a member of the cluster to join`);
  }
  return {
    selfUrl,
    join,
    learner,
    maxLearnerLag: int(raw, 'max-learner-lag', 1000, 0, 1e9),
    membershipTimeoutMs: int(raw, 'membership-timeout-ms', 30_000, 100, 3_600_000),
  };
}

function fdBudget(raw: Raw, fdLimit: number | null, peers: number, forward: boolean): FdBudget {
  const given = raw['max-client-connections'] === undefined || raw['max-client-connections'] === '' ? undefined : int(raw, 'max-client-connections', 0, 1, 1e6);
  try {
    return planFds({ fdLimit, peers, forward, maxClientConnections: given });
  } catch (err) {
    if (err instanceof FdBudgetError) throw new ConfigError(err.message);
    throw err;
  }
}

function parseListen(v: string | undefined): ServerConfig['listen'] {
  const m = v ? /^([^:]+):(\d{1,5})$/.exec(v) : null;
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 0 || port > 65535) throw new ConfigError(`--listen must be HOST:PORT, got "${v ?? ''}"\n${usage}`);
  return { host: m[1]!, port };
}

/**
 * --initial-cluster lists every voter of a new cluster, this node included, so that every node
 * (every pod of a StatefulSet) is given the same list (etcd's --initial-cluster): this node's
 * entry becomes its --url (unless --url is given), the others its --peers. With --join as
 * well, a node the list does not name joins through it (a StatefulSet scaled past the list),
 * and a node it names bootstraps and ignores --join.
 */
function splitInitialCluster(raw: Raw, id: string): Raw {
  const list = raw['initial-cluster'];
  if (!list) return {};
  if (raw['peers']) throw new ConfigError('give --initial-cluster (every voter, this node included) or --peers (the other voters), not both');
  const entries = list.split(',').map((s) => s.trim()).filter(Boolean);
  const own = entries.filter((e) => e.slice(0, e.indexOf('=')) === id);
  if (own.length === 0 && raw['join']) return {};
  if (own.length !== 1) {
    const fix = own.length === 0 ? ' (or give --join, to add this node to the running cluster)' : '';
    throw new ConfigError(`--initial-cluster must list this node (${id}) exactly once${fix}, got ${own.length === 0 ? 'no' : own.length} entries for it: "${list}"`);
  }
  const peers = entries.filter((e) => e !== own[0]).join(',');
  return { peers, url: raw['url'] || own[0]!.slice(id.length + 1), join: '' };
}

function parsePeers(v: string, self: string, flag = '--peers'): Record<string, string> {
  const peers: Record<string, string> = {};
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${flag} entry "${part}" must be ID=URL`);
    const pid = part.slice(0, eq);
    const url = part.slice(eq + 1);
    if (pid === self) throw new ConfigError(`${flag} must not list this node (${self})`);
    if (peers[pid]) throw new ConfigError(`${flag} lists ${pid} twice`);
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ConfigError(`${flag}: "${url}" for ${pid} is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`${flag}: ${pid} URL must be http(s), got ${u.protocol}`);
    peers[pid] = url.replace(/\/+$/, '');
  }
  return peers;
}

function parseTls(raw: Raw): ServerConfig['tls'] {
  const [cert, key, ca] = [raw['tls-cert'], raw['tls-key'], raw['tls-ca']];
  if (!cert && !key && !ca) return null;
  if (!cert || !key || !ca) throw new ConfigError('TLS needs all of --tls-cert, --tls-key and --tls-ca');
  return { cert: resolve(cert), key: resolve(key), ca: resolve(ca) };
}
