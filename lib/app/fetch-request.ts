// The web-standard Request a fetch handler receives: a real `Request` for every use (instanceof,
// every property and method, `new Request(it)`), built lazily over linger's own request so that
// a handler that reads only the URL and method pays for nothing else.

import { HttpError } from '../connection/http-error.js';
import { isToken } from '../http1/header-validation.js';
import type { Request as AppRequest } from './request.js';

// Node loads its fetch implementation (undici, some 3 MB of heap) on the first touch of these
// globals: they are bound when a fetch server is created (bindWebRequest), never at import, so an
// app that serves no fetch handler does not carry undici (measured: 2-3 % of bench:engine's CPU).
let NativeRequest!: typeof globalThis.Request;
let NativeHeaders!: typeof globalThis.Headers;
let bound = false;
// The properties as Node defines them (lazy getters), taken before anything can replace the
// globals (serve()'s light Response, another framework's): binding later still finds undici's.
const REQUEST_GLOBAL = Object.getOwnPropertyDescriptor(globalThis, 'Request');
const HEADERS_GLOBAL = Object.getOwnPropertyDescriptor(globalThis, 'Headers');

/** @internal The value behind a global's original property descriptor, loading it if lazy. */
export function originalGlobal<T>(descriptor: PropertyDescriptor | undefined, fallback: T): T {
  if (descriptor === undefined) return fallback;
  return (descriptor.get !== undefined ? descriptor.get.call(globalThis) : descriptor.value) as T;
}
/** Builds (once) and returns the real undici object behind a lazy one. */
export const TO_NATIVE: unique symbol = Symbol('linger.toNative');

/**
 * The request headers as a `Headers`: get() and has() answer from the parsed head; anything else
 * (iteration, changes) first builds a real Headers and then uses it for the rest of the request.
 */
export class LazyHeaders {
  #raw: readonly string[];
  #native: Headers | null = null;

  constructor(raw: readonly string[]) {
    this.#raw = raw;
  }

  /** The real Headers, built once. */
  [TO_NATIVE](): Headers {
    if (this.#native === null) {
      const headers = new NativeHeaders();
      const raw = this.#raw;
      for (let i = 0; i < raw.length; i += 2) {
        // The parser vetted every byte against RFC 9110; undici's Headers is stricter in corner
        // cases, and a field it refuses is one a handler could not have read through it anyway.
        try {
          headers.append(raw[i]!, raw[i + 1]!);
        } catch {
          continue;
        }
      }
      this.#native = headers;
    }
    return this.#native;
  }

