// Reading requests and answering them, as a state machine over its parts: request input, the
// response pipeline and writer, the upgrade hand-off. Socket events and deadlines come in; the parts
// report outcomes; close decisions come from keep-alive-policy.ts and are applied here.

import type { Socket } from 'node:net';
import { UsageError, type ProtocolError } from '../http1/protocol-error.js';
import type { RequestHead } from '../http1/request-parser.js';
import { DESTROYED, OPEN, UPGRADED, type ConnectionHost } from './connection-host.js';
import { ConnectionCore } from './connection-core.js';
import { BODY, FIRST_BYTE, HANDLER, HEAD, IDLE, NO_DEADLINE, REQUEST, SEND, SHUTDOWN_IDLE } from './deadlines.js';
import { HttpError } from './http-error.js';
import type { IncomingRequest, RequestHost } from './incoming-request.js';
import { atPeerEnd, atRequestHead, whenIdle, CLOSE_NOW, KEEP } from './keep-alive-policy.js';
import type { CloseReason } from './lifecycle-stats.js';
import type { OutgoingResponse, ResponseHost } from './outgoing-response.js';
import { CLOSE, EMPTY, HAND_OVER } from './response-pipeline.js';
import { ResponseWriter } from './response-writer.js';
import { AFTER_LAST, BODY_DONE, BODY_ERROR, DISCARD, FULL, HEAD_ERROR, HEAD_PARSED, HOLD, READ_HEADS } from './request-input.js';
import { attach, detach, type SocketEvents } from './socket-events.js';
import type { TakenSocket } from './upgrade.js';

export type { TakenSocket } from './upgrade.js';

export class Connection extends ConnectionCore implements RequestHost, ResponseHost, SocketEvents {
  private readonly responses: ResponseWriter;
  private paused = false;

  constructor(socket: Socket, host: ConnectionHost) {
    super(socket, host);
    this.responses = new ResponseWriter(host, this.input, this.pipeline, this.output, this);
    attach(socket, this);
    host.sweeper.add(this);
    this.updateDeadline();
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
    const inputWaiting = ins.pending !== null || ins.headStartedAt !== 0;
    if (this.pendingClose === null) {
      if (ins.after !== READ_HEADS && ins.pending === null) return;
      // whenIdle keeps a connection whose next request is already arriving unless a close is
      // pending: the pipelined case, per request, skips the call (V8 would not inline it here).
      if (inputWaiting) {
        this.idleSince = this.host.sweeper.now;
        if (this.paused) this.maybeResume();
        return;
      }
    }
    const now = this.host.sweeper.now;
    const decision = whenIdle(this, inputWaiting, now, this.options);
    if (decision.verdict === CLOSE_NOW) {
      this.startClose(decision.reason!);
      return;
    }
    this.idleSince = now;
    if (this.paused) this.maybeResume();
  }

  // ---------------------------------------------------------------- output

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

  // ---------------------------------------------------------------- deadlines

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
      const error = new HttpError(503, 'ERR_HANDLER_TIMEOUT', `the handler did not start a response within ${this.pipeline.handlerTimeoutOf(r)} ms`);
      this.preempt(r, 503, 'handler-timeout');
      r.request._abort(error);
      this.host.app.handlerTimedOut(r, error);
    }
  }
}

const EMPTY_READ = Buffer.alloc(0);
