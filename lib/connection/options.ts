// Server and connection options: the documented defaults, the reason for each, and validation
// that turns a bad value into a typed error before any socket exists.

import { UsageError } from '../http1/protocol-error.js';
import type { ServerTlsOptions } from './tls-handshake.js';

export interface LingerOptions {
  /** Gap between two reads while lingering before giving up (nginx lingering_timeout). */
  silence?: number;
  /** Total time a lingering close may take (nginx lingering_time). */
  total?: number;
  /** Input discarded while lingering before giving up: a peer streaming garbage cannot hold a socket. */
  maxDiscardBytes?: number;
  /** Total linger time during server shutdown, where the deadline matters more than the peer. */
  shutdownTotal?: number;
}

export interface ServerOptions {
  /** Idle time allowed between requests on a persistent connection, in ms. */
  keepAliveTimeout?: number;
  /**
   * Whole seconds advertised in `Keep-Alive: timeout=`: at least 1, and below keepAliveTimeout
   * minus idleReapGuard. By default the largest such value up to enforced − 5 s (half of it below
   * 10 s); when no whole second fits, the parameter is left out.
   */
  keepAliveAdvertisedTimeout?: number;
  /** A connection that says nothing this long after accept (after its TLS handshake, over TLS) is closed, in ms. */
  firstByteTimeout?: number;
  /** Over TLS: a TCP connection whose handshake has not finished this long after accept is closed, in ms. */
  handshakeTimeout?: number;
  /**
   * Serve HTTPS: node:tls server options as node:https takes them (key, cert, ca, pfx, passphrase,
   * requestCert, rejectUnauthorized, SNICallback, ciphers, minVersion, ...). ALPN offers http/1.1.
   */
  tls?: ServerTlsOptions;
  /** From the first byte of a request to the end of its head, in ms (slowloris). */
  headersTimeout?: number;
  /** From the first byte of a request until the whole request has been received, in ms. */
  requestTimeout?: number;
  /** Longest gap between two reads of a request body, in ms. */
  bodyTimeout?: number;
  /**
   * From a request being fully received to its handler starting the response, in ms; then the
   * engine answers 503 with Connection: close and aborts the request's signal. Default 30 s; 0 = off.
   */
  handlerTimeout?: number;
  /** Output that makes no progress for this long means the peer stopped reading, in ms. */
  sendTimeout?: number;
  /** Requests one connection may carry; the last response says `Connection: close`. 0 = unlimited. */
  maxRequestsPerSocket?: number;
  /** Age after which a connection is closed at the next response boundary, in ms. 0 = unlimited. */
  maxConnectionAge?: number;
  /** Open connections; beyond this a new connection gets a 503 and is closed. 0 = unlimited. */
  maxConnections?: number;
  /** Total bytes of a request head (request line and header lines). */
  maxHeaderSize?: number;
  /** Header field lines in one request head. */
  maxHeaderCount?: number;
  /** Length of the request-target. */
  maxUriLength?: number;
  /** Requests read ahead of their response (pipelining); reading pauses at this depth. */
  maxPipelineDepth?: number;
  /** Output queued in user space per connection above which reading pauses, in bytes. */
  maxQueuedOutput?: number;
  /** Request body bytes buffered for a handler that has not read them yet, then reading pauses. */
  maxBufferedBody?: number;
  /** Unread body left when a response ends that is still discarded to keep the connection; above it the connection closes. */
  maxDiscardBody?: number;
  /** Grace after a connection turns idle before shutdown may reap it, in ms (nginx keepalive_min_timeout). */
  idleReapGuard?: number;
  linger?: LingerOptions;
  /** Default deadline of `close()`, in ms. */
  shutdownTimeout?: number;
}

