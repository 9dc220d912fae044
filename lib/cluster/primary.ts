// The cluster primary: forks workers that share one port, replaces crashed ones with exponential
// backoff, rolls restarts one worker at a time (new one listening before an old one closes), and
// stops them all gracefully on SIGTERM/SIGINT with an exit code that says whether anything was forced.

import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DUPLICATE_SIGNAL_MS } from '../graceful-shutdown.js';
import { UsageError } from '../http1/protocol-error.js';
import { checkOptionKeys, checkOptionObject } from '../connection/options.js';
import { ENV, isWorkerMessage, type PrimaryMessage } from './messages.js';

export interface BackoffOptions {
  /** Delay before the first replacement of a crashed worker, in ms. Default 100. */
  initial?: number;
  /** Ceiling of the doubling delay, in ms. Default 10 000: a broken deploy retries six times a minute, not a thousand. */
  max?: number;
  /** A worker up this long resets the delay to `initial`, in ms. Default 30 000. */
  resetAfter?: number;
}

export interface ClusterOptions {
  /** Path of a module whose default export is an app from createServer() (not listening). */
  module: string;
  /** Default os.availableParallelism(). */
  workers?: number;
  /**
   * Default 3000. 0 picks a free port that all workers share, as long as one of them keeps
   * listening; if every worker dies at once the replacements get a new port (see `port`).
   */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Each worker's close() deadline, in ms. Default 30 000. */
  shutdownTimeout?: number;
  /** Time a new worker has to report listening, in ms. Default 30 000. */
  startTimeout?: number;
  backoff?: BackoffOptions;
  /**
   * Serve HTTPS with this certificate and key (PEM files), read by each worker at start and again
   * on reloadTls(); with it, SIGHUP reloads them instead of a rolling restart.
   */
  tls?: { certFile: string; keyFile: string };
  /** Install SIGHUP (rolling restart, or a certificate reload with `tls`) and SIGTERM/SIGINT (stop) handlers. Default true. */
  signals?: boolean;
  /** After a signal-initiated stop, exit the process with 0 (all graceful) or 1. Default true. */
  exit?: boolean;
}

export interface ClusterStopResult {
  /** Connections closed gracefully, summed over workers. */
  closedGracefully: number;
  /** Connections destroyed at a deadline or by a second signal, summed over workers. */
  forced: number;
  /** Workers that exited without reporting a close result, or had to be killed. */
  failed: number;
}

export interface WorkerInfo {
  pid: number;
  generation: number;
  state: 'starting' | 'listening' | 'retiring';
}

