// A cluster's options: their defaults with the reasons, and the checks that turn a value that cannot
// work into a UsageError (ERR_INVALID_OPTION, ERR_MODULE_NOT_FOUND) before any worker is forked.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { UsageError } from '../http1/protocol-error.js';
import { checkOptionKeys, checkOptionObject } from '../connection/options.js';

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
  /**
   * A listening socket the primary inherited (socket activation) instead of port and host: the
   * workers serve it through node:cluster, and the supervisor that owns it queues connections
   * while the whole cluster restarts. If every worker dies at once, node:cluster closes it; the
   * primary then exits 1 so the supervisor restarts the service with the socket it still holds.
   */
  fd?: number;
  /** Each worker's close() deadline, in ms, counted from the start of the stop (drain included). Default 30 000. */
  shutdownTimeout?: number;
  /**
   * On stop, ms during which workers keep the shared listener and serve new connections while
   * reporting not ready and answering with Connection: close, so a load balancer's health check
   * takes the instance out before its port closes. Default 0. At most shutdownTimeout.
   */
  drainDelay?: number;
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

/** ClusterOptions with every default applied and every value checked. */
export interface ResolvedClusterOptions {
  /** Absolute path. */
  module: string;
  workers: number;
  port: number;
  host: string;
  /** null: listen on port and host. */
  fd: number | null;
  shutdownTimeout: number;
  drainDelay: number;
  startTimeout: number;
  backoff: Required<BackoffOptions>;
  tls: { certFile: string; keyFile: string } | null;
  signals: boolean;
  exit: boolean;
}

function invalid(message: string): UsageError {
  return new UsageError('ERR_INVALID_OPTION', message);
}

const CLUSTER_OPTION_KEYS: readonly string[] = ['module', 'workers', 'port', 'host', 'fd', 'shutdownTimeout', 'drainDelay', 'startTimeout', 'backoff', 'signals', 'exit', 'tls'];

function count(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalid(`${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

export function resolveClusterOptions(options: ClusterOptions): ResolvedClusterOptions {
  if (options === null || typeof options !== 'object') throw invalid('runCluster() options must be an object');
  checkOptionKeys(options, CLUSTER_OPTION_KEYS);
  if (typeof options.module !== 'string' || options.module === '') throw invalid('module must be a path to the app module');
  const module = path.resolve(options.module);
  const workers = count(options.workers, 'workers', availableParallelism(), 1);
  const port = count(options.port, 'port', 3000, 0);
  if (port > 65535) throw invalid(`port must be <= 65535, got ${port}`);
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host === '')) throw invalid('host must be a non-empty string');
  if (options.fd !== undefined) {
    if (options.port !== undefined || options.host !== undefined) throw invalid('fd excludes port and host: the inherited socket is already bound');
    if (typeof options.fd !== 'number' || !Number.isInteger(options.fd) || options.fd < 0) throw invalid(`fd must be an integer >= 0, got ${String(options.fd)}`);
  }
  const shutdownTimeout = count(options.shutdownTimeout, 'shutdownTimeout', 30_000, 0);
  const drainDelay = count(options.drainDelay, 'drainDelay', 0, 0);
  if (drainDelay > shutdownTimeout) {
    throw invalid(`drainDelay (${drainDelay} ms) must not exceed shutdownTimeout (${shutdownTimeout} ms): the deadline counts from the start of the drain`);
  }
  const startTimeout = count(options.startTimeout, 'startTimeout', 30_000, 1);
  for (const name of ['signals', 'exit'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') throw invalid(`${name} must be a boolean, got ${String(options[name])}`);
  }
  const b = options.backoff ?? {};
  checkOptionObject(b, 'option backoff');
  checkOptionKeys(b, ['initial', 'max', 'resetAfter'], 'backoff.');
  const backoff = {
    initial: count(b.initial, 'backoff.initial', 100, 1),
    max: count(b.max, 'backoff.max', 10_000, 1),
    resetAfter: count(b.resetAfter, 'backoff.resetAfter', 30_000, 0),
  };
  const tls = options.tls;
  if (tls !== undefined && (tls === null || typeof tls !== 'object' || typeof tls.certFile !== 'string' || typeof tls.keyFile !== 'string'
    || tls.certFile === '' || tls.keyFile === '')) {
    throw invalid('tls must be { certFile, keyFile } with the paths of a PEM certificate and key');
  }
  // Every option is checked before the file system is asked about the module.
  if (!existsSync(module)) throw new UsageError('ERR_MODULE_NOT_FOUND', `module ${module} does not exist`);
  return {
    module, workers, port, host: options.host ?? '127.0.0.1', fd: options.fd ?? null, shutdownTimeout, drainDelay, startTimeout, backoff,
    tls: tls === undefined ? null : { certFile: tls.certFile, keyFile: tls.keyFile },
    signals: options.signals ?? true,
    exit: options.exit ?? true,
  };
}
