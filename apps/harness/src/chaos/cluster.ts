import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { NodeProxy, type CutMode } from './nodeProxy.js';
import { ServerProcess, type Launch } from './serverProcess.js';

export interface ClusterOptions {
  readonly nodes: number;
  /** Each node gets `<dataRoot>/<id>` and `<dataRoot>/<id>.log`. */
  readonly dataRoot: string;
  readonly serverCli: string;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly requestTimeoutMs: number;
  /** What followers do with writes: 307 to the leader, or forward them over the peer link. */
  readonly followerMode: FollowerMode;
  /** The run's clock, in ms since it started. */
  readonly now: () => number;
}

/** The part of GET /v1/status the harness uses. */
export interface NodeStatus {
  readonly id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
  readonly commitIndex: number;
}

export interface ExitRecord {
  readonly at: number;
  readonly id: string;
  readonly code: number | null;
  readonly signal: string | null;
}

export type FollowerMode = 'redirect' | 'forward';

/** A directed peer link: `from`'s connections to `to`. */
export type Link = readonly [from: string, to: string];

/**
 * Real server processes on 127.0.0.1, each behind a {@link NodeProxy} that stands for every
 * directed peer link into it (A→B is cut at B's proxy, for A's connections only). A node's
 * --url, so its address in the log and in its peers' --peers, is its proxy; clients talk to
 * the nodes' own ports. Membership faults add nodes (`--join`) and remove them while it runs.
 */
export class ChaosCluster {
  /** Every node this run started, in order: the report's lanes. */
  readonly allIds: string[];
  readonly unexpectedExits: ExitRecord[] = [];
  /** Invariant: the members the harness knows of (joined or joining, not yet removed), in start order. */
  private readonly memberIds: string[];
  private readonly servers = new Map<string, ServerProcess>();
  private readonly proxies = new Map<string, NodeProxy>();
  /** Which node a port leads to, for direct and proxy ports alike. */
  private readonly portOwner = new Map<number, string>();
  private readonly ports = new Map<string, number>();

  private constructor(private readonly options: ClusterOptions) {
    this.memberIds = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    this.allIds = [...this.memberIds];
  }

  /** The current members: what clients, faults and the status poller use. */
  get ids(): string[] {
    return [...this.memberIds];
  }

