// One response as a handler writes it: status and headers with validation (no response
// splitting), then a whole body in one call or a stream of writes; framing is the connection's.

import type { Socket } from 'node:net';
import { headerValueKind, INVALID_VALUE, LATIN1_VALUE, isToken } from '../http1/header-validation.js';
import { UsageError } from '../http1/protocol-error.js';
import type { IncomingRequest } from './incoming-request.js';
import type { CloseReason } from './lifecycle-stats.js';

/** What a response needs from its connection; implemented by Connection. */
export interface ResponseHost {
  /** Head and complete body, framed with Content-Length, queued as one buffer. */
  sendWhole(response: OutgoingResponse, body: Buffer | string | null): void;
  /** Head of a streamed response (chunked unless a Content-Length was set). */
  sendHead(response: OutgoingResponse): void;
  /** Returns false when the connection's output is over its bound: wait for drained(). */
  writeBody(response: OutgoingResponse, chunk: Buffer | string): boolean;
  finishBody(response: OutgoingResponse, trailers: readonly string[] | null): void;
  waitForDrain(response: OutgoingResponse): Promise<void>;
  destroyResponse(response: OutgoingResponse, error: Error | undefined): void;
  takeOverSocket(response: OutgoingResponse): Promise<{ socket: Socket; head: Buffer }>;
}

export type HeaderValue = string | number | readonly string[];

export class OutgoingResponse {
  statusCode = 200;
  statusMessage: string | undefined = undefined;
  /** Flat [name, value, ...] as set; one entry per value for repeated fields such as Set-Cookie. */
  readonly headerList: string[] = [];
  headersSent = false;
  /** end() was called (or the engine answered in the handler's place). */
  finished = false;
  readonly request: IncomingRequest;
  /** @internal */ _host: ResponseHost;

  // Engine state, owned by Connection.
  /** @internal next response on the same connection (pipeline order) */ _next: OutgoingResponse | null = null;
  /** @internal output produced before this response reached the head of the pipeline */ _parked: Buffer[] | null = null;
  /** @internal */ _parkedBytes = 0;
  /** @internal all output handed to the connection */ _complete = false;
  /** @internal the engine answered (timeout) or dropped this response; handler writes are ignored */ _preempted = false;
  /** @internal when the handler timer started (request fully received); 0 = not yet */ _handlerClockFrom = 0;
  /** @internal the route's own handler timeout in ms, -1: the server's handlerTimeout (a prototype default: most routes have none) */ declare _routeTimeout: number;
  /** @internal why the connection closes after this response; null keeps it alive */ _closeReason: CloseReason | null = null;
  /** @internal the handler set Connection: close */ _userClose = false;
  /** @internal Content-Length set by the handler; -1 when not set */ _contentLength = -1;
  /** @internal Date set by the handler instead of the cached one */ _date: string | null = null;
  /** @internal */ _continueSent = false;
  /** @internal */ _chunked = false;
  /** @internal body bytes still allowed by a declared Content-Length; -1 when not declared */ _remaining = -1;
  /** @internal HEAD request or status without content: framing headers only */ _noBody = false;
  /** @internal 100 Continue is owed before anything else of this response */ _continueOwed = false;
  /** @internal a header value holds obs-text, so the head must be encoded as latin1, not UTF-8 */ _latin1Head = false;

  constructor(request: IncomingRequest, host: ResponseHost) {
    this.request = request;
    this._host = host;
  }

  setHeader(name: string, value: HeaderValue): this {
    // The engine answered in the handler's place: its late headers are ignored like its writes.
    if (this._preempted) return this;
    if (this.headersSent) throw new UsageError('ERR_HEADERS_SENT', `cannot set header ${name}: the head was already sent`);
    if (typeof name !== 'string' || !isToken(name)) {
      throw new UsageError('ERR_INVALID_HEADER_NAME', `invalid header name ${JSON.stringify(name)}`);
    }
    this.removeHeader(name);
    if (Array.isArray(value)) {
      for (const item of value as readonly string[]) this.pushHeader(name, String(item));
    } else {
      this.pushHeader(name, typeof value === 'number' ? String(value) : (value as string));
    }
    return this;
  }

  /** Adds a value without replacing earlier ones (Set-Cookie). */
  appendHeader(name: string, value: string): this {
    if (this._preempted) return this;
    if (this.headersSent) throw new UsageError('ERR_HEADERS_SENT', `cannot set header ${name}: the head was already sent`);
    if (typeof name !== 'string' || !isToken(name)) {
      throw new UsageError('ERR_INVALID_HEADER_NAME', `invalid header name ${JSON.stringify(name)}`);
    }
    this.pushHeader(name, value);
    return this;
  }

  private pushHeader(name: string, value: string): void {
    const kind = typeof value === 'string' ? headerValueKind(value) : INVALID_VALUE;
    if (kind === INVALID_VALUE) {
      throw new UsageError('ERR_INVALID_HEADER_VALUE', `invalid value for header ${name}: CR, LF, NUL and characters above U+00FF are not allowed`);
    }
    if (kind === LATIN1_VALUE) this._latin1Head = true;
    if (RESERVED_LENGTHS.has(name.length) && this.takeReserved(name.toLowerCase(), value)) return;
    this.headerList.push(name, value);
  }

