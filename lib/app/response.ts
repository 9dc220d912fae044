// The response handlers see: the engine's response plus send() for every body type with a content
// type default for each, json(), redirects and file responses.

import { Readable } from 'node:stream';
import { OutgoingResponse, type HeaderValue } from '../connection/outgoing-response.js';
import { UsageError } from '../http1/protocol-error.js';
import { sendFile, type FileOptions } from './file-response.js';
import type { Request } from './request.js';
import { runSendHooks, SEND_FAILED, type ResponseHooks } from './response-hooks.js';
import { serializeCookie, type CookieOptions } from './cookies.js';

/** What a handler may return or send: numbers and booleans are JSON like objects (`42` sends `42`). */
export type Body = string | Buffer | Uint8Array | Readable | AsyncIterable<unknown> | object | number | boolean | null | undefined;

/**
 * @internal What write/end go through once compress() armed a response: compression.ts's
 * ResponseEncoder, named by shape here so that this file, which compression.ts imports, needs
 * nothing of it.
 */
export interface BodyEncoder {
  end(res: Response, body: Buffer | Uint8Array | string | null | undefined, trailers: readonly string[] | undefined): void;
  write(res: Response, chunk: Buffer | Uint8Array | string): boolean;
  flushHeaders(res: Response): void;
  drained(res: Response): Promise<void>;
}

export class Response extends OutgoingResponse {
  // Defaults on the prototype (below the class), not per instance: a response whose route has no
  // group and no onSend hooks never writes them, so the common response carries no extra fields.
  /** @internal the hooks of a group route's response; null: the app's */ declare _hooks: ResponseHooks<Response> | null;
  /** @internal set while onSend hooks are still to run before the head */ declare _sendHooks: ResponseHooks<Response> | null;
  /** @internal headers the onRequest hooks had set when the handler started; an error answer keeps them */ declare _hookHeaders: string[] | null;
  /** @internal a whole body's length, recorded by the request log's onSend hook; -1 otherwise */ declare _bodyBytes: number;
  /** @internal set by the compress hook: write/end go through it after the onSend hooks */ declare _encoder: BodyEncoder | null;

  override end(body?: Buffer | Uint8Array | string | null, trailers?: readonly string[]): void {
    const hooks = this._sendHooks;
    if (hooks !== null && !this.headersSent && !this._preempted && !this.finished) {
      this._sendHooks = null;
      const sent = runSendHooks(hooks, this.request as Request, this, body ?? null);
      if (sent === SEND_FAILED) return;
      body = sent;
    }
    const encoder = this._encoder;
    if (encoder !== null && !this._preempted) {
      encoder.end(this, body, trailers);
      return;
    }
    super.end(body, trailers);
  }

  override write(chunk: Buffer | Uint8Array | string): boolean {
    if (this._sendHooks !== null && !this.headersSent) this.beforeStreamedHead();
    if (this._encoder !== null && !this._preempted && !this.finished) return this._encoder.write(this, chunk);
    return super.write(chunk);
  }

  override flushHeaders(): void {
    if (this._sendHooks !== null && !this.headersSent) this.beforeStreamedHead();
    if (this._encoder !== null && !this.headersSent) this._encoder.flushHeaders(this);
    super.flushHeaders();
  }

  override drained(): Promise<void> {
    return this._encoder === null ? super.drained() : this._encoder.drained(this);
  }

  /** @internal the engine's end, past onSend hooks and the encoder */
  _endRaw(body: Buffer | Uint8Array | string | null | undefined, trailers: readonly string[] | undefined): void {
    super.end(body, trailers);
  }

  /** @internal the engine's write, past the encoder */
  _writeRaw(chunk: Buffer | Uint8Array | string): boolean {
    return super.write(chunk);
  }

  /** @internal the connection's drain, whatever the encoder holds */
  _drainedRaw(): Promise<void> {
    return super.drained();
  }

  /** onSend for a streamed response: headers only. After a failing hook the 500 is sent and later writes throw. */
  private beforeStreamedHead(): void {
    const hooks = this._sendHooks!;
    if (this._preempted || this.finished) return;
    this._sendHooks = null;
    runSendHooks(hooks, this.request as Request, this, undefined);
  }

  type(contentType: string): this {
    return this.setHeader('Content-Type', contentType);
  }

