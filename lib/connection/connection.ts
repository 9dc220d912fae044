// One socket's life: parsing requests off it, answering them strictly in order with coalesced
// writes, keep-alive policy and timeouts, backpressure in both directions, and the lingering
// close (FIN, drain input, then destroy) that keeps an RST from wiping unread responses.

import type { Socket } from 'node:net';
import '../http1/buffer-methods.js';
import { ChunkedDecoder, LengthDecoder, type BodyDecoder } from '../http1/body-decoder.js';
import { CHUNK_END, chunkHeader, LAST_CHUNK, lastChunkWithTrailers } from '../http1/chunked-encoder.js';
import { httpDate } from '../http1/date-cache.js';
import { CONTINUE_RESPONSE, errorResponse, serializeHead } from '../http1/head-writer.js';
import { UsageError, type ProtocolError } from '../http1/protocol-error.js';
import { RequestParser, type ParserLimits, type RequestHead } from '../http1/request-parser.js';
import type { DeadlineOwner, DeadlineSweeper } from './deadline-sweeper.js';
import { HttpError } from './http-error.js';
import type { IncomingRequest, RequestHost } from './incoming-request.js';
import type { CloseReason, LifecycleStats, LingerOutcome } from './lifecycle-stats.js';
import type { ResolvedOptions } from './options.js';
import { OutgoingResponse, type ResponseHost } from './outgoing-response.js';

/** What a connection needs from its server; implemented by Server. */
export interface ConnectionHost {
  readonly config: ResolvedOptions;
  readonly sweeper: DeadlineSweeper;
  readonly counters: LifecycleStats;
  /** Shared by every connection's parser: built once per server. */
  readonly parserLimits: ParserLimits;
  /** "Connection: keep-alive\r\nKeep-Alive: timeout=T", built once per server. */
  readonly keepAlivePrefix: string;
  /** `Connection` and `Keep-Alive` lines by the number of requests left, built once per server. */
  readonly keepAliveLines: string[];
  readonly shuttingDown: boolean;
  createRequest(head: RequestHead, host: RequestHost, sequence: number, hasBody: boolean): IncomingRequest;
  createResponse(request: IncomingRequest, host: ResponseHost): OutgoingResponse;
  /** Runs the handler; must not throw (the dispatcher owns user errors). */
  dispatch(request: IncomingRequest, response: OutgoingResponse): void;
  requestFinished(response: OutgoingResponse): void;
  connectionClosed(connection: Connection, reason: CloseReason, lingerOutcome: LingerOutcome | null): void;
  /** The socket left HTTP (101): the connection is no longer the server's to close. */
  connectionUpgraded(connection: Connection): void;
}

/** What a handler gets when it takes a connection over after an Upgrade request. */
export interface TakenSocket {
  socket: Socket;
  /** Bytes the client sent after the request head, already read: the start of the new protocol. */
  head: Buffer;
}

const OPEN = 0; // reading requests, answering them
const CLOSING = 1; // end() called: the last output is flushing, then FIN
const LINGERING = 2; // FIN sent: reading and discarding until EOF or a linger timer
const DESTROYED = 3;
const UPGRADED = 4; // handed over: no longer ours

/** Copying small buffers into one beats a writev of many (one syscall, no per-chunk bookkeeping). */
const CONCAT_LIMIT = 65_536;
/** A small body is copied behind its head so head and body leave in one buffer and one segment. */
const INLINE_BODY_LIMIT = 16_384;
const ASCII = /^[\x00-\x7f]*$/;

/** UTF-8 length of a string; short ones are counted here, which is cheaper than a call into C++. */
function utf8Length(text: string): number {
  const n = text.length;
  if (n > 128) return Buffer.byteLength(text);
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: one 4-byte sequence for two UTF-16 units.
      bytes += 2;
      i++;
    } else bytes += 2; // 3-byte sequences, lone surrogates included (written as U+FFFD, 3 bytes)
  }
  return bytes;
}

/** The lengths of small bodies repeat (the same page, the same JSON shape): their lines are built once. */
const contentLengthLines: string[] = [];
function contentLengthLine(length: number): string {
  if (length >= 4096) return `Content-Length: ${length}\r\n`;
  return (contentLengthLines[length] ??= `Content-Length: ${length}\r\n`);
}

export class Connection implements DeadlineOwner, RequestHost, ResponseHost {
  readonly socket: Socket;
  readonly acceptedAt: number;
  deadline = Infinity;
  private readonly host: ConnectionHost;
  private readonly options: ResolvedOptions;
  private readonly parser: RequestParser;
  private state = OPEN;

  // Input.
  private pendingInput: Buffer | null = null;
  private receivedAny = false;
  private acceptingRequests = true;
  private paused = false;
  private inBatch = false;
  private peerEnded = false;
  private headStartedAt = 0;
  private requestStartedAt = 0;
  private reading: IncomingRequest | null = null;
  private readingResponse: OutgoingResponse | null = null;
  private decoder: BodyDecoder | null = null;
  private lastBodyReadAt = 0;
  requestCount = 0;

  // Pipeline: responses in request order; only the head writes to `out`, the rest park.
  private queueHead: OutgoingResponse | null = null;
  private queueTail: OutgoingResponse | null = null;
  private inFlight = 0;
  private parkedBytes = 0;
  private idleSince: number;

  // Output.
  private out: Buffer[] = [];
  private outBytes = 0;
  /**
   * Whole responses with an ASCII head and a string body, queued after everything in `out`: they
   * leave as one string write, which the socket encodes without an intermediate Buffer per response.
   */
  private outText = '';
  /** Every character of outText is ASCII: it is written as latin1, a plain copy of V8's one-byte string. */
  private outTextAscii = true;
  private flushScheduled = false;
  private waitingDrain = false;
  private lastProgressAt = 0;
  private lastWritable = 0;
  private drainWaiters: Array<() => void> | null = null;

