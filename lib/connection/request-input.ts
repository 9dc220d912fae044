// The input side of a connection: one read batch walked event by event (a request head, a body
// complete, a full pipeline, a malformed message), bytes kept between reads, the body being
// decoded and the clocks its timeouts run from, and what becomes of input after the last request.

import { ChunkedDecoder, LengthDecoder, type BodyDecoder } from '../http1/body-decoder.js';
import type { ProtocolError } from '../http1/protocol-error.js';
import { RequestParser, type ParserLimits, type RequestHead } from '../http1/request-parser.js';
import type { IncomingRequest } from './incoming-request.js';
import type { OutgoingResponse } from './outgoing-response.js';

// What becomes of input after the current request (its body included).
/** Parsed as the next request head. */
export const READ_HEADS = 0;
/** Held, unparsed, for the hand-over after an Upgrade request (RFC 9110 7.8). */
export const HOLD = 1;
/** Discarded: the connection's last request was read. */
export const DISCARD = 2;
export type AfterRequest = typeof READ_HEADS | typeof HOLD | typeof DISCARD;

// Events of next(), each telling the connection what to do before asking again.
/** Everything read was consumed or kept (a partial head): the batch is done. */
export const NEED_MORE = 0;
/** A request head was parsed: `head`, at `pos` the bytes after it. */
export const HEAD_PARSED = 1;
/** The body being read is complete (its request has ended). */
export const BODY_DONE = 2;
/** No room for more (pipeline depth, queued output, an unread body, an upgrade): the rest is kept, reading pauses. */
export const FULL = 3;
/** The rest of the batch is after the last request: `rest()` bytes to discard. */
export const AFTER_LAST = 4;
/** The head or the body is malformed: `parser.error` or `bodyError()`. */
export const HEAD_ERROR = 5;
export const BODY_ERROR = 6;
export type InputEvent = typeof NEED_MORE | typeof HEAD_PARSED | typeof BODY_DONE | typeof FULL | typeof AFTER_LAST | typeof HEAD_ERROR | typeof BODY_ERROR;

export interface InputLimits {
  readonly maxBufferedBody: number;
  readonly maxPipelineDepth: number;
  readonly maxQueuedOutput: number;
  readonly lingerMaxDiscardBytes: number;
}

export class RequestInput {
  readonly parser: RequestParser;
  after: AfterRequest = READ_HEADS;
  /** Input kept for later: a partial head, or what arrived while reading was paused. */
  pending: Buffer | null = null;
  decoder: BodyDecoder | null = null;
  /** The request whose body is arriving, and its response. */
  bodyRequest: IncomingRequest | null = null;
  bodyResponse: OutgoingResponse | null = null;
  receivedAny = false;
  /** First byte of a head still incomplete (headers timeout); 0 when no head is under way. */
  headStartedAt = 0;
  /** First byte of the request whose body is arriving (request timeout). */
  requestStartedAt = 0;
  /** Last read of body bytes (body timeout between chunks). */
  lastBodyReadAt = 0;
  /** The head of a HEAD_PARSED event. */
  head: RequestHead | null = null;
  /** The batch being walked and the position in it. */
  private buf: Buffer = EMPTY;
  pos = 0;
  private readonly maxTrailerSize: number;

  constructor(limits: ParserLimits) {
    this.parser = new RequestParser(limits);
    this.maxTrailerSize = limits.maxHeaderSize;
  }

  /** Starts walking a read, behind what was kept from earlier ones (an empty read walks only those). */
  begin(chunk: Buffer): void {
    const pending = this.pending;
    this.pending = null;
    this.buf = pending === null ? chunk : chunk.length === 0 ? pending : Buffer.concat([pending, chunk]);
    this.pos = 0;
  }

  /** Bytes of the batch not walked yet. */
  rest(): number {
    return this.buf.length - this.pos;
  }

  /** Ends the batch, keeping nothing of it. */
  done(): void {
    this.buf = EMPTY;
    this.pos = 0;
  }

  /**
   * The next event of the batch. `room`: a new request may start (pipeline depth and queued
   * output under their bounds); `maxBufferedBody`: unread body bytes at which reading pauses.
   */
  next(room: boolean, maxBufferedBody: number, now: number): InputEvent {
    const buf = this.buf;
    const end = buf.length;
    if (this.pos >= end) return this.finish(NEED_MORE);
    if (this.decoder !== null) {
      this.feedBody(buf, end, now);
      if (this.decoder !== null && this.decoder.error !== null) return this.finish(BODY_ERROR);
      if (this.decoder === null) return BODY_DONE;
      if (this.bodyRequest!._buffered > maxBufferedBody) return this.keepRest(FULL);
      return this.finish(NEED_MORE);
    }
    if (this.after !== READ_HEADS) return this.after === HOLD ? this.keepRest(FULL) : AFTER_LAST;
    if (!room) return this.keepRest(FULL);
    const parser = this.parser;
    const consumed = parser.execute(buf, this.pos, end);
    if (consumed < 0) return this.finish(HEAD_ERROR);
    const head = parser.head;
    if (head === null) {
      if (this.headStartedAt === 0) this.headStartedAt = now;
      this.pos += consumed;
      return this.keepRest(NEED_MORE);
    }
    parser.reset();
    this.pos += consumed;
    this.head = head;
    return HEAD_PARSED;
  }