interface Tracked {
  worker: Worker;
  pid: number;
  generation: number;
  /** Candidates are rolling-restart replacements not yet counted as members. */
  role: 'member' | 'candidate';
  state: WorkerInfo['state'];
  startedAt: number;
  listeningAt: number;
  fatal: string | null;
  result: { closedGracefully: number; forced: number } | null;
  onListening: (() => void) | null;
  onUnlistened: (() => void) | null;
  /** Messages held until the worker says its handlers exist. */
  held: PrimaryMessage[] | null;
  exitCode: number | null;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.js', import.meta.url));
// Beyond each worker's own close() deadline, the time left before the primary kills it.
const KILL_GRACE_MS = 5_000;
// A worker that does not confirm leaving the listener (busy event loop) does not hold up the stop.
const UNLISTEN_WAIT_MS = 2_000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function invalid(message: string): UsageError {
  return new UsageError('ERR_INVALID_OPTION', message);
}

const CLUSTER_OPTION_KEYS: readonly string[] = ['module', 'workers', 'port', 'host', 'shutdownTimeout', 'startTimeout', 'backoff', 'signals', 'exit', 'tls'];

function count(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalid(`${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

export class Cluster extends EventEmitter {
  readonly module: string;
  readonly workerCount: number;
  readonly host: string;
  readonly shutdownTimeout: number;
  readonly tls: { certFile: string; keyFile: string } | null;
  /** The port the workers share, known once the first one listens. */
  port: number | null = null;
  /** Resolves once `workers` workers listen for the first time; rejects if one cannot start (bad module, port taken). */
  readonly ready: Promise<{ port: number; host: string; pids: number[] }>;
  private readonly requestedPort: number;
  private readonly startTimeout: number;
  private readonly backoff: Required<BackoffOptions>;
  private readonly tracked = new Map<number, Tracked>();
  private generation = 0;
  private nextDelay: number;
  private readonly respawns = new Set<NodeJS.Timeout>();
  private restartChain: Promise<void> = Promise.resolve();
  private stopping: Promise<ClusterStopResult> | null = null;
  private started = false;
  private resolveReady!: (value: { port: number; host: string; pids: number[] }) => void;
  private rejectReady!: (err: Error) => void;
  private removeSignals: (() => void) | null = null;

  constructor(options: ClusterOptions) {
    super();
    if (options === null || typeof options !== 'object') throw invalid('runCluster() options must be an object');
    checkOptionKeys(options, CLUSTER_OPTION_KEYS);
    if (typeof options.module !== 'string' || options.module === '') throw invalid('module must be a path to the app module');
    this.module = path.resolve(options.module);
    this.workerCount = count(options.workers, 'workers', availableParallelism(), 1);
    this.requestedPort = count(options.port, 'port', 3000, 0);
    if (this.requestedPort > 65535) throw invalid(`port must be <= 65535, got ${this.requestedPort}`);
    if (options.host !== undefined && (typeof options.host !== 'string' || options.host === '')) throw invalid('host must be a non-empty string');
    this.host = options.host ?? '127.0.0.1';
    this.shutdownTimeout = count(options.shutdownTimeout, 'shutdownTimeout', 30_000, 0);
    const tls = options.tls;
    if (tls !== undefined && (tls === null || typeof tls !== 'object' || typeof tls.certFile !== 'string' || typeof tls.keyFile !== 'string'
      || tls.certFile === '' || tls.keyFile === '')) {
      throw invalid('tls must be { certFile, keyFile } with the paths of a PEM certificate and key');
    }
    this.tls = tls === undefined ? null : { certFile: tls.certFile, keyFile: tls.keyFile };
    this.startTimeout = count(options.startTimeout, 'startTimeout', 30_000, 1);
    for (const name of ['signals', 'exit'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'boolean') throw invalid(`${name} must be a boolean, got ${String(options[name])}`);
    }
    const b = options.backoff ?? {};
    checkOptionObject(b, 'option backoff');
    checkOptionKeys(b, ['initial', 'max', 'resetAfter'], 'backoff.');
    this.backoff = {
      initial: count(b.initial, 'backoff.initial', 100, 1),
      max: count(b.max, 'backoff.max', 10_000, 1),
      resetAfter: count(b.resetAfter, 'backoff.resetAfter', 30_000, 0),
    };
    // Every option is checked before the file system is asked about the module.
    if (!existsSync(this.module)) throw new UsageError('ERR_MODULE_NOT_FOUND', `module ${this.module} does not exist`);
    this.nextDelay = this.backoff.initial;
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Callers that only use events must not get an unhandled rejection.
    this.ready.catch(() => {});
    if (options.signals ?? true) this.installSignals(options.exit ?? true);
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
   * Rolling restart: for each worker alive now, fork a replacement, wait until it listens, then
   * close the old one gracefully and wait for its exit. A replacement that fails to start aborts
   * the restart and leaves the old workers serving. Calls queue; each runs a full round.
   */
  /**
   * Every worker reads the certificate and key files again and uses them for new handshakes; open
   * connections keep theirs. Each worker reports 'tls-reloaded' ({ pid, error }); one whose files
   * do not load keeps its current certificate.
   */
  reloadTls(): void {
    if (this.tls === null) throw new UsageError('ERR_NOT_TLS', 'reloadTls() needs a cluster started with tls');
    for (const t of this.tracked.values()) if (t.state !== 'retiring') this.send(t, { linger: 'reload-tls' });
  }

  restart(): Promise<void> {
    const run = this.restartChain.catch(() => {}).then(() => this.rollingRestart());
    this.restartChain = run;
    return run;
  }

  /** Closes every worker gracefully; a second call forces the close of what is left. */
  stop(): Promise<ClusterStopResult> {
    if (this.stopping !== null) {
      for (const t of this.tracked.values()) this.send(t, { linger: 'force' });
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
    const unlistened = Promise.race([Promise.all(all.map((t) => this.unlisten(t))), delay(UNLISTEN_WAIT_MS)]);
    this.stopping = unlistened.then(() => Promise.all(all.map((t) => this.retire(t)))).then((outcomes) => {
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

  private fork(role: Tracked['role']): Tracked {
    const worker = cluster.fork({
      [ENV.module]: this.module,
      // The requested port, not the bound one: node:cluster keys the shared listener by it (port 0
      // included), so a replacement joins the same listener instead of binding a second one.
      [ENV.port]: String(this.requestedPort),
      [ENV.host]: this.host,
      [ENV.shutdownTimeout]: String(this.shutdownTimeout),
      ...(this.tls === null ? {} : { [ENV.tlsCert]: this.tls.certFile, [ENV.tlsKey]: this.tls.keyFile }),
    });
    let onExit!: (value: { code: number | null; signal: string | null }) => void;
    const t: Tracked = {
      worker,
      pid: worker.process.pid ?? -1,
      generation: this.generation,
      role,
      state: 'starting',
      startedAt: Date.now(),
      listeningAt: 0,
      fatal: null,
      result: null,
      onListening: null,
      onUnlistened: null,
      held: [],
      exitCode: null,
      exited: new Promise((resolve) => { onExit = resolve; }),
    };
    this.tracked.set(worker.id, t);
    worker.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      if (message.linger === 'attached') {
        const held = t.held ?? [];
        t.held = null;
        for (const m of held) this.send(t, m);
      } else if (message.linger === 'listening') {
        if (t.state === 'starting') t.state = 'listening';
        t.listeningAt = Date.now();
        // Latest wins: with port 0, a listener that lost all its workers comes back on a new port.
        this.port = message.port;
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
      t.exitCode = code;
      onExit({ code, signal });
      this.onWorkerExit(t, code, signal);
    });
    return t;
  }

  private checkReady(): void {
    const listening = [...this.tracked.values()].filter((t) => t.role === 'member' && t.state === 'listening').length;
    if (listening >= this.workerCount && this.port !== null) {
      this.resolveReady({ port: this.port, host: this.host, pids: this.listeningPids });
    }
  }

  private onWorkerExit(t: Tracked, code: number | null, signal: string | null): void {
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

  private waitListening(t: Tracked): Promise<void> {
    return new Promise((resolve, reject) => {
      if (t.state === 'listening') {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        reject(new Error(`worker ${t.pid} did not listen within ${this.startTimeout} ms`));
        this.retire(t).catch(() => {});
      }, this.startTimeout);
      t.onListening = () => {
        clearTimeout(timer);
        resolve();
      };
      void t.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`worker ${t.pid} exited before listening (${t.fatal ?? `code ${String(code)}, signal ${String(signal)}`})`));
      });
    });
  }

  private unlisten(t: Tracked): Promise<void> {
    return new Promise((resolve) => {
      if (!this.tracked.has(t.worker.id) || !t.worker.isConnected()) {
        resolve();
        return;
      }
      t.onUnlistened = resolve;
      void t.exited.then(() => resolve());
      this.send(t, { linger: 'unlisten' });
    });
  }

  /** Asks a worker to close gracefully; kills it if it outlives its deadline. Resolves with its close result, or null. */
  private async retire(t: Tracked): Promise<Tracked['result']> {
    if (!this.tracked.has(t.worker.id)) return t.exitCode === 0 || t.exitCode === 1 ? t.result : null;
    t.state = 'retiring';
    this.send(t, { linger: 'shutdown', timeout: this.shutdownTimeout });
    const killer = setTimeout(() => t.worker.process.kill('SIGKILL'), this.shutdownTimeout + KILL_GRACE_MS);
    const { code } = await t.exited;
    clearTimeout(killer);
    return code === 0 || code === 1 ? t.result : null;
  }

  private send(t: Tracked, message: PrimaryMessage): void {
    if (t.held !== null) t.held.push(message);
    else if (t.worker.isConnected()) t.worker.send(message, undefined, () => {});
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
      await this.waitListening(fresh);
      fresh.role = 'member';
      if (this.stopping !== null) break;
      replaced.push(old.pid);
      const outcome = await this.retire(old);
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
