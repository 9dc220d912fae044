// A light `Response` that keeps its body and init as given and builds the real undici Response
// only when something needs more than status, headers and a body known whole: the serve() path
// then sends a string or bytes straight away. Installed as the global Response by serve() unless
// `overrideGlobalObjects: false`.

import { originalGlobal, TO_NATIVE } from './fetch-request.js';

// Bound when a fetch server is created, not at import (see fetch-request.ts: Node loads undici on
// the first touch of its globals).
let NativeResponse!: typeof globalThis.Response;
let bound = false;
const RESPONSE_GLOBAL = Object.getOwnPropertyDescriptor(globalThis, 'Response');

/** Statuses that must not carry a body (Fetch: null body status). */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const TEXT_TYPE = 'text/plain;charset=UTF-8';
const FORM_TYPE = 'application/x-www-form-urlencoded;charset=UTF-8';

type BodyInit = ConstructorParameters<typeof globalThis.Response>[0];
type HeadersInit = ConstructorParameters<typeof globalThis.Headers>[0];

export type WholeBody = string | Uint8Array | ArrayBuffer | Blob | URLSearchParams;

export class LightResponse {
  #body: WholeBody | null;
  #status: number;
  #init: ResponseInit | undefined;
  #headers: Headers | null = null;
  #native: globalThis.Response | null = null;