  // Close.
  private closeReason: CloseReason | null = null;
  /** Why to close once the responses in flight are done (peer FIN, shutdown, a body error). */
  private closeWhenDone: CloseReason | null = null;
  private lingerStartedAt = 0;
  private lingerTotal = 0;
  private lastReadAt = 0;
  private discarded = 0;
  private lingerOutcome: LingerOutcome | null = null;
  private readonly keepAlivePrefix: string;

  // Upgrade: input after an Upgrade request is held for the next protocol, not parsed or discarded.
  private holdInput = false;
  private upgradeWaiter: { response: OutgoingResponse; resolve: (taken: TakenSocket) => void; reject: (err: Error) => void } | null = null;

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.host = host;
    this.options = host.config;
    this.parser = new RequestParser(host.parserLimits);
    this.acceptedAt = this.idleSince = host.sweeper.now;
    this.keepAlivePrefix = host.keepAlivePrefix;
    // RFC 9112 9.3 allows pipelined responses; small responses must not wait for Nagle's ACK clock.
    socket.setNoDelay(true);
    // Module-level listeners find their connection through the socket: no closures per connection.
    (socket as OwnedSocket)[OWNER] = this;
    socket.on('data', socketData);
    socket.on('end', socketEnd);
    socket.on('finish', socketFinish);
    socket.on('drain', socketDrain);
    socket.on('error', socketError);
    socket.on('close', socketClose);
    host.sweeper.add(this);
    this.updateDeadline();
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  /** 'idle' | 'active' | 'lingering' | 'closed', for stats. */
  get phase(): 'idle' | 'active' | 'closing' | 'lingering' | 'closed' {
    if (this.state === OPEN) {
      return this.queueHead === null && this.reading === null && this.headStartedAt === 0 ? 'idle' : 'active';
    }
    if (this.state === CLOSING) return 'closing';
    if (this.state === LINGERING) return 'lingering';
    return 'closed';
  }

  // ---------------------------------------------------------------- input

  private onData(chunk: Buffer): void {
    const now = this.host.sweeper.now;
    if (this.state !== OPEN) {
      this.discardInput(chunk.length, now);
      return;
    }
    this.receivedAny = true;
    let buf = chunk;
    if (this.pendingInput !== null) {
      buf = Buffer.concat([this.pendingInput, chunk]);
      this.pendingInput = null;
    }
    this.inBatch = true;
    this.processInput(buf, now);
    this.inBatch = false;
    if ((this.state as number) === DESTROYED) return;
    if (this.upgradeWaiter !== null) {
      this.tryHandOver();
      if ((this.state as number) === UPGRADED) return;
    }
    this.flush();
    if (this.paused) this.maybeResume();
    this.updateDeadline();
  }

  private processInput(buf: Buffer, now: number): void {
    const end = buf.length;
    let pos = 0;
    const o = this.options;
    while (pos < end) {
      if (this.state !== OPEN) {
        // A handler closed the connection synchronously: the rest of this read is discarded input.
        this.discarded += end - pos;
        return;
      }
      if (this.decoder !== null) {
        pos = this.feedBody(buf, pos, end, now);
        if (pos < 0) return;
        if (this.reading !== null && this.reading._buffered > o.maxBufferedBody) {
          this.keepInput(buf, pos);
          this.pauseReading();
          return;
        }
        continue;
      }
      if (this.holdInput) {
        this.keepInput(buf, pos);
        this.pauseReading();
        return;
      }
      if (!this.acceptingRequests) {
        // After the last request this connection will answer: input is discarded, not parsed
        // (a client's bytes after its own Connection: close are not a protocol error).
        this.discardInput(end - pos, now);
        return;
      }
      if (this.inFlight >= o.maxPipelineDepth || this.queuedOutput() > o.maxQueuedOutput) {
        this.keepInput(buf, pos);
        this.pauseReading();
        return;
      }
      const parser = this.parser;
      const consumed = parser.execute(buf, pos, end);
      if (consumed < 0) {
        this.answerAndClose(parser.error!.status, 'parse-error', parser.error!);
        return;
      }
      const head = parser.head;
      if (head === null) {
        if (this.headStartedAt === 0) this.headStartedAt = now;
        this.keepInput(buf, pos + consumed);
        return;
      }
      pos += consumed;
      parser.reset();
      pos = this.startRequest(head, now, buf, pos, end);
    }
  }

  /** Input held for later that will never be parsed now: counted as discarded (a naive close would reset it). */
  private dropPendingInput(): void {
    const pending = this.pendingInput;
    if (pending !== null) {
      this.discarded += pending.length;
      this.pendingInput = null;
    }
  }

  private keepInput(buf: Buffer, pos: number): void {
    // A view keeps the read buffer alive; bounded by one read plus maxHeaderSize.
    this.pendingInput = pos < buf.length ? buf.subarray(pos) : null;
  }

  /** Returns the new position, or -1 when the connection stopped reading. */
  private feedBody(buf: Buffer, pos: number, end: number, now: number): number {
    const decoder = this.decoder!;
    const request = this.reading!;
    this.lastBodyReadAt = now;
    while (pos < end && !decoder.done) {
      pos = decoder.next(buf, pos, end);
      if (decoder.error !== null) {
        this.failBody(decoder.error, 'parse-error');
        return -1;
      }
      if (decoder.dataEnd > decoder.dataStart) request._push(buf.subarray(decoder.dataStart, decoder.dataEnd));
    }
    if (decoder.done) {
      // The handler has everything it asked for: from here its time to answer is its own.
      if (this.readingResponse !== null) this.readingResponse._handlerClockFrom = now;
      this.decoder = null;
      this.reading = null;
      this.readingResponse = null;
      this.requestStartedAt = 0;
      request._end();
      // A request whose body the response did not wait for may have been the reason to hold input.
      if (this.closeWhenDone === null && this.queueHead === null) this.onPipelineEmpty();
    }
    return pos;
  }