export interface ResolvedOptions {
  keepAliveTimeout: number;
  /** null: no whole second is safe to advertise, so `Keep-Alive` carries no `timeout=`. */
  keepAliveAdvertisedTimeout: number | null;
  firstByteTimeout: number;
  handshakeTimeout: number;
  headersTimeout: number;
  requestTimeout: number;
  bodyTimeout: number;
  handlerTimeout: number;
  sendTimeout: number;
  maxRequestsPerSocket: number;
  maxConnectionAge: number;
  maxConnections: number;
  maxHeaderSize: number;
  maxHeaderCount: number;
  maxUriLength: number;
  maxPipelineDepth: number;
  maxQueuedOutput: number;
  maxBufferedBody: number;
  maxDiscardBody: number;
  idleReapGuard: number;
  lingerSilence: number;
  lingerTotal: number;
  lingerMaxDiscardBytes: number;
  lingerShutdownTotal: number;
  shutdownTimeout: number;
}

export const DEFAULTS: Readonly<ResolvedOptions & { keepAliveAdvertisedTimeout: number }> = Object.freeze({
  // Outlasts the 60 s idle pools of AWS ALB and nginx upstream keepalive: the proxy must be the one
  // to close an idle upstream connection, or it reuses one the server is closing and answers 502.
  keepAliveTimeout: 65_000,
  // Advertise less than is enforced; clients such as undici subtract a further margin.
  keepAliveAdvertisedTimeout: 60,
  // An accepted socket that never speaks holds a descriptor for nothing.
  firstByteTimeout: 10_000,
  // A handshake is two round trips and a signature: a few seconds on the slowest mobile link. As
  // long as firstByteTimeout, which it precedes, and well below node:https's 120 s, during which a
  // client that opened TCP and went silent holds a descriptor and a slot of maxConnections.
  handshakeTimeout: 10_000,
  // Slowloris bound; Node only polls its headersTimeout every 30 s.
  headersTimeout: 20_000,
  // node:http's default for receiving a whole request.
  requestTimeout: 300_000,
  bodyTimeout: 30_000,
  // A handler that has not started its answer in 30 s is lost, not slow: proxies give up at about
  // this point (Heroku's router at 30 s, AWS API Gateway at 29 s) or soon after (nginx
  // proxy_read_timeout and ALB at 60 s, below which the client gets this 503 rather than a 504).
  // It only bounds the start of a response: a long poll or an export that flushes its head first,
  // or a route with its own timeout (0 = none), is not cut.
  handlerTimeout: 30_000,
  // nginx send_timeout.
  sendTimeout: 60_000,
  // nginx keepalive_requests.
  maxRequestsPerSocket: 1000,
  // nginx keepalive_time: rebalances long-lived connections across processes and hosts.
  maxConnectionAge: 3_600_000,
  maxConnections: 0,
  // Twice node:http's 8 KiB (browsers with many cookies exceed 8 KiB), half of nginx's 4 x 8 KiB.
  maxHeaderSize: 16_384,
  maxHeaderCount: 100,
  maxUriLength: 8_192,
  // hyper's and Apache's order of magnitude: deep enough for any real pipelining client.
  maxPipelineDepth: 16,
  maxQueuedOutput: 65_536,
  maxBufferedBody: 65_536,
  maxDiscardBody: 65_536,
  // nginx keepalive_min_timeout: shutdown must not race a client that is reusing the connection.
  idleReapGuard: 1_000,
  lingerSilence: 5_000,
  lingerTotal: 30_000,
  lingerMaxDiscardBytes: 1_048_576,
  lingerShutdownTotal: 2_000,
  // Kubernetes' default termination grace period.
  shutdownTimeout: 30_000,
});

/** Every key of ServerOptions: anything else in an options object is a mistake worth naming. */
export const SERVER_OPTION_KEYS: readonly string[] = Object.freeze([
  'keepAliveTimeout', 'keepAliveAdvertisedTimeout', 'firstByteTimeout', 'handshakeTimeout', 'tls', 'headersTimeout', 'requestTimeout', 'bodyTimeout',
  'handlerTimeout', 'sendTimeout', 'maxRequestsPerSocket', 'maxConnectionAge', 'maxConnections', 'maxHeaderSize',
  'maxHeaderCount', 'maxUriLength', 'maxPipelineDepth', 'maxQueuedOutput', 'maxBufferedBody', 'maxDiscardBody',
  'idleReapGuard', 'linger', 'shutdownTimeout',
]);

