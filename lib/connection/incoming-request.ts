// One request as the engine hands it to the app: the parsed head, and the body delivered with
// backpressure (the connection stops reading while a handler leaves too much body unread).

import type { X509Certificate } from 'node:crypto';
import type { RequestHead } from '../http1/request-parser.js';
import { HttpError } from './http-error.js';
import { UsageError } from '../http1/protocol-error.js';

/** What a request needs from its connection; implemented by Connection. */
export interface RequestHost {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** The connection came over TLS. */
  readonly secure: boolean;
  /** Mutual TLS: the certificate the client presented, or null. */
  peerCertificate(): X509Certificate | null;
  /** Mutual TLS: the client presented a certificate that verified against the server's ca. */
  readonly peerAuthorized: boolean;
  /** The handler wants body bytes: send 100 Continue if it is owed, resume reading if paused. */
  onBodyDemand(request: IncomingRequest): void;
}

type Waiter = (() => void) | null;

export class IncomingRequest {
  readonly head: RequestHead;
  readonly method: string;
  readonly url: string;
  /** 1-based position of this request on its connection. */
  readonly sequence: number;
  /** @internal */ _host: RequestHost;
  private headerMap: Record<string, string> | null = null;
  private abortController: AbortController | null = null;

  // Body state. Chunks are views of the socket's read buffers: no copy until the handler asks.
  /** @internal shared empty list until the first chunk: most requests have no body */ _chunks: Buffer[] = NO_CHUNKS;
  /** @internal */ _buffered = 0;
  /** @internal */ _received = 0;
  /** @internal */ _ended: boolean;
  /** @internal */ _error: Error | null = null;
  /** @internal */ _discarding = false;
  /** @internal */ _demanded = false;
  // Defaults on the prototype (end of file): trailers and a body read are rare or late, and a field
  // written by every constructor is eight more bytes per request (issue 17: nothing more allocated).
  /** @internal trailer fields of a chunked body, flat [name, value, ...] as received */ declare _trailers: readonly string[];
  private waiter: Waiter = null;
  /** How the handler reads the body: a second whole read, or mixing the two ways, is a bug that would see an empty body. */
  declare private bodyUse: BodyUse;

  constructor(head: RequestHead, host: RequestHost, sequence: number, hasBody: boolean) {
    this.head = head;
    this.method = head.method;
    this.url = head.target;
    this.sequence = sequence;
    this._host = host;
    this._ended = !hasBody;
  }

  get httpVersion(): string {
    return this.head.versionMinor === 1 ? '1.1' : '1.0';
  }

  get rawHeaders(): readonly string[] {
    return this.head.rawHeaders;
  }

  /** Lower-cased names; repeated fields joined with ", " (RFC 9110 5.3), built on first use. */
  get headers(): Readonly<Record<string, string>> {
    return (this.headerMap ??= fieldMap(this.head.rawHeaders));
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }

  get remoteAddress(): string | undefined {
    return this._host.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this._host.remotePort;
  }

  /** True when the request came over TLS (the server's `tls` option). */
  get secure(): boolean {
    return this._host.secure;
  }

  /** 'https' over TLS, else 'http': the scheme the client used to reach this server. */
  get protocol(): 'http' | 'https' {
    return this._host.secure ? 'https' : 'http';
  }

  /**
   * Mutual TLS (`tls: { requestCert: true }`): the certificate the client presented, or null. With
   * rejectUnauthorized false it may be one that did not verify: check `clientAuthorized`.
   */
  get clientCertificate(): X509Certificate | null {
    return this._host.peerCertificate();
  }

  /** Mutual TLS: the client presented a certificate that verified against the server's `ca`. */
  get clientAuthorized(): boolean {
    return this._host.peerAuthorized;
  }

  /** Aborts when the client goes away before the response is complete. */
  get signal(): AbortSignal {
    if (this.abortController === null) this.abortController = new AbortController();
    return this.abortController.signal;
  }

  /** @internal why the signal aborted; undefined while it has not (or was never asked for) */
  get _abortReason(): unknown {
    const controller = this.abortController;
    return controller !== null && controller.signal.aborted ? controller.signal.reason : undefined;
  }

  /** @internal */
  _abort(reason: Error): void {
    if (this.abortController !== null && !this.abortController.signal.aborted) this.abortController.abort(reason);
    if (!this._ended) this._fail(reason);
  }

  /**
   * Trailer fields that ended a chunked body (RFC 9112 7.1.2), as [name, value, ...]; empty until the
   * body has been received in full. Framing fields among them never change how the body was read.
   */
  get rawTrailers(): readonly string[] {
    return this._trailers;
  }

