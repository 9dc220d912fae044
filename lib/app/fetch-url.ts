// The absolute URL a fetch handler's Request carries (RFC 9112 3.3), built from Host and the target
// without the URL parser when the target is already what the parser would return, and with it
// otherwise; origins cached per Host.

import { HttpError } from '../connection/http-error.js';
import type { Request as AppRequest } from './request.js';

/** Distinct Host values remembered; past this the cache starts over (a client can send any Host). */
const ORIGIN_CACHE_LIMIT = 256;
/**
 * Characters the URL parser leaves exactly as they are in a path and query: ! $ % & ( ) * + , - . /
 * 0-9 : ; = ? @ A-Z [ ] _ a-z ~ (nothing to percent-encode, no backslash to turn into a slash).
 */
const PLAIN_CHAR = (() => {
  const table = new Uint8Array(128);
  const mark = (from: number, to: number) => table.fill(1, from, to + 1);
  for (const c of '!$%&=[]_~') table[c.charCodeAt(0)] = 1;
  mark(0x28 /* ( */, 0x3b /* ; */);
  mark(0x3f /* ? */, 0x5a /* Z */);
  mark(0x61 /* a */, 0x7a /* z */);
  return table;
})();
/** Dot segments, also percent-encoded ones, which the URL parser resolves (WHATWG URL, path state). */
const DOT_SEGMENT = /\/(?:\.|%2e)(?:\.|%2e)?(?:[/?]|$)/i;

/**
 * The absolute URL of a request (RFC 9112 3.3: from Host for origin-form targets), as the URL
 * parser would serialize it; a 400 HttpError when Host or the target cannot form a URL.
 */
export function effectiveUrl(req: AppRequest<unknown>): string {
  const target = req.url;
  if (target.charCodeAt(0) !== 47 /* / */) {
    if (target === '*') return `${originOf(req.head.host ?? 'localhost', req.secure)}/`;
    return parseUrl(target, undefined);
  }
  const origin = originOf(req.head.host ?? 'localhost', req.secure);
  const plain = plainPath(target);
  if (plain === PLAIN || (plain === MAYBE_DOTS && !DOT_SEGMENT.test(target))) return origin + target;
  return parseUrl(target, `${origin}/`);
}

const PLAIN = 0;
const MAYBE_DOTS = 1;
const NOT_PLAIN = 2;

/** One pass over an origin-form target: PLAIN, MAYBE_DOTS (a "/." or "/%" to look at), or NOT_PLAIN. */
function plainPath(target: string): number {
  let result = PLAIN;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c > 0x7f || PLAIN_CHAR[c] === 0) return NOT_PLAIN;
    if (c === 0x2f /* / */) {
      const next = target.charCodeAt(i + 1);
      if (next === 0x2e /* . */ || next === 0x25 /* % */) result = MAYBE_DOTS;
    }
  }
  return result;
}

/** The last Host seen and its origin, per scheme: clients send the same Host on every request of a connection. */
const plain: OriginCache = { lastHost: '', lastOrigin: null, origins: new Map(), scheme: 'http' };
const secured: OriginCache = { lastHost: '', lastOrigin: null, origins: new Map(), scheme: 'https' };

interface OriginCache {
  lastHost: string;
  lastOrigin: string | null;
  /** Origins by Host value: the URL parser runs once per distinct Host, not per request. */
  readonly origins: Map<string, string | null>;
  readonly scheme: 'http' | 'https';
}

function originOf(host: string, secure: boolean): string {
  const cache = secure ? secured : plain;
  if (host === cache.lastHost && cache.lastOrigin !== null) return cache.lastOrigin;
  const origins = cache.origins;
  let origin = origins.get(host);
  if (origin === undefined) {
    try {
      const url = new URL(`${cache.scheme}://${host}/`);
      // A Host with a path, user info or query would make the URL something else than the host.
      origin = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && !host.includes('@') ? url.origin : null;
    } catch {
      origin = null;
    }
    if (origins.size >= ORIGIN_CACHE_LIMIT) origins.clear();
    origins.set(host, origin);
  }
  if (origin === null) throw new HttpError(400, 'ERR_INVALID_HOST', 'the Host header does not form a valid URL');
  cache.lastHost = host;
  cache.lastOrigin = origin;
  return origin;
}

function parseUrl(target: string, base: string | undefined): string {
  try {
    return new URL(target, base).href;
  } catch {
    throw new HttpError(400, 'ERR_INVALID_URL', 'the request target does not form a valid URL');
  }
}