  get(name: string): string | null {
    if (this.#native !== null || typeof name !== 'string' || !isToken(name)) return this[TO_NATIVE]().get(name);
    return joinedField(this.#raw, name.toLowerCase());
  }

  has(name: string): boolean {
    if (this.#native !== null || typeof name !== 'string' || !isToken(name)) return this[TO_NATIVE]().has(name);
    return joinedField(this.#raw, name.toLowerCase()) !== null;
  }

  append(name: string, value: string): void {
    this[TO_NATIVE]().append(name, value);
  }

  set(name: string, value: string): void {
    this[TO_NATIVE]().set(name, value);
  }

  delete(name: string): void {
    this[TO_NATIVE]().delete(name);
  }

  getSetCookie(): string[] {
    return this[TO_NATIVE]().getSetCookie();
  }

  forEach(callback: (value: string, name: string, parent: Headers) => void, thisArg?: unknown): void {
    this[TO_NATIVE]().forEach((value, name) => callback.call(thisArg, value, name, this as unknown as Headers));
  }

  keys(): IterableIterator<string> {
    return this[TO_NATIVE]().keys();
  }

  values(): IterableIterator<string> {
    return this[TO_NATIVE]().values();
  }

  entries(): IterableIterator<[string, string]> {
    return this[TO_NATIVE]().entries();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this[TO_NATIVE]().entries();
  }
}

/** Repeated fields joined as undici's Headers joins them: Cookie with "; ", the rest with ", " (RFC 9110 5.3). */
function joinedField(raw: readonly string[], lower: string): string | null {
  let value: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lower.length && name.toLowerCase() === lower) {
      value = value === null ? raw[i + 1]! : `${value}${lower === 'cookie' ? '; ' : ', '}${raw[i + 1]!}`;
    }
  }
  return value;
}

/**
 * A `Request` whose prototype is the global Request's: url, method, headers, signal and the body
 * readers come from linger's request; anything else builds the real undici Request once (with the
 * same headers, signal and body stream) and asks it.
 */
export class LazyWebRequest {
  #req: AppRequest<unknown>;
  #url: string;
  #headers: LazyHeaders | null = null;
  #native: globalThis.Request | null = null;
  #stream: ReadableStream<Uint8Array> | null = null;
  #streamPulled = false;
  #consumed = false;

  constructor(req: AppRequest<unknown>, url: string) {
    this.#req = req;
    this.#url = url;
  }

  get url(): string {
    return this.#url;
  }

  get method(): string {
    return normalizeMethod(this.#req.method);
  }

  get headers(): Headers {
    return (this.#headers ??= new LazyHeaders(this.#req.rawHeaders)) as unknown as Headers;
  }

  /** linger's own signal: aborts when the client leaves before the response is complete. */
  get signal(): AbortSignal {
    return this.#req.signal;
  }

  get body(): ReadableStream<Uint8Array> | null {
    // Once the real Request exists it owns the body (after clone() its stream is a tee branch).
    if (this.#native !== null) return this.#native.body;
    if (!hasBody(this.#req)) return null;
    return (this.#stream ??= this.#bodyStream());
  }

  get bodyUsed(): boolean {
    if (this.#native !== null) return this.#native.bodyUsed;
    return this.#consumed || this.#streamPulled;
  }

  text(): Promise<string> {
    return this.#read((bytes) => utf8(bytes), 'text');
  }

  json(): Promise<unknown> {
    return this.#read((bytes) => JSON.parse(utf8(bytes)) as unknown, 'json');
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    // A copy: the bytes may be a view of the socket's read buffer, which is reused.
    return this.#read((bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer, 'arrayBuffer');
  }

  bytes(): Promise<Uint8Array> {
    return this.#read((bytes) => new Uint8Array(bytes), 'bytes');
  }

  /**
   * Reads the whole body straight from linger's request (subject to bodyLimit) unless the real
   * Request exists (then it answers) or the body was read another way (then it is unusable).
   */
  #read<T>(convert: (bytes: Buffer) => T, method: 'text' | 'json' | 'arrayBuffer' | 'bytes'): Promise<T> {
    if (this.#native !== null) return (this.#native as unknown as Record<string, () => Promise<T>>)[method]!();
    if (this.#consumed || this.#streamPulled || this.#stream?.locked === true) {
      return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
    }
    this.#consumed = true;
    if (!hasBody(this.#req)) return tryConvert(convert, EMPTY);
    return this.#req.buffer().then(convert);
  }

  /** The real Request, built on first need with the same headers, signal and body. */
  [TO_NATIVE](): globalThis.Request {
    if (this.#native === null) {
      const req = this.#req;
      const init: RequestInit & { duplex?: 'half' } = {
        method: this.method,
        headers: (this.headers as unknown as LazyHeaders)[TO_NATIVE](),
        signal: req.signal,
      };
      if (hasBody(req)) {
        if (this.#consumed || this.#streamPulled || this.#stream?.locked === true) {
          // Read already (whole, or through a reader of the stream): a used body, as the spec leaves it.
          const used = new NativeRequest(this.#url, { ...init, body: new Uint8Array(0) });
          void used.arrayBuffer().catch(() => undefined);
          this.#native = used;
          return used;
        }
        init.body = (this.#stream ??= this.#bodyStream());
        // Required by the fetch spec for a streamed body: the response may start before it ends.
        init.duplex = 'half';
      }
      this.#native = new NativeRequest(this.#url, init);
    }
    return this.#native;
  }

  /** Pull-based: each pull is one read(), so a handler that reads slowly slows the client down. */
  #bodyStream(): ReadableStream<Uint8Array> {
    const req = this.#req;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        this.#streamPulled = true;
        const chunk = this.#consumed ? null : await req.read();
        if (chunk === null) controller.close();
        else controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      },
    }, { highWaterMark: 0 });
  }
}


/** Binds the lazy request and headers to the real Request and Headers; once, before the first request. */
export function bindWebRequest(): void {
  if (bound) return;
  bound = true;
  NativeRequest = originalGlobal(REQUEST_GLOBAL, globalThis.Request);
  NativeHeaders = originalGlobal(HEADERS_GLOBAL, globalThis.Headers);
  Object.setPrototypeOf(LazyHeaders.prototype, NativeHeaders.prototype);
  // Every other member of Request (cache, mode, clone(), formData(), blob(), ...) and undici's
  // internal slots (read by `new Request(request)`) come from the real Request.
  const own = new Set<string | symbol>(Reflect.ownKeys(LazyWebRequest.prototype));
  for (const key of Reflect.ownKeys(NativeRequest.prototype)) {
    if (own.has(key) || key === 'constructor' || key === Symbol.toStringTag) continue;
    const descriptor = Object.getOwnPropertyDescriptor(NativeRequest.prototype, key)!;
    if (descriptor.get !== undefined) {
      Object.defineProperty(LazyWebRequest.prototype, key, {
        configurable: true,
        get(this: LazyWebRequest) {
          return (this[TO_NATIVE]() as unknown as Record<string | symbol, unknown>)[key];
        },
      });
    } else if (typeof descriptor.value === 'function') {
      const method = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(LazyWebRequest.prototype, key, {
        configurable: true,
        writable: true,
        value(this: LazyWebRequest, ...args: unknown[]) {
          return method.apply(this[TO_NATIVE](), args);
        },
      });
    }
  }
  const probe = new NativeRequest('http://localhost/');
  for (const key of Object.getOwnPropertySymbols(probe)) {
    Object.defineProperty(LazyWebRequest.prototype, key, {
      configurable: true,
      get(this: LazyWebRequest) {
        return (this[TO_NATIVE]() as unknown as Record<symbol, unknown>)[key];
      },
    });
  }
  Object.setPrototypeOf(LazyWebRequest.prototype, NativeRequest.prototype);
}

const EMPTY = Buffer.alloc(0);

function tryConvert<T>(convert: (bytes: Buffer) => T, bytes: Buffer): Promise<T> {
  try {
    return Promise.resolve(convert(bytes));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** UTF-8 decode as the fetch spec's "UTF-8 decode": a leading byte order mark is dropped. */
function utf8(bytes: Buffer): string {
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return bytes.toString('utf8', start);
}

/**
 * A request declared a body with Content-Length (0 included: an empty body, not none) or chunked
 * framing (RFC 9112 6.1); a GET or HEAD never has one in the fetch API, whatever the client sent.
 */
function hasBody(req: AppRequest<unknown>): boolean {
  const method = req.method;
  return method !== 'GET' && method !== 'HEAD' && (req.head.contentLength >= 0 || req.head.chunked);
}

/** The fetch spec normalizes only these six methods to upper case (Fetch 2.2.1). */
function normalizeMethod(method: string): string {
  switch (method) {
    case 'GET': case 'POST': case 'PUT': case 'DELETE': case 'HEAD': case 'OPTIONS': case 'PATCH':
      return method;
    default: {
      const upper = method.toUpperCase();
      return upper === 'GET' || upper === 'POST' || upper === 'PUT' || upper === 'DELETE' || upper === 'HEAD' || upper === 'OPTIONS' ? upper : method;
    }
  }
}
