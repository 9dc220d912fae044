// In-process requests: an in-memory socket handed to the same accept path as a TCP socket, so the
// real parser, connection lifecycle, hooks and dispatcher run with no port. Owns the request
// serialisation, the in-memory socket and a small response parser for what the engine writes.

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { UsageError } from './http1/protocol-error.js';

export interface InjectOptions {
  /** Default 'GET'. */
  method?: string;
  /** The request target; default '/'. */
  url?: string;
  /** Header values are sent as written; a Host of 'localhost' is added when none is given. */
  headers?: Readonly<Record<string, string | number | readonly string[]>>;
  /** Strings and bytes are sent as they are; other values as JSON (with a JSON Content-Type unless one is given). */
  body?: string | Buffer | Uint8Array | object | number | boolean | null;
  /** What `req.remoteAddress` says; default '127.0.0.1'. */
  remoteAddress?: string;
}

export interface InjectResponse {
  statusCode: number;
  statusMessage: string;
  httpVersion: string;
  /** Lower-cased names; a repeated field is an array (Set-Cookie always is). */
  headers: Record<string, string | string[]>;
  body: Buffer;
  trailers: Record<string, string>;
  /** The bytes of this response as the engine wrote them (head, framing and body). */
  raw: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

export interface InjectRawOptions {
  remoteAddress?: string;
  /**
   * Complete responses to wait for before the client ends its side (FIN); default 1. The result
   * also ends when the server closes the connection first.
   */
  responses?: number;
  /** Send the FIN right after the bytes instead of after the responses (a client that half-closes). */
  endAfterWrite?: boolean;
}

export interface InjectRawResult {
  /** Everything the server wrote, in order. */
  raw: Buffer;
  /** The complete responses in `raw`, in order (HEAD requests' responses are read as having no body only when parsed by inject()). */
  responses: InjectResponse[];
  /** True when the server closed the connection before the client ended its side. */
  closedByServer: boolean;
}

/** The engine side of a server that an in-memory socket is handed to. */
export interface InjectTarget {
  accept(socket: Socket): void;
}

/** net.Socket's default writableHighWaterMark. */
const HIGH_WATER_MARK = 16_384;

/** Bytes handed to the engine per 'data' event, like a socket read of a large request. */
const READ_SIZE = 65_536;

/**
 * An in-memory socket: what the engine writes is kept for the client, what the client sends is
 * delivered as 'data' while the engine is not paused. The kernel "takes" every write at once.
 */
export class InjectSocket extends EventEmitter {
  remoteAddress: string;
  remotePort = 0;
  readonly remoteFamily = 'IPv4';
  /** Bytes written in this turn: the "kernel" takes them all on the next tick, then 'drain' if a write said false. */
  writableLength = 0;
  private needDrain = false;
  private drainScheduled = false;
  destroyed = false;
  /** Output from the engine, not yet consumed by the client. */
  output: Buffer[] = [];
  outputBytes = 0;
  serverEnded = false;
  clientEnded = false;
  private paused = false;
  private readonly input: Buffer[] = [];
  private clientEndPending = false;
  private delivering = false;
  private finished = false;
  private closeEmitted = false;
  /** Called after every write and at the server's FIN or destroy. */
  onOutput: (() => void) | null = null;

  constructor(remoteAddress: string) {
    super();
    this.remoteAddress = remoteAddress;
  }

  // --- the engine's side ---

  write(data: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    if (this.destroyed || this.serverEnded) return false;
    const bytes = typeof data === 'string' ? Buffer.from(data, typeof encoding === 'string' ? encoding : 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    // A copy: the engine may reuse its buffers once a write returns.
    this.output.push(Buffer.from(bytes));
    this.outputBytes += bytes.length;
    this.writableLength += bytes.length;
    const callback = typeof encoding === 'function' ? encoding : cb;
    if (callback !== undefined) process.nextTick(callback);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      process.nextTick(() => this.drain());
    }
    this.onOutput?.();
    // What a net.Socket answers past its highWaterMark: the engine's slicing and drain path run as over TCP.
    if (this.writableLength >= HIGH_WATER_MARK) this.needDrain = true;
    return !this.needDrain;
  }

  private drain(): void {
    this.drainScheduled = false;
    this.writableLength = 0;
    if (this.needDrain && !this.destroyed) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  end(data?: string | Uint8Array | (() => void), encoding?: BufferEncoding | (() => void)): this {
    if (data !== undefined && typeof data !== 'function') this.write(data, typeof encoding === 'string' ? encoding : undefined);
    if (this.serverEnded || this.destroyed) return this;
    this.serverEnded = true;
    process.nextTick(() => {
      this.finished = true;
      this.emit('finish');
      this.onOutput?.();
      this.maybeClose();
    });
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.onOutput?.();
    process.nextTick(() => this.emitClose());
    return this;
  }

  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  cork(): void {}
  uncork(): void {}

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    if (this.paused) {
      this.paused = false;
      this.scheduleDelivery();
    }
    return this;
  }