  static [Symbol.hasInstance](value: unknown): boolean {
    // Code that kept the original Response (or received one from fetch()) still sees these as Responses.
    return typeof value === 'object' && value !== null && (#body in value || value instanceof NativeResponse);
  }

  /** A light Response itself (instanceof also accepts undici's). */
  static isLight(value: unknown): value is LightResponse {
    return typeof value === 'object' && value !== null && #body in value;
  }

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    const status = init?.status;
    this.#status = status === undefined ? 200 : status;
    this.#init = init;
    if (body === undefined || body === null) {
      this.#body = null;
    } else if (isWholeBody(body)) {
      this.#body = body;
    } else {
      // Streams, FormData and anything else: undici does the work (and raises its errors) now.
      this.#body = null;
      this.#native = new NativeResponse(body, init);
      return;
    }
    // Checks undici would make, made by undici so the error is the one users know.
    if (status !== undefined && (!Number.isInteger(status) || status < 200 || status > 599)) this.#native = new NativeResponse(body, init);
    else if (this.#body !== null && NULL_BODY_STATUS.has(this.#status)) this.#native = new NativeResponse(body, init);
    // A Response passed as init (Hono's HEAD answer) has statusText '': nothing for undici to check.
    else if (init?.statusText !== undefined && init.statusText !== '') this.#native = new NativeResponse(body, init);
  }

  static json(data: unknown, init?: ResponseInit): globalThis.Response {
    const text = JSON.stringify(data);
    if (typeof text !== 'string') return NativeResponse.json(data, init);
    const headers = new Headers(init?.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return new LightResponse(text, { ...init, headers }) as unknown as globalThis.Response;
  }

  static error(): globalThis.Response {
    return NativeResponse.error();
  }

  static redirect(url: string | URL, status?: number): globalThis.Response {
    return (NativeResponse.redirect as (url: string | URL, status?: number) => globalThis.Response)(url, status);
  }

  get status(): number {
    return this.#native?.status ?? this.#status;
  }

  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status <= 299;
  }

  get statusText(): string {
    return this.#native?.statusText ?? '';
  }

  get type(): globalThis.Response['type'] {
    return this.#native?.type ?? 'default';
  }

  get url(): string {
    return this.#native?.url ?? '';
  }

  get redirected(): boolean {
    return this.#native?.redirected ?? false;
  }

  get headers(): Headers {
    if (this.#headers === null) {
      if (this.#native !== null) return (this.#headers = this.#native.headers);
      const headers = new Headers(this.#init?.headers);
      const type = defaultContentType(this.#body);
      if (type !== null && !headers.has('content-type')) headers.set('content-type', type);
      this.#headers = headers;
    }
    return this.#headers;
  }

  /** The body when it is known whole and no reader touched it; undefined once the real Response exists. */
  _wholeBody(): WholeBody | null | undefined {
    return this.#native === null ? this.#body : undefined;
  }

  /** The Headers, if anything built them: they then hold every change. */
  _builtHeaders(): Headers | null {
    return this.#headers;
  }

  /** The init's headers as the handler gave them. */
  _initHeaders(): HeadersInit | undefined {
    return this.#init?.headers;
  }

  /** The Content-Type the body implies, for when the headers name none. */
  _defaultType(): string | null {
    return defaultContentType(this.#body);
  }

  [TO_NATIVE](): globalThis.Response {
    if (this.#native === null) {
      this.#native = new NativeResponse(this.#body, { status: this.#status, headers: this.headers });
      // From here on the real Response's headers are the ones: later changes go there.
      this.#headers = this.#native.headers;
    }
    return this.#native;
  }
}

function isWholeBody(body: unknown): body is WholeBody {
  return typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer || body instanceof Blob || body instanceof URLSearchParams
    || ArrayBuffer.isView(body);
}

/** The Content-Type the fetch spec's "extract a body" gives each kind of body. */
function defaultContentType(body: WholeBody | null): string | null {
  if (body === null) return null;
  if (typeof body === 'string') return TEXT_TYPE;
  if (body instanceof URLSearchParams) return FORM_TYPE;
  if (body instanceof Blob) return body.type === '' ? null : body.type;
  return null;
}

/** undici's own Response, whatever the global is now. */
/** The real Response (undici's), whatever the global is; set by bindWebResponse(). */
export let OriginalResponse!: typeof globalThis.Response;

let installed = 0;

/**
 * Makes `Response` (what Hono and other frameworks construct) the light one while at least one
 * server that asked for it runs; returns the undo.
 */
export function installLightResponse(): () => void {
  if (installed++ === 0) {
    Object.defineProperty(globalThis, 'Response', { value: LightResponse, writable: true, configurable: true, enumerable: false });
  }
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    if (--installed === 0) {
      Object.defineProperty(globalThis, 'Response', { value: NativeResponse, writable: true, configurable: true, enumerable: false });
    }
  };
}

/** The state slot of undici's Response, found on a probe, for reading a whole body without a reader. */
export let UNDICI_STATE: symbol | undefined;

function undiciStateSlot(): symbol | undefined {
  const probe = new NativeResponse('x');
  for (const key of Object.getOwnPropertySymbols(probe)) {
    const state = (probe as unknown as Record<symbol, { body?: { source?: unknown } } | undefined>)[key];
    if (state?.body?.source === 'x') return key;
  }
  return undefined;
}

/** Binds the light Response to the real one; once, before a fetch server's first request. */
export function bindWebResponse(): void {
  if (bound) return;
  bound = true;
  NativeResponse = OriginalResponse = originalGlobal(RESPONSE_GLOBAL, globalThis.Response);
  UNDICI_STATE = undiciStateSlot();
  // body, bodyUsed, text(), json(), clone() and every other member come from the real Response.
  const own = new Set<string | symbol>(Reflect.ownKeys(LightResponse.prototype));
  for (const key of Reflect.ownKeys(NativeResponse.prototype)) {
    if (own.has(key) || key === 'constructor' || key === Symbol.toStringTag) continue;
    const descriptor = Object.getOwnPropertyDescriptor(NativeResponse.prototype, key)!;
    if (descriptor.get !== undefined) {
      Object.defineProperty(LightResponse.prototype, key, {
        configurable: true,
        get(this: LightResponse) {
          return (this[TO_NATIVE]() as unknown as Record<string | symbol, unknown>)[key];
        },
      });
    } else if (typeof descriptor.value === 'function') {
      const method = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(LightResponse.prototype, key, {
        configurable: true,
        writable: true,
        value(this: LightResponse, ...args: unknown[]) {
          return method.apply(this[TO_NATIVE](), args);
        },
      });
    }
  }
  // undici's internal slots, read when a Response is passed where undici expects one of its own.
  const probe = new NativeResponse(null);
  for (const key of Object.getOwnPropertySymbols(probe)) {
    Object.defineProperty(LightResponse.prototype, key, {
      configurable: true,
      get(this: LightResponse) {
        return (this[TO_NATIVE]() as unknown as Record<symbol, unknown>)[key];
      },
    });
  }
  Object.setPrototypeOf(LightResponse.prototype, NativeResponse.prototype);
  Object.setPrototypeOf(LightResponse, NativeResponse);
}
