// What every phase of a connection shares: its socket, parts and state, the flush that keeps one
// write per read batch, and every way the connection ends (graceful close, idle close, shutdown,
// destroy). Connection (connection.ts) adds reading requests and answering them on top.

import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { OPEN, CLOSING, DESTROYED, type ConnectionHost, type Phase } from './connection-host.js';
import type { DeadlineOwner } from './deadline-sweeper.js';
import { armDeadline, NO_DEADLINE, type DeadlineCause } from './deadlines.js';
import { HttpError } from './http-error.js';
import type { CloseReason, LingerOutcome } from './lifecycle-stats.js';
import { LingeringClose } from './lingering-close.js';
import type { ResolvedOptions } from './options.js';
import type { OutgoingResponse } from './outgoing-response.js';
import { OutputWriter } from './output-writer.js';
import { ResponsePipeline } from './response-pipeline.js';
import { DISCARD, RequestInput } from './request-input.js';
import { UpgradeHandOver } from './upgrade.js';

export abstract class ConnectionCore implements DeadlineOwner {
  readonly socket: Socket;
  readonly acceptedAt: number;
  /** Over TLS (a TLSSocket, handshake done). */
  readonly secure: boolean;
  deadline = Infinity;
  deadlineCause: DeadlineCause = NO_DEADLINE;
  requestCount = 0;
  state: Phase = OPEN;
  /** Keep-alive state: a reason to close once what is in flight is done; null keeps the connection. */
  pendingClose: CloseReason | null = null;
  /** The answer to "why did it close": the first close decision taken. */
  protected closeReason: CloseReason | null = null;
  readonly input: RequestInput;
  readonly output: OutputWriter;
  readonly pipeline: ResponsePipeline;
  /** Input thrown away after the last request, before the close (the linger's byte cap starts from it). */
  discarded = 0;
  /** The close path once it has started; it owns the socket's events from then on. */
  private closer: LingeringClose | null = null;
  idleSince: number;
  /** Chosen to be closed at maxConnections so another connection could be admitted (the registry's mark). */
  reclaimed = false;
  /** An idle close was decided and waits for the poll phase; input read first calls it off. */
  protected idleClose: CloseReason | null = null;
  protected readonly upgrade = new UpgradeHandOver();
  protected readonly host: ConnectionHost;
  protected readonly options: ResolvedOptions;
  /** Walking a read batch: its output leaves in one write at the batch's end. */
  protected inBatch = false;
  protected peerEnded = false;
  private flushScheduled = false;

  /** The deadline that is due fires here (the sweeper calls it); Connection knows what each cause means. */
  abstract onDeadline(now: number): void;

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.host = host;
    this.options = host.config;
    this.input = new RequestInput(host.parserLimits);
    this.output = new OutputWriter(socket, host.counters);
    this.pipeline = new ResponsePipeline(this.output, host.config.handlerTimeout);
    this.acceptedAt = this.idleSince = host.sweeper.now;
    this.secure = (socket as TLSSocket).encrypted === true;
    // RFC 9112 9.3 allows pipelined responses; small responses must not wait for Nagle's ACK clock.
    socket.setNoDelay(true);
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  peerCertificate(): X509Certificate | null {
    if (!this.secure) return null;
    return (this.socket as TLSSocket).getPeerX509Certificate() ?? null;
  }

  get peerAuthorized(): boolean {
    return this.secure && (this.socket as TLSSocket).authorized === true;
  }

  /** The response waiting to take the socket over, if any. */
  get upgrading(): OutgoingResponse | null {
    return this.upgrade.response;
  }

  get idleCloseDecided(): boolean {
    return this.idleClose !== null;
  }

  get phase(): 'idle' | 'active' | 'closing' | 'lingering' | 'closed' {
    if (this.state === OPEN) return this.pipeline.head === null && this.input.bodyRequest === null && this.input.headStartedAt === 0 ? 'idle' : 'active';
    return this.closer !== null ? this.closer.phase : 'closed';
  }

  // ---------------------------------------------------------------- output

  /** Bytes answered but not yet taken by the kernel: the socket's queue and responses parked behind the head. */
  protected queuedOutput(): number {
    return this.output.pendingBytes() + this.pipeline.parkedBytes;
  }

  protected scheduleFlush(): void {
    if (this.inBatch || this.flushScheduled) return;
    // Responses finished in the same turn of the event loop (async handlers of one read batch) leave in one write.
    this.flushScheduled = true;
    setImmediate(flushLater, this);
  }

  /** @internal */
  flush(): void {
    this.flushScheduled = false;
    if (this.state !== OPEN) return;
    if (this.output.flush(this.host.sweeper.now)) {
      if (!this.inBatch) this.updateDeadline();
    } else if (this.output.hasWaiters() && !this.output.backedUp) {
      // Output moved from parked to the socket without backing up: no 'drain' will come.
      this.output.releaseWaiters(this.queuedOutput(), this.options.maxQueuedOutput);
    }
  }

  // ---------------------------------------------------------------- close

