// Owns the net.Server: accepting, listen, graceful close with a deadline, and the stats of the
// lifecycle. The engine side (connections, counters, events) is its private ConnectionRegistry.

import diagnosticsChannel from 'node:diagnostics_channel';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { TlsTransport, type ServerTlsOptions } from './connection/tls-handshake.js';
import type { RequestHead } from './http1/request-parser.js';
import { UsageError } from './http1/protocol-error.js';
import { HttpError } from './connection/http-error.js';
import type { DeadlineSweeper } from './connection/deadline-sweeper.js';
import { IncomingRequest, type RequestHost } from './connection/incoming-request.js';
import { CLOSE_REASONS, LifecycleStats, LINGER_OUTCOMES, type CloseReason, type LingerOutcome } from './connection/lifecycle-stats.js';
import {
  checkOptionKeys, checkOptionObject, integerOption, resolveOptions, type ResolvedOptions, type ServerOptions,
} from './connection/options.js';
import { OutgoingResponse, type ResponseHost } from './connection/outgoing-response.js';
import { CHANNELS, ConnectionRegistry, type ConnectionCounts } from './connection-registry.js';
import { injectBytes, injectStreaming, requestBytes, type InjectOptions, type InjectRawOptions, type InjectRawResult, type InjectResponse, type InjectStream } from './inject/inject.js';
import {
  closeOptionsOf, ShutdownSequence, type CloseOptions, type CloseResult, type ServerPhase, type ShutdownParticipant,
} from './shutdown-sequence.js';

export { CHANNELS } from './connection-registry.js';
export type { CloseOptions, CloseResult, ServerPhase, ShutdownParticipant } from './shutdown-sequence.js';

export interface ListenOptions {
  /** Default 3000. */
  port?: number;
  /** Default '127.0.0.1': exposing a server beyond the machine is a decision, not a default. */
  host?: string;
  backlog?: number;
  /**
   * A listening socket this process inherited (socket activation: `inheritedListenFds()`, or a
   * parent's stdio entry): served as is, so a restart of the process never refuses a connection.
   * Excludes `port` and `host`.
   */
  fd?: number;
}

export interface ServerStats {
  connections: ConnectionCounts & {
    /** Sockets handed to another protocol (WebSocket) that are still open. */
    upgraded: number;
    accepted: number;
    rejected: number;
    /** Connections upgraded since start. */
    upgrades: number;
  };
  requests: { total: number; reused: number; keepAliveReuseRatio: number };
  closes: Record<CloseReason, number>;
  linger: Record<LingerOutcome, number>;
  resetsAvoided: number;
  lingerDiscardedBytes: number;
  protocolErrors: number;
  socketWrites: number;
  peakQueuedOutput: number;
  shuttingDown: boolean;
  phase: ServerPhase;
}

export type Dispatch = (request: IncomingRequest, response: OutgoingResponse) => void;

const requestStartChannel = diagnosticsChannel.channel(CHANNELS.requestStart);
const requestEndChannel = diagnosticsChannel.channel(CHANNELS.requestEnd);

export class Server {
  /** The options in effect, defaults filled in. */
  readonly config: Readonly<ResolvedOptions>;
  /** @internal */ readonly counters = new LifecycleStats();
  /** @internal */ readonly registry: ConnectionRegistry;
  private netServer: net.Server | null = null;
  private readonly dispatcher: Dispatch;
  /** The graceful close under way; null while serving. */
  private closing: ShutdownSequence | null = null;
  private readonly participants: ShutdownParticipant[] = [];
  private shutdownController: AbortController | null = null;

  /** `extraOptionKeys`: options a subclass takes besides the engine's, so they are not refused as unknown. */
  constructor(options: ServerOptions | undefined, dispatch: Dispatch, extraOptionKeys: readonly string[] = []) {
    this.config = Object.freeze(resolveOptions(options, extraOptionKeys));
    this.dispatcher = dispatch;
    const tls = options?.tls === undefined ? null : new TlsTransport(options.tls);
    this.registry = new ConnectionRegistry(this.config, this.counters, this, tls);
  }