  /** Trailer fields by lower-cased name, repeated ones joined with ", "; empty until the body is complete. */
  get trailers(): Readonly<Record<string, string>> {
    return fieldMap(this._trailers);
  }

  /** Whether the body has been received in full. */
  get complete(): boolean {
    return this._ended;
  }

  // ---- engine side ----

  /** @internal */
  _push(chunk: Buffer): void {
    this._received += chunk.length;
    if (this._discarding) return;
    if (this._chunks === NO_CHUNKS) this._chunks = [];
    this._chunks.push(chunk);
    this._buffered += chunk.length;
    this.wake();
  }

  /** @internal */
  _end(): void {
    this._ended = true;
    this.wake();
  }

  /** @internal */
  _fail(error: Error): void {
    if (this._ended && this._error === null && this._chunks.length === 0) return;
    this._error = error;
    this._ended = true;
    this.wake();
  }

  /** @internal Response finished without reading everything: drop what is buffered and what comes. */
  _discard(): void {
    this._discarding = true;
    this._chunks.length = 0;
    this._buffered = 0;
  }

  private wake(): void {
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter();
    }
  }

  // ---- handler side ----

  /** Next body chunk, or null at the end. Reading is what lets the connection read more. */
  read(): Promise<Buffer | null> {
    if (this.bodyUse === WHOLE) return Promise.reject(consumed());
    this.bodyUse = STREAMED;
    return this._nextChunk();
  }

  /** @internal the next chunk for read() and buffer(); the app's request counts it against its limit */
  async _nextChunk(): Promise<Buffer | null> {
    if (!this._demanded) {
      this._demanded = true;
      this._host.onBodyDemand(this);
    }
    for (;;) {
      if (this._chunks.length > 0) {
        const chunk = this._chunks.shift()!;
        this._buffered -= chunk.length;
        this._host.onBodyDemand(this);
        return chunk;
      }
      if (this._error !== null) throw this._error;
      if (this._ended) return null;
      if (this._discarding) return null;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    for (let chunk = await this.read(); chunk !== null; chunk = await this.read()) yield chunk;
  }

  /**
   * The whole body, once: a second call (or one after read()) throws ERR_BODY_CONSUMED. Over
   * `limit` bytes it rejects with a 413 HttpError (before reading when the length is declared).
   */
  async buffer(limit = Infinity): Promise<Buffer> {
    if (this.bodyUse !== UNREAD) throw consumed();
    this.bodyUse = WHOLE;
    const declared = this.head.contentLength;
    if (declared > limit) {
      throw new HttpError(413, 'ERR_BODY_TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${limit}`);
    }
    if (this._ended && this._error === null && this._chunks.length <= 1) {
      const only = this._chunks.length === 1 ? this._chunks[0]! : Buffer.alloc(0);
      this._chunks.length = 0;
      this._buffered = 0;
      return only;
    }
    const parts: Buffer[] = [];
    let total = 0;
    for (let chunk = await this._nextChunk(); chunk !== null; chunk = await this._nextChunk()) {
      total += chunk.length;
      if (total > limit) {
        throw new HttpError(413, 'ERR_BODY_TOO_LARGE', `request body exceeds the limit of ${limit} bytes`);
      }
      parts.push(chunk);
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  }

  async text(limit?: number): Promise<string> {
    return (await this.buffer(limit)).toString('utf8');
  }

  async json<T = unknown>(limit?: number): Promise<T> {
    const text = await this.text(limit);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new HttpError(400, 'ERR_INVALID_JSON', `request body is not valid JSON: ${(err as Error).message}`);
    }
  }
}

function fieldMap(raw: readonly string[]): Record<string, string> {
  const map = Object.create(null) as Record<string, string>;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const prev = map[name];
    map[name] = prev === undefined ? raw[i + 1]! : `${prev}, ${raw[i + 1]!}`;
  }
  return map;
}

const NO_TRAILERS: readonly string[] = Object.freeze([]);

const UNREAD = 0;
const STREAMED = 1;
const WHOLE = 2;
type BodyUse = typeof UNREAD | typeof STREAMED | typeof WHOLE;

IncomingRequest.prototype._trailers = NO_TRAILERS;
(IncomingRequest.prototype as unknown as { bodyUse: BodyUse }).bodyUse = UNREAD;

function consumed(): UsageError {
  return new UsageError('ERR_BODY_CONSUMED', 'the request body was already read: buffer(), text() and json() read it once, and not after read() or iteration');
}

/** Never pushed to: a request replaces it with its own list before its first chunk. */
const NO_CHUNKS: Buffer[] = [];