  // --- the client's side ---

  /** The client sends bytes; delivered in reads of at most READ_SIZE while the engine reads. */
  send(data: Buffer): void {
    for (let at = 0; at < data.length; at += READ_SIZE) this.input.push(data.subarray(at, at + READ_SIZE));
    this.scheduleDelivery();
  }

  /** The client half-closes once everything it sent was read. */
  clientEnd(): void {
    if (this.clientEnded || this.clientEndPending) return;
    this.clientEndPending = true;
    this.scheduleDelivery();
  }

  /** Takes the engine's output so far. */
  takeOutput(): Buffer {
    const all = this.output.length === 1 ? this.output[0]! : Buffer.concat(this.output, this.outputBytes);
    this.output = [];
    this.outputBytes = 0;
    return all;
  }

  private scheduleDelivery(): void {
    if (this.delivering) return;
    this.delivering = true;
    // Delivered on a later turn, as a socket's reads are: never inside the caller's own stack.
    setImmediate(() => {
      this.delivering = false;
      this.deliver();
    });
  }

  private deliver(): void {
    while (!this.paused && !this.destroyed && this.input.length > 0) {
      this.emit('data', this.input.shift()!);
    }
    if (this.input.length > 0 || this.paused || this.destroyed) return;
    if (this.clientEndPending && !this.clientEnded) {
      this.clientEndPending = false;
      this.clientEnded = true;
      this.emit('end');
      this.maybeClose();
    }
  }

  private maybeClose(): void {
    // A socket closes once both sides have ended and the server's FIN is out (allowHalfOpen).
    if (this.finished && this.clientEnded) this.destroy();
  }

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close', false);
    this.onOutput?.();
  }

