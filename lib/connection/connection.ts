// One socket's life as a state machine over its parts: request input, the response pipeline, the
// output writer and the lingering close. Socket events and deadlines come in; the parts report
// outcomes; close decisions come from keep-alive-policy.ts and are applied here, in one place.

import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { UsageError, type ProtocolError } from '../http1/protocol-error.js';
import type { RequestHead } from '../http1/request-parser.js';
import { CLOSING, DESTROYED, OPEN, UPGRADED, type ConnectionHost, type Phase } from './connection-host.js';
import type { DeadlineOwner } from './deadline-sweeper.js';
import { armDeadline, BODY, FIRST_BYTE, HANDLER, HEAD, IDLE, NO_DEADLINE, REQUEST, SEND, SHUTDOWN_IDLE, type DeadlineCause } from './deadlines.js';
import { HttpError } from './http-error.js';
import type { IncomingRequest, RequestHost } from './incoming-request.js';
import { atPeerEnd, atRequestHead, whenIdle, CLOSE_NOW, KEEP } from './keep-alive-policy.js';
import type { CloseReason, LingerOutcome } from './lifecycle-stats.js';
import { LingeringClose } from './lingering-close.js';
import type { ResolvedOptions } from './options.js';
import { OutgoingResponse, type ResponseHost } from './outgoing-response.js';
import { OutputWriter } from './output-writer.js';
import { CLOSE, EMPTY, HAND_OVER, ResponsePipeline } from './response-pipeline.js';
import { ResponseWriter } from './response-writer.js';
import { AFTER_LAST, BODY_DONE, BODY_ERROR, DISCARD, FULL, HEAD_ERROR, HEAD_PARSED, HOLD, READ_HEADS, RequestInput } from './request-input.js';
import { attach, detach, type SocketEvents } from './socket-events.js';
import { UpgradeHandOver, type TakenSocket } from './upgrade.js';

export type { TakenSocket } from './upgrade.js';

export class Connection implements DeadlineOwner, RequestHost, ResponseHost, SocketEvents {
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
  private closeReason: CloseReason | null = null;
  readonly input: RequestInput;
  readonly output: OutputWriter;
  readonly pipeline: ResponsePipeline;
  private readonly responses: ResponseWriter;
  /** Input thrown away after the last request, before the close (the linger's byte cap starts from it). */
  discarded = 0;
  /** The close path once it has started; it owns the socket's events from then on. */
  private closer: LingeringClose | null = null;
  idleSince: number;
  /** Chosen to be closed at maxConnections so another connection could be admitted (the registry's mark). */
  reclaimed = false;
  /** An idle close was decided and waits for the poll phase; input read first calls it off. */
  private idleClose: CloseReason | null = null;
  private readonly upgrade = new UpgradeHandOver();
  private readonly host: ConnectionHost;
  private readonly options: ResolvedOptions;
  private paused = false;
  private inBatch = false;
  private peerEnded = false;
  private flushScheduled = false;

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.host = host;
    this.options = host.config;
    this.input = new RequestInput(host.parserLimits);
    this.output = new OutputWriter(socket, host.counters);
    this.pipeline = new ResponsePipeline(this.output);
    this.responses = new ResponseWriter(host, this.input, this.pipeline, this.output, this);
    this.acceptedAt = this.idleSince = host.sweeper.now;
    this.secure = (socket as TLSSocket).encrypted === true;
    // RFC 9112 9.3 allows pipelined responses; small responses must not wait for Nagle's ACK clock.
    socket.setNoDelay(true);
    attach(socket, this);
    host.sweeper.add(this);
    this.updateDeadline();
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

  // ---------------------------------------------------------------- input

  /** @internal */
  onData(chunk: Buffer): void {
    const now = this.host.sweeper.now;
    this.input.receivedAny = true;
    // Input already received is served before any idle close: a close decided without it is off,
    // except that a connection reclaimed for another still closes, after answering it.
    const idleClose = this.idleClose;
    if (idleClose !== null) {
      this.idleClose = null;
      if (idleClose === 'idle-reclaimed') this.pendingClose ??= idleClose;
    }
    this.input.begin(chunk);
    this.readBatch(now);
    if (this.state !== OPEN) return;
    if (this.paused) this.maybeResume();
    this.updateDeadline();
  }

