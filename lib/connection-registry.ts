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
  refusing: number;
}

/** @internal Server holds it privately; stripped, the published types stop at CHANNELS and never reach Connection. */
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
    if (this.shuttingDown || (o.maxConnections > 0 && this.connections.size >= o.maxConnections)) {
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

  connectionClosed(connection: Connection, reason: CloseReason, lingerOutcome: LingerOutcome | null): void {
    this.connections.delete(connection);
    this.counted(reason, lingerOutcome);
    if (connectionCloseChannel.hasSubscribers) {
      connectionCloseChannel.publish({ reason, lingerOutcome, requests: connection.requestCount, remoteAddress: connection.remoteAddress });
    }
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
    const counts: ConnectionCounts = { open: this.size, idle: 0, active: 0, closing: 0, lingering: 0, refusing: this.refused.size };
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