  /** True when the server speaks HTTPS (the `tls` option). */
  get secure(): boolean {
    return this.registry.tls !== null;
  }

  /**
   * @internal Turns HTTPS on for a server created without `tls`, before it listens: the cluster
   * worker does it for `linger serve --tls-cert --tls-key` on the app module's server.
   */
  enableTls(options: ServerTlsOptions): void {
    if (this.netServer !== null || this.registry.tls !== null) {
      throw new UsageError('ERR_SERVER_ALREADY_LISTENING', 'TLS can be turned on only before listen(), on a server without the tls option');
    }
    this.registry.tls = new TlsTransport(options);
  }

  /**
   * Replaces the certificate and key (any tls.SecureContextOptions) without a restart: handshakes
   * from now on use them, connections already open keep what they negotiated. A key or certificate
   * that does not load throws ERR_INVALID_TLS_OPTIONS and the old context stays in use.
   */
  setSecureContext(options: SecureContextOptions): void {
    const tls = this.registry.tls;
    if (tls === null) throw new UsageError('ERR_NOT_TLS', 'setSecureContext() needs a server created with the tls option');
    tls.setSecureContext(options);
  }

  /** True from the moment close() starts (the drain included). */
  get shuttingDown(): boolean {
    return this.registry.shuttingDown;
  }

  /** serving, draining, closing or closed; also in stats() and the shutdown diagnostics channel. */
  get phase(): ServerPhase {
    return this.closing?.phase ?? 'serving';
  }

  /** @internal The one clock and timer of this server's connections. */
  get sweeper(): DeadlineSweeper {
    return this.registry.sweeper;
  }

