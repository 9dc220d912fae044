// The close path once HTTP is done with a socket: the last output flushes, the FIN goes out, then
// input is read and discarded until the peer's EOF, a gap of silence, a total time or a byte cap
// (nginx lingering_timeout / lingering_time), and only then is the socket destroyed, so an RST
// never wipes responses the peer has not read. Refused sockets (over maxConnections) take it too.

import type { Socket } from 'node:net';
import { errorResponse } from '../http1/head-writer.js';
import type { DeadlineOwner, DeadlineSweeper } from './deadline-sweeper.js';
import type { CloseReason, LifecycleStats, LingerOutcome } from './lifecycle-stats.js';
import type { ResolvedOptions } from './options.js';
import type { OutputWriter } from './output-writer.js';
import { attach, type SocketEvents } from './socket-events.js';

export interface LingerHost {
  readonly config: ResolvedOptions;
  readonly sweeper: DeadlineSweeper;
  readonly counters: LifecycleStats;
  readonly shuttingDown: boolean;
}

export interface LingerStart {
  reason: CloseReason;
  /** The writer whose output must leave before the FIN; null when the FIN was already queued (a refusal). */
  output: OutputWriter | null;
  /** The peer's FIN already arrived. */
  peerEnded: boolean;
  /** Input thrown away before the close (after a last request). */
  discarded: number;
  /** An absolute bound on the whole close, or Infinity: a refused socket gets one short total from accept. */
  hardDeadline: number;
  /** Told once the socket is gone, with why it closed and how the linger ended. */
  closed(reason: CloseReason, outcome: LingerOutcome, discarded: number): void;
}

export class LingeringClose implements DeadlineOwner, SocketEvents {
  deadline = Infinity;
  phase: 'closing' | 'lingering' | 'closed' = 'closing';
  private readonly reason: CloseReason;
  private outcome: LingerOutcome | null = null;
  private readonly socket: Socket;
  private readonly host: LingerHost;
  private readonly start: LingerStart;
  private peerEnded: boolean;
  private discarded: number;
  /** Discarded before the FIN: the byte cap counts from the linger's start. */
  private discardedBefore: number;
  private endOnDrain = false;
  private lingerStartedAt = 0;
  private lastReadAt = 0;
  private total = 0;

  constructor(socket: Socket, host: LingerHost, start: LingerStart) {
    this.socket = socket;
    this.host = host;
    this.start = start;
    this.reason = start.reason;
    this.peerEnded = start.peerEnded;
    this.discarded = this.discardedBefore = start.discarded;
    attach(socket, this);
    host.sweeper.add(this);
    const output = start.output;
    if (output !== null) {
      output.startFinalFlush(host.sweeper.now);
      // A sliced buffer still being written goes out before the FIN.
      if (output.holding()) this.endOnDrain = true;
      else socket.end();
    }
    // Keep reading while closing: unread input at close time is what makes the kernel send RST.
    socket.resume();
    this.updateDeadline();
  }

  /** @internal */
  onData(chunk: Buffer): void {
    const now = this.host.sweeper.now;
    this.discarded += chunk.length;
    this.lastReadAt = now;
    if (this.discarded - this.discardedBefore > this.host.config.lingerMaxDiscardBytes) this.finish('byte-cap');
    else if (this.phase === 'lingering') this.updateDeadline();
  }

  /** @internal */
  onEnd(): void {
    this.peerEnded = true;
    if (this.phase === 'lingering') this.finish('peer-eof');
  }

  /** @internal */
  onFinish(): void {
    if (this.phase !== 'closing') return;
    this.phase = 'lingering';
    const o = this.host.config;
    this.lingerStartedAt = this.lastReadAt = this.host.sweeper.now;
    this.total = this.host.shuttingDown ? o.lingerShutdownTotal : o.lingerTotal;
    this.discardedBefore = this.discarded;
    if (this.peerEnded) this.finish('peer-eof');
    else this.updateDeadline();
  }

  /** @internal */
  onDrain(): void {
    const output = this.start.output;
    if (output === null) return;
    output.onDrain(this.host.sweeper.now);
    if (this.endOnDrain && !output.holding()) {
      this.endOnDrain = false;
      this.socket.end();
    }
    this.updateDeadline();
  }

  /** @internal */
  onError(): void {
    this.outcome ??= 'reset';
  }

  /** @internal */
  onClose(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.deadline = Infinity;
    this.host.sweeper.delete(this);
    this.start.output?.discard();
    const stats = this.host.counters;
    // Bytes arrived after the close decision: an immediate close would have answered them with RST.
    if (this.discarded > 0) stats.resetsAvoided++;
    stats.lingerDiscardedBytes += this.discarded;
    this.start.closed(this.reason, this.outcome ?? (this.peerEnded ? 'peer-eof' : 'reset'), this.discarded);
  }

  onDeadline(now: number): void {
    if (now >= this.start.hardDeadline) {
      this.finish('total');
    } else if (this.phase === 'lingering') {
      this.finish(now >= this.lingerStartedAt + this.total ? 'total' : 'silence');
    } else if (this.start.output !== null && !this.start.output.madeProgress(now)) {
      // The last output made no progress for sendTimeout: the peer stopped reading.
      this.finish('total');
    } else {
      this.updateDeadline();
    }
  }

  private updateDeadline(): void {
    const o = this.host.config;
    let at = this.start.hardDeadline;
    if (this.phase === 'lingering') at = Math.min(at, this.lastReadAt + o.lingerSilence, this.lingerStartedAt + this.total);
    else if (this.start.output !== null) at = Math.min(at, this.start.output.lastProgressAt + o.sendTimeout);
    this.deadline = at;
  }

  /** The shutdown deadline: destroyed with whatever it was doing (the only place a reset is acceptable). */
  destroy(): void {
    this.finish('total');
  }

  private finish(outcome: LingerOutcome): void {
    this.outcome ??= outcome;
    this.deadline = Infinity;
    this.socket.destroy();
  }
}

/**
 * A socket over maxConnections (or arriving during shutdown): a 503 it can read, then the lingering
 * close, bounded by one short total counted from accept, since a per-read timer alone lets a peer
 * trickling bytes hold it forever. The shorter of the linger totals: it is owed its 503, not patience.
 * A TLS socket is refused before its handshake, with a bare FIN (`answer` false): a 503 would need
 * the handshake the limit exists to spare.
 */
export function refuse(socket: Socket, host: LingerHost, closed: LingerStart['closed'], answer = true): LingeringClose {
  const o = host.config;
  socket.setNoDelay(true);
  const refusal = new LingeringClose(socket, host, {
    reason: 'max-connections', output: null, peerEnded: false, discarded: 0,
    hardDeadline: host.sweeper.now + Math.min(o.lingerTotal, o.lingerShutdownTotal), closed,
  });
  if (answer) socket.end(errorResponse(503), 'latin1');
  else socket.end();
  return refusal;
}
