// What a connection needs from its server (ConnectionHost, implemented by the server's registry),
// the per-server keep-alive header lines, and the phases of a connection's life.

import type { RequestHead, ParserLimits } from '../http1/request-parser.js';
import type { DeadlineSweeper } from './deadline-sweeper.js';
import type { HttpError } from './http-error.js';
import type { IncomingRequest, RequestHost } from './incoming-request.js';
import type { CloseReason, LifecycleStats, LingerOutcome } from './lifecycle-stats.js';
import type { ResolvedOptions } from './options.js';
import type { OutgoingResponse, ResponseHost } from './outgoing-response.js';

/** Reading requests and answering them. */
export const OPEN = 0;
/** A close was decided: the last output is flushing, then the FIN. */
export const CLOSING = 1;
/** The FIN is sent: input is read and discarded until the peer's EOF or a linger bound. */
export const LINGERING = 2;
export const DESTROYED = 3;
/** Handed to another protocol (101): no longer the engine's. */
export const UPGRADED = 4;
export type Phase = typeof OPEN | typeof CLOSING | typeof LINGERING | typeof DESTROYED | typeof UPGRADED;

/** What the server layer plugs into the engine; called directly on the request path. */
export interface AppHooks {
  createRequest(head: RequestHead, host: RequestHost, sequence: number, hasBody: boolean): IncomingRequest;
  createResponse(request: IncomingRequest, host: ResponseHost): OutgoingResponse;
  /** Runs the handler; must not throw (the dispatcher owns user errors). */
  dispatch(request: IncomingRequest, response: OutgoingResponse): void;
  /** A response was handed to the socket in full. */
  requestFinished(response: OutgoingResponse): void;
  /** The engine answered 503 in place of a handler that did not start its response in time. */
  handlerTimedOut(response: OutgoingResponse, error: HttpError): void;
  /** A connection closed (once per connection, never per request): for request logs. */
  connectionEnded(reason: CloseReason, lingerOutcome: LingerOutcome | null, requests: number, remoteAddress: string | undefined): void;
}

export interface ConnectionHost {
  readonly config: ResolvedOptions;
  readonly sweeper: DeadlineSweeper;
  readonly counters: LifecycleStats;
  /** Shared by every connection's parser: built once per server. */
  readonly parserLimits: ParserLimits;
  readonly keepAliveLines: KeepAliveLines;
  readonly shuttingDown: boolean;
  /** The server layer above: request and response classes, the dispatcher, the app's hooks. */
  readonly app: AppHooks;
  connectionClosed(connection: { readonly requestCount: number; readonly remoteAddress: string | undefined }, reason: CloseReason, lingerOutcome: LingerOutcome | null): void;
  /** The socket left HTTP (101): the connection is no longer the server's to close. */
  connectionUpgraded(connection: object): void;
}

/**
 * "Connection: keep-alive\r\nKeep-Alive: timeout=T, max=M\r\n" by requests left, built once per
 * server. Without a safe T (options.ts) the parameter is left out; with neither, so is the header.
 */
export class KeepAliveLines {
  private readonly timeout: string;
  private readonly unlimited: string;
  private readonly lines: string[] = [];

  constructor(advertisedTimeout: number | null) {
    this.timeout = advertisedTimeout === null ? '' : `timeout=${advertisedTimeout}`;
    this.unlimited = advertisedTimeout === null ? 'Connection: keep-alive\r\n' : `Connection: keep-alive\r\nKeep-Alive: ${this.timeout}\r\n`;
  }

  /** `left` < 0: no request limit, so no max. Cached up to nginx's keepalive_requests order of magnitude. */
  get(left: number): string {
    if (left < 0) return this.unlimited;
    if (left > 4096) return this.limited(left);
    return (this.lines[left] ??= this.limited(left));
  }

  private limited(left: number): string {
    return `Connection: keep-alive\r\nKeep-Alive: ${this.timeout === '' ? '' : `${this.timeout}, `}max=${left}\r\n`;
  }
}