  /** Returns the position after what it consumed: the body too when it is already in `buf`. */
  private startRequest(head: RequestHead, now: number, buf: Buffer, pos: number, end: number): number {
    const o = this.options;
    const host = this.host;
    const sequence = ++this.requestCount;
    const stats = host.counters;
    stats.requests++;
    if (sequence > 1) stats.reusedRequests++;
    const hasBody = head.chunked || head.contentLength > 0;
    const request = host.createRequest(head, this, sequence, hasBody);
    const response = host.createResponse(request, this);
    if (this.queueTail === null) this.queueHead = this.queueTail = response;
    else this.queueTail = this.queueTail._next = response;
    this.inFlight++;
    this.requestStartedAt = this.headStartedAt === 0 ? now : this.headStartedAt;
    this.headStartedAt = 0;

    if (head.upgrade !== null) {
      // RFC 9110 7.8: after an Upgrade request the bytes may be another protocol. Hold them until
      // the handler either takes the socket over or answers normally (then the connection closes).
      this.lastRequest(response, 'upgrade-declined');
      this.holdInput = true;
    } else if (!head.keepAlive) this.lastRequest(response, 'client-connection-close');
    else if (o.maxRequestsPerSocket > 0 && sequence >= o.maxRequestsPerSocket) this.lastRequest(response, 'max-requests');
    else if (host.shuttingDown) this.lastRequest(response, 'shutdown-after-response');

    const length = head.contentLength;
    if (hasBody && !head.chunked && length <= end - pos) {
      // The whole body came with the head (a typical JSON POST): the handler starts with it complete,
      // so reading it costs no waiting, and no 100 Continue is owed for it.
      request._push(buf.subarray(pos, pos + length));
      request._end();
      pos += length;
      this.requestStartedAt = 0;
      response._handlerClockFrom = now;
    } else if (hasBody) {
      this.decoder = head.chunked ? new ChunkedDecoder({ maxTrailerSize: o.maxHeaderSize }) : new LengthDecoder(length);
      this.reading = request;
      this.readingResponse = response;
      this.lastBodyReadAt = now;
    } else {
      this.requestStartedAt = 0;
      response._handlerClockFrom = now;
    }

    if (head.method === 'CONNECT') {
      // linger is an origin server, not a tunnel (RFC 9110 9.3.6).
      this.preempt(response, 501, 'parse-error');
      return pos;
    }
    host.dispatch(request, response);
    return pos;
  }

  private lastRequest(response: OutgoingResponse, reason: CloseReason): void {
    response._closeReason = reason;
    this.acceptingRequests = false;
  }

  private failBody(error: ProtocolError | HttpError, reason: CloseReason): void {
    const request = this.reading!;
    const response = this.readingResponse!;
    this.decoder = null;
    this.reading = null;
    this.readingResponse = null;
    this.dropPendingInput();
    this.acceptingRequests = false;
    this.closeWhenDone ??= reason;
    const status = 'status' in error ? error.status : error.statusCode;
    request._fail(error instanceof HttpError ? error : new HttpError(status, error.code, error.message));
    if (!response.headersSent && !response._complete) {
      this.preempt(response, status, reason);
    } else if (response._closeReason === null) {
      response._closeReason = reason;
    }
    if (this.queueHead === null) this.onPipelineEmpty();
  }

  /** Answers a request on the handler's behalf (timeouts, CONNECT); later handler writes are ignored. */
  private preempt(response: OutgoingResponse, status: number, reason: CloseReason): void {
    response._preempted = true;
    response.finished = true;
    response.headersSent = true;
    response.statusCode = status;
    this.closeWhenDone ??= reason;
    response._closeReason ??= reason;
    this.acceptingRequests = false;
    this.enqueueOutput(response, Buffer.from(errorResponse(status), 'latin1'));
    this.complete(response);
  }

  /**
   * The oldest dispatched response whose handler has not started it: requests are dispatched in
   * order, so its clock is the earliest of those still waiting (the walk is bounded by maxPipelineDepth).
   */
  private firstUnanswered(): OutgoingResponse | null {
    const upgrading = this.upgradeWaiter?.response;
    for (let r = this.queueHead; r !== null; r = r._next) {
      // A handler that asked to take the socket over has answered; the hand-over waits for the pipeline.
      if (!r.headersSent && !r._complete && r._handlerClockFrom > 0 && r !== upgrading) return r;
    }
    return null;
  }

  /** handlerTimeout: 503 in the handler's place, its signal aborted, its later writes ignored. */
  private preemptSlowHandlers(now: number): void {
    const limit = this.options.handlerTimeout;
    for (let r = this.firstUnanswered(); r !== null && this.state === OPEN; r = this.firstUnanswered()) {
      if (now < r._handlerClockFrom + limit) return;
      const request = r.request;
      this.preempt(r, 503, 'handler-timeout');
      request._abort(new HttpError(503, 'ERR_HANDLER_TIMEOUT', `the handler did not start a response within ${limit} ms`));
    }
  }

  /** A protocol error or a head timeout: the error answers in order behind the responses in flight. */
  private answerAndClose(status: number, reason: CloseReason, error: ProtocolError | null): void {
    if (error !== null) this.host.counters.protocolErrors++;
    this.dropPendingInput();
    this.headStartedAt = 0;
    // No request object exists for bytes that never parsed: the error gets a placeholder slot in the pipeline.
    const response = new OutgoingResponse(null as unknown as IncomingRequest, this);
    if (this.queueTail === null) this.queueHead = this.queueTail = response;
    else this.queueTail = this.queueTail._next = response;
    this.inFlight++;
    this.preempt(response, status, reason);
  }

  onBodyDemand(request: IncomingRequest): void {
    if (request.head.expectContinue && !request._ended && request._received === 0) {
      // RFC 9110 10.1.1: 100 Continue once the handler wants the body, and only in pipeline order.
      const response = this.findResponse(request);
      if (response !== null && !response.headersSent && !response._continueOwed) {
        response._continueOwed = true;
        if (response === this.queueHead) this.sendContinue(response);
      }
    }
    if (this.paused) this.maybeResume();
  }

