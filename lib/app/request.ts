// The request handlers see: the engine's request plus route params, the path, a lazily parsed
// query, and the route's body limit applied to every way of reading the body.

import { IncomingRequest } from '../connection/incoming-request.js';
import { HttpError } from '../connection/http-error.js';
import { UsageError } from '../http1/protocol-error.js';
import { parseCookies, verifySigned } from './cookies.js';
import { readForm, readMultipart, type FormOptions, type MultipartLimits, type Part } from './forms.js';
import { acceptableId, generateRequestId, SILENT_LOGGER, type Logger } from './request-log.js';

/** @internal the app's logging settings, on the prototype of its request class */
export interface LogSettings {
  readonly logger: Logger;
  /** Lower-cased name of the header an incoming request id is taken from and echoed in. */
  readonly idHeader: string;
}

/** Route parameters a path declares: '/users/:id/*' gives { id: string; '*': string }. */
export type RouteParams<Path extends string> = string extends Path
  ? Record<string, string>
  : Path extends `${infer Head}/${infer Rest}`
    ? SegmentParam<Head> & RouteParams<Rest>
    : SegmentParam<Path>;

type SegmentParam<Segment extends string> = Segment extends `:${infer Name}`
  ? { [K in Name]: string }
  : Segment extends '*'
    ? { '*': string }
    : {};

/**
 * What `req.locals` holds. Declare your own keys once and every hook and handler sees them typed:
 * `declare module 'linger-http' { interface Locals { user?: User } }`.
 */
export interface Locals {
  [key: string]: unknown;
}

/** Default request body limit: 1 MiB, enough for JSON APIs; raise it per route for uploads. */
export const DEFAULT_BODY_LIMIT = 1_048_576;

