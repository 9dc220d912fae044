// Response compression: gzip and brotli (node:zlib) negotiated from Accept-Encoding (RFC 9110
// 12.5.3), applied after the onSend hooks to whole bodies (with a byte-bounded cache for bodies
// that carry an ETag, such as files) and to streamed bodies with backpressure.

import zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { UsageError } from '../http1/protocol-error.js';
import type { OnRequestHook } from './dispatch.js';
import type { Request } from './request.js';
import type { Response } from './response.js';
import { addVary } from './cors.js';

export type Encoding = 'br' | 'gzip';

export interface CompressOptions {
  /** Codings offered, in the server's order of preference when the client rates them equally. Default ['br', 'gzip']. */
  encodings?: readonly Encoding[];
  /** Whole bodies smaller than this many bytes are sent as they are (compression would not pay). Default 1024. */
  threshold?: number;
  /** gzip level 0-9. Default 6 (zlib's). */
  gzipLevel?: number;
  /** brotli quality 0-11. Default 4: close to gzip 6 in speed with smaller output; 11 is for precompressing. */
  brotliQuality?: number;
  /** Bytes of compressed whole bodies kept, keyed by ETag and coding, so a hot file is compressed once. Default 8 MiB; 0 disables. */
  cacheBytes?: number;
  /** Which Content-Types are compressed. Default: text/*, JSON, JavaScript, XML, SVG and other text-like types. */
  filter?: (contentType: string) => boolean;
}

/** Application types that are text; image, audio, video, fonts in woff2, archives are already compressed. */
const TEXT_LIKE_APPLICATION = new Set([
  'json', 'javascript', 'ecmascript', 'xml', 'xhtml+xml', 'rss+xml', 'atom+xml', 'x-www-form-urlencoded', 'wasm', 'graphql',
  'manifest+json', 'ld+json', 'problem+json', 'vnd.api+json',
]);

/**
 * Text-like types: text/* (but text/event-stream, whose events must not wait in a compressor),
 * the application types above, image/svg+xml and any +json or +xml suffix. A scan of the media
 * type, not an expression: Content-Type may carry anything a handler put there.
 */
function isCompressibleType(contentType: string): boolean {
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  const slash = type.indexOf('/');
  if (slash <= 0) return false;
  const top = type.slice(0, slash);
  const sub = type.slice(slash + 1);
  if (top === 'text') return sub !== 'event-stream';
  if (top === 'application' && TEXT_LIKE_APPLICATION.has(sub)) return true;
  if (type === 'image/svg+xml') return true;
  return sub.endsWith('+json') || sub.endsWith('+xml');
}

/** A q parameter (RFC 9110 12.4.2: "q=" then 0 or 1 with up to three decimals), or null when malformed. */
function qValue(parameter: string): number | null {
  const p = parameter.trim();
  if (p.length < 3 || (p.charCodeAt(0) | 0x20) !== 0x71) return null; // q or Q
  let i = 1;
  while (i < p.length && (p[i] === ' ' || p[i] === '\t')) i++;
  if (p[i] !== '=') return null;
  const value = p.slice(i + 1).trim();
  const first = value.charCodeAt(0);
  if (value.length === 0 || value.length > 5 || (first !== 0x30 && first !== 0x31)) return null;
  if (value.length > 1) {
    if (value[1] !== '.') return null;
    for (let k = 2; k < value.length; k++) {
      const c = value.charCodeAt(k);
      if (c < 0x30 || c > 0x39) return null;
    }
  }
  return Math.min(1, Number(value));
}

const OPTION_KEYS = new Set(['encodings', 'threshold', 'gzipLevel', 'brotliQuality', 'cacheBytes', 'filter']);

/**
 * The coding to use from an Accept-Encoding value (RFC 9110 12.5.3): the highest q among the ones
 * offered, server order breaking ties; `*` rates codings not named; q=0 refuses. null: identity.
 * No header means no preference, and identity is what every client understands.
 */