  /** Walks the batch event by event, then flushes its output in one write. */
  private readBatch(now: number): void {
    const ins = this.input;
    const o = this.options;
    this.inBatch = true;
    for (;;) {
      if (this.state !== OPEN) break; // a handler closed the connection: the close path counted the rest
      const room = this.pipeline.depth < o.maxPipelineDepth && this.queuedOutput() <= o.maxQueuedOutput;
      const event = ins.next(room, o.maxBufferedBody, now);
      if (event === HEAD_PARSED) this.startRequest(ins.head!, now);
      else if (event === BODY_DONE) {
        // A request whose body the response did not wait for may have been the reason to hold input.
        if (this.pendingClose === null && this.pipeline.head === null) this.onPipelineEmpty();
      } else {
        if (event === FULL) this.pauseReading();
        else if (event === AFTER_LAST) {
          // Bytes after the last request are discarded, not parsed: a client's bytes after its own
          // Connection: close are not a protocol error.
          this.discardInput(ins.rest());
          ins.done();
        } else if (event === HEAD_ERROR) this.answerAndClose(ins.parser.error!.statusCode, 'parse-error', ins.parser.error!);
        else if (event === BODY_ERROR) this.failBody(ins.bodyError(), 'parse-error');
        break;
      }
    }
    this.inBatch = false;
    if (this.state === DESTROYED) return;
    if (this.upgrade.response !== null) {
      this.tryHandOver();
      if (this.state === UPGRADED) return;
    }
    this.flush();
  }

  private startRequest(head: RequestHead, now: number): void {
    const host = this.host;
    const ins = this.input;
    const sequence = ++this.requestCount;
    host.counters.requests++;
    if (sequence > 1) host.counters.reusedRequests++;
    const hasBody = head.chunked || head.contentLength > 0;
    const app = host.app;
    const request = app.createRequest(head, this, sequence, hasBody);
    const response = app.createResponse(request, this);
    response._handlerTimeout = this.options.handlerTimeout;
    this.pipeline.push(response);
    const decision = atRequestHead(head, sequence, host.shuttingDown, this.options);
    if (decision !== KEEP) {
      response._closeReason = decision.reason;
      ins.stopAfterCurrent(head.upgrade !== null ? HOLD : DISCARD);
    }
    ins.beginBody(request, response, hasBody, now);
    if (decision.reason === 'connect-refused') this.preempt(response, 501, 'connect-refused');
    else app.dispatch(request, response);
  }

  /** The body being read failed (malformed, cut short, too slow): its request fails, the connection closes after it. */
  private failBody(error: ProtocolError | HttpError, reason: CloseReason): void {
    const request = this.input.bodyRequest!;
    const response = this.input.bodyResponse!;
    this.input.endBody();
    this.discarded += this.input.dropPending();
    this.closeAfterInFlight(reason);
    const status = error.statusCode;
    request._fail(error instanceof HttpError ? error : new HttpError(status, error.code, error.message));
    if (!response.headersSent && !response._complete) this.preempt(response, status, reason);
    else response._closeReason ??= reason;
    if (this.pipeline.head === null) this.onPipelineEmpty();
  }

  /** No further request is read; the connection closes once the responses in flight are sent. */
  private closeAfterInFlight(reason: CloseReason): void {
    this.pendingClose ??= reason;
    this.input.stopAfterCurrent(DISCARD);
  }

  /** Answers on the handler's behalf (timeouts, CONNECT, errors); the connection closes after it. */
  private preempt(response: OutgoingResponse, status: number, reason: CloseReason): void {
    this.closeAfterInFlight(reason);
    if (this.responses.answerInstead(response, status, reason)) this.scheduleFlush();
    this.complete(response);
  }

  /** A protocol error or a head timeout: the error answers in order behind the responses in flight. */
  private answerAndClose(status: number, reason: CloseReason, error: ProtocolError | null): void {
    if (error !== null) this.host.counters.protocolErrors++;
    this.discarded += this.input.dropPending();
    this.input.headStartedAt = 0;
    this.preempt(this.responses.placeholder(this), status, reason);
  }

  onBodyDemand(request: IncomingRequest): void {
    if (this.responses.continueWanted(request)) this.scheduleFlush();
    if (this.paused) this.maybeResume();
  }

