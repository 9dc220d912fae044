// Server and connection options: the documented defaults, the reason for each, and validation
// that turns a bad value into a typed error before any socket exists.

import { UsageError } from '../http1/protocol-error.js';

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
  /** A connection that says nothing this long after accept is closed, in ms. */
  firstByteTimeout?: number;
  /** From the first byte of a request to the end of its head, in ms (slowloris). */
  headersTimeout?: number;
  /** From the first byte of a request until the whole request has been received, in ms. */
  requestTimeout?: number;
  /** Longest gap between two reads of a request body, in ms. */
  bodyTimeout?: number;
  /**
   * From a request being fully received to its handler starting the response, in ms; then the
   * engine answers 503 with Connection: close and aborts the request's signal. 0 = off.
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
  // Slowloris bound; Node only polls its headersTimeout every 30 s.
  headersTimeout: 20_000,
  // node:http's default for receiving a whole request.
  requestTimeout: 300_000,
  bodyTimeout: 30_000,
  // Off: the engine cannot know how long a legitimate handler takes (long polls, reports), and
  // node:http dropped its 120 s default in v13 for cutting such requests. A client that gives up
  // closes its connection, which aborts the handler's signal anyway. Behind a proxy, set it below
  // the proxy's read timeout (nginx proxy_read_timeout 60 s) so clients get this 503, not a 504.
  handlerTimeout: 0,
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

function pick(value: unknown, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new UsageError('ERR_INVALID_OPTION', `option ${name} must be a finite number >= ${min}, got ${String(value)}`);
  }
  return value;
}

export function resolveOptions(input: ServerOptions = {}): ResolvedOptions {
  if (input === null || typeof input !== 'object') {
    throw new UsageError('ERR_INVALID_OPTION', 'options must be an object');
  }
  const linger = input.linger ?? {};
  const keepAliveTimeout = pick(input.keepAliveTimeout, DEFAULTS.keepAliveTimeout, 'keepAliveTimeout', 1);
  const idleReapGuard = pick(input.idleReapGuard, DEFAULTS.idleReapGuard, 'idleReapGuard', 0);
  return {
    keepAliveTimeout,
    keepAliveAdvertisedTimeout: advertisedTimeout(input.keepAliveAdvertisedTimeout, keepAliveTimeout, idleReapGuard),
    firstByteTimeout: pick(input.firstByteTimeout, DEFAULTS.firstByteTimeout, 'firstByteTimeout', 1),
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
    shutdownTimeout: pick(input.shutdownTimeout, DEFAULTS.shutdownTimeout, 'shutdownTimeout', 0),
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
