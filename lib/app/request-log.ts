// Request logging: a pino-shaped logger (pino itself, or a minimal JSON-lines default), request ids
// taken from an incoming header or generated and echoed, one line per finished request, and the
// connection closes that are not routine.

import { randomBytes } from 'node:crypto';
import { UsageError } from '../http1/protocol-error.js';
import type { CloseReason, LingerOutcome } from '../connection/lifecycle-stats.js';

type LogFn = (obj: object, msg?: string) => void;

/** What the logger option takes: pino's interface, or anything with the same methods. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** The default: one JSON object per line on stdout in pino's shape (level numbers, time, msg); debug is off. */
export class JsonLineLogger implements Logger {
  constructor(private readonly bindings: string = '', private readonly write: (line: string) => void = (line) => process.stdout.write(line)) {}

  private line(level: number, obj: object, msg: string | undefined): void {
    let text = `{"level":${level},"time":${Date.now()}${this.bindings}`;
    const fields = JSON.stringify(obj);
    if (fields.length > 2) text += `,${fields.slice(1, -1)}`;
    if (msg !== undefined) text += `,"msg":${JSON.stringify(msg)}`;
    this.write(`${text}}\n`);
  }

  debug(): void {}
  info(obj: object, msg?: string): void {
    this.line(LEVELS.info, obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.line(LEVELS.warn, obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.line(LEVELS.error, obj, msg);
  }
  child(bindings: Record<string, unknown>): Logger {
    const fields = JSON.stringify(bindings);
    return new JsonLineLogger(fields.length > 2 ? `${this.bindings},${fields.slice(1, -1)}` : this.bindings, this.write);
  }
}

/** What req.log is without a logger option: calls cost nothing and go nowhere. */
export const SILENT_LOGGER: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return SILENT_LOGGER;
  },
};

export function loggerOf(option: unknown): Logger | null {
  if (option === undefined || option === false) return null;
  if (option === true) return new JsonLineLogger();
  const l = option as Partial<Logger> | null;
  if (l !== null && typeof l === 'object' && ['debug', 'info', 'warn', 'error', 'child'].every((m) => typeof (l as Record<string, unknown>)[m] === 'function')) {
    return l as Logger;
  }
  throw new UsageError('ERR_INVALID_OPTION', 'option logger must be true, false, or a logger with debug, info, warn, error and child (a pino instance)');
}

export function requestIdHeaderOf(option: unknown): string {
  if (option === undefined) return 'x-request-id';
  if (typeof option !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(option)) {
    throw new UsageError('ERR_INVALID_OPTION', `option requestIdHeader must be a header name, got ${JSON.stringify(option)}`);
  }
  return option.toLowerCase();
}

// A per-process prefix and a counter: unique enough to find one request's lines, and no random
// bytes or UUID formatting per request.
const PREFIX = randomBytes(4).toString('hex');
let counter = 0;

export function generateRequestId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${PREFIX}-${counter.toString(36)}`;
}

/** An incoming id is echoed only when it is short visible ASCII: it goes into logs and a response header. */
const SAFE_ID = /^[\x21-\x7e]{1,128}$/;

export function acceptableId(value: string | undefined): boolean {
  return value !== undefined && SAFE_ID.test(value);
}

/**
 * How a close is logged: routine ends of a connection (the client left, timeouts between requests,
 * limits, shutdown) at debug; what points at a client or server problem at warn; a forced shutdown
 * and write failures at error.
 */
export function closeLevel(reason: CloseReason): 'debug' | 'warn' | 'error' {
  switch (reason) {
    case 'shutdown-forced':
    case 'write-error':
    case 'handler-error':
      return 'error';
    case 'headers-timeout':
    case 'request-timeout':
    case 'body-timeout':
    case 'send-timeout':
    case 'parse-error':
    case 'body-not-read':
    case 'handler-timeout':
    case 'client-reset':
    case 'max-connections':
      return 'warn';
    default:
      return 'debug';
  }
}

export interface CloseInfo {
  reason: CloseReason;
  lingerOutcome: LingerOutcome | null;
  requests: number;
  remoteAddress: string | undefined;
}