  /**
   * Graceful: the responses in flight behind this point are dropped, what is queued is flushed, and
   * the lingering close takes the socket over (FIN, drain input, then destroy).
   */
  startClose(reason: CloseReason): void {
    if (this.state !== OPEN) return;
    this.closeReason ??= reason;
    const aborted = this.abortInFlight(503, 'ERR_CONNECTION_CLOSING', 'the connection is closing');
    this.flush();
    this.state = CLOSING;
    // What is left of the read being walked (when a handler closed it synchronously) is never parsed.
    this.discarded += this.input.dropPending() + this.input.rest();
    this.input.done();
    this.pipeline.clear();
    this.input.endBody();
    this.output.releaseWaiters(0, 0);
    this.upgrade.fail(aborted); // its own 499 only when a handler waits for the socket: no stack capture per close
    this.deadline = Infinity;
    this.host.sweeper.delete(this);
    this.closer = new LingeringClose(this.socket, this.host, {
      reason: this.closeReason, output: this.output, peerEnded: this.peerEnded, discarded: this.discarded, hardDeadline: Infinity,
      closed: (closeReason, outcome) => this.closed(closeReason, outcome),
    });
  }

  /**
   * An idle close waits for the poll phase of this turn of the event loop: a request that reached
   * the socket while the loop was busy is read first, and served (it calls the close off).
   */
  protected closeIdle(reason: CloseReason): void {
    if (this.idleClose !== null || this.state !== OPEN) return;
    this.idleClose = reason;
    this.deadline = Infinity;
    setImmediate(confirmIdleClose, this);
  }

  /** @internal */
  confirmIdleClose(): void {
    const reason = this.idleClose;
    this.idleClose = null;
    if (reason === null || this.state !== OPEN) return;
    if (this.phase === 'idle') this.startClose(reason);
    else this.updateDeadline();
  }

  /**
   * Idle with no close decided and idle since before `idleBefore`: a candidate to be reclaimed at
   * maxConnections (the guard keeps a client reusing the connection right now from racing the FIN).
   */
  reclaimableSince(idleBefore: number): boolean {
    return this.state === OPEN && !this.reclaimed && this.idleClose === null && this.pendingClose === null
      && this.idleSince <= idleBefore && this.phase === 'idle';
  }

  /** Closes this idle connection through the idle close path; a request already received is answered with Connection: close first. */
  reclaim(): void {
    this.reclaimed = true;
    this.closeIdle('idle-reclaimed');
  }

  /** closeIdleConnections(): true when this connection was idle and now closes. */
  closeIfIdle(reason: CloseReason): boolean {
    if (this.state !== OPEN || this.phase !== 'idle') return false;
    this.closeIdle(reason);
    return true;
  }

  private abortInFlight(status: number, code: string, message: string): HttpError | null {
    const aborted = this.pipeline.abortAll(status, code, message);
    const reading = this.input.bodyRequest;
    if (reading === null) return aborted;
    const error = aborted ?? new HttpError(status, code, message);
    reading._abort(error);
    return error;
  }

  /** Shutdown: idle connections close after the reuse guard, busy ones after their last response. */
  beginShutdown(): void {
    if (this.state !== OPEN) return;
    const tail = this.pipeline.tail;
    if (tail !== null && !tail.headersSent) {
      tail._closeReason ??= 'shutdown-after-response';
      this.input.stopAfterCurrent(DISCARD);
    }
    // Otherwise a head already arriving (or pipelined input) is served with Connection: close: the
    // policy sees the shutdown. A connection left idle gets the reuse guard, then its idle close.
    this.updateDeadline();
  }

  /** Immediate: the only place a reset is acceptable (shutdown deadline, a broken response). */
  destroy(reason: CloseReason): void {
    if (this.closer !== null) {
      this.closer.destroy();
    } else if (this.state === OPEN) {
      this.closeReason ??= reason;
      this.socket.destroy();
    }
  }

  /** @internal */
  onError(err: NodeJS.ErrnoException): void {
    this.closeReason ??= err.code === 'EPIPE' ? 'write-error' : 'client-reset';
  }

  /** @internal The socket closed while the connection was still open (the peer reset or vanished, or a destroy). */
  onClose(): void {
    if (this.state !== OPEN) return;
    this.state = DESTROYED;
    this.deadline = Infinity;
    this.host.sweeper.delete(this);
    const aborted = this.abortInFlight(499, 'ERR_CLIENT_GONE', 'the connection closed before the response was complete');
    this.pipeline.clear();
    this.input.endBody();
    this.input.pending = null;
    this.output.releaseWaiters(0, 0);
    this.output.discard();
    this.upgrade.fail(aborted); // its own 499 only when a handler waits for the socket: no stack capture per close
    this.host.counters.lingerDiscardedBytes += this.discarded;
    this.closed(this.closeReason ?? (this.peerEnded ? 'client-close' : 'client-reset'), null);
  }

  private closed(reason: CloseReason, outcome: LingerOutcome | null): void {
    this.state = DESTROYED;
    this.host.connectionClosed(this, reason, outcome);
  }

  // ---------------------------------------------------------------- deadlines

  /** Arms the one deadline this connection waits for, and remembers its cause. */
  updateDeadline(): void {
    armDeadline(this, this.options, this.host.shuttingDown, this.host.sweeper.tickMs);
  }
}

function flushLater(connection: ConnectionCore): void {
  connection.flush();
}

function confirmIdleClose(connection: ConnectionCore): void {
  connection.confirmIdleClose();
}