  private pauseReading(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** Loops because a flush the kernel takes whole emits no 'drain': nothing else would resume us. */
  private maybeResume(): void {
    while (this.paused && this.state === OPEN
      && this.input.canRead(this.pipeline.depth, this.queuedOutput(), this.discarded, this.options)) {
      this.paused = false;
      this.socket.resume();
      if (this.inBatch) return;
      if (this.input.pending === null) break;
      this.input.begin(EMPTY_READ);
      this.readBatch(this.host.sweeper.now);
      if (this.state !== OPEN) return;
    }
    if (this.state === OPEN && !this.inBatch) this.updateDeadline();
  }

  /** Input after the last request is thrown away; past the linger's byte cap the peer waits for the close. */
  private discardInput(bytes: number): void {
    this.discarded += bytes;
    if (this.discarded > this.options.lingerMaxDiscardBytes) this.pauseReading();
  }

  /** @internal */
  onEnd(): void {
    this.peerEnded = true;
    const ins = this.input;
    ins.stopAfterCurrent(DISCARD);
    this.discarded += ins.dropPending();
    ins.headStartedAt = 0;
    if (ins.bodyRequest !== null) {
      this.failBody(new HttpError(400, 'ERR_INCOMPLETE_BODY', 'the client ended the connection before the request body was complete'), 'client-close');
      return;
    }
    const decision = atPeerEnd(this, this.pipeline.head !== null);
    if (decision.verdict === CLOSE_NOW) {
      this.startClose(decision.reason!);
      return;
    }
    this.pendingClose ??= decision.reason;
    // Most peers that half-close are gone (a closed tab, a killed curl): handlers watching req.signal
    // stop, as Go cancels a request's context on EOF; responses are still written for those that read.
    this.pipeline.abortUnfinished('ERR_CLIENT_GONE', 'the client closed its side of the connection before the response was complete');
    const tail = this.pipeline.tail;
    if (tail !== null && !tail.headersSent) tail._closeReason ??= decision.reason;
  }

  // ---------------------------------------------------------------- responses (ResponseHost)

  private queuedOutput(): number {
    return this.output.pendingBytes() + this.pipeline.parkedBytes;
  }


  sendWhole(response: OutgoingResponse, body: Buffer | string | null): void {
    if (this.state !== OPEN) return;
    if (this.responses.whole(response, body)) this.scheduleFlush();
    this.complete(response);
  }

  sendHead(response: OutgoingResponse): void {
    if (this.state !== OPEN) response.headersSent = true;
    else if (this.responses.head(response)) this.scheduleFlush();
  }

  writeBody(response: OutgoingResponse, chunk: Buffer | string): boolean {
    if (this.state !== OPEN) return false;
    if (!response._noBody && this.responses.chunk(response, chunk)) this.scheduleFlush();
    return this.queuedOutput() <= this.options.maxQueuedOutput;
  }

  finishBody(response: OutgoingResponse, trailers: readonly string[] | null): void {
    if (this.state !== OPEN) return;
    if (response._remaining > 0 && !response._noBody) {
      this.destroy('handler-error');
      throw new UsageError('ERR_CONTENT_LENGTH_MISMATCH', `response ended ${response._remaining} bytes short of its Content-Length`);
    }
    if (this.responses.end(response, trailers)) this.scheduleFlush();
    this.complete(response);
  }

  destroyResponse(response: OutgoingResponse): void {
    if (this.state !== OPEN || response._complete) return;
    if (response !== this.pipeline.head) {
      // Nothing of a parked response reached the wire: it can still become a clean 500, and the
      // responses before it are not lost with the socket.
      this.pipeline.dropParked(response);
      response._closeReason = 'handler-error';
      this.preempt(response, 500, 'handler-error');
      return;
    }
    this.destroy('handler-error');
  }

  waitForDrain(): Promise<void> {
    return this.state !== OPEN ? Promise.resolve() : this.output.waitForRoom(this.queuedOutput(), this.options.maxQueuedOutput);
  }

  /** The handler is done with this response; it leaves when everything before it has. */
  private complete(response: OutgoingResponse): void {
    const outcome = this.responses.complete(response, this.upgrade.response);
    // Parked output moved to the socket's queue: a read batch flushes it at its end anyway.
    if (!this.inBatch && this.output.hasQueued()) this.scheduleFlush();
    if (outcome === CLOSE) this.startClose(this.pipeline.closeReason!);
    else if (outcome === HAND_OVER) this.tryHandOver();
    else {
      if (outcome === EMPTY) this.onPipelineEmpty();
      else if (this.paused) this.maybeResume();
      if (!this.inBatch && this.state === OPEN) this.updateDeadline();
    }
  }

  private onPipelineEmpty(): void {
    const ins = this.input;
    if (this.state !== OPEN || ins.bodyRequest !== null) return; // a body is still being discarded
    if (this.pendingClose === null && ins.after !== READ_HEADS && ins.pending === null) return;
    const now = this.host.sweeper.now;
    const decision = whenIdle(this, ins.pending !== null || ins.headStartedAt !== 0, now, this.options);
    if (decision.verdict === CLOSE_NOW) {
      this.startClose(decision.reason!);
      return;
    }
    this.idleSince = now;
    if (this.paused) this.maybeResume();
  }

  // ---------------------------------------------------------------- output

  private scheduleFlush(): void {
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

  /** @internal */
  onDrain(): void {
    this.output.onDrain(this.host.sweeper.now);
    this.output.releaseWaiters(this.queuedOutput(), this.options.maxQueuedOutput);
    if (this.paused) this.maybeResume();
    this.updateDeadline();
  }

  /** @internal The FIN comes from the close path, which owns the socket's events by then. */
  onFinish(): void {}

  // ---------------------------------------------------------------- upgrade

  /** Hands the socket to another protocol once every earlier response is queued on it. */
  takeOverSocket(response: OutgoingResponse): Promise<TakenSocket> {
    const taken = this.upgrade.request(response, this.state === OPEN);
    this.tryHandOver();
    return taken;
  }

  private tryHandOver(): void {
    if (this.state !== OPEN || !this.upgrade.due(this.pipeline.head, this.input.bodyRequest !== null, this.inBatch)) return;
    this.flush();
    detach(this.socket);
    this.state = UPGRADED;
    this.deadline = Infinity;
    this.host.sweeper.delete(this);
    const head = this.input.pending ?? Buffer.alloc(0);
    this.input.pending = null;
    this.pipeline.clear();
    const response = this.upgrade.grant(this.socket, head);
    this.host.app.requestFinished(response);
    this.host.connectionUpgraded(this);
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
    this.upgrade.fail(aborted ?? new HttpError(499, 'ERR_CLIENT_GONE', 'the connection closed before the upgrade'));
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
  private closeIdle(reason: CloseReason): void {
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
    this.upgrade.fail(aborted ?? new HttpError(499, 'ERR_CLIENT_GONE', 'the connection closed before the upgrade'));
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

  onDeadline(now: number): void {
    const o = this.options;
    // Each round fires the cause that is due; another cause due at the same time gets the next round.
    for (let round = 0; round < 10 && this.deadline <= now; round++) {
      const cause = this.deadlineCause;
      if (cause === SEND && !this.output.madeProgress(now)) return this.destroy('send-timeout'); // the peer stopped reading
      if (cause === FIRST_BYTE) return this.closeIdle('first-byte-timeout');
      if (cause === IDLE) return this.closeIdle('idle-timeout');
      if (cause === SHUTDOWN_IDLE) return this.closeIdle('shutdown-idle');
      if (cause === HANDLER) this.preemptOverdueHandlers(now);
      else if (cause === REQUEST) this.failBody(new HttpError(408, 'ERR_REQUEST_TIMEOUT', 'the request was not received in time'), 'request-timeout');
      else if (cause === BODY) this.failBody(new HttpError(408, 'ERR_BODY_TIMEOUT', 'the request body stalled'), 'body-timeout');
      else if (cause === HEAD) this.answerAndClose(408, o.headersTimeout <= o.requestTimeout ? 'headers-timeout' : 'request-timeout', null);
      else if (cause === NO_DEADLINE) return;
      if (this.state === OPEN) this.flush();
      if (this.state === DESTROYED || this.state === UPGRADED) return;
      this.updateDeadline();
    }
  }

  /** handlerTimeout or a route's timeout: 503 in the handler's place, its signal aborted, its later writes ignored. */
  private preemptOverdueHandlers(now: number): void {
    for (let r = this.pipeline.overdueHandler(now, this.upgrade.response); r !== null && this.state === OPEN; r = this.pipeline.overdueHandler(now, this.upgrade.response)) {
      const error = new HttpError(503, 'ERR_HANDLER_TIMEOUT', `the handler did not start a response within ${r._handlerTimeout} ms`);
      this.preempt(r, 503, 'handler-timeout');
      r.request._abort(error);
      this.host.app.handlerTimedOut(r, error);
    }
  }
}

const EMPTY_READ = Buffer.alloc(0);

function flushLater(connection: Connection): void {
  connection.flush();
}

function confirmIdleClose(connection: Connection): void {
  connection.confirmIdleClose();
}

