// Owns the net.Server: accepting, the registry of live connections, listen, graceful close with a
// deadline, the max-connections gate, and the stats and diagnostics_channel events of the lifecycle.

import diagnosticsChannel from 'node:diagnostics_channel';
import net, { type AddressInfo, type Socket } from 'node:net';
import { errorResponse } from './http1/head-writer.js';
import type { ParserLimits, RequestHead } from './http1/request-parser.js';
import { UsageError } from './http1/protocol-error.js';
import { HttpError } from './connection/http-error.js';
import { Connection, type ConnectionHost } from './connection/connection.js';
import { DeadlineSweeper, tickFor } from './connection/deadline-sweeper.js';
import { IncomingRequest, type RequestHost } from './connection/incoming-request.js';
import { CLOSE_REASONS, LifecycleStats, LINGER_OUTCOMES, type CloseReason, type LingerOutcome } from './connection/lifecycle-stats.js';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from './connection/options.js';
import { OutgoingResponse, type ResponseHost } from './connection/outgoing-response.js';

export interface ListenOptions {
  /** Default 3000. */
  port?: number;
  /** Default '127.0.0.1': exposing a server beyond the machine is a decision, not a default. */
  host?: string;
  backlog?: number;
}

export interface CloseOptions {
  /** ms before the connections still open are destroyed; defaults to the shutdownTimeout option. */
  timeout?: number;
}

export interface CloseResult {
  /** Connections that closed on their own terms during shutdown (idle reaped, last response sent, peer EOF). */
  closedGracefully: number;
  /** Connections destroyed at the deadline. */
  forced: number;
}

export interface ServerStats {
  connections: {
    open: number;
    idle: number;
    active: number;
    closing: number;
    lingering: number;
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
}

/**
 * Something besides HTTP connections that a graceful close must wait for (WebSockets): told to
 * close when shutdown starts, destroyed at the deadline, counted in stats and in the close result.
 */
export interface ShutdownParticipant {
  /** Open sockets, reported as stats().connections.upgraded. */
  readonly openCount: number;
  /** Starts a graceful close of everything; resolves with how many closed cleanly once all are gone. */
  shutdown(): Promise<number>;
  /** Destroys what is left; returns how many. */
  destroyAll(): number;
}

export type Dispatch = (request: IncomingRequest, response: OutgoingResponse) => void;

/** diagnostics_channel names, published only while someone subscribes. */
export const CHANNELS = Object.freeze({
  connectionOpen: 'linger:connection:open',
  connectionClose: 'linger:connection:close',
  requestStart: 'linger:request:start',
  requestEnd: 'linger:request:end',
  shutdown: 'linger:server:shutdown',
});
const connectionOpenChannel = diagnosticsChannel.channel(CHANNELS.connectionOpen);
const connectionCloseChannel = diagnosticsChannel.channel(CHANNELS.connectionClose);
const requestStartChannel = diagnosticsChannel.channel(CHANNELS.requestStart);
const requestEndChannel = diagnosticsChannel.channel(CHANNELS.requestEnd);
const shutdownChannel = diagnosticsChannel.channel(CHANNELS.shutdown);

export class Server implements ConnectionHost {
  readonly config: ResolvedOptions;
  readonly sweeper: DeadlineSweeper;
  readonly counters = new LifecycleStats();
  readonly parserLimits: ParserLimits;
  readonly keepAlivePrefix: string;
  readonly keepAliveLines: string[] = [];
  shuttingDown = false;
  private readonly connections = new Set<Connection>();
  private rejected = 0;
  private netServer: net.Server | null = null;
  private dispatcher: Dispatch;
  private closing: Promise<CloseResult> | null = null;
  private onDrained: (() => void) | null = null;
  private forceNow: (() => void) | null = null;
  private closedDuringShutdown = 0;
  private forcedAtShutdown = 0;
  private readonly participants: ShutdownParticipant[] = [];
  private shutdownController: AbortController | null = null;

