// The cluster primary: forks workers that share one port, replaces crashed ones with exponential
// backoff, rolls restarts one worker at a time (new one listening before an old one closes), and
// stops them all gracefully on SIGTERM/SIGINT with an exit code that says whether anything was forced.

import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { DUPLICATE_SIGNAL_MS } from '../graceful-shutdown.js';
import { UsageError } from '../http1/protocol-error.js';
import { resolveClusterOptions, type BackoffOptions, type ClusterOptions } from './cluster-options.js';
import { ENV, isWorkerMessage } from './messages.js';
import { WorkerHandle, type WorkerInfo } from './worker-handle.js';

export type { WorkerInfo } from './worker-handle.js';

export interface ClusterStopResult {
  /** Connections closed gracefully, summed over workers. */
  closedGracefully: number;
  /** Connections destroyed at a deadline or by a second signal, summed over workers. */
  forced: number;
  /** Workers that exited without reporting a close result, or had to be killed. */
  failed: number;
}

const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.js', import.meta.url));
// A worker that does not confirm leaving the listener (busy event loop) does not hold up the stop.
const UNLISTEN_WAIT_MS = 2_000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class Cluster extends EventEmitter {
  readonly module: string;
  readonly workerCount: number;
  readonly host: string;
  readonly fd: number | null;
  readonly shutdownTimeout: number;
  readonly drainDelay: number;
  readonly tls: { certFile: string; keyFile: string } | null;
  /** The port the workers share, known once the first one listens. */
  port: number | null = null;
  private boundHost: string | null = null;
  /** Resolves once `workers` workers listen for the first time; rejects if one cannot start (bad module, port taken). */
  readonly ready: Promise<{ port: number; host: string; pids: number[] }>;
  private readonly requestedPort: number;
  private readonly startTimeout: number;
  private readonly backoff: Required<BackoffOptions>;
  private readonly tracked = new Map<number, WorkerHandle>();
  private generation = 0;
  private nextDelay: number;
  private readonly respawns = new Set<NodeJS.Timeout>();
  private restartChain: Promise<void> = Promise.resolve();
  private stopping: Promise<ClusterStopResult> | null = null;
  private endDrain: (() => void) | null = null;
  private readonly exitOnStop: boolean;
  private started = false;
  private resolveReady!: (value: { port: number; host: string; pids: number[] }) => void;
  private rejectReady!: (err: Error) => void;
  private removeSignals: (() => void) | null = null;

  constructor(options: ClusterOptions) {
    super();
    const o = resolveClusterOptions(options);
    this.module = o.module;
    this.workerCount = o.workers;
    this.requestedPort = o.port;
    this.host = o.host;
    this.shutdownTimeout = o.shutdownTimeout;
    this.startTimeout = o.startTimeout;
    this.backoff = o.backoff;
    this.tls = o.tls;
    this.fd = o.fd;
    this.drainDelay = o.drainDelay;
    this.nextDelay = this.backoff.initial;
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Callers that only use events must not get an unhandled rejection.
    this.ready.catch(() => {});
    this.exitOnStop = o.exit;
    if (o.signals) this.installSignals(this.exitOnStop);
  }

  /** Forks the workers. Called by runCluster(). */
  start(): this {
    if (this.started) return this;
    if (!cluster.isPrimary) throw new UsageError('ERR_NOT_PRIMARY', 'runCluster() must run in the primary process');
    this.started = true;
    cluster.setupPrimary({ exec: WORKER_ENTRY, args: [] });
    for (let i = 0; i < this.workerCount; i++) this.fork('member');
    return this;
  }

  /** Live workers, oldest first. */
  get workers(): WorkerInfo[] {
    return [...this.tracked.values()].map((t) => ({ pid: t.pid, generation: t.generation, state: t.state }));
  }

  /** Pids of the workers that are listening and not retiring. */
  get listeningPids(): number[] {
    return [...this.tracked.values()].filter((t) => t.state === 'listening').map((t) => t.pid);
  }

  /**
   * Every worker reads the certificate and key files again and uses them for new handshakes; open
   * connections keep theirs. Each worker reports 'tls-reloaded' ({ pid, error }); one whose files
   * do not load keeps its current certificate.
   */
  reloadTls(): void {
    if (this.tls === null) throw new UsageError('ERR_NOT_TLS', 'reloadTls() needs a cluster started with tls');
    for (const t of this.tracked.values()) if (t.state !== 'retiring') t.send({ linger: 'reload-tls' });
  }

  /**
   * Rolling restart: for each worker alive now, fork a replacement, wait until it listens, then
   * close the old one gracefully and wait for its exit. A replacement that fails to start aborts
   * the restart and leaves the old workers serving. Calls queue; each runs a full round.
   */
  restart(): Promise<void> {
    const run = this.restartChain.catch(() => {}).then(() => this.rollingRestart());
    this.restartChain = run;
    return run;
  }

  /** Closes every worker gracefully; a second call forces the close of what is left. */
  stop(): Promise<ClusterStopResult> {
    if (this.stopping !== null) {
      this.endDrain?.();
      for (const t of this.tracked.values()) t.send({ linger: 'force' });
      return this.stopping;
    }
    for (const timer of this.respawns) clearTimeout(timer);
    this.respawns.clear();
    this.rejectReady(new Error('the cluster was stopped before it was ready'));
    const all = [...this.tracked.values()];
    for (const t of all) t.state = 'retiring';
    // Two phases: first every worker leaves the shared listener, so the primary closes it; only
    // then do workers answer with Connection: close. A client reconnecting after that response is
    // refused; in one phase it could reach the primary's listener in its last moments and be
    // accepted, then reset when the listener closes with it queued.
    // With a drain first: every worker turns not ready and says Connection: close while the shared
    // listener stays open, so connections a load balancer still sends here are served.
    const drained = this.drainDelay === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      this.emit('draining', { delay: this.drainDelay, pids: all.map((t) => t.pid) });
      for (const t of all) t.send({ linger: 'drain', timeout: this.shutdownTimeout, drainDelay: this.drainDelay });
      const timer = setTimeout(resolve, this.drainDelay);
      this.endDrain = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const unlistened = drained.then(() => Promise.race([Promise.all(all.map((t) => t.unlisten())), delay(UNLISTEN_WAIT_MS)]));
    this.stopping = unlistened.then(() => Promise.all(all.map((t) => t.retire(this.shutdownTimeout)))).then((outcomes) => {
      const result: ClusterStopResult = { closedGracefully: 0, forced: 0, failed: 0 };
      for (const outcome of outcomes) {
        if (outcome === null) result.failed++;
        else {
          result.closedGracefully += outcome.closedGracefully;
          result.forced += outcome.forced;
        }
      }
      this.removeSignals?.();
      this.emit('stopped', result);
      return result;
    });
    return this.stopping;
  }

  private installSignals(exit: boolean): void {
    const onHup = (): void => {
      if (this.stopping !== null) return;
      if (this.tls !== null) {
        this.reloadTls();
        return;
      }
      this.restart().catch((err: unknown) => this.emit('restart-failed', err));
    };
    let lastStopAt = -Infinity;
    const onStop = (signal: NodeJS.Signals): void => {
      const now = Date.now();
      if (now - lastStopAt < DUPLICATE_SIGNAL_MS) return;
      lastStopAt = now;
      const first = this.stopping === null;
      this.emit('signal', signal);
      const stopping = this.stop();
      if (first && exit) {
        void stopping.then((r) => process.exit(r.forced === 0 && r.failed === 0 ? 0 : 1));
      }
    };
    process.on('SIGHUP', onHup);
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    this.removeSignals = () => {
      process.off('SIGHUP', onHup);
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
    };
  }

  private fork(role: WorkerHandle['role']): WorkerHandle {
    const worker = cluster.fork({
      [ENV.module]: this.module,
      // The requested port, not the bound one: node:cluster keys the shared listener by it (port 0
      // included), so a replacement joins the same listener instead of binding a second one.
      [ENV.port]: String(this.requestedPort),
      [ENV.host]: this.host,
      [ENV.shutdownTimeout]: String(this.shutdownTimeout),
      [ENV.drainDelay]: String(this.drainDelay),
      [ENV.fd]: this.fd === null ? '' : String(this.fd),
      ...(this.tls === null ? {} : { [ENV.tlsCert]: this.tls.certFile, [ENV.tlsKey]: this.tls.keyFile }),
    });
    const t = new WorkerHandle(worker, this.generation, role);
    this.tracked.set(worker.id, t);
    worker.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      if (message.linger === 'attached') t.attached();
      else if (message.linger === 'listening') {
        if (t.state === 'starting') t.state = 'listening';
        t.listeningAt = Date.now();
        // Latest wins: with port 0, a listener that lost all its workers comes back on a new port.
        this.port = message.port;
        this.boundHost = message.address;
        this.emit('listening', { pid: t.pid, address: message.address, port: message.port });
        t.onListening?.();
        this.checkReady();
      } else if (message.linger === 'unlistened') {
        t.onUnlistened?.();
      } else if (message.linger === 'closed') {
        t.result = message.result;
      } else if (message.linger === 'fatal') {
        t.fatal = message.message;
      } else if (message.linger === 'tls-reloaded') {
        this.emit('tls-reloaded', { pid: t.pid, error: message.error });
      }
    });
    // A worker that fails to spawn emits 'error' and then 'exit'; the exit path handles it.
    worker.on('error', () => {});
    worker.on('exit', (code: number | null, signal: string | null) => {
      this.tracked.delete(worker.id);
      this.onWorkerExit(t, code, signal);
    });
    return t;
  }

  private checkReady(): void {
    const listening = [...this.tracked.values()].filter((t) => t.role === 'member' && t.state === 'listening').length;
    if (listening >= this.workerCount && this.port !== null) {
      this.resolveReady({ port: this.port, host: this.fd === null ? this.host : (this.boundHost ?? this.host), pids: this.listeningPids });
    }
  }

  private onWorkerExit(t: WorkerHandle, code: number | null, signal: string | null): void {
    if (t.state === 'retiring' || this.stopping !== null) return;
    if (t.role === 'candidate') return; // the rolling restart that forked it sees the exit
    const everListened = t.listeningAt > 0;
    // A member that cannot even start before the cluster was ever ready: the module or the port is
    // wrong, and retrying forever would hide it.
    if (t.fatal !== null && this.port === null && !everListened) {
      this.emit('fatal', { pid: t.pid, message: t.fatal });
      this.rejectReady(new Error(t.fatal));
      void this.stop();
      return;
    }
    if (this.fd !== null && everListened && ![...this.tracked.values()].some((x) => x.state === 'listening')) {
      // node:cluster closed the inherited descriptor with its last worker: a replacement cannot
      // get it back, and the number may already name another file. The supervisor still holds the
      // socket (queuing connections): stopping lets it restart the service on it.
      const message = `every worker exited and node:cluster closed the inherited socket (fd ${this.fd}) with them; stopping`;
      this.emit('fatal', { pid: t.pid, message });
      void this.stop().then(() => {
        if (this.exitOnStop) process.exit(1);
      });
      return;
    }
    const uptime = everListened ? Date.now() - t.listeningAt : 0;
    if (uptime >= this.backoff.resetAfter) this.nextDelay = this.backoff.initial;
    const delay = this.nextDelay;
    this.nextDelay = Math.min(this.nextDelay * 2, this.backoff.max);
    this.emit('crash', { pid: t.pid, code, signal, uptime, delay, fatal: t.fatal });
    const timer = setTimeout(() => {
      this.respawns.delete(timer);
      if (this.stopping !== null) return;
      const members = [...this.tracked.values()].filter((x) => x.role === 'member' && x.state !== 'retiring').length;
      if (members < this.workerCount) this.fork('member');
    }, delay);
    this.respawns.add(timer);
  }

  private async rollingRestart(): Promise<void> {
    if (this.stopping !== null) return;
    const generation = ++this.generation;
    const replaced: number[] = [];
    let closedGracefully = 0;
    let forced = 0;
    let failed = 0;
    for (let round = 0; round < this.workerCount * 4 && this.stopping === null; round++) {
      const old = [...this.tracked.values()].find((t) => t.role === 'member' && t.state !== 'retiring' && t.generation < generation);
      if (old === undefined) break;
      const fresh = this.fork('candidate');
      await fresh.waitListening(this.startTimeout, this.shutdownTimeout);
      fresh.role = 'member';
      if (this.stopping !== null) break;
      replaced.push(old.pid);
      const outcome = await old.retire(this.shutdownTimeout);
      if (outcome === null) failed++;
      else {
        closedGracefully += outcome.closedGracefully;
        forced += outcome.forced;
      }
    }
    this.emit('restart', { replaced, pids: this.listeningPids, closedGracefully, forced, failed });
  }
}

/** Starts a cluster of `workers` processes serving the app module on one port. */
export function runCluster(options: ClusterOptions): Cluster {
  return new Cluster(options).start();
}