  /** Framing and connection headers belong to the engine (RFC 9112 6, 9.6): kept apart, never duplicated. */
  private takeReserved(lower: string, value: string): boolean {
    switch (lower) {
      case 'content-length': {
        const trimmed = value.trim();
        if (!/^\d{1,15}$/.test(trimmed)) {
          throw new UsageError('ERR_INVALID_HEADER_VALUE', `invalid Content-Length ${JSON.stringify(value)}`);
        }
        this._contentLength = Number(trimmed);
        return true;
      }
      case 'transfer-encoding':
        if (value.trim().toLowerCase() !== 'chunked') {
          throw new UsageError('ERR_INVALID_HEADER_VALUE', 'only Transfer-Encoding: chunked is supported, and it is applied automatically');
        }
        this._contentLength = -1;
        return true;
      case 'connection':
        if (listHasClose(value)) this._userClose = true;
        return true;
      case 'keep-alive':
        return true;
      case 'date':
        this._date = value;
        return true;
      default:
        return false;
    }
  }

  /**
   * @internal The Content-Type a body's kind implies, unless the handler chose one. The engine's
   * own constants need no validation, which keeps the common response cheap.
   */
  _defaultContentType(value: string): void {
    const list = this.headerList;
    for (let i = 0; i < list.length; i += 2) {
      const name = list[i]!;
      if (name.length === 12 && name.toLowerCase() === 'content-type') return;
    }
    if (!this.headersSent) list.push('Content-Type', value);
  }

  getHeader(name: string): string | undefined {
    if (RESERVED_LENGTHS.has(name.length)) {
      const lower = name.toLowerCase();
      if (lower === 'content-length') return this._contentLength >= 0 ? String(this._contentLength) : undefined;
      if (lower === 'date') return this._date ?? undefined;
      if (lower === 'connection') return this._userClose ? 'close' : undefined;
    }
    const list = this.headerList;
    for (let i = 0; i < list.length; i += 2) {
      if (list[i]!.length === name.length && list[i]!.toLowerCase() === name.toLowerCase()) return list[i + 1];
    }
    return undefined;
  }

  hasHeader(name: string): boolean {
    return this.getHeader(name) !== undefined;
  }

  removeHeader(name: string): this {
    const list = this.headerList;
    const lower = name.toLowerCase();
    if (lower === 'content-length') this._contentLength = -1;
    else if (lower === 'date') this._date = null;
    else if (lower === 'connection') this._userClose = false;
    for (let i = list.length - 2; i >= 0; i -= 2) {
      if (list[i]!.length === name.length && list[i]!.toLowerCase() === lower) list.splice(i, 2);
    }
    return this;
  }

  status(code: number): this {
    if (!Number.isInteger(code) || code < 100 || code > 999) {
      throw new UsageError('ERR_INVALID_STATUS', `invalid status code ${String(code)}`);
    }
    if (this._preempted) return this;
    if (this.headersSent) throw new UsageError('ERR_HEADERS_SENT', 'cannot set the status: the head was already sent');
    this.statusCode = code;
    return this;
  }

  /** Sends the head now, before any body (long polls, SSE). */
  flushHeaders(): void {
    if (this.headersSent || this._preempted) return;
    this.ensureWritable();
    this._host.sendHead(this);
  }

  /** Streams a body chunk; false means the connection is backed up: await drained() before writing more. */
  write(chunk: Buffer | Uint8Array | string): boolean {
    if (this._preempted) return false;
    this.ensureWritable();
    if (!this.headersSent) this._host.sendHead(this);
    const data = typeof chunk === 'string' ? chunk : toBuffer(chunk);
    if (data.length === 0) return true;
    return this._host.writeBody(this, data);
  }

  /** Resolves when the connection can take more output. */
  drained(): Promise<void> {
    return this._host.waitForDrain(this);
  }

  /** Completes the response. With a body and no head sent yet, head and body go out in one buffer. */
  end(body?: Buffer | Uint8Array | string | null, trailers?: readonly string[]): void {
    if (this._preempted) {
      this.finished = true;
      return;
    }
    this.ensureWritable();
    if (!this.headersSent) {
      const data = body === undefined || body === null ? null : typeof body === 'string' ? body : toBuffer(body);
      this.finished = true;
      try {
        this._host.sendWhole(this, data);
      } catch (err) {
        this.finished = false;
        throw err;
      }
      return;
    }
    if (body !== undefined && body !== null) this.write(body);
    this.finished = true;
    this._host.finishBody(this, trailers ?? null);
  }

  /**
   * For an Upgrade request: resolves with the socket and the bytes already read after the head,
   * once every earlier pipelined response is on the socket. The connection is then no longer HTTP.
   */
  takeOverSocket(): Promise<{ socket: Socket; head: Buffer }> {
    return this._host.takeOverSocket(this);
  }

  /** Ends the connection at once: for a response that cannot be completed (its head is out). */
  destroy(error?: Error): void {
    this.finished = true;
    this._host.destroyResponse(this, error);
  }

  private ensureWritable(): void {
    if (this.finished) throw new UsageError('ERR_WRITE_AFTER_END', 'write after end: the response was already completed');
  }
}

// content-length, transfer-encoding, connection, keep-alive, date
const RESERVED_LENGTHS = new Set([14, 17, 10, 4]);

function toBuffer(chunk: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Whether a comma-separated list (RFC 9110 5.6.1) holds the token "close"; one forward pass. */
function listHasClose(value: string): boolean {
  for (let start = 0; start <= value.length; ) {
    let comma = value.indexOf(',', start);
    if (comma === -1) comma = value.length;
    if (comma - start >= 5 && value.slice(start, comma).trim().toLowerCase() === 'close') return true;
    start = comma + 1;
  }
  return false;
}

OutgoingResponse.prototype._routeTimeout = -1;