  constructor(options: ServerOptions | undefined, dispatch: Dispatch) {
    this.config = resolveOptions(options);
    const o = this.config;
    this.parserLimits = Object.freeze({ maxHeaderSize: o.maxHeaderSize, maxHeaderCount: o.maxHeaderCount, maxUriLength: o.maxUriLength });
    this.keepAlivePrefix = `Connection: keep-alive\r\nKeep-Alive: timeout=${o.keepAliveAdvertisedTimeout}`;
    const shortest = Math.min(o.keepAliveTimeout, o.firstByteTimeout, o.headersTimeout, o.bodyTimeout, o.lingerSilence,
      o.idleReapGuard > 0 ? o.idleReapGuard : Infinity, o.handlerTimeout > 0 ? o.handlerTimeout : Infinity);
    this.sweeper = new DeadlineSweeper(tickFor(shortest));
    this.dispatcher = dispatch;
  }

  /** Resolves with the bound address once listening. */
  listen(options: ListenOptions | number = {}, host?: string): Promise<AddressInfo> {
    const opts: ListenOptions = typeof options === 'number' ? { port: options, host } : options;
    if (this.netServer !== null) {
      return Promise.reject(new UsageError('ERR_SERVER_ALREADY_LISTENING', 'listen() was already called on this server'));
    }
    if (this.shuttingDown) return Promise.reject(new UsageError('ERR_SERVER_CLOSED', 'the server was closed'));
    const server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false });
    this.netServer = server;
    server.on('connection', (socket) => this.accept(socket));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.netServer = null;
        reject(err);
      };
      server.once('error', onError);
      server.listen({ port: opts.port ?? 3000, host: opts.host ?? '127.0.0.1', backlog: opts.backlog ?? 511 }, () => {
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
    if (this.netServer !== null && this.netServer.listening) this.netServer.close();
  }

  address(): AddressInfo | null {
    const address = this.netServer?.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  /** Serves an already-accepted socket (tests, custom listeners, socket hand-off from a cluster primary). */
  accept(socket: Socket): void {
    const o = this.config;
    if (this.shuttingDown || (o.maxConnections > 0 && this.connections.size >= o.maxConnections)) {
      this.reject(socket);
      return;
    }
    this.counters.accepted++;
    const connection = new Connection(socket, this);
    this.connections.add(connection);
    if (connectionOpenChannel.hasSubscribers) {
      connectionOpenChannel.publish({ remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
    }
  }

  /** Over the connection limit: a 503 the client can read, then FIN; no parsing, a short fuse. */
  private reject(socket: Socket): void {
    this.rejected++;
    this.counters.closes['max-connections']++;
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.on('end', () => socket.destroy());
    socket.setTimeout(this.config.lingerShutdownTotal, () => socket.destroy());
    socket.setNoDelay(true);
    socket.end(errorResponse(503), 'latin1');
  }

  createRequest(head: RequestHead, host: RequestHost, sequence: number, hasBody: boolean): IncomingRequest {
    return new IncomingRequest(head, host, sequence, hasBody);
  }

  createResponse(request: IncomingRequest, host: ResponseHost): OutgoingResponse {
    return new OutgoingResponse(request, host);
  }

  dispatch(request: IncomingRequest, response: OutgoingResponse): void {
    if (requestStartChannel.hasSubscribers) {
      requestStartChannel.publish({ method: request.method, url: request.url, remoteAddress: request.remoteAddress });
    }
    this.dispatcher(request, response);
  }

  requestFinished(response: OutgoingResponse): void {
    if (requestEndChannel.hasSubscribers) {
      requestEndChannel.publish({ method: response.request.method, url: response.request.url, statusCode: response.statusCode });
    }
  }

  connectionClosed(connection: Connection, reason: CloseReason, lingerOutcome: LingerOutcome | null): void {
    this.connections.delete(connection);
    this.counters.closes[reason]++;
    if (lingerOutcome !== null) this.counters.linger[lingerOutcome]++;
    if (this.shuttingDown) {
      if (reason === 'shutdown-forced') this.forcedAtShutdown++;
      else this.closedDuringShutdown++;
    }
    if (connectionCloseChannel.hasSubscribers) {
      connectionCloseChannel.publish({
        reason,
        lingerOutcome,
        requests: connection.requestCount,
        remoteAddress: connection.remoteAddress,
      });
    }
    if (this.connections.size === 0 && this.onDrained !== null) this.onDrained();
  }

  connectionUpgraded(connection: Connection): void {
    this.connections.delete(connection);
    this.counters.upgrades++;
    if (this.connections.size === 0 && this.onDrained !== null) this.onDrained();
  }

  addShutdownParticipant(participant: ShutdownParticipant): void {
    this.participants.push(participant);
  }

  /** Closes every idle connection now (lingering), leaving busy ones alone. Returns how many. */
  closeIdleConnections(): number {
    let count = 0;
    for (const connection of this.connections) {
      if (connection.phase === 'idle') {
        connection.startClose('shutdown-idle');
        count++;
      }
    }
    return count;
  }

  /**
   * Graceful shutdown (DESIGN promise 8): stop accepting, reap idle connections after the reuse
   * guard, let busy ones finish with Connection: close, destroy what is left at the deadline.
   */
  close(options: CloseOptions = {}): Promise<CloseResult> {
    if (this.closing !== null) return this.closing;
    const timeout = options.timeout ?? this.config.shutdownTimeout;
    if (typeof timeout !== 'number' || !(timeout >= 0)) {
      return Promise.reject(new UsageError('ERR_INVALID_OPTION', `close timeout must be a number >= 0, got ${String(timeout)}`));
    }
    this.shuttingDown = true;
    publishShutdown('start', this.connections.size);
    this.shutdownController?.abort(new HttpError(503, 'ERR_SERVER_CLOSING', 'the server is shutting down'));
    const netServer = this.netServer;
    const listenerClosed = new Promise<void>((resolve) => {
      if (netServer === null || !netServer.listening) resolve();
      else netServer.close(() => resolve());
    });
    const drained = new Promise<void>((resolve) => {
      if (this.connections.size === 0) resolve();
      else this.onDrained = resolve;
    });
    for (const connection of this.connections) connection.beginShutdown();
    this.sweeper.runDue();
    let participantsGraceful = 0;
    let participantsForced = 0;
    const participantsDone = Promise.all(this.participants.map((p) => p.shutdown())).then((counts) => {
      for (const n of counts) participantsGraceful += n;
    });
    let timer: NodeJS.Timeout | null = null;
    const deadline = new Promise<void>((resolve) => {
      let fired = false;
      const fire = (): void => {
        if (fired) return;
        fired = true;
        if (timer !== null) clearTimeout(timer);
        publishShutdown('deadline', this.connections.size);
        for (const connection of [...this.connections]) connection.destroy('shutdown-forced');
        for (const participant of this.participants) participantsForced += participant.destroyAll();
        resolve();
      };
      this.forceNow = fire;
      timer = setTimeout(fire, timeout);
    });
    const everything = Promise.all([drained, participantsDone]);
    this.closing = Promise.race([everything, deadline])
      .then(() => everything)
      .then(() => listenerClosed)
      .then(() => {
        if (timer !== null) clearTimeout(timer);
        publishShutdown('done', 0);
        return {
          closedGracefully: this.closedDuringShutdown + participantsGraceful,
          forced: this.forcedAtShutdown + participantsForced,
        };
      });
    return this.closing;
  }

  /**
   * Moves the shutdown deadline to now: what close() is still waiting for is destroyed at once
   * (an operator's second SIGTERM). Starts close() first if it was not called.
   */
  forceClose(): Promise<CloseResult> {
    const closing = this.close({ timeout: 0 });
    this.forceNow?.();
    return closing;
  }

  stats(): ServerStats {
    let idle = 0;
    let active = 0;
    let closing = 0;
    let lingering = 0;
    for (const connection of this.connections) {
      const phase = connection.phase;
      if (phase === 'idle') idle++;
      else if (phase === 'active') active++;
      else if (phase === 'closing') closing++;
      else if (phase === 'lingering') lingering++;
    }
    const c = this.counters;
    const closes = {} as Record<CloseReason, number>;
    for (const reason of CLOSE_REASONS) closes[reason] = c.closes[reason];
    const linger = {} as Record<LingerOutcome, number>;
    for (const outcome of LINGER_OUTCOMES) linger[outcome] = c.linger[outcome];
    return {
      connections: {
        open: this.connections.size,
        idle,
        active,
        closing,
        lingering,
        upgraded: this.participants.reduce((sum, p) => sum + p.openCount, 0),
        accepted: c.accepted,
        rejected: this.rejected,
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
    };
  }
}

function publishShutdown(phase: 'start' | 'deadline' | 'done', connections: number): void {
  if (shutdownChannel.hasSubscribers) shutdownChannel.publish({ phase, connections });
}