export function negotiateEncoding(header: string | undefined, offered: readonly Encoding[]): Encoding | null {
  if (header === undefined) return null;
  let best: Encoding | null = null;
  let bestQ = 0;
  let star = -1;
  const rated = new Map<string, number>();
  for (const item of header.split(',')) {
    const semi = item.indexOf(';');
    const coding = (semi === -1 ? item : item.slice(0, semi)).trim().toLowerCase();
    if (coding === '') continue;
    let q = 1;
    if (semi !== -1) {
      q = qValue(item.slice(semi + 1)) ?? 0;
    }
    if (coding === '*') star = q;
    else if (!rated.has(coding)) rated.set(coding, q);
  }
  for (const coding of offered) {
    const q = rated.get(coding) ?? (rated.has('x-gzip') && coding === 'gzip' ? rated.get('x-gzip')! : star >= 0 ? star : 0);
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}

/** Compressed whole bodies by coding and ETag, dropped oldest first past the byte bound. */
class CompressedCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;
  constructor(private readonly limit: number) {}

  get(key: string): Buffer | undefined {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Most recently used goes last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: Buffer): void {
    if (value.length > this.limit / 4) return;
    this.entries.set(key, value);
    this.bytes += value.length;
    for (const [oldest, data] of this.entries) {
      if (this.bytes <= this.limit) break;
      this.entries.delete(oldest);
      this.bytes -= data.length;
    }
  }
}

interface Settings {
  offered: readonly Encoding[];
  threshold: number;
  gzip: zlib.ZlibOptions;
  brotli: zlib.BrotliOptions;
  cache: CompressedCache | null;
  filter: (contentType: string) => boolean;
}

/**
 * What a response's write/end go through once the hook armed it (Response calls it after the
 * onSend hooks, when the head is final). Decides once, at the first write or end.
 */
export class ResponseEncoder {
  private decided = false;
  private coding: Encoding | null;
  private stream: Transform | null = null;
  private pendingDrain: Promise<void> | null = null;
  private ending = false;

  constructor(private readonly settings: Settings, coding: Encoding | null) {
    this.coding = coding;
  }

  /** The head is about to be final: compress or not, and the headers that say so. */
  private decide(res: Response, wholeLength: number): Encoding | null {
    if (this.decided) return this.coding;
    this.decided = true;
    const coding = this.coding;
    const status = res.statusCode;
    const type = res.getHeader('Content-Type');
    // Ranges are of the identity representation (RFC 9110 14.1); 204/304/1xx have no body.
    if (status < 200 || status === 204 || status === 304 || status === 206 || type === undefined || !this.settings.filter(type)) {
      return (this.coding = null);
    }
    if (res.hasHeader('Content-Encoding') || res.hasHeader('Content-Range') || String(res.getHeader('Cache-Control') ?? '').toLowerCase().includes('no-transform')) {
      return (this.coding = null);
    }
    // The representation depends on Accept-Encoding from here on, whether or not this one is compressed.
    addVary(res, 'Accept-Encoding');
    if (coding === null || (wholeLength >= 0 && wholeLength < this.settings.threshold) || res.request.method === 'HEAD') {
      return (this.coding = null);
    }
    res.setHeader('Content-Encoding', coding);
    res.removeHeader('Content-Length');
    const etag = res.getHeader('ETag');
    // A compressed representation is not byte-identical to the identity one: its validator is weak (RFC 9110 8.8.1).
    if (etag !== undefined && !etag.startsWith('W/')) res.setHeader('ETag', `W/${etag}`);
    return coding;
  }

  /** A whole body: compressed in one go (from the cache when it carries an ETag), then sent with its length. */
  end(res: Response, body: Buffer | Uint8Array | string | null | undefined, trailers: readonly string[] | undefined): void {
    if (this.stream !== null) {
      this.endStream(res, body, trailers);
      return;
    }
    if (this.ending) throw new UsageError('ERR_WRITE_AFTER_END', 'write after end: the response was already completed');
    const bytes = body === null || body === undefined ? null : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const coding = this.decide(res, bytes === null ? 0 : bytes.length);
    if (coding === null || bytes === null) {
      res._endRaw(bytes, trailers);
      return;
    }
    const etag = res.getHeader('ETag');
    const cache = this.settings.cache;
    const key = cache !== null && etag !== undefined ? `${coding} ${etag}` : null;
    const cached = key === null ? undefined : cache!.get(key);
    if (cached !== undefined) {
      res._endRaw(cached, trailers);
      return;
    }
    // Whole bodies up to 64 KiB are compressed inline (well under a millisecond); larger ones on
    // zlib's thread pool so the event loop keeps serving other connections meanwhile.
    if (bytes.length <= 65_536) {
      const out = coding === 'br' ? zlib.brotliCompressSync(bytes, this.settings.brotli) : zlib.gzipSync(bytes, this.settings.gzip);
      if (key !== null) cache!.set(key, out);
      res._endRaw(out, trailers);
      return;
    }
    this.ending = true;
    const done = (err: Error | null, out: Buffer): void => {
      if (err !== null) return res.destroy(err);
      if (key !== null) cache!.set(key, out);
      if (!res._preempted) res._endRaw(out, trailers);
    };
    if (coding === 'br') zlib.brotliCompress(bytes, this.settings.brotli, done);
    else zlib.gzip(bytes, this.settings.gzip, done);
  }

