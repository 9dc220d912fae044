// Counters every connection of a server reports into: why connections closed, how lingering
// closes ended, how many requests reused a connection. Plain numbers, no allocation per event.

export const CLOSE_REASONS = [
  'client-close', // the peer sent FIN between requests
  'client-reset', // the peer reset the connection or a read failed
  'client-connection-close', // the request said Connection: close (or HTTP/1.0 without keep-alive)
  'response-connection-close', // the handler set Connection: close
  'first-byte-timeout',
  'idle-timeout',
  'headers-timeout',
  'request-timeout',
  'body-timeout',
  'send-timeout',
  'max-requests',
  'max-age',
  'parse-error',
  'body-not-read', // a response ended with too much request body left to discard
  'handler-error', // a response failed after its head was sent
  'handler-timeout', // a handler did not start its response within handlerTimeout
  'max-connections',
  'shutdown-idle',
  'shutdown-after-response',
  'shutdown-forced',
  'write-error',
  'upgrade-declined', // an Upgrade request answered with a normal response
  'connect-refused', // a CONNECT request, answered 501: an origin server is no tunnel
  'close-delimited', // a streamed HTTP/1.0 response without Content-Length, which only the close can end
  'server-closed-idle', // closeIdleConnections() outside shutdown
  'idle-reclaimed', // the longest-idle connection, closed at maxConnections to admit a new one
  'tls-handshake-failed', // the TLS handshake failed or the client left during it: no request was read
  'tls-handshake-timeout', // the TLS handshake did not finish within handshakeTimeout
  'tls-client-cert-refused', // mutual TLS: no client certificate, or one that does not verify
  'tls-unknown-server-name', // the SNICallback refused the server name the client asked for
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export const LINGER_OUTCOMES = ['peer-eof', 'silence', 'total', 'byte-cap', 'reset'] as const;
export type LingerOutcome = (typeof LINGER_OUTCOMES)[number];

function zeroes<K extends string>(keys: readonly K[]): Record<K, number> {
  const record = {} as Record<K, number>;
  for (const key of keys) record[key] = 0;
  return record;
}

export class LifecycleStats {
  accepted = 0;
  requests = 0;
  /** Requests that were not the first on their connection. */
  reusedRequests = 0;
  /** Protocol errors answered with a 4xx/5xx status. */
  protocolErrors = 0;
  /** Socket writes issued (each carries every response ready at that moment). */
  socketWrites = 0;
  /** Highest user-space output queued on one connection (bytes), to check the pipelining bound. */
  peakQueuedOutput = 0;
  /** Lingering closes during which the peer still sent bytes: an immediate close would have sent RST. */
  resetsAvoided = 0;
  lingerDiscardedBytes = 0;
  /** Connections handed to another protocol (WebSocket) after a 101. */
  upgrades = 0;
  readonly closes = zeroes(CLOSE_REASONS);
  readonly linger = zeroes(LINGER_OUTCOMES);
}
