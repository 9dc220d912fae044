// The engine side of a server: every live connection and refused socket, the shared clock and
// counters, the per-server caches, and the diagnostics_channel events of the lifecycle. Connections
// talk to it (ConnectionHost); the public Server keeps it private.

import diagnosticsChannel from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ParserLimits } from './http1/request-parser.js';
import { Connection } from './connection/connection.js';
import { KeepAliveLines, type AppHooks, type ConnectionHost } from './connection/connection-host.js';
import { DeadlineSweeper, tickFor } from './connection/deadline-sweeper.js';
import type { CloseReason, LifecycleStats, LingerOutcome } from './connection/lifecycle-stats.js';
import type { ResolvedOptions } from './connection/options.js';
import { refuse, type LingeringClose } from './connection/lingering-close.js';
import { TlsHandshake, type HandshakeHost, type TlsTransport } from './connection/tls-handshake.js';

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

export interface ConnectionCounts {
  open: number;
  idle: number;
  active: number;
  closing: number;
  lingering: number;
  /** Sockets refused over maxConnections (a 503, then a short lingering close) still open; counted in open. */
  refusing: number;
  /** Idle connections closed at maxConnections to admit new ones, still closing or lingering; counted in open, not against the limit. */
  reclaiming: number;
  /** TLS sockets whose handshake has not finished; counted in open and against maxConnections. */
  handshaking: number;
}

/** @internal Server holds it privately; stripped, the published types stop at CHANNELS and never reach Connection. */
export class ConnectionRegistry implements ConnectionHost, HandshakeHost {
  readonly config: ResolvedOptions;
  readonly sweeper: DeadlineSweeper;
  readonly counters: LifecycleStats;
  readonly parserLimits: ParserLimits;
  readonly keepAliveLines: KeepAliveLines;
  readonly app: AppHooks;
  shuttingDown = false;
  /**
   * New sockets get a 503 and a lingering close. Set when the listener closes, which during a
   * drain is later than shuttingDown: until then a socket that arrives is served (with
   * Connection: close), because a load balancer still routes to this instance.
   */
  refusingNew = false;
  /** Connections and refused sockets closed since shutdown started, by how. */
  closedDuringShutdown = 0;
  forcedAtShutdown = 0;
  rejected = 0;
  /** Connections reclaimed at maxConnections that have not closed yet: they no longer count against it. */
  reclaiming = 0;
  private readonly connections = new Set<Connection>();
  private readonly refused = new Set<LingeringClose>();
  private readonly handshakes = new Set<TlsHandshake>();
  /** HTTPS: accepted TCP sockets are wrapped and handshaken before they become connections. */
  tls: TlsTransport | null;
  private onEmpty: (() => void) | null = null;

  constructor(config: ResolvedOptions, counters: LifecycleStats, app: AppHooks, tls: TlsTransport | null = null) {
    this.config = config;
    this.tls = tls;
    this.counters = counters;
    this.app = app;
    const o = config;
    this.parserLimits = Object.freeze({ maxHeaderSize: o.maxHeaderSize, maxHeaderCount: o.maxHeaderCount, maxUriLength: o.maxUriLength });
    this.keepAliveLines = new KeepAliveLines(o.keepAliveAdvertisedTimeout);
    const shortest = Math.min(o.keepAliveTimeout, o.firstByteTimeout, o.headersTimeout, o.bodyTimeout, o.lingerSilence,
      o.idleReapGuard > 0 ? o.idleReapGuard : Infinity, o.handlerTimeout > 0 ? o.handlerTimeout : Infinity,
      o.handshakeTimeout);
    this.sweeper = new DeadlineSweeper(tickFor(shortest));
  }

  get size(): number {
    return this.connections.size + this.refused.size + this.handshakes.size;
  }

  get handshakeTimeout(): number {
    return this.config.handshakeTimeout;
  }

  accept(socket: Socket): void {
    const o = this.config;
    const tls = this.tls;
    if (this.refusingNew || (o.maxConnections > 0 && this.connections.size + this.handshakes.size - this.reclaiming >= o.maxConnections && !this.reclaimIdle())) {
      this.rejected++;
      const refusal = refuse(socket, this, (reason, outcome) => {
        this.refused.delete(refusal);
        this.counted(reason, outcome);
        this.checkEmpty();
      }, tls === null);
      this.refused.add(refusal);
      return;
    }
    this.counters.accepted++;
    if (tls !== null) {
      this.handshakes.add(new TlsHandshake(socket, tls, this));
      return;
    }
    this.open(socket);
  }