  get closed(): boolean {
    return this.closeEmitted;
  }
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values may not carry CR, LF or NUL (RFC 9110 5.5): a request built here must be one request.
const BAD_VALUE = /[\r\n\0]/;

/** Serialises inject() options as the bytes a client would send. */
export function requestBytes(options: InjectOptions): { bytes: Buffer; method: string } {
  if (options === null || typeof options !== 'object') throw new UsageError('ERR_INVALID_INJECT', 'inject() takes an options object');
  const method = options.method ?? 'GET';
  if (typeof method !== 'string' || !TOKEN.test(method)) throw new UsageError('ERR_INVALID_INJECT', `inject() method must be an HTTP token, got ${JSON.stringify(method)}`);
  const url = options.url ?? '/';
  if (typeof url !== 'string' || url.length === 0 || /[\s\0]/.test(url)) {
    throw new UsageError('ERR_INVALID_INJECT', `inject() url must be a request target without whitespace, got ${JSON.stringify(url)}`);
  }
  let head = `${method} ${url} HTTP/1.1\r\n`;
  let hasHost = false;
  let hasLength = false;
  let hasType = false;
  const headers = options.headers ?? {};
  for (const name of Object.keys(headers)) {
    if (!TOKEN.test(name)) throw new UsageError('ERR_INVALID_INJECT', `inject() header name ${JSON.stringify(name)} is not an HTTP token`);
    const lower = name.toLowerCase();
    if (lower === 'host') hasHost = true;
    else if (lower === 'content-length' || lower === 'transfer-encoding') hasLength = true;
    else if (lower === 'content-type') hasType = true;
    const value = headers[name]!;
    for (const one of Array.isArray(value) ? value : [value]) {
      const text = String(one);
      if (BAD_VALUE.test(text)) throw new UsageError('ERR_INVALID_INJECT', `inject() header ${name} has CR, LF or NUL in its value`);
      head += `${name}: ${text}\r\n`;
    }
  }
  if (!hasHost) head += 'Host: localhost\r\n';
  let body: Buffer | null = null;
  const given = options.body;
  if (given !== undefined) {
    if (typeof given === 'string') body = Buffer.from(given, 'utf8');
    else if (given instanceof Uint8Array) body = Buffer.from(given.buffer, given.byteOffset, given.byteLength);
    else {
      body = Buffer.from(JSON.stringify(given), 'utf8');
      if (!hasType) head += 'Content-Type: application/json\r\n';
    }
    if (!hasLength) head += `Content-Length: ${body.length}\r\n`;
  }
  head += '\r\n';
  const headBytes = Buffer.from(head, 'latin1');
  return { bytes: body === null || body.length === 0 ? headBytes : Buffer.concat([headBytes, body]), method };
}

interface Parsed {
  response: InjectResponse;
  consumed: number;
}

/**
 * One response from the start of `data`, or null when more bytes are needed. Interim (1xx)
 * responses are skipped. `noBody`: the request was a HEAD; `closed`: no more bytes will come
 * (a response without framing ends there).
 */
export function parseResponse(data: Buffer, noBody: boolean, closed: boolean): Parsed | null {
  let start = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', start, 'latin1');
    if (headEnd === -1) return null;
    const lines = data.toString('latin1', start, headEnd).split('\r\n');
    const statusLine = lines[0]!;
    // HTTP/x.y SP 3DIGIT [SP reason]: what the engine writes (RFC 9112 4).
    const statusCode = statusLine.startsWith('HTTP/') && statusLine[8] === ' ' ? Number(statusLine.slice(9, 12)) : NaN;
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) throw new Error(`inject: unparseable status line ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string | string[]> = Object.create(null);
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      addField(headers, line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    let at = headEnd + 4;
    if (statusCode >= 100 && statusCode < 200 && statusCode !== 101) {
      start = at;
      continue;
    }
    let body: Buffer;
    const trailers: Record<string, string> = Object.create(null);
    const length = headers['content-length'];
    const chunked = /chunked/i.test(String(headers['transfer-encoding'] ?? ''));
    if (noBody || statusCode === 204 || statusCode === 304 || statusCode === 101) {
      body = Buffer.alloc(0);
    } else if (chunked) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = data.indexOf('\r\n', at, 'latin1');
        if (lineEnd === -1) return null;
        const size = parseInt(data.toString('latin1', at, lineEnd), 16);
        if (Number.isNaN(size)) throw new Error('inject: bad chunk size');
        at = lineEnd + 2;
        if (size === 0) {
          for (;;) {
            const trailerEnd = data.indexOf('\r\n', at, 'latin1');
            if (trailerEnd === -1) return null;
            const line = data.toString('latin1', at, trailerEnd);
            at = trailerEnd + 2;
            if (line === '') break;
            const colon = line.indexOf(':');
            trailers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
          }
          break;
        }
        if (data.length < at + size + 2) return null;
        parts.push(data.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (length !== undefined) {
      const n = Number(Array.isArray(length) ? length[0] : length);
      if (data.length < at + n) return null;
      body = data.subarray(at, at + n);
      at += n;
    } else {
      if (!closed) return null;
      body = data.subarray(at);
      at = data.length;
    }
    const raw = data.subarray(start, at);
    return {
      consumed: at,
      response: {
        statusCode,
        statusMessage: statusLine.slice(13),
        httpVersion: statusLine.slice(5, 8),
        headers,
        body,
        trailers,
        raw,
        text: () => body.toString('utf8'),
        json: <T>() => JSON.parse(body.toString('utf8')) as T,
      },
    };
  }
}

function addField(headers: Record<string, string | string[]>, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
  else if (Array.isArray(existing)) existing.push(value);
  else headers[name] = [existing, value];
}

/**
 * Sends `bytes` on a new in-memory connection and collects what the server writes until
 * `responses` complete responses arrived (then the client ends its side) or the server closed the
 * connection; resolves once the connection is gone, so nothing of it outlives the call.
 */
export function injectBytes(target: InjectTarget, bytes: Buffer, options: InjectRawOptions & { noBody?: boolean }): Promise<InjectRawResult> {
  const wanted = options.responses ?? 1;
  const socket = new InjectSocket(options.remoteAddress ?? '127.0.0.1');
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    let all: Buffer[] = [];
    let parsedUpTo = 0;
    const responses: InjectResponse[] = [];
    let closedByServer = false;
    let settled = false;
    socket.onOutput = () => {
      if (settled) return;
      if (socket.outputBytes > 0) {
        const chunk = socket.takeOutput();
        all.push(chunk);
        received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      }
      const serverDone = socket.serverEnded || socket.destroyed;
      try {
        for (;;) {
          const parsed = parseResponse(received.subarray(parsedUpTo), options.noBody === true && responses.length === 0, serverDone);
          if (parsed === null || parsed.consumed === 0) break;
          responses.push(parsed.response);
          parsedUpTo += parsed.consumed;
        }
      } catch (err) {
        settled = true;
        socket.destroy();
        reject(err);
        return;
      }
      if (serverDone && !socket.clientEnded) closedByServer = true;
      // A response that says Connection: close is followed by the server's FIN: wait for it.
      const last = responses[responses.length - 1];
      const closing = last !== undefined && /\bclose\b/i.test(String(last.headers.connection ?? ''));
      if ((responses.length >= wanted && !closing) || serverDone) socket.clientEnd();
      if (socket.closed) {
        settled = true;
        resolve({ raw: Buffer.concat(all), responses, closedByServer });
        all = [];
      }
    };
    try {
      target.accept(socket as unknown as Socket);
    } catch (err) {
      reject(err);
      return;
    }
    socket.send(bytes);
    if (options.endAfterWrite === true) socket.clientEnd();
  });
}

/** A response read as it streams (server-sent events, long polls): the head, then the body as it comes. */
export interface InjectStream {
  statusCode: number;
  statusMessage: string;
  headers: Record<string, string | string[]>;
  /** Body bytes as they arrive, chunked framing removed; ends with the response. */
  body: AsyncIterableIterator<Buffer>;
  /** The client goes away (a reset, as a closed tab): resolves once the connection is gone. */
  close(): Promise<void>;
}

/**
 * Sends one request and resolves as soon as the response head has arrived; the body is then read
 * as the server writes it. The connection is closed when the response ends or close() is called.
 */
export function injectStreaming(target: InjectTarget, bytes: Buffer, remoteAddress: string | undefined, noBody: boolean): Promise<InjectStream> {
  const socket = new InjectSocket(remoteAddress ?? '127.0.0.1');
  const pieces: Buffer[] = [];
  let wake: (() => void) | null = null;
  let bodyDone = false;
  let pending: Buffer = Buffer.alloc(0);
  let head: Omit<InjectStream, 'body' | 'close'> | null = null;
  let framing: 'chunked' | 'length' | 'close' | 'none' = 'none';
  let remaining = 0;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const finishBody = (): void => {
    if (bodyDone) return;
    bodyDone = true;
    socket.clientEnd();
    notify();
  };
  const decode = (serverDone: boolean): void => {
    if (framing === 'length') {
      const n = Math.min(remaining, pending.length);
      if (n > 0) pieces.push(pending.subarray(0, n));
      remaining -= n;
      pending = pending.subarray(n);
      if (remaining === 0) finishBody();
    } else if (framing === 'chunked') {
      for (;;) {
        const lineEnd = pending.indexOf('\r\n', 0, 'latin1');
        if (lineEnd === -1) break;
        const size = parseInt(pending.toString('latin1', 0, lineEnd), 16);
        if (size === 0) {
          finishBody();
          break;
        }
        if (pending.length < lineEnd + 2 + size + 2) break;
        pieces.push(pending.subarray(lineEnd + 2, lineEnd + 2 + size));
        pending = pending.subarray(lineEnd + 2 + size + 2);
      }
    } else if (framing === 'close') {
      if (pending.length > 0) pieces.push(pending);
      pending = Buffer.alloc(0);
    } else {
      finishBody();
    }
    if (serverDone) finishBody();
    notify();
  };
  return new Promise((resolve, reject) => {
    socket.onOutput = () => {
      if (socket.outputBytes > 0) {
        const chunk = socket.takeOutput();
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      }
      const serverDone = socket.serverEnded || socket.destroyed;
      while (head === null) {
        const headEnd = pending.indexOf('\r\n\r\n', 0, 'latin1');
        if (headEnd === -1) {
          if (serverDone) {
            finishBody();
            reject(new UsageError('ERR_INJECT_NO_RESPONSE', 'the connection closed without a response head'));
          }
          return;
        }
        let parsed: Parsed | null;
        try {
          // The head alone, parsed as a response without a body, is the head of this response.
          parsed = parseResponse(Buffer.concat([pending.subarray(0, headEnd + 4)]), true, false);
        } catch (err) {
          socket.destroy();
          reject(err);
          return;
        }
        pending = pending.subarray(headEnd + 4);
        if (parsed === null) continue; // an interim (1xx) response was skipped: the next head follows
        const r = parsed.response;
        head = { statusCode: r.statusCode, statusMessage: r.statusMessage, headers: r.headers };
        const length = r.headers['content-length'];
        if (noBody || r.statusCode === 204 || r.statusCode === 304) framing = 'none';
        else if (/chunked/i.test(String(r.headers['transfer-encoding'] ?? ''))) framing = 'chunked';
        else if (length !== undefined) {
          framing = 'length';
          remaining = Number(Array.isArray(length) ? length[0] : length);
        } else framing = 'close';
        resolve({
          ...head,
          body: bodyIterator(),
          close: () => {
            socket.destroy();
            return closed;
          },
        });
      }
      decode(serverDone);
    };
    try {
      target.accept(socket as unknown as Socket);
    } catch (err) {
      reject(err);
      return;
    }
    socket.send(bytes);
  });

  async function* bodyIterator(): AsyncIterableIterator<Buffer> {
    for (;;) {
      const piece = pieces.shift();
      if (piece !== undefined) {
        yield piece;
        continue;
      }
      if (bodyDone) {
        await closed;
        return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  }
}
