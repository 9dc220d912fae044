// gracefulShutdown(): one line that turns SIGTERM/SIGINT into server.close() with a deadline, a
// second signal into an immediate forced close, and the outcome into the process exit code.

import { constants as osConstants } from 'node:os';
import { UsageError } from './http1/protocol-error.js';
import { checkOptionKeys, integerOption, MAX_TIMER_MS } from './connection/options.js';
import type { CloseResult, Server } from './server.js';

/** Exit codes: what a process manager or CI reads after a stop. */
export const EXIT_CODES = Object.freeze({
  /** Every connection closed on its own terms before the deadline. */
  graceful: 0,
  /** Some connections were destroyed (deadline or second signal), or close() or onShutdown failed. */
  forced: 1,
});

export interface ShutdownInfo {
  /** The signal that started the shutdown. */
  signal: NodeJS.Signals;
  /** null when close() itself failed. */
  result: CloseResult | null;
  /** True when a second signal cut the shutdown short. */
  forcedBySignal: boolean;
  /** The exit code the process is about to exit with (or would, with exit: false). */
  exitCode: number;
}

export interface GracefulShutdownOptions {
  /** Signals that start the shutdown; default SIGTERM (process managers, Kubernetes) and SIGINT (Ctrl-C). */
  signals?: NodeJS.Signals[];
  /** close() deadline in ms; default the server's shutdownTimeout option (30 s). */
  timeout?: number;
  /**
   * ms between the signal and the listener's close, default 0: `ready` is false and every response
   * says Connection: close, but new connections are still served while the load balancer or
   * orchestrator notices (a Kubernetes preStop sleep, built in). Counts against `timeout`.
   */
  drainDelay?: number;
  /** Call process.exit with EXIT_CODES once done; default true. */
  exit?: boolean;
  /** Runs after close() resolved and before the exit (flush logs, close pools); a throw makes the exit code 1. */
  onShutdown?: (info: ShutdownInfo) => void | Promise<void>;
}

type Closable = Pick<Server, 'close' | 'forceClose'>;

/**
 * A repeat this soon after the previous signal is the same request delivered twice, not an
 * operator asking to force: `timeout`, some process managers and a terminal's Ctrl-C can signal
 * both the process and its process group. People do not press twice within 100 ms.
 */
export const DUPLICATE_SIGNAL_MS = 100;

function invalid(message: string): UsageError {
  return new UsageError('ERR_INVALID_OPTION', message);
}

/**
 * Installs the signal listeners and returns a disposer that removes them. The first signal starts
 * `server.close({ timeout })`; a second destroys what is left at once; a third exits at once with 1
 * (an onShutdown that hangs must not hold the process).
 */
export function gracefulShutdown(server: Closable, options: GracefulShutdownOptions = {}): () => void {
  if (server === null || typeof server !== 'object' || typeof server.close !== 'function' || typeof server.forceClose !== 'function') {
    throw invalid('gracefulShutdown() needs a linger server (an object with close() and forceClose())');
  }
  if (options === null || typeof options !== 'object') throw invalid('gracefulShutdown() options must be an object');
  checkOptionKeys(options, ['signals', 'timeout', 'drainDelay', 'exit', 'onShutdown']);
  const { signals = ['SIGTERM', 'SIGINT'], timeout, drainDelay, exit = true, onShutdown } = options;
  if (!Array.isArray(signals) || signals.length === 0) throw invalid('signals must be a non-empty array of signal names');
  for (const signal of signals) {
    if (typeof signal !== 'string' || !(signal in osConstants.signals) || signal === 'SIGKILL' || signal === 'SIGSTOP') {
      throw invalid(`signals: ${String(signal)} is not a signal a process can listen for`);
    }
  }
  if (timeout !== undefined) integerOption(timeout, 0, 'timeout', 0, MAX_TIMER_MS);
  if (drainDelay !== undefined) integerOption(drainDelay, 0, 'drainDelay', 0, MAX_TIMER_MS);
  // Checked here too, not only by close(): a mistake must show at startup, not at the first SIGTERM.
  if (timeout !== undefined && drainDelay !== undefined && drainDelay > timeout) {
    throw invalid(`drainDelay (${drainDelay} ms) must not exceed timeout (${timeout} ms): the deadline counts from the start of the drain`);
  }
  if (typeof exit !== 'boolean') throw invalid(`exit must be a boolean, got ${String(exit)}`);
  if (onShutdown !== undefined && typeof onShutdown !== 'function') throw invalid('onShutdown must be a function');

  let received = 0;
  let lastAt = -Infinity;
  let forcedBySignal = false;
  const finish = (code: number): void => {
    if (exit) process.exit(code);
  };

  const run = async (signal: NodeJS.Signals): Promise<void> => {
    let result: CloseResult | null = null;
    try {
      const closeOptions: { timeout?: number; drainDelay?: number } = {};
      if (timeout !== undefined) closeOptions.timeout = timeout;
      if (drainDelay !== undefined) closeOptions.drainDelay = drainDelay;
      result = await server.close(closeOptions);
    } catch {
      result = null;
    }
    const info: ShutdownInfo = {
      signal,
      result,
      forcedBySignal,
      exitCode: result !== null && result.forced === 0 ? EXIT_CODES.graceful : EXIT_CODES.forced,
    };
    if (onShutdown !== undefined) {
      try {
        await onShutdown(info);
      } catch {
        info.exitCode = EXIT_CODES.forced;
      }
    }
    finish(info.exitCode);
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    const now = Date.now();
    if (now - lastAt < DUPLICATE_SIGNAL_MS) return;
    lastAt = now;
    received++;
    if (received === 1) {
      void run(signal);
    } else if (received === 2) {
      forcedBySignal = true;
      void server.forceClose().catch(() => {});
    } else {
      finish(EXIT_CODES.forced);
    }
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