  private open(socket: Socket): void {
    this.connections.add(new Connection(socket, this));
    if (connectionOpenChannel.hasSubscribers) {
      connectionOpenChannel.publish({ remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
    }
  }

  /** The handshake finished: the TLS socket is served like any other (during shutdown, with Connection: close). */
  secured(handshake: TlsHandshake, socket: TLSSocket): void {
    this.handshakes.delete(handshake);
    this.open(socket);
  }

  /** The handshake failed, timed out or was refused: counted, never seen by a handler. */
  failed(handshake: TlsHandshake, reason: CloseReason): void {
    this.handshakes.delete(handshake);
    this.counted(reason, null);
    this.checkEmpty();
  }

  /**
   * At maxConnections: closes the longest-idle connection that has been idle at least idleReapGuard
   * (nginx's reusable connections, with keepalive_min_timeout), so a new one is admitted instead of
   * refused. Busy connections are never chosen. The reclaimed one stops counting against the limit
   * but stays registered until its lingering close ends; at most maxConnections of them at once,
   * so a server holds at most twice maxConnections sockets. A scan, paid only at the limit.
   */
  private reclaimIdle(): boolean {
    if (this.reclaiming >= this.config.maxConnections) return false;
    const sweeper = this.sweeper;
    // idleSince comes from the cached clock, up to one tick old: one tick more keeps the guard whole.
    const idleBefore = sweeper.clock() - this.config.idleReapGuard - sweeper.tickMs;
    let oldest: Connection | null = null;
    for (const connection of this.connections) {
      if (connection.reclaimableSince(idleBefore) && (oldest === null || connection.idleSince < oldest.idleSince)) oldest = connection;
    }
    if (oldest === null) return false;
    this.reclaiming++;
    oldest.reclaim();
    return true;
  }

  connectionClosed(connection: Connection, reason: CloseReason, lingerOutcome: LingerOutcome | null): void {
    this.connections.delete(connection);
    if (connection.reclaimed) this.reclaiming--;
    this.counted(reason, lingerOutcome);
    if (connectionCloseChannel.hasSubscribers) {
      connectionCloseChannel.publish({ reason, lingerOutcome, requests: connection.requestCount, remoteAddress: connection.remoteAddress });
    }
    this.app.connectionEnded(reason, lingerOutcome, connection.requestCount, connection.remoteAddress);
    this.checkEmpty();
  }

  private counted(reason: CloseReason, lingerOutcome: LingerOutcome | null): void {
    this.counters.closes[reason]++;
    if (lingerOutcome !== null) this.counters.linger[lingerOutcome]++;
    if (this.shuttingDown) {
      if (reason === 'shutdown-forced') this.forcedAtShutdown++;
      else this.closedDuringShutdown++;
    }
  }

  connectionUpgraded(connection: Connection): void {
    this.connections.delete(connection);
    if (connection.reclaimed) this.reclaiming--;
    this.counters.upgrades++;
    this.checkEmpty();
  }

  private checkEmpty(): void {
    if (this.size === 0 && this.onEmpty !== null) this.onEmpty();
  }

  /** Resolves once no connection and no refused socket is left. */
  whenEmpty(): Promise<void> {
    return new Promise((resolve) => {
      if (this.size === 0) resolve();
      else this.onEmpty = resolve;
    });
  }

  closeIdle(reason: CloseReason): number {
    let count = 0;
    for (const connection of this.connections) if (connection.closeIfIdle(reason)) count++;
    return count;
  }

  beginShutdown(): void {
    this.shuttingDown = true;
    for (const connection of this.connections) connection.beginShutdown();
    this.sweeper.runDue();
  }

  /** The shutdown deadline: everything left is destroyed (the only place a reset is acceptable). */
  destroyAll(): void {
    for (const connection of [...this.connections]) connection.destroy('shutdown-forced');
    for (const refused of [...this.refused]) refused.destroy();
    for (const handshake of [...this.handshakes]) handshake.destroy();
  }

  counts(): ConnectionCounts {
    const counts: ConnectionCounts = { open: this.size, idle: 0, active: 0, closing: 0, lingering: 0, refusing: this.refused.size, reclaiming: this.reclaiming, handshaking: this.handshakes.size };
    for (const connection of this.connections) {
      const phase = connection.phase;
      if (phase === 'idle') counts.idle++;
      else if (phase === 'active') counts.active++;
      else if (phase === 'closing') counts.closing++;
      else if (phase === 'lingering') counts.lingering++;
    }
    return counts;
  }
}