  private findResponse(request: IncomingRequest): OutgoingResponse | null {
    for (let r = this.queueHead; r !== null; r = r._next) if (r.request === request) return r;
    return null;
  }

  private sendContinue(response: OutgoingResponse): void {
    response._continueOwed = false;
    response._continueSent = true;
    this.spillText();
    this.out.push(Buffer.from(CONTINUE_RESPONSE, 'latin1'));
    this.outBytes += CONTINUE_RESPONSE.length;
    this.scheduleFlush();
  }

  private pauseReading(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private canRead(): boolean {
    // Bytes after an Upgrade request wait for the hand-over, not for capacity.
    if (this.holdInput) return false;
    const o = this.options;
    const reading = this.reading;
    if (reading !== null) {
      if (reading._buffered > o.maxBufferedBody && !reading._discarding) return false;
    } else if (this.inFlight >= o.maxPipelineDepth) {
      return false;
    }
    return this.queuedOutput() <= o.maxQueuedOutput;
  }

  /** Loops because a flush the kernel takes whole emits no 'drain': nothing else would resume us. */
  private maybeResume(): void {
    while (this.paused && this.state === OPEN && this.canRead()) {
      this.paused = false;
      this.socket.resume();
      if (this.inBatch) return;
      const pending = this.pendingInput;
      if (pending === null) break;
      this.pendingInput = null;
      this.inBatch = true;
      this.processInput(pending, this.host.sweeper.now);
      this.inBatch = false;
      if (this.state !== OPEN) return;
      if (this.upgradeWaiter !== null) {
        this.tryHandOver();
        if ((this.state as number) === UPGRADED) return;
      }
      this.flush();
    }
    if (this.state === OPEN && !this.inBatch) this.updateDeadline();
  }

  private discardInput(bytes: number, now: number): void {
    this.discarded += bytes;
    this.lastReadAt = now;
    if (this.state === LINGERING) this.deadline = Math.min(now + this.options.lingerSilence, this.lingerStartedAt + this.lingerTotal);
    if (this.discarded > this.options.lingerMaxDiscardBytes) {
      if (this.state === OPEN) this.startClose('client-connection-close');
      this.finishLinger('byte-cap');
    }
  }

  private onEnd(): void {
    this.peerEnded = true;
    if (this.state === LINGERING) {
      this.finishLinger('peer-eof');
      return;
    }
    if (this.state !== OPEN) return;
    // A client may half-close right after its request and still read the response.
    this.acceptingRequests = false;
    this.dropPendingInput();
    this.headStartedAt = 0;
    if (this.reading !== null) {
      this.failBody(new HttpError(400, 'ERR_INCOMPLETE_BODY', 'the client ended the connection before the request body was complete'), 'client-close');
      return;
    }
    this.closeWhenDone ??= 'client-close';
    if (this.queueHead !== null) this.signalClientGone();
    if (this.queueHead === null) this.startClose(this.closeWhenDone);
    else if (this.queueTail !== null && !this.queueTail.headersSent) this.queueTail._closeReason ??= this.closeWhenDone;
  }

  // ---------------------------------------------------------------- output

  private queuedOutput(): number {
    return this.outBytes + this.socket.writableLength + this.parkedBytes;
  }

  /** Text output goes behind what `out` holds: buffers queued after it must first turn it into one. */
  private spillText(): void {
    if (this.outText !== '') {
      this.out.push(Buffer.from(this.outText, this.outTextAscii ? 'latin1' : 'utf8'));
      this.outText = '';
      this.outTextAscii = true;
    }
  }

  private enqueueOutput(response: OutgoingResponse, data: Buffer): void {
    if (response === this.queueHead) {
      this.spillText();
      this.out.push(data);
      this.outBytes += data.length;
      this.scheduleFlush();
    } else {
      (response._parked ??= []).push(data);
      response._parkedBytes += data.length;
      this.parkedBytes += data.length;
    }
  }

  private scheduleFlush(): void {
    if (this.inBatch || this.flushScheduled) return;
    // Responses finished in the same turn of the event loop (async handlers of one read batch)
    // leave in one write.
    this.flushScheduled = true;
    setImmediate(flushLater, this);
  }

  /** @internal */
  flush(): void {
    this.flushScheduled = false;
    const out = this.out;
    const text = this.outText;
    if ((out.length === 0 && text === '') || this.state === DESTROYED) return;
    const socket = this.socket;
    const stats = this.host.counters;
    stats.socketWrites++;
    let ok: boolean;
    const encoding = this.outTextAscii ? 'latin1' : 'utf8';
    if (text !== '') {
      this.outText = '';
      this.outTextAscii = true;
      if (out.length > 0) out.push(Buffer.from(text, encoding));
    }
    if (out.length === 0) {
      ok = socket.write(text, encoding);
    } else if (out.length === 1) {
      ok = socket.write(out[0]!);
    } else if (this.outBytes <= CONCAT_LIMIT) {
      ok = socket.write(Buffer.concat(out, this.outBytes));
    } else {
      socket.cork();
      ok = true;
      for (let i = 0; i < out.length; i++) ok = socket.write(out[i]!);
      socket.uncork();
    }
    this.out = [];
    this.outBytes = 0;
    const queued = socket.writableLength + this.parkedBytes;
    if (queued > stats.peakQueuedOutput) stats.peakQueuedOutput = queued;
    if (!ok && !this.waitingDrain) {
      this.waitingDrain = true;
      this.lastProgressAt = this.host.sweeper.now;
      this.lastWritable = socket.writableLength;
      if (!this.inBatch) this.updateDeadline();
    } else if (ok && this.drainWaiters !== null) {
      // Output moved from parked to the socket without backing up: no 'drain' will come.
      this.releaseDrainWaiters();
    }
  }

  private onDrain(): void {
    this.waitingDrain = false;
    this.lastProgressAt = this.host.sweeper.now;
    this.releaseDrainWaiters();
    if (this.paused) this.maybeResume();
    if (this.state === OPEN) this.updateDeadline();
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    if (waiters === null) return;
    if (this.state === OPEN && this.queuedOutput() > this.options.maxQueuedOutput) return;
    this.drainWaiters = null;
    for (const resolve of waiters) resolve();
  }

  waitForDrain(_response: OutgoingResponse): Promise<void> {
    if (this.state === DESTROYED || this.queuedOutput() <= this.options.maxQueuedOutput) return Promise.resolve();
    return new Promise((resolve) => {
      (this.drainWaiters ??= []).push(resolve);
    });
  }

  /** Connection: close or keep-alive with the advertised limits, decided when the head is built. */
  private connectionHeaders(response: OutgoingResponse): string {
    let reason = response._closeReason;
    if (reason === null) {
      reason = this.closeDecision(response);
      response._closeReason = reason;
    }
    if (reason !== null) {
      if (response === this.queueTail) this.acceptingRequests = false;
      return 'Connection: close\r\n';
    }
    const max = this.options.maxRequestsPerSocket;
    if (max <= 0) return (this.host.keepAliveLines[0] ??= `${this.keepAlivePrefix}\r\n`);
    const left = max - response.request.sequence;
    // Cached up to nginx's default keepalive_requests order of magnitude; beyond, built per response.
    if (left > 4096) return `${this.keepAlivePrefix}, max=${left}\r\n`;
    return (this.host.keepAliveLines[left + 1] ??= `${this.keepAlivePrefix}, max=${left}\r\n`);
  }

  private closeDecision(response: OutgoingResponse): CloseReason | null {
    if (response._userClose) return 'response-connection-close';
    const request = response.request;
    const isTail = response === this.queueTail;
    if (isTail) {
      if (this.closeWhenDone !== null) return this.closeWhenDone;
      if (this.host.shuttingDown) return 'shutdown-after-response';
      const maxAge = this.options.maxConnectionAge;
      if (maxAge > 0 && this.host.sweeper.now - this.acceptedAt >= maxAge) return 'max-age';
    }
    if (!request._ended && request === this.reading) {
      // RFC 9110 10.1.1: a client that was not sent 100 Continue may never send the body.
      if (request.head.expectContinue && !response._continueSent && request._received === 0) return 'body-not-read';
      if (!request._demanded) {
        const left = request.head.chunked ? Infinity : request.head.contentLength - request._received;
        if (left > this.options.maxDiscardBody) return 'body-not-read';
      }
    }
    return null;
  }

  sendWhole(response: OutgoingResponse, body: Buffer | string | null): void {
    if (this.state === DESTROYED) return;
    const request = response.request;
    const status = response.statusCode;
    const noBody = request.method === 'HEAD' || status < 200 || status === 204 || status === 304;
    let length = body === null ? 0 : typeof body === 'string' ? utf8Length(body) : body.length;
    if (response._contentLength >= 0 && response._contentLength !== length && !noBody) {
      throw new UsageError('ERR_CONTENT_LENGTH_MISMATCH', `Content-Length ${response._contentLength} was set but the body has ${length} bytes`);
    }
    response.headersSent = true;
    let framing: string;
    if (status === 204 || status < 200) {
      framing = '';
    } else if (noBody && body === null && response._contentLength >= 0) {
      // HEAD answered with the length its GET would have (RFC 9110 9.3.2).
      framing = `Content-Length: ${response._contentLength}\r\n`;
    } else {
      framing = status === 304 ? '' : contentLengthLine(length);
    }
    if (noBody) length = 0;
    const head = serializeHead(status, response.statusMessage, response.headerList,
      `Date: ${response._date ?? httpDate()}\r\n${this.connectionHeaders(response)}${framing}`);
    const headLength = head.length;
    if (response === this.queueHead && (body === null || typeof body === 'string') && length <= INLINE_BODY_LIMIT && !response._latin1Head
      && (response.statusMessage === undefined || ASCII.test(response.statusMessage))) {
      // An ASCII head encodes the same in UTF-8 as in latin1: head and body join the text output.
      this.outText += length === 0 ? head : head + body;
      // A string's UTF-8 length equals its length only when it is all ASCII.
      if (length !== 0 && length !== (body as string).length) this.outTextAscii = false;
      this.outBytes += headLength + length;
      this.scheduleFlush();
      this.complete(response);
      return;
    }
    let data: Buffer;
    if (length === 0 || body === null) {
      data = Buffer.allocUnsafe(headLength);
      data.latin1Write(head, 0);
    } else if (typeof body === 'string') {
      data = Buffer.allocUnsafe(headLength + length);
      data.latin1Write(head, 0);
      data.utf8Write(body, headLength);
    } else if (length <= INLINE_BODY_LIMIT) {
      data = Buffer.allocUnsafe(headLength + length);
      data.latin1Write(head, 0);
      body.copy(data, headLength);
    } else {
      data = Buffer.allocUnsafe(headLength);
      data.latin1Write(head, 0);
      this.enqueueOutput(response, data);
      data = body;
    }
    this.enqueueOutput(response, data);
    this.complete(response);
  }

  sendHead(response: OutgoingResponse): void {
    if (this.state === DESTROYED) {
      response.headersSent = true;
      return;
    }
    response.headersSent = true;
    const request = response.request;
    const status = response.statusCode;
    response._noBody = request.method === 'HEAD' || status < 200 || status === 204 || status === 304;
    let framing = '';
    if (response._contentLength >= 0) {
      response._remaining = response._contentLength;
      if (status !== 204 && status >= 200) framing = `Content-Length: ${response._contentLength}\r\n`;
    } else if (response._noBody) {
      framing = '';
    } else if (request.head.versionMinor === 1) {
      response._chunked = true;
      framing = 'Transfer-Encoding: chunked\r\n';
    } else {
      // HTTP/1.0 has no chunked coding: the body ends with the connection (RFC 9112 6.3 item 8).
      response._closeReason ??= 'client-connection-close';
    }
    const head = serializeHead(status, response.statusMessage, response.headerList,
      `Date: ${response._date ?? httpDate()}\r\n${this.connectionHeaders(response)}${framing}`);
    this.enqueueOutput(response, Buffer.from(head, 'latin1'));
  }

  writeBody(response: OutgoingResponse, chunk: Buffer | string): boolean {
    if (this.state === DESTROYED || response._noBody) return this.state !== DESTROYED;
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const length = data.length;
    if (response._remaining >= 0) {
      if (length > response._remaining) {
        throw new UsageError('ERR_CONTENT_LENGTH_MISMATCH', `write of ${length} bytes exceeds the declared Content-Length`);
      }
      response._remaining -= length;
      this.enqueueOutput(response, data);
    } else if (response._chunked) {
      const size = chunkHeader(length);
      if (length <= INLINE_BODY_LIMIT) {
        const framed = Buffer.allocUnsafe(size.length + length + 2);
        framed.latin1Write(size, 0);
        data.copy(framed, size.length);
        framed.latin1Write(CHUNK_END, size.length + length);
        this.enqueueOutput(response, framed);
      } else {
        this.enqueueOutput(response, Buffer.from(size, 'latin1'));
        this.enqueueOutput(response, data);
        this.enqueueOutput(response, Buffer.from(CHUNK_END, 'latin1'));
      }
    } else {
      this.enqueueOutput(response, data);
    }
    return this.queuedOutput() <= this.options.maxQueuedOutput;
  }

  finishBody(response: OutgoingResponse, trailers: readonly string[] | null): void {
    if (this.state === DESTROYED) return;
    if (response._remaining > 0 && !response._noBody) {
      this.closeReason ??= 'handler-error';
      this.socket.destroy();
      throw new UsageError('ERR_CONTENT_LENGTH_MISMATCH', `response ended ${response._remaining} bytes short of its Content-Length`);
    }
    if (response._chunked) {
      const last = trailers !== null && trailers.length > 0 ? lastChunkWithTrailers(trailers) : LAST_CHUNK;
      this.enqueueOutput(response, Buffer.from(last, 'latin1'));
    }
    this.complete(response);
  }

  destroyResponse(response: OutgoingResponse, _error: Error | undefined): void {
    if (this.state === DESTROYED || response._complete) return;
    if (response !== this.queueHead && this.state === OPEN) {
      // Nothing of a parked response has reached the wire: it can still become a clean 500,
      // and the responses before it are not lost with the socket.
      this.parkedBytes -= response._parkedBytes;
      response._parked = null;
      response._parkedBytes = 0;
      response._preempted = true;
      response.statusCode = 500;
      response._closeReason = 'handler-error';
      this.closeWhenDone ??= 'handler-error';
      this.acceptingRequests = false;
      this.enqueueOutput(response, Buffer.from(errorResponse(500), 'latin1'));
      this.complete(response);
      return;
    }
    this.closeReason ??= 'handler-error';
    this.socket.destroy();
  }

  /** Hands the socket to another protocol once every earlier response is queued on it. */
  takeOverSocket(response: OutgoingResponse): Promise<TakenSocket> {
    if (response.request === null || response.request.head.upgrade === null) {
      return Promise.reject(new UsageError('ERR_NOT_AN_UPGRADE', 'only a request with Connection: upgrade and an Upgrade header can take the socket over'));
    }
    if (response.headersSent || response._complete || this.upgradeWaiter !== null) {
      return Promise.reject(new UsageError('ERR_HEADERS_SENT', 'the response was already started; the socket cannot be taken over'));
    }
    if (this.state !== OPEN) return Promise.reject(new HttpError(499, 'ERR_CLIENT_GONE', 'the connection closed before the upgrade'));
    return new Promise((resolve, reject) => {
      this.upgradeWaiter = { response, resolve, reject };
      this.tryHandOver();
    });
  }

  private tryHandOver(): void {
    const waiter = this.upgradeWaiter;
    // Inside a read batch the bytes after the head are not held yet: hand over when the batch ends.
    if (waiter === null || waiter.response !== this.queueHead || this.reading !== null || this.state !== OPEN || this.inBatch) return;
    this.upgradeWaiter = null;
    const response = waiter.response;
    response.headersSent = true;
    response.finished = true;
    response._complete = true;
    this.flush();
    const socket = this.socket;
    socket.off('data', socketData);
    socket.off('end', socketEnd);
    socket.off('finish', socketFinish);
    socket.off('drain', socketDrain);
    socket.off('error', socketError);
    socket.off('close', socketClose);
    (socket as OwnedSocket)[OWNER] = undefined;
    this.state = UPGRADED;
    this.deadline = Infinity;
    this.host.sweeper.delete(this);
    const head = this.pendingInput ?? Buffer.alloc(0);
    this.pendingInput = null;
    this.queueHead = this.queueTail = null;
    this.inFlight = 0;
    this.paused = false;
    this.host.requestFinished(response);
    this.host.connectionUpgraded(this);
    waiter.resolve({ socket, head });
  }

  /** The handler is done with this response; it leaves when everything before it has. */
  private complete(response: OutgoingResponse): void {
    response._complete = true;
    const request = response.request;
    if (request !== null && request === this.reading && !request._ended && !request._discarding) {
      // The body nobody read is dropped as it arrives, unless so much is left that closing is cheaper.
      request._discard();
      if (response._closeReason === null) {
        const left = request.head.chunked ? Infinity : request.head.contentLength - request._received;
        if (left > this.options.maxDiscardBody) response._closeReason = 'body-not-read';
      }
      if (response._closeReason !== null) this.acceptingRequests = false;
      if (this.paused) this.maybeResume();
    }
    if (response === this.queueHead) this.advance();
  }

  private advance(): void {
    let head = this.queueHead;
    while (head !== null && head._complete) {
      const done = head;
      head = this.queueHead = done._next;
      if (head === null) this.queueTail = null;
      this.inFlight--;
      if (done.request !== null) this.host.requestFinished(done);
      if (done._closeReason !== null) {
        this.startClose(done._closeReason);
        return;
      }
      if (head !== null) {
        if (this.upgradeWaiter !== null && this.upgradeWaiter.response === head) {
          this.tryHandOver();
          return;
        }
        if (head._continueOwed) this.sendContinue(head);
        const parked = head._parked;
        if (parked !== null) {
          this.spillText();
          for (const data of parked) {
            this.out.push(data);
            this.outBytes += data.length;
          }
          this.parkedBytes -= head._parkedBytes;
          head._parked = null;
          head._parkedBytes = 0;
          this.scheduleFlush();
        }
      }
    }
    if (head === null) this.onPipelineEmpty();
    else if (this.paused) this.maybeResume();
    if (!this.inBatch && this.state === OPEN) this.updateDeadline();
  }

  private onPipelineEmpty(): void {
    if (this.state !== OPEN) return;
    if (this.reading !== null) return; // a body is still being discarded
    if (this.closeWhenDone !== null) {
      this.startClose(this.closeWhenDone);
      return;
    }
    if (!this.acceptingRequests && this.pendingInput === null) return;
    const now = this.host.sweeper.now;
    const maxAge = this.options.maxConnectionAge;
    if (maxAge > 0 && now - this.acceptedAt >= maxAge && this.pendingInput === null && this.headStartedAt === 0) {
      this.startClose('max-age');
      return;
    }
    this.idleSince = now;
    if (this.paused) this.maybeResume();
  }

  // ---------------------------------------------------------------- close

  /** Graceful: flush, FIN, then linger. Responses still in flight behind this point are dropped. */
  startClose(reason: CloseReason): void {
    if (this.state !== OPEN) return;
    this.closeReason ??= reason;
    this.state = CLOSING;
    this.acceptingRequests = false;
    this.dropPendingInput();
    this.abortInFlight(503, 'ERR_CONNECTION_CLOSING', 'the connection is closing');
    this.queueHead = this.queueTail = null;
    this.parkedBytes = 0;
    this.inFlight = 0;
    this.reading = null;
    this.readingResponse = null;
    this.decoder = null;
    this.flush();
    this.lastProgressAt = this.host.sweeper.now;
    this.lastWritable = this.socket.writableLength;
    // Keep reading while closing: unread input at close() time is what makes the kernel send RST.
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    this.socket.end();
    this.updateDeadline();
  }

  /** Aborts every request still in flight; the error (stack capture is costly) exists only when one does. */
  private abortInFlight(status: number, code: string, message: string): HttpError | null {
    if (this.queueHead === null && this.reading === null) return null;
    const aborted = new HttpError(status, code, message);
    for (let r = this.queueHead; r !== null; r = r._next) {
      r._preempted = true;
      if (r.request !== null) r.request._abort(aborted);
    }
    if (this.reading !== null) this.reading._abort(aborted);
    return aborted;
  }

  /**
   * The peer's FIN with responses owed: most such peers are gone (a closed tab, a killed curl), so
   * handlers watching req.signal stop work, as Go cancels a request's context on EOF. The responses
   * are still written for the rare client that half-closes and keeps reading.
   */
  private signalClientGone(): void {
    let gone: HttpError | null = null;
    for (let r = this.queueHead; r !== null; r = r._next) {
      if (r.finished || r.request === null) continue;
      gone ??= new HttpError(499, 'ERR_CLIENT_GONE', 'the client closed its side of the connection before the response was complete');
      r.request._abort(gone);
    }
  }

  /** Shutdown: idle connections close after the reuse guard, busy ones after their last response. */
  beginShutdown(): void {
    if (this.state !== OPEN) return;
    if (this.phase === 'idle') {
      this.updateDeadline();
      if (this.deadline <= this.host.sweeper.now) this.startClose('shutdown-idle');
      return;
    }
    const tail = this.queueTail;
    if (tail !== null && !tail.headersSent) {
      tail._closeReason ??= 'shutdown-after-response';
      this.acceptingRequests = false;
    }
    // Otherwise a head already arriving (or pipelined input) is served with Connection: close:
    // startRequest sees the shutdown. A connection left idle afterwards gets the reuse guard.
    this.updateDeadline();
  }

  /** Immediate: the only place a reset is acceptable (shutdown deadline). */
  destroy(reason: CloseReason): void {
    if (this.state === DESTROYED) return;
    this.closeReason ??= reason;
    if (this.state === LINGERING) this.lingerOutcome ??= 'total';
    this.socket.destroy();
  }

  private onFinish(): void {
    if (this.state !== CLOSING) return;
    const now = this.host.sweeper.now;
    this.state = LINGERING;
    this.lingerStartedAt = now;
    this.lastReadAt = now;
    this.lingerTotal = this.host.shuttingDown ? this.options.lingerShutdownTotal : this.options.lingerTotal;
    if (this.peerEnded) {
      this.finishLinger('peer-eof');
      return;
    }
    this.updateDeadline();
  }

  private finishLinger(outcome: LingerOutcome): void {
    if (this.state === DESTROYED) return;
    this.lingerOutcome ??= outcome;
    this.socket.destroy();
  }

  private onError(err: NodeJS.ErrnoException): void {
    if (this.state === OPEN) this.closeReason ??= err.code === 'EPIPE' ? 'write-error' : 'client-reset';
    else if (this.state === CLOSING) this.closeReason ??= 'write-error';
    if (this.state === LINGERING || this.state === CLOSING) this.lingerOutcome ??= 'reset';
  }

  private onClose(): void {
    if (this.state === DESTROYED) return;
    const wasState = this.state;
    this.state = DESTROYED;
    this.deadline = Infinity;
    this.host.sweeper.delete(this);
    const aborted = this.abortInFlight(499, 'ERR_CLIENT_GONE', 'the connection closed before the response was complete');
    this.queueHead = this.queueTail = null;
    this.reading = null;
    this.pendingInput = null;
    this.out = [];
    this.outText = '';
    this.outTextAscii = true;
    const waiters = this.drainWaiters;
    this.drainWaiters = null;
    if (waiters !== null) for (const resolve of waiters) resolve();
    if (this.upgradeWaiter !== null) {
      this.upgradeWaiter.reject(aborted ?? new HttpError(499, 'ERR_CLIENT_GONE', 'the connection closed before the upgrade'));
      this.upgradeWaiter = null;
    }
    if (wasState === OPEN && this.closeReason === null) this.closeReason = this.peerEnded ? 'client-close' : 'client-reset';
    if (wasState !== OPEN && this.lingerOutcome === null) this.lingerOutcome = this.peerEnded ? 'peer-eof' : 'reset';
    if (this.discarded > 0 && wasState !== OPEN) this.host.counters.resetsAvoided++;
    this.host.counters.lingerDiscardedBytes += this.discarded;
    this.host.connectionClosed(this, this.closeReason ?? 'client-reset', wasState === OPEN ? null : this.lingerOutcome);
  }

  // ---------------------------------------------------------------- timers

  /** Recomputes the one deadline this connection is waiting for, from its state. */
  updateDeadline(): void {
    const o = this.options;
    let deadline = Infinity;
    if (this.state === OPEN) {
      if (this.waitingDrain) deadline = this.lastProgressAt + o.sendTimeout;
      if (this.reading !== null) {
        deadline = Math.min(deadline, this.lastBodyReadAt + o.bodyTimeout, this.requestStartedAt + o.requestTimeout);
      } else if (this.headStartedAt > 0) {
        deadline = Math.min(deadline, this.headStartedAt + Math.min(o.headersTimeout, o.requestTimeout));
      } else if (this.queueHead === null && this.pendingInput === null) {
        if (this.host.shuttingDown) deadline = Math.min(deadline, this.idleSince + o.idleReapGuard);
        else if (!this.receivedAny) deadline = Math.min(deadline, this.acceptedAt + o.firstByteTimeout);
        // idleSince comes from the cached clock, up to one tick old: one tick more means the idle
        // timeout never fires early, which a proxy ordering its own idle timeout below ours relies on.
        else deadline = Math.min(deadline, this.idleSince + o.keepAliveTimeout + this.host.sweeper.tickMs);
      }
      if (o.handlerTimeout > 0) {
        const waiting = this.firstUnanswered();
        if (waiting !== null) deadline = Math.min(deadline, waiting._handlerClockFrom + o.handlerTimeout);
      }
    } else if (this.state === CLOSING) {
      deadline = this.lastProgressAt + o.sendTimeout;
    } else if (this.state === LINGERING) {
      deadline = Math.min(this.lastReadAt + o.lingerSilence, this.lingerStartedAt + this.lingerTotal);
    }
    this.deadline = deadline;
  }

  onDeadline(now: number): void {
    const o = this.options;
    if (this.state === LINGERING) {
      this.finishLinger(now >= this.lingerStartedAt + this.lingerTotal ? 'total' : 'silence');
      return;
    }
    if ((this.state === CLOSING || this.waitingDrain) && now >= this.lastProgressAt + o.sendTimeout) {
      const writable = this.socket.writableLength;
      if (writable < this.lastWritable) {
        // The peer is reading, only slowly: progress restarts the send timer (nginx send_timeout).
        this.lastWritable = writable;
        this.lastProgressAt = now;
      } else {
        this.closeReason ??= 'send-timeout';
        this.lingerOutcome ??= this.state === CLOSING ? 'total' : null;
        this.socket.destroy();
        return;
      }
    }
    if (this.state !== OPEN) {
      this.updateDeadline();
      return;
    }
    if (o.handlerTimeout > 0) {
      this.preemptSlowHandlers(now);
      if (this.state !== OPEN) return;
    }
    if (this.reading !== null) {
      if (now >= this.requestStartedAt + o.requestTimeout) {
        this.failBody(new HttpError(408, 'ERR_REQUEST_TIMEOUT', 'the request was not received in time'), 'request-timeout');
      } else if (now >= this.lastBodyReadAt + o.bodyTimeout) {
        this.failBody(new HttpError(408, 'ERR_BODY_TIMEOUT', 'the request body stalled'), 'body-timeout');
      }
    } else if (this.headStartedAt > 0) {
      if (now >= this.headStartedAt + Math.min(o.headersTimeout, o.requestTimeout)) {
        this.answerAndClose(408, o.headersTimeout <= o.requestTimeout ? 'headers-timeout' : 'request-timeout', null);
      }
    } else if (this.queueHead === null && this.pendingInput === null && now >= this.deadline) {
      this.startClose(this.host.shuttingDown ? 'shutdown-idle' : this.receivedAny ? 'idle-timeout' : 'first-byte-timeout');
      return;
    }
    if (this.state === OPEN) {
      this.flush();
      this.updateDeadline();
    }
  }
}

function flushLater(connection: Connection): void {
  connection.flush();
}

const OWNER = Symbol('linger.connection');
type OwnedSocket = Socket & { [OWNER]?: Connection };
type Handlers = { onData(c: Buffer): void; onEnd(): void; onFinish(): void; onDrain(): void; onError(e: NodeJS.ErrnoException): void; onClose(): void };
const owner = (socket: Socket): Handlers => (socket as OwnedSocket)[OWNER] as unknown as Handlers;
function socketData(this: Socket, chunk: Buffer): void {
  owner(this).onData(chunk);
}
function socketEnd(this: Socket): void {
  owner(this).onEnd();
}
function socketFinish(this: Socket): void {
  owner(this).onFinish();
}
function socketDrain(this: Socket): void {
  owner(this).onDrain();
}
function socketError(this: Socket, err: NodeJS.ErrnoException): void {
  owner(this).onError(err);
}
function socketClose(this: Socket): void {
  owner(this).onClose();
}