  /**
   * A request head was parsed: its body, if any, is read from here on. A body that came whole with
   * its head (a typical JSON POST) is handed over complete, a view of the read with no copy: reading
   * it costs the handler no waiting, and no 100 Continue is owed for it. Once the whole request is
   * in, the handler's clock starts.
   */
  beginBody(request: IncomingRequest, response: OutgoingResponse, hasBody: boolean, now: number): void {
    const head = request.head;
    this.requestStartedAt = this.headStartedAt === 0 ? now : this.headStartedAt;
    this.headStartedAt = 0;
    if (hasBody && !head.chunked && head.contentLength <= this.buf.length - this.pos) {
      request._push(this.buf.subarray(this.pos, this.pos + head.contentLength));
      request._end();
      this.pos += head.contentLength;
    } else if (hasBody) {
      this.decoder = head.chunked ? new ChunkedDecoder({ maxTrailerSize: this.maxTrailerSize }) : new LengthDecoder(head.contentLength);
      this.bodyRequest = request;
      this.bodyResponse = response;
      this.lastBodyReadAt = now;
      return;
    }
    this.requestStartedAt = 0;
    response._handlerClockFrom = now;
  }

  private keepRest(event: InputEvent): InputEvent {
    // A view keeps the read buffer alive; bounded by one read plus maxHeaderSize.
    this.pending = this.pos < this.buf.length ? this.buf.subarray(this.pos) : null;
    this.buf = EMPTY;
    this.pos = 0;
    return event;
  }

  private finish(event: InputEvent): InputEvent {
    this.buf = EMPTY;
    this.pos = 0;
    return event;
  }

  /**
   * Whether a paused connection may read again: the unread body, the pipeline depth, the queued
   * output are back under their bounds, and input after a last request is still under the discard cap.
   */
  canRead(depth: number, queuedOutput: number, discarded: number, o: InputLimits): boolean {
    const reading = this.bodyRequest;
    if (reading !== null) {
      if (reading._buffered > o.maxBufferedBody && !reading._discarding) return false;
    } else if (this.after === HOLD) {
      return false; // bytes after an Upgrade request wait for the hand-over, not for capacity
    } else if (depth >= o.maxPipelineDepth) {
      return false;
    } else if (this.after === DISCARD && discarded > o.lingerMaxDiscardBytes) {
      return false; // over the discard cap before the close: the peer waits for the responses in flight
    }
    return queuedOutput <= o.maxQueuedOutput;
  }

  /** Drops kept input that will never be parsed now; returns how many bytes. */
  dropPending(): number {
    const pending = this.pending;
    this.pending = null;
    return pending === null ? 0 : pending.length;
  }

  /** No later request will be parsed; input after the current body is held or discarded. */
  stopAfterCurrent(after: typeof HOLD | typeof DISCARD): void {
    if (this.after === READ_HEADS) this.after = after;
  }

  private feedBody(buf: Buffer, end: number, now: number): void {
    const decoder = this.decoder!;
    const request = this.bodyRequest!;
    let pos = this.pos;
    this.lastBodyReadAt = now;
    while (pos < end && !decoder.done) {
      pos = decoder.next(buf, pos, end);
      if (decoder.error !== null) {
        this.pos = pos;
        return;
      }
      if (decoder.dataEnd > decoder.dataStart) request._push(buf.subarray(decoder.dataStart, decoder.dataEnd));
    }
    this.pos = pos;
    if (decoder.done) {
      if (decoder instanceof ChunkedDecoder && decoder.trailers.length > 0) request._trailers = decoder.trailers;
      // The handler has everything it asked for: from here its time to answer is its own.
      this.bodyResponse!._handlerClockFrom = now;
      this.endBody();
      request._end();
    }
  }

  bodyError(): ProtocolError {
    return this.decoder!.error!;
  }

  /** The body is done with (complete, failed or abandoned). */
  endBody(): void {
    this.decoder = null;
    this.bodyRequest = null;
    this.bodyResponse = null;
    this.requestStartedAt = 0;
  }
}

const EMPTY = Buffer.alloc(0);
