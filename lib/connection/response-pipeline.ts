// Responses in request order (RFC 9112 9.3): handlers may finish in any order, but only the oldest
// response writes to the output; later ones park their bytes until it is their turn. Completing
// the oldest moves the queue on and reports what the connection must do next.

import { CONTINUE_RESPONSE } from '../http1/head-writer.js';
import { HttpError } from './http-error.js';
import type { IncomingRequest } from './incoming-request.js';
import type { CloseReason } from './lifecycle-stats.js';
import type { OutgoingResponse } from './outgoing-response.js';
import type { OutputWriter } from './output-writer.js';

// What advance() leaves the connection to do.
/** Responses still in flight; nothing to do. */
export const IN_FLIGHT = 0;
/** Every response is sent: the connection is between requests. */
export const EMPTY = 1;
/** A sent response was the connection's last: close now, for `closeReason`. */
export const CLOSE = 2;
/** The response waiting to take the socket over (an upgrade) is now the oldest. */
export const HAND_OVER = 3;
export type Advance = typeof IN_FLIGHT | typeof EMPTY | typeof CLOSE | typeof HAND_OVER;

const CONTINUE = Buffer.from(CONTINUE_RESPONSE, 'latin1');

export class ResponsePipeline {
  head: OutgoingResponse | null = null;
  tail: OutgoingResponse | null = null;
  /** Requests read ahead of their response: reading pauses at maxPipelineDepth. */
  depth = 0;
  /** Output of responses waiting their turn, counted against maxQueuedOutput. */
  parkedBytes = 0;
  /** The reason of a CLOSE outcome. */
  closeReason: CloseReason | null = null;
  private readonly output: OutputWriter;
  /** The server's handlerTimeout in ms; 0 = none. */
  private readonly handlerTimeout: number;

  constructor(output: OutputWriter, handlerTimeout: number) {
    this.output = output;
    this.handlerTimeout = handlerTimeout;
  }

  /** ms a response's handler has to start its answer: its route's timeout, else the server's handlerTimeout; 0 = none. */
  handlerTimeoutOf(r: OutgoingResponse): number {
    return r._routeTimeout >= 0 ? r._routeTimeout : this.handlerTimeout;
  }

  push(response: OutgoingResponse): void {
    if (this.tail === null) this.head = this.tail = response;
    else this.tail = this.tail._next = response;
    this.depth++;
  }

  /** Bytes of `response`: to the output when it is the oldest, else parked. True when the output got them. */
  write(response: OutgoingResponse, data: Buffer): boolean {
    if (response === this.head) {
      this.output.push(data);
      return true;
    }
    (response._parked ??= []).push(data);
    response._parkedBytes += data.length;
    this.parkedBytes += data.length;
    return false;
  }

  /** The parked output of a response that will never be sent (it failed before its turn). */
  dropParked(response: OutgoingResponse): void {
    this.parkedBytes -= response._parkedBytes;
    response._parked = null;
    response._parkedBytes = 0;
  }

  /** 100 Continue for the oldest response (RFC 9110 10.1.1): interim responses keep pipeline order too. */
  sendContinue(response: OutgoingResponse): void {
    response._continueOwed = false;
    response._continueSent = true;
    this.output.push(CONTINUE);
  }

  /**
   * Moves past every complete response at the head of the queue, reporting each to the host,
   * and hands the new oldest its parked output. Stops at a response that was the connection's last.
   */
  advance(host: { requestFinished(response: OutgoingResponse): void }, upgrading: OutgoingResponse | null): Advance {
    let head = this.head;
    while (head !== null && head._complete) {
      const done = head;
      head = this.head = done._next;
      if (head === null) this.tail = null;
      this.depth--;
      if (done.request !== null) host.requestFinished(done);
      if (done._closeReason !== null) {
        this.closeReason = done._closeReason;
        return CLOSE;
      }
      if (head === null) break;
      if (head === upgrading) return HAND_OVER;
      if (head._continueOwed) this.sendContinue(head);
      const parked = head._parked;
      if (parked !== null) {
        this.dropParked(head);
        this.output.pushAll(parked);
      }
    }
    return head === null ? EMPTY : IN_FLIGHT;
  }

  find(request: IncomingRequest): OutgoingResponse | null {
    for (let r = this.head; r !== null; r = r._next) if (r.request === request) return r;
    return null;
  }

  /**
   * The earliest handler deadline among responses whose handler has not started its answer (the
   * walk is bounded by maxPipelineDepth). `upgrading` has answered by asking for the socket.
   */
  firstHandlerDeadline(upgrading: OutgoingResponse | null): number {
    let earliest = Infinity;
    for (let r = this.head; r !== null; r = r._next) {
      if (awaitsHandler(r, upgrading)) {
        const timeout = this.handlerTimeoutOf(r);
        if (timeout > 0 && r._handlerClockFrom + timeout < earliest) earliest = r._handlerClockFrom + timeout;
      }
    }
    return earliest;
  }

  /** A response whose handler deadline has passed at `now`, if any. */
  overdueHandler(now: number, upgrading: OutgoingResponse | null): OutgoingResponse | null {
    for (let r = this.head; r !== null; r = r._next) {
      if (awaitsHandler(r, upgrading)) {
        const timeout = this.handlerTimeoutOf(r);
        if (timeout > 0 && now >= r._handlerClockFrom + timeout) return r;
      }
    }
    return null;
  }

  /**
   * Every response in flight is dropped (the connection is closing or gone): handler writes are
   * ignored from now on and each request's signal aborts. The error (a stack capture is costly)
   * exists only when there is a response.
   */
  abortAll(status: number, code: string, message: string): HttpError | null {
    if (this.head === null) return null;
    const aborted = new HttpError(status, code, message);
    for (let r: OutgoingResponse | null = this.head; r !== null; r = r._next) {
      r._preempted = true;
      if (r.request !== null) r.request._abort(aborted);
    }
    return aborted;
  }

  /** The client is gone (its FIN): handlers not yet done learn it through their request's signal. */
  abortUnfinished(code: string, message: string): void {
    let gone: HttpError | null = null;
    for (let r = this.head; r !== null; r = r._next) {
      if (r.finished || r.request === null) continue;
      gone ??= new HttpError(499, code, message);
      r.request._abort(gone);
    }
  }

  clear(): void {
    this.head = this.tail = null;
    this.depth = 0;
    this.parkedBytes = 0;
  }
}

function awaitsHandler(r: OutgoingResponse, upgrading: OutgoingResponse | null): boolean {
  return r._handlerClockFrom > 0 && !r.headersSent && !r._complete && r !== upgrading;
}