const LINGER_OPTION_KEYS: readonly string[] = Object.freeze(['silence', 'total', 'maxDiscardBytes', 'shutdownTotal']);

/** Longest delay node's timers take (2^31 - 1 ms); a larger one fires after 1 ms with only a warning. */
export const MAX_TIMER_MS = 2_147_483_647;

function invalidOption(message: string): UsageError {
  return new UsageError('ERR_INVALID_OPTION', message);
}

/** Throws ERR_INVALID_OPTION unless `value` is a plain options object (or undefined, when allowed). */
export function checkOptionObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOption(`${name} must be an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
}

/**
 * Refuses keys that are not options, naming each and the nearest known key for a typo
 * (keepAliveTimout → keepAliveTimeout). `prefix` names a nested object ('linger.').
 */
export function checkOptionKeys(input: object, known: readonly string[], prefix = ''): void {
  for (const key of Object.keys(input)) {
    if (known.includes(key)) continue;
    const near = nearest(key, known);
    throw invalidOption(`unknown option ${prefix}${key}${near === null ? '' : ` (did you mean ${prefix}${near}?)`}`);
  }
}

/** An integer option between min and max; undefined gives the fallback. */
export function integerOption(value: unknown, fallback: number, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw invalidOption(`option ${name} must be an integer ${range}, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' && value !== null ? 'an object' : String(value);
}