  /** Opens the proxies and spawns every node; does not wait for them to answer. */
  static async start(options: ClusterOptions): Promise<ChaosCluster> {
    const cluster = new ChaosCluster(options);
    try {
      await cluster.openPorts(cluster.ids);
      for (const id of cluster.ids) {
        const peers = cluster.ids.filter((p) => p !== id).map((p) => `${p}=${cluster.peerUrlOf(p)}`);
        cluster.spawnServer(id, ['--peers', peers.join(',')]);
      }
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  /**
   * Starts a new, empty node that joins the cluster through `via` (a member's own port, the
   * client API) with --join, as a learner for good if `learner`. It counts as a member from now
   * on; whether it got in is for the caller to watch (GET /v1/members).
   */
  async join(id: string, via: string, learner = false): Promise<void> {
    if (this.servers.has(id)) throw new Error(`${id} already exists`);
    await this.openPorts([id]);
    this.allIds.push(id);
    this.memberIds.push(id);
    this.spawnServer(id, ['--join', this.urlOf(via), ...(learner ? ['--learner'] : [])]);
  }

  /** Forgets a member the cluster removed: no client, fault or heal touches it any more. */
  forget(id: string): void {
    const i = this.memberIds.indexOf(id);
    if (i >= 0) this.memberIds.splice(i, 1);
  }

  /** The next unused id (n4 after n1-n3, and so on). */
  nextId(): string {
    return `n${this.allIds.length + 1}`;
  }

  private async openPorts(ids: readonly string[]): Promise<void> {
    // Node ports stay held until the proxies are bound, so no proxy can take one.
    const held: net.Server[] = [];
    try {
      for (const id of ids) {
        const server = await listenAnywhere();
        held.push(server);
        const port = (server.address() as net.AddressInfo).port;
        this.ports.set(id, port);
        this.portOwner.set(port, id);
      }
      for (const id of ids) {
        const proxy = new NodeProxy(this.ports.get(id)!);
        this.proxies.set(id, proxy);
        this.portOwner.set(await proxy.listen(), id);
      }
    } finally {
      await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  }

  private spawnServer(id: string, membership: readonly string[]): void {
    const o = this.options;
    mkdirSync(o.dataRoot, { recursive: true });
    const args = [
      '--id', id, '--listen', `127.0.0.1:${this.ports.get(id)}`, '--url', this.peerUrlOf(id), ...membership,
      '--data', join(o.dataRoot, id), '--tick-ms', String(o.tickMs), '--election-ticks', String(o.electionTicks),
      '--request-timeout-ms', String(o.requestTimeoutMs), '--follower-mode', o.followerMode, '--log-level', 'warn',
    ];
    const spec = { id, port: this.ports.get(id)!, cli: o.serverCli, args, logPath: join(o.dataRoot, `${id}.log`) };
    const server = new ServerProcess(spec, (sid, code, signal) => this.unexpectedExits.push({ at: o.now(), id: sid, code, signal }));
    this.servers.set(id, server);
    server.start();
  }

  /** The node's own port: where clients and the harness talk to it. */
  urlOf(id: string): string {
    return `http://127.0.0.1:${this.ports.get(id)}`;
  }

  /** The node's proxy: its --url, where its peers reach it. */
  peerUrlOf(id: string): string {
    return `http://127.0.0.1:${this.proxy(id).port}`;
  }

  private proxy(id: string): NodeProxy {
    const proxy = this.proxies.get(id);
    if (!proxy) throw new Error(`no node ${id}`);
    return proxy;
  }

  /**
   * The node a URL leads to. Servers redirect to the leader's address in the log, which here
   * is its proxy, meant for peer traffic, so clients map it back to the node's own port.
   */
  nodeOfUrl(url: string): string | null {
    const port = Number(new URL(url).port);
    return this.portOwner.get(port) ?? null;
  }

  cutLinks(links: readonly Link[], mode: CutMode): void {
    for (const [from, to] of links) this.proxy(to).cut(from, mode);
  }

  healLinks(links: readonly Link[]): void {
    for (const [from, to] of links) this.proxy(to).heal(from);
  }

  /** Whether the link is cut now (for tests). */
  linkState([from, to]: Link): ReturnType<NodeProxy['stateOf']> {
    return this.proxy(to).stateOf(from);
  }

  private server(id: string): ServerProcess {
    const s = this.servers.get(id);
    if (!s) throw new Error(`no node ${id}`);
    return s;
  }

  kill(id: string): Promise<void> {
    return this.server(id).kill();
  }

  /** SIGTERM, a graceful stop (a leader hands over first); SIGKILL after `timeoutMs`. */
  terminate(id: string, timeoutMs = 15_000): ReturnType<ServerProcess['terminate']> {
    return this.server(id).terminate(timeoutMs);
  }

  /** The node will exit because the harness made it (e.g. removed it): not a crash. */
  expectExit(id: string): void {
    this.server(id).expectExit();
  }

  isRunning(id: string): boolean {
    return this.server(id).running;
  }

  /** Nodes taken out for good (see {@link retire}). */
  readonly retired = new Set<string>();

  /** Starts a node that is down (killed or crashed); a running or retired one is left alone. */
  restart(id: string, launch?: Launch): void {
    if (!this.server(id).running && !this.retired.has(id)) this.server(id).start(launch);
  }

  /**
   * Keeps a stopped node down for the rest of the run, as an operator would a member to be
   * replaced: a node that lost its storage cannot rejoin safely without membership changes.
   */
  retire(id: string): void {
    this.retired.add(id);
  }

  /** The node's --data directory; its RocksDB database is the `raft` directory inside. */
  dataDirOf(id: string): string {
    return join(this.options.dataRoot, id);
  }

  /** Deletes a stopped node's data, so it restarts empty and catches up from the leader. */
  wipe(id: string): void {
    if (this.server(id).running) throw new Error(`cannot wipe ${id} while it runs`);
    rmSync(this.dataDirOf(id), { recursive: true, force: true });
  }

  /** How a node started with `mayRefuse` exited by itself, or null (see {@link Launch}). */
  refusal(id: string): ServerProcess['refusal'] {
    return this.server(id).refusal;
  }

  /** Ends a node's `mayRefuse` start: an exit of its own is a crash again. */
  settled(id: string): void {
    this.server(id).settled();
  }

  /** Size of the node's log file: pass it to {@link logSince} to read what came after. */
  logSize(id: string): number {
    try {
      return statSync(this.server(id).spec.logPath).size;
    } catch {
      return 0;
    }
  }

  logSince(id: string, offset: number): string {
    try {
      return readFileSync(this.server(id).spec.logPath).subarray(offset).toString('utf8');
    } catch {
      return '';
    }
  }

  pause(id: string): void {
    this.server(id).pause();
  }

  resume(id: string): void {
    this.server(id).resume();
  }

  isUp(id: string): boolean {
    const s = this.server(id);
    return s.running && !s.isPaused;
  }

  async status(id: string, timeoutMs = 300): Promise<NodeStatus | null> {
    try {
      const res = await fetch(`${this.urlOf(id)}/v1/status`, { signal: AbortSignal.timeout(timeoutMs) });
      return res.ok ? ((await res.json()) as NodeStatus) : null;
    } catch {
      return null;
    }
  }

  async statuses(timeoutMs = 300): Promise<NodeStatus[]> {
    // A SIGSTOPped node answers nothing; a poll sent to it would only queue up and be served
    // the moment it resumes, ahead of (and slowing) what the fault is about.
    const all = await Promise.all(this.ids.map((id) => (this.server(id).isPaused ? null : this.status(id, timeoutMs))));
    return all.filter((s): s is NodeStatus => s !== null);
  }

  /** The leader of the highest term any reachable node claims, or null. */
  async findLeader(timeoutMs = 300): Promise<NodeStatus | null> {
    const leaders = (await this.statuses(timeoutMs)).filter((s) => s.role === 'leader');
    return leaders.sort((a, b) => b.term - a.term)[0] ?? null;
  }

  /** Waits for a leader that a majority of the nodes (itself included) follow in its term. */
  async waitForLeader(timeoutMs: number): Promise<NodeStatus | null> {
    const deadline = performance.now() + timeoutMs;
    const majority = Math.floor(this.ids.length / 2) + 1;
    while (performance.now() < deadline) {
      const all = await this.statuses();
      for (const s of all.filter((x) => x.role === 'leader')) {
        if (all.filter((x) => x.leader === s.id && x.term === s.term).length >= majority) return s;
      }
      await sleep(100);
    }
    return null;
  }

  /** Ends every fault: continues paused nodes, restarts dead ones, reopens every link. */
  healAll(): void {
    for (const id of this.ids) {
      this.resume(id);
      this.restart(id);
    }
    for (const proxy of this.proxies.values()) proxy.healAll();
  }

  /** Every pid any node ever had. */
  pids(): number[] {
    return [...this.servers.values()].flatMap((s) => s.pids);
  }

  /** Kills every node (SIGCONT first) and closes the proxies. Safe to call twice. */
  async destroy(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.kill()));
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
  }

  /** For process exit handlers: signals every node now, without waiting. */
  destroyNow(): void {
    for (const s of this.servers.values()) s.killNow();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A server on a port the OS picked, to hold it until a node takes it over. Another process
 * could grab the port in between; that tiny race is accepted (the node would fail to start).
 */
async function listenAnywhere(): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return server;
}