  /** A streamed chunk: through the compressor, whose output goes out as it comes, with backpressure both ways. */
  write(res: Response, chunk: Buffer | Uint8Array | string): boolean {
    if (this.ending) throw new UsageError('ERR_WRITE_AFTER_END', 'write after end: the response was already completed');
    if (this.stream === null) {
      const coding = this.decide(res, -1);
      if (coding === null) return res._writeRaw(chunk);
      this.openStream(res, coding);
    }
    return this.stream!.write(chunk) && !this.outputBlocked;
  }

  /** The head goes out before any body (SSE, long polls): decide now, as for a stream. */
  flushHeaders(res: Response): void {
    if (this.stream === null && this.decide(res, -1) !== null) this.openStream(res, this.coding!);
  }

  private outputBlocked = false;

  private openStream(res: Response, coding: Encoding): void {
    const stream = coding === 'br' ? zlib.createBrotliCompress(this.settings.brotli) : zlib.createGzip(this.settings.gzip);
    this.stream = stream;
    stream.on('data', (data: Buffer) => {
      if (res._preempted) return;
      if (!res._writeRaw(data)) {
        // The connection is backed up: stop the compressor until it drains, which stops its input too.
        this.outputBlocked = true;
        stream.pause();
        void res._drainedRaw().then(() => {
          this.outputBlocked = false;
          stream.resume();
        });
      }
    });
    stream.on('error', (err: Error) => res.destroy(err));
  }

  private endStream(res: Response, body: Buffer | Uint8Array | string | null | undefined, trailers: readonly string[] | undefined): void {
    if (this.ending) throw new UsageError('ERR_WRITE_AFTER_END', 'write after end: the response was already completed');
    this.ending = true;
    const stream = this.stream!;
    stream.once('end', () => {
      if (!res._preempted && !res.finished) res._endRaw(null, trailers);
    });
    if (body !== null && body !== undefined) stream.end(body);
    else stream.end();
  }

  /** Resolves once the compressor and the connection can both take more. */
  drained(res: Response): Promise<void> {
    const stream = this.stream;
    if (stream === null) return res._drainedRaw();
    if (stream.writableNeedDrain) {
      return (this.pendingDrain ??= new Promise<void>((resolve) => stream.once('drain', () => {
        this.pendingDrain = null;
        resolve();
      })));
    }
    return this.outputBlocked ? res._drainedRaw() : Promise.resolve();
  }
}

function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError('ERR_INVALID_OPTION', `compress: ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** The hook: arms each response's encoder with the coding its request negotiated. Options checked once, here. */
export function compress(options: CompressOptions = {}): OnRequestHook {
  if (options === null || typeof options !== 'object') throw new UsageError('ERR_INVALID_OPTION', 'compress: options must be an object');
  for (const key of Object.keys(options)) if (!OPTION_KEYS.has(key)) throw new UsageError('ERR_INVALID_OPTION', `compress: unknown option ${key}`);
  const offered = options.encodings ?? ['br', 'gzip'];
  if (!Array.isArray(offered) || offered.length === 0 || offered.some((e) => e !== 'br' && e !== 'gzip')) {
    throw new UsageError('ERR_INVALID_OPTION', 'compress: encodings must be a non-empty list of \'br\' and \'gzip\'');
  }
  const filter = options.filter ?? isCompressibleType;
  if (typeof filter !== 'function') throw new UsageError('ERR_INVALID_OPTION', 'compress: filter must be a function');
  const cacheBytes = checkInteger(options.cacheBytes ?? 8 * 1024 * 1024, 'cacheBytes', 0, Number.MAX_SAFE_INTEGER);
  const settings: Settings = {
    offered,
    threshold: checkInteger(options.threshold ?? 1024, 'threshold', 0, Number.MAX_SAFE_INTEGER),
    gzip: { level: checkInteger(options.gzipLevel ?? 6, 'gzipLevel', 0, 9) },
    brotli: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: checkInteger(options.brotliQuality ?? 4, 'brotliQuality', 0, 11) } },
    cache: cacheBytes > 0 ? new CompressedCache(cacheBytes) : null,
    filter,
  };
  return function compressHook(req: Request, res: Response): void {
    if (res._encoder !== null) return;
    res._encoder = new ResponseEncoder(settings, negotiateEncoding(req.header('accept-encoding'), settings.offered));
  };
}
