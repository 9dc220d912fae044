// The IPC vocabulary between the cluster primary and its workers, and the environment a worker
// is started with. Both sides import it so a renamed field fails to compile on both.

import type { CloseResult } from '../server.js';

/** Primary → worker. */
export type PrimaryMessage =
  | { linger: 'unlisten' }
  /** Start close() with a drain: not ready, Connection: close, the shared listener kept until 'unlisten'. */
  | { linger: 'drain'; timeout: number; drainDelay: number }
  | { linger: 'shutdown'; timeout: number }
  | { linger: 'force' }
  | { linger: 'reload-tls' };

/** Worker → primary. 'attached': its message handlers exist (messages sent earlier would be lost). */
export type WorkerMessage =
  | { linger: 'attached' }
  | { linger: 'listening'; address: string; port: number }
  | { linger: 'unlistened' }
  | { linger: 'closed'; result: CloseResult }
  | { linger: 'fatal'; message: string }
  | { linger: 'tls-reloaded'; error: string | null };

export const ENV = Object.freeze({
  module: 'LINGER_CLUSTER_MODULE',
  port: 'LINGER_CLUSTER_PORT',
  host: 'LINGER_CLUSTER_HOST',
  shutdownTimeout: 'LINGER_CLUSTER_SHUTDOWN_TIMEOUT',
  drainDelay: 'LINGER_CLUSTER_DRAIN_DELAY',
  fd: 'LINGER_CLUSTER_FD',
  tlsCert: 'LINGER_CLUSTER_TLS_CERT',
  tlsKey: 'LINGER_CLUSTER_TLS_KEY',
});

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return message !== null && typeof message === 'object' && typeof (message as { linger?: unknown }).linger === 'string';
}

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return isWorkerMessage(message);
}