  /** Resolves with the bound address once listening. */
  listen(options: ListenOptions | number = {}, host?: string): Promise<AddressInfo> {
    // Checked first: a closed server was listening once, but "closed" is what the caller must hear.
    if (this.shuttingDown) return Promise.reject(new UsageError('ERR_SERVER_CLOSED', 'the server was closed; create a new one to listen again'));
    if (this.netServer !== null) {
      return Promise.reject(new UsageError('ERR_SERVER_ALREADY_LISTENING', 'listen() was already called on this server'));
    }
    let opts: Required<Omit<ListenOptions, 'fd'>> | { fd: number; backlog: number };
    try {
      opts = listenOptionsOf(options, host);
    } catch (err) {
      return Promise.reject(err);
    }
    // HTTPS: the handshake sets TCP_NODELAY through the TLS socket, and a TLS socket cannot see that
    // the TCP socket below it has it already, so setting it at accept too would cost a second syscall.
    const server = net.createServer({ allowHalfOpen: true, noDelay: this.registry.tls === null, pauseOnConnect: false });
    this.netServer = server;
    server.on('connection', (socket) => this.accept(socket));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.netServer = null;
        reject(err);
      };
      server.once('error', onError);
      server.listen(opts, () => {
        server.off('error', onError);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  /**
   * True while listening and not shutting down; false from the moment close() starts, so a
   * health route answers 503 and a load balancer stops sending before connections are reaped.
   */
  get ready(): boolean {
    return !this.shuttingDown && this.netServer !== null && this.netServer.listening;
  }

  /**
   * Aborts when close() starts. Responses that never end on their own (server-sent events, long
   * polls, streams) watch it to finish cleanly instead of holding shutdown until its deadline.
   */
  get shutdownSignal(): AbortSignal {
    return (this.shutdownController ??= new AbortController()).signal;
  }

  /**
   * Closes the listening socket and nothing else: connections keep being served as usual until
   * close(). A cluster worker calls it so that the shared listener is gone before any response
   * says Connection: close, and a client reconnecting after it is refused instead of reset.
   */
  stopAccepting(): void {
    // During a drain it ends the drain: the listener closes and close() goes on with its deadline.
    const endDrain = this.closing?.endDrain ?? null;
    if (endDrain !== null) endDrain();
    else if (this.netServer !== null && this.netServer.listening) this.netServer.close();
  }

  address(): AddressInfo | null {
    const address = this.netServer?.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  /**
   * Serves an already-accepted socket (tests, custom listeners, socket hand-off from a cluster
   * primary). Over maxConnections, or during shutdown, it gets a 503 and a lingering close.
   */
  accept(socket: Socket): void {
    this.registry.accept(socket);
  }

  /**
   * Serves one request in process, over an in-memory connection through the same parser,
   * lifecycle and dispatcher as a TCP one: no port, and nothing left open once it resolves.
   * Works before listen() and without it.
   */
  async inject(options: InjectOptions = {}): Promise<InjectResponse> {
    const { bytes, method } = requestBytes(options);
    const result = await injectBytes(this, bytes, { remoteAddress: options.remoteAddress, responses: 1, noBody: method === 'HEAD' });
    const response = result.responses[0];
    if (response === undefined) throw new UsageError('ERR_INJECT_NO_RESPONSE', 'the connection closed without a complete response');
    return response;
  }

  /**
   * Like inject(), resolving once the response head has arrived: the body is read as it streams
   * (server-sent events, long polls), and close() is the client going away.
   */
  injectStream(options: InjectOptions = {}): Promise<InjectStream> {
    let request: { bytes: Buffer; method: string };
    try {
      request = requestBytes(options);
    } catch (err) {
      return Promise.reject(err);
    }
    return injectStreaming(this, request.bytes, options.remoteAddress, request.method === 'HEAD');
  }

  /**
   * Sends raw request bytes on an in-memory connection and returns everything the server wrote:
   * for lifecycle behaviour (pipelining, malformed input, limits) without a socket.
   */
  injectRaw(bytes: string | Buffer, options: InjectRawOptions = {}): Promise<InjectRawResult> {
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    return injectBytes(this, data, options);
  }

  /** @internal The request object handlers get; the app layer supplies its own class. */
  createRequest(head: RequestHead, host: RequestHost, sequence: number, hasBody: boolean): IncomingRequest {
    return new IncomingRequest(head, host, sequence, hasBody);
  }

  /** @internal The response object handlers get; the app layer supplies its own class. */
  createResponse(request: IncomingRequest, host: ResponseHost): OutgoingResponse {
    return new OutgoingResponse(request, host);
  }

  /** @internal */
  dispatch(request: IncomingRequest, response: OutgoingResponse): void {
    if (requestStartChannel.hasSubscribers) {
      requestStartChannel.publish({ method: request.method, url: request.url, remoteAddress: request.remoteAddress });
    }
    this.dispatcher(request, response);
  }

  /** @internal A response was handed to the socket in full (the app runs its onResponse hooks after this). */
  requestFinished(response: OutgoingResponse): void {
    if (requestEndChannel.hasSubscribers) {
      requestEndChannel.publish({ method: response.request.method, url: response.request.url, statusCode: response.statusCode });
    }
  }

  /** @internal The engine answered 503 for a handler that did not start in time (the app reports it). */
  handlerTimedOut(_response: OutgoingResponse, _error: HttpError): void {}

  /** @internal A connection closed (the app logs the ones that are not routine). */
  connectionEnded(_reason: CloseReason, _lingerOutcome: LingerOutcome | null, _requests: number, _remoteAddress: string | undefined): void {}

  /** Adds something besides HTTP connections (WebSockets) that a graceful close must wait for. */
  addShutdownParticipant(participant: ShutdownParticipant): void {
    this.participants.push(participant);
  }

  /**
   * Closes every idle connection now (lingering), leaving busy ones alone. Returns how many. A
   * request that already reached a chosen connection's socket is still read and served.
   */
  closeIdleConnections(): number {
    return this.registry.closeIdle(this.shuttingDown ? 'shutdown-idle' : 'server-closed-idle');
  }

  /**
   * Graceful shutdown (DESIGN promise 8): `ready` turns false; after `drainDelay` (serving new
   * connections meanwhile, all with Connection: close) stop accepting, reap idle connections after
   * the reuse guard, let busy ones finish with Connection: close, destroy what is left at the deadline.
   */
  close(options: CloseOptions = {}): Promise<CloseResult> {
    if (this.closing !== null) return this.closing.result;
    let checked: { timeout: number; drainDelay: number };
    try {
      checked = closeOptionsOf(options, this.config.shutdownTimeout);
    } catch (err) {
      return Promise.reject(err);
    }
    const closing = new ShutdownSequence(this.registry, this.participants, {
      listener: () => this.netServer,
      abortSignal: (reason) => this.shutdownController?.abort(reason),
    });
    this.closing = closing;
    closing.run(checked.timeout, checked.drainDelay);
    return closing.result;
  }

  /**
   * Moves the shutdown deadline to now: what close() is still waiting for is destroyed at once
   * (an operator's second SIGTERM). Starts close() first if it was not called.
   */
  forceClose(): Promise<CloseResult> {
    const closing = this.close({ timeout: 0 });
    this.closing?.force();
    return closing;
  }

  stats(): ServerStats {
    const c = this.counters;
    const closes = {} as Record<CloseReason, number>;
    for (const reason of CLOSE_REASONS) closes[reason] = c.closes[reason];
    const linger = {} as Record<LingerOutcome, number>;
    for (const outcome of LINGER_OUTCOMES) linger[outcome] = c.linger[outcome];
    return {
      connections: {
        ...this.registry.counts(),
        upgraded: this.participants.reduce((sum, p) => sum + p.openCount, 0),
        accepted: c.accepted,
        rejected: this.registry.rejected,
        upgrades: c.upgrades,
      },
      requests: { total: c.requests, reused: c.reusedRequests, keepAliveReuseRatio: c.requests === 0 ? 0 : c.reusedRequests / c.requests },
      closes,
      linger,
      resetsAvoided: c.resetsAvoided,
      lingerDiscardedBytes: c.lingerDiscardedBytes,
      protocolErrors: c.protocolErrors,
      socketWrites: c.socketWrites,
      peakQueuedOutput: c.peakQueuedOutput,
      shuttingDown: this.shuttingDown,
      phase: this.phase,
    };
  }
}

const LISTEN_OPTION_KEYS: readonly string[] = ['port', 'host', 'backlog', 'fd'];

function listenOptionsOf(options: ListenOptions | number, host: string | undefined): Required<Omit<ListenOptions, 'fd'>> | { fd: number; backlog: number } {
  const opts: ListenOptions = typeof options === 'number' ? { port: options, host } : options;
  checkOptionObject(opts, 'listen() options');
  checkOptionKeys(opts, LISTEN_OPTION_KEYS);
  if (opts.fd !== undefined) {
    // The socket is already bound: an address next to it would be silently ignored.
    if (opts.port !== undefined || opts.host !== undefined) {
      throw new UsageError('ERR_INVALID_OPTION', 'option fd excludes port and host: the inherited socket is already bound');
    }
    return { fd: integerOption(opts.fd, 0, 'fd', 0, 65535), backlog: integerOption(opts.backlog, 511, 'backlog', 0) };
  }
  const h = opts.host ?? '127.0.0.1';
  if (typeof h !== 'string' || h === '') throw new UsageError('ERR_INVALID_OPTION', `option host must be a non-empty string, got ${String(h)}`);
  return { port: integerOption(opts.port, 3000, 'port', 0, 65535), host: h, backlog: integerOption(opts.backlog, 511, 'backlog', 0) };
}