export function checkBodyLimit(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value >= 0) || !(Number.isInteger(value) || value === Infinity)) {
    throw new UsageError('ERR_INVALID_OPTION', `option ${name} must be an integer >= 0 or Infinity, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
  return value;
}

export class Request<Params = Record<string, string>> extends IncomingRequest {
  params: Params = EMPTY_PARAMS as Params;
  /** The pattern of the matched route ('/users/:id'), or null for 404 and 405. */
  route: string | null = null;
  /** Bytes of body this request may deliver through read(), buffer(), text(), json() and iteration. */
  bodyLimit = DEFAULT_BODY_LIMIT;
  private pathCache: string | null = null;
  private queryCache: URLSearchParams | null = null;
  private localsCache: Locals | null = null;
  private bodyDelivered = 0;
  // Prototype defaults (below the class): a request that never reads cookies carries no extra fields.
  /** @internal the app's cookieSecret keys, on the prototype of the app's own Request class */ declare _cookieKeys: readonly Buffer[] | null;
  /** @internal */ declare _logSettings: LogSettings | null;
  /** @internal when the logging hook saw the request (performance.now()) */ declare _startedAt: number;
  declare private idCache: string | null;
  declare private logCache: Logger | null;
  declare private cookieCache: Record<string, string> | null;
  declare private signedCache: Record<string, string> | null;

  /** The target's path, without the query; for absolute-form targets, the path part of the URL. */
  get path(): string {
    if (this.pathCache === null) {
      let target = this.url;
      if (target.charCodeAt(0) !== 47 /* / */ && target !== '*') {
        // absolute-form (RFC 9112 3.2.2): the origin server uses the path of the URL.
        const slash = target.indexOf('/', target.indexOf('//') + 2);
        target = slash === -1 ? '/' : target.slice(slash);
      }
      const q = target.indexOf('?');
      this.pathCache = q === -1 ? target : target.slice(0, q);
    }
    return this.pathCache;
  }

  get query(): URLSearchParams {
    if (this.queryCache === null) {
      const q = this.url.indexOf('?');
      this.queryCache = new URLSearchParams(q === -1 ? '' : this.url.slice(q + 1));
    }
    return this.queryCache;
  }

  /** The Host header without its port (RFC 9110 7.2), or '' when absent. */
  get hostname(): string {
    const host = this.head.host ?? '';
    if (host.charCodeAt(0) === 91 /* [ */) return host.slice(0, host.indexOf(']') + 1);
    const colon = host.indexOf(':');
    return colon === -1 ? host : host.slice(0, colon);
  }

  /**
   * This request's id: the incoming request-id header (X-Request-Id unless the requestIdHeader
   * option names another) when it is 1-128 visible ASCII characters, else a generated one.
   */
  get id(): string {
    if (this.idCache === null) {
      const settings = this._logSettings;
      // One field looked up in the raw list: building req.headers for it would cost every request.
      const given = settings === null ? undefined : rawField(this.head.rawHeaders, settings.idHeader);
      this.idCache = acceptableId(given) ? given! : generateRequestId();
    }
    return this.idCache;
  }

  /** The app's logger with this request's id bound (reqId); a silent one without the logger option. */
  get log(): Logger {
    if (this.logCache === null) {
      const settings = this._logSettings;
      this.logCache = settings === null ? SILENT_LOGGER : settings.logger.child({ reqId: this.id });
    }
    return this.logCache;
  }

  /** Cookies sent with the request (RFC 6265 5.4), parsed on first use; percent-escapes decoded. */
  get cookies(): Readonly<Record<string, string>> {
    if (this.cookieCache === null) {
      const raw = this.head.rawHeaders;
      const values: string[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        if (raw[i]!.length === 6 && raw[i]!.toLowerCase() === 'cookie') values.push(raw[i + 1]!);
      }
      this.cookieCache = parseCookies(values);
    }
    return this.cookieCache;
  }

  /**
   * The signed cookies whose HMAC verifies under one of the app's cookieSecret keys, with their
   * signature removed; tampered or unsigned ones are absent. Without cookieSecret: ERR_NO_COOKIE_SECRET.
   */
  get signedCookies(): Readonly<Record<string, string>> {
    if (this.signedCache === null) {
      const keys = this._cookieKeys;
      if (keys === null) throw new UsageError('ERR_NO_COOKIE_SECRET', 'req.signedCookies needs the app\'s cookieSecret option');
      this.signedCache = verifySigned(keys, this.cookies);
    }
    return this.signedCache;
  }

  /**
   * An application/x-www-form-urlencoded body's fields. 415 for another Content-Type, 413 past
   * `fields` (default 1000) or the body limit; read once, like text().
   */
  form(options?: FormOptions): Promise<URLSearchParams> {
    return readForm(this, options);
  }

  /**
   * A multipart/form-data body's parts in order, fields and file streams, parsed by busboy as the
   * body arrives (nothing touches the disk). Limits past which it throws a 413: fields, fieldSize,
   * files, fileSize, parts; the route's body limit applies too. Read each file's stream before the
   * next part, or it is discarded.
   */
  multipart(limits?: MultipartLimits): AsyncGenerator<Part, void, undefined> {
    return readMultipart(this, limits);
  }

  /** Per-request state for hooks and handlers (a user id set by an auth hook, a start time). */
  get locals(): Locals {
    return (this.localsCache ??= Object.create(null) as Locals);
  }

  /** @internal every chunk, through read() or buffer(), counts against the limit */
  override async _nextChunk(): Promise<Buffer | null> {
    const limit = this.bodyLimit;
    if (this.bodyDelivered === 0 && this.head.contentLength > limit) throw tooLarge(limit);
    const chunk = await super._nextChunk();
    if (chunk !== null) {
      this.bodyDelivered += chunk.length;
      if (this.bodyDelivered > limit) throw tooLarge(limit);
    }
    return chunk;
  }

  /** The whole body; over `limit` (default: the route's bodyLimit) a 413 HttpError. */
  override async buffer(limit: number = this.bodyLimit): Promise<Buffer> {
    if (limit > this.bodyLimit) this.bodyLimit = limit;
    const body = await super.buffer(limit);
    // The engine hands a body that arrived whole straight over, without going through read().
    if (body.length > limit) throw tooLarge(limit);
    return body;
  }
}

/** The first value of a field by its lower-cased name, from a raw [name, value, ...] list. */
function rawField(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'ERR_BODY_TOO_LARGE', `request body exceeds the limit of ${limit} bytes`);
}

Request.prototype._cookieKeys = null;
Request.prototype._logSettings = null;
Request.prototype._startedAt = 0;
(Request.prototype as unknown as { idCache: null }).idCache = null;
(Request.prototype as unknown as { logCache: null }).logCache = null;
(Request.prototype as unknown as { cookieCache: null }).cookieCache = null;
(Request.prototype as unknown as { signedCache: null }).signedCache = null;

const EMPTY_PARAMS: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);