/** The known key closest to a typo: edit distance (a swap of neighbours counts as one) within about a quarter of its length. */
function nearest(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  const limit = Math.max(1, Math.min(3, Math.floor(key.length / 4)));
  let best: string | null = null;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  // Optimal string alignment over three rows: insertions, deletions, substitutions and transpositions.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = new Array<number>(b.length + 1);
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      current[j] = d;
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The engine's options with defaults filled in. `extraKeys` are options of a layer above (the
 * app's bodyLimit, webSocket, ...): accepted here, validated there.
 */
export function resolveOptions(input: ServerOptions = {}, extraKeys: readonly string[] = []): ResolvedOptions {
  checkOptionObject(input, 'options');
  checkOptionKeys(input, extraKeys.length === 0 ? SERVER_OPTION_KEYS : [...SERVER_OPTION_KEYS, ...extraKeys]);
  const linger = input.linger === undefined ? {} : input.linger;
  checkOptionObject(linger, 'option linger');
  checkOptionKeys(linger, LINGER_OPTION_KEYS, 'linger.');
  const pick = integerOption;
  const keepAliveTimeout = pick(input.keepAliveTimeout, DEFAULTS.keepAliveTimeout, 'keepAliveTimeout', 1);
  const idleReapGuard = pick(input.idleReapGuard, DEFAULTS.idleReapGuard, 'idleReapGuard', 0);
  return {
    keepAliveTimeout,
    keepAliveAdvertisedTimeout: advertisedTimeout(input.keepAliveAdvertisedTimeout, keepAliveTimeout, idleReapGuard),
    firstByteTimeout: pick(input.firstByteTimeout, DEFAULTS.firstByteTimeout, 'firstByteTimeout', 1),
    handshakeTimeout: pick(input.handshakeTimeout, DEFAULTS.handshakeTimeout, 'handshakeTimeout', 1),
    headersTimeout: pick(input.headersTimeout, DEFAULTS.headersTimeout, 'headersTimeout', 1),
    requestTimeout: pick(input.requestTimeout, DEFAULTS.requestTimeout, 'requestTimeout', 1),
    bodyTimeout: pick(input.bodyTimeout, DEFAULTS.bodyTimeout, 'bodyTimeout', 1),
    handlerTimeout: pick(input.handlerTimeout, DEFAULTS.handlerTimeout, 'handlerTimeout', 0),
    sendTimeout: pick(input.sendTimeout, DEFAULTS.sendTimeout, 'sendTimeout', 1),
    maxRequestsPerSocket: pick(input.maxRequestsPerSocket, DEFAULTS.maxRequestsPerSocket, 'maxRequestsPerSocket', 0),
    maxConnectionAge: pick(input.maxConnectionAge, DEFAULTS.maxConnectionAge, 'maxConnectionAge', 0),
    maxConnections: pick(input.maxConnections, DEFAULTS.maxConnections, 'maxConnections', 0),
    maxHeaderSize: pick(input.maxHeaderSize, DEFAULTS.maxHeaderSize, 'maxHeaderSize', 64),
    maxHeaderCount: pick(input.maxHeaderCount, DEFAULTS.maxHeaderCount, 'maxHeaderCount', 1),
    maxUriLength: pick(input.maxUriLength, DEFAULTS.maxUriLength, 'maxUriLength', 1),
    maxPipelineDepth: pick(input.maxPipelineDepth, DEFAULTS.maxPipelineDepth, 'maxPipelineDepth', 1),
    maxQueuedOutput: pick(input.maxQueuedOutput, DEFAULTS.maxQueuedOutput, 'maxQueuedOutput', 1),
    maxBufferedBody: pick(input.maxBufferedBody, DEFAULTS.maxBufferedBody, 'maxBufferedBody', 1),
    maxDiscardBody: pick(input.maxDiscardBody, DEFAULTS.maxDiscardBody, 'maxDiscardBody', 0),
    idleReapGuard,
    lingerSilence: pick(linger.silence, DEFAULTS.lingerSilence, 'linger.silence', 1),
    lingerTotal: pick(linger.total, DEFAULTS.lingerTotal, 'linger.total', 1),
    lingerMaxDiscardBytes: pick(linger.maxDiscardBytes, DEFAULTS.lingerMaxDiscardBytes, 'linger.maxDiscardBytes', 0),
    lingerShutdownTotal: pick(linger.shutdownTotal, DEFAULTS.lingerShutdownTotal, 'linger.shutdownTotal', 1),
    // close() arms a node timer with it.
    shutdownTimeout: pick(input.shutdownTimeout, DEFAULTS.shutdownTimeout, 'shutdownTimeout', 0, MAX_TIMER_MS),
  };
}

/**
 * The largest whole second a client may keep an idle connection: strictly below the enforced
 * timeout minus the reap guard, so a client that honours it (Apache HttpClient's keep-alive
 * strategy, undici) lets the connection go before the server closes it, with the guard as margin
 * for the response's travel and the clocks' coarseness. Less than 1: none.
 */
export function safeAdvertisedTimeout(keepAliveTimeoutMs: number, idleReapGuardMs: number): number {
  return Math.ceil((keepAliveTimeoutMs - idleReapGuardMs) / 1000) - 1;
}

/**
 * `Keep-Alive: timeout=` in whole seconds, or null to leave the parameter out. Never 0: Apache
 * HttpClient's DefaultConnectionKeepAliveStrategy reads 0 as "no limit" and keeps the connection
 * past the server's close, while undici reads it as "do not reuse". Never a fraction: clients parse
 * it as an integer (Long.parseLong, parseInt) and a fraction reads as no value at all.
 */
function advertisedTimeout(explicit: unknown, keepAliveTimeout: number, idleReapGuard: number): number | null {
  const cap = safeAdvertisedTimeout(keepAliveTimeout, idleReapGuard);
  if (explicit === undefined) {
    // Advertise 5 s less than enforced, or half of it for short timeouts, within the safe cap.
    const preferred = Math.floor(Math.max(keepAliveTimeout - 5_000, keepAliveTimeout / 2) / 1000);
    const seconds = Math.min(Math.max(preferred, 1), cap);
    return seconds >= 1 ? seconds : null;
  }
  if (typeof explicit !== 'number' || !Number.isInteger(explicit) || explicit < 1 || explicit > cap) {
    const range = cap >= 1 ? `a whole number of seconds from 1 to ${cap}` : 'left unset (no whole second is below keepAliveTimeout - idleReapGuard)';
    throw new UsageError('ERR_INVALID_OPTION',
      `option keepAliveAdvertisedTimeout must be ${range} for keepAliveTimeout ${keepAliveTimeout} ms and idleReapGuard ${idleReapGuard} ms, got ${String(explicit)}`);
  }
  return explicit;
}
