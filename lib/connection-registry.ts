// The engine side of a server: every live connection and refused socket, the shared clock and
// counters, the per-server caches, and the diagnostics_channel events of the lifecycle. Connections
// talk to it (ConnectionHost); the public Server keeps it private.

import diagnosticsChannel from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { ParserLimits } from './http1/request-parser.js';
import { Connection } from './connection/connection.js';
import { KeepAliveLines, type AppHooks, type ConnectionHost } from './connection/connection-host.js';
import { DeadlineSweeper, tickFor } from './connection/deadline-sweeper.js';
import type { CloseReason, LifecycleStats, LingerOutcome } from './connection/lifecycle-stats.js';
import type { ResolvedOptions } from './connection/options.js';
import { refuse, type LingeringClose } from './connection/lingering-close.js';

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
}

export class ConnectionRegistry implements ConnectionHost {
  readonly config: ResolvedOptions;
  readonly sweeper: DeadlineSweeper;
  readonly counters: LifecycleStats;
  readonly parserLimits: ParserLimits;
  readonly keepAliveLines: KeepAliveLines;
  readonly app: AppHooks;
  shuttingDown = false;
  /** Connections and refused sockets closed since shutdown started, by how. */
  closedDuringShutdown = 0;
  forcedAtShutdown = 0;
  rejected = 0;
  /** Connections reclaimed at maxConnections that have not closed yet: they no longer count against it. */
  reclaiming = 0;
  private readonly connections = new Set<Connection>();
  private readonly refused = new Set<LingeringClose>();
  private onEmpty: (() => void) | null = null;

  constructor(config: ResolvedOptions, counters: LifecycleStats, app: AppHooks) {
    this.config = config;
    this.counters = counters;
    this.app = app;
    const o = config;
    this.parserLimits = Object.freeze({ maxHeaderSize: o.maxHeaderSize, maxHeaderCount: o.maxHeaderCount, maxUriLength: o.maxUriLength });
    this.keepAliveLines = new KeepAliveLines(o.keepAliveAdvertisedTimeout);
    const shortest = Math.min(o.keepAliveTimeout, o.firstByteTimeout, o.headersTimeout, o.bodyTimeout, o.lingerSilence,
      o.idleReapGuard > 0 ? o.idleReapGuard : Infinity, o.handlerTimeout > 0 ? o.handlerTimeout : Infinity);
    this.sweeper = new DeadlineSweeper(tickFor(shortest));
  }

  get size(): number {
    return this.connections.size + this.refused.size;
  }

  accept(socket: Socket): void {
    const o = this.config;
    if (this.shuttingDown || (o.maxConnections > 0 && this.connections.size - this.reclaiming >= o.maxConnections && !this.reclaimIdle())) {
      this.rejected++;
      const refusal = refuse(socket, this, (reason, outcome) => {
        this.refused.delete(refusal);
        this.counted(reason, outcome);
        this.checkEmpty();
      });
      this.refused.add(refusal);
      return;
    }
    this.counters.accepted++;
    this.connections.add(new Connection(socket, this));
    if (connectionOpenChannel.hasSubscribers) {
      connectionOpenChannel.publish({ remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
    }
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
  }

  counts(): ConnectionCounts {
    const counts: ConnectionCounts = { open: this.size, idle: 0, active: 0, closing: 0, lingering: 0, refusing: this.refused.size, reclaiming: this.reclaiming };
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