  /** Sets several headers at once, or one as set(name, value); the same validation as setHeader(). */
  set(headers: Readonly<Record<string, HeaderValue>>): this;
  set(name: string, value: HeaderValue): this;
  set(headers: Readonly<Record<string, HeaderValue>> | string, value?: HeaderValue): this {
    if (typeof headers === 'string') {
      if (value === undefined) throw new UsageError('ERR_INVALID_HEADER_VALUE', `res.set('${headers}') needs a value: set(name, value) or set({ name: value })`);
      return this.setHeader(headers, value);
    }
    if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
      throw new UsageError('ERR_INVALID_HEADER_VALUE', `res.set() takes an object of headers or (name, value), got ${Array.isArray(headers) ? 'an array' : typeof headers}`);
    }
    for (const name of Object.keys(headers)) this.setHeader(name, headers[name]!);
    return this;
  }

  /**
   * Adds a Set-Cookie (RFC 6265 4.1). The value is percent-encoded (req.cookies decodes it); every
   * attribute is validated and misuse throws UsageError ERR_INVALID_COOKIE: SameSite=None or
   * Partitioned without secure, a __Host- or __Secure- name that breaks its prefix's rules.
   */
  cookie(name: string, value: string, options?: CookieOptions): this {
    return this.appendHeader('Set-Cookie', serializeCookie(name, value, options, (this.request as Request)._cookieKeys));
  }

  /** Expires a cookie now; give the path and domain it was set with, or the browser keeps it. */
  clearCookie(name: string, options?: Omit<CookieOptions, 'maxAge' | 'expires' | 'signed'>): this {
    return this.appendHeader('Set-Cookie', serializeCookie(name, '', { ...options, expires: new Date(0), maxAge: 0 }, null));
  }

  /**
   * Answers with a redirect (RFC 9110 15.4). 302 by default; 307/308 keep the method and body,
   * 303 turns the follow-up into a GET. Characters not allowed in a URI are percent-encoded.
   * A location starting with two slashes ("//", "/\", "\\", "\/") is refused with
   * ERR_PROTOCOL_RELATIVE_REDIRECT: browsers read it as another host (RFC 3986 4.2 network-path
   * reference, and the URL standard treats "\" as "/"), and such a value nearly always comes from a
   * request path ("//evil.example" + "/"), which is how open redirects happen. Another host is
   * spelled with its scheme ("https://cdn.example/x"). Refusing rather than collapsing to one "/"
   * keeps a redirect from silently going somewhere other than the code said.
   */
  redirect(location: string, status = 302): void {
    if (!REDIRECT_STATUSES.has(status)) {
      throw new UsageError('ERR_INVALID_STATUS', `redirect status must be 300-303, 307 or 308, got ${String(status)}`);
    }
    if (typeof location !== 'string' || location.length === 0) {
      throw new UsageError('ERR_INVALID_REDIRECT', 'redirect location must be a non-empty string');
    }
    if (isSlash(location.charCodeAt(0)) && isSlash(location.charCodeAt(1))) {
      throw new UsageError('ERR_PROTOCOL_RELATIVE_REDIRECT', 'redirect location must not start with "//" or "/\\" (another host); give a path with one leading "/" or a URL with its scheme');
    }
    const encoded = location.replace(NOT_URI_CHARS, encodeURIComponent);
    this.status(status).setHeader('Location', encoded);
    if (!this.hasHeader('Content-Type')) this.setHeader('Content-Type', 'text/plain; charset=utf-8');
    this.end(`Redirecting to ${encoded}\n`);
  }

  /**
   * Sends a file with Content-Length, ETag and Last-Modified; 304 for a matching If-None-Match or
   * If-Modified-Since, 206 for one byte range. A missing file rejects with a 404 HttpError.
   */
  file(path: string, options?: FileOptions): Promise<void> {
    return sendFile(this.request as Request<unknown>, this, path, options);
  }

  json(value: unknown): void {
    this._defaultContentType('application/json; charset=utf-8');
    this.end(JSON.stringify(value));
  }

  /** string → text/plain, bytes → octet-stream, stream or async iterable → streamed, other objects → JSON. */
  send(body?: Body): void | Promise<void> {
    if (body === undefined || body === null) {
      this.end();
      return;
    }
    if (typeof body === 'string') {
      this._defaultContentType('text/plain; charset=utf-8');
      this.end(body);
      return;
    }
    if (body instanceof Uint8Array) {
      this._defaultContentType('application/octet-stream');
      this.end(body);
      return;
    }
    if (body instanceof Readable || isAsyncIterable(body)) {
      this._defaultContentType('application/octet-stream');
      return this.stream(body as AsyncIterable<unknown>);
    }
    this.json(body);
  }

  /** Streams with backpressure: waits for the connection whenever its output bound is reached. */
  async stream(source: AsyncIterable<unknown>): Promise<void> {
    try {
      for await (const chunk of source) {
        if (this._preempted) break;
        const data = typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : String(chunk);
        if (!this.write(data)) await this.drained();
      }
    } catch (err) {
      if (source instanceof Readable) source.destroy();
      throw err;
    }
    if (!this.finished) this.end();
  }
}

Response.prototype._hooks = null;
Response.prototype._sendHooks = null;
Response.prototype._hookHeaders = null;
Response.prototype._encoder = null;
Response.prototype._bodyBytes = -1;

const REDIRECT_STATUSES = new Set([300, 301, 302, 303, 307, 308]);
// Everything outside printable ASCII (RFC 3986 allows no raw spaces, controls or non-ASCII).
const NOT_URI_CHARS = /[^\x21-\x7e]/gu;

function isSlash(code: number): boolean {
  return code === 0x2f /* / */ || code === 0x5c /* \ */;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}
