// The app's error log: what one entry says (the phase an error happened in, the status answered,
// the request line), the default that writes it to stderr, and the logErrors option's choice.

import { inspect } from 'node:util';
import { UsageError } from '../http1/protocol-error.js';

/**
 * Where an error was met, for the error log: `request` became an error answer (logged when it is a
 * 5xx); `stream` failed after the head was sent (the connection is destroyed); `after-response`
 * was thrown once the response was complete or the engine had answered in the handler's place;
 * `timeout` is a handler that did not start its response in time; `hook` is an onResponse or
 * onError hook, or the error handler, that threw.
 */
export type ErrorPhase = 'request' | 'stream' | 'after-response' | 'timeout' | 'hook';

export interface ErrorLogEntry {
  readonly error: unknown;
  readonly phase: ErrorPhase;
  /** The status answered for it: the error's for `request`, 503 for `timeout`, else the response's. */
  readonly statusCode: number;
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
}

/** Receives each error once: the app's logErrors option. */
export type ErrorLog = (entry: ErrorLogEntry) => void;

const PHASE_TEXT: Readonly<Record<ErrorPhase, string>> = {
  request: 'error answered',
  stream: 'error after the head was sent, connection destroyed',
  'after-response': 'error after the response was complete',
  timeout: 'handler timeout',
  hook: 'error in a hook or the error handler',
};

/** The default error log: one entry on stderr per error, with its request line, status and stack. */
export function logToStderr(entry: ErrorLogEntry): void {
  // A timeout's stack is the engine's sweeper, not the handler: its message says it all.
  const error = entry.error as { message?: unknown } | null;
  const detail = entry.phase === 'timeout' && typeof error?.message === 'string' ? error.message : inspect(entry.error, { depth: 2, breakLength: Infinity });
  process.stderr.write(`linger: ${entry.statusCode} "${entry.method} ${entry.url} HTTP/${entry.httpVersion}" ${PHASE_TEXT[entry.phase]}: ${detail}\n`);
}

/** The log an app's logErrors option selects: stderr by default, a function of the user's, or none. */
export function errorLogOf(option: unknown, name: string): ErrorLog | null {
  if (option === undefined || option === true) return logToStderr;
  if (option === false) return null;
  if (typeof option === 'function') return option as ErrorLog;
  throw new UsageError('ERR_INVALID_OPTION', `option ${name} must be a boolean or a function, got ${typeof option}`);
}

