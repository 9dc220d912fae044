// Cookies: parsing the Cookie header (RFC 6265 5.4), serialising Set-Cookie with its attributes
// validated (RFC 6265 4.1, RFC 6265bis SameSite and prefixes, CHIPS Partitioned), and signing
// values with HMAC-SHA256 under one or more keys (the first signs, every one verifies: rotation).

import { createHmac, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../http1/protocol-error.js';

export interface CookieOptions {
  /** Seconds until the cookie expires (RFC 6265 5.2.2); 0 or less expires it now. */
  maxAge?: number;
  expires?: Date;
  domain?: string;
  /** Default '/'. */
  path?: string;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None' | 'strict' | 'lax' | 'none';
  /** Partitioned (CHIPS): stored per top-level site; requires secure. */
  partitioned?: boolean;
  /** HMAC-sign the value with the app's first cookieSecret key; read it back from req.signedCookies. */
  signed?: boolean;
}

/** The app's cookieSecret: one key, or several for rotation (the first signs, all verify). */
export type CookieSecret = string | Buffer | readonly (string | Buffer)[];

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// A domain or path attribute value: no CTLs and no ';' (RFC 6265 4.1.1 av-octet), so an attribute
// can never end early and start another one or a header.
const ATTRIBUTE_VALUE = /^[\x20-\x3a\x3c-\x7e]+$/;
/** One DNS label (RFC 1035 2.3.1 as relaxed by RFC 1123): letters, digits, inner hyphens. */
const LABEL = /^[A-Za-z0-9-]+$/;

/** A Domain attribute: dot-separated labels, a leading dot allowed (RFC 6265 5.2.3 ignores it). */
function isDomain(value: string): boolean {
  const labels = (value.startsWith('.') ? value.slice(1) : value).split('.');
  return labels.every((label) => LABEL.test(label) && !label.startsWith('-') && !label.endsWith('-'));
}
const SAME_SITE: Readonly<Record<string, string>> = { strict: 'Strict', lax: 'Lax', none: 'None' };

function invalid(message: string): UsageError {
  return new UsageError('ERR_INVALID_COOKIE', message);
}

/** The keys of a cookieSecret option, checked at construction: misuse fails where it is written. */
export function cookieKeysOf(secret: unknown): readonly Buffer[] | null {
  if (secret === undefined) return null;
  const list = Array.isArray(secret) ? secret : [secret];
  if (list.length === 0) throw new UsageError('ERR_INVALID_OPTION', 'option cookieSecret must hold at least one key');
  return list.map((key: unknown) => {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.isBuffer(key) ? key : null;
    // 32 bytes: the HMAC-SHA256 output size; a shorter secret is guessable offline from one signed cookie.
    if (bytes === null || bytes.length < 32) {
      throw new UsageError('ERR_INVALID_OPTION', 'option cookieSecret keys must be strings or Buffers of at least 32 bytes');
    }
    return bytes;
  });
}

/**
 * name → value from Cookie header values (RFC 6265 5.4). The first of a repeated name wins (user
 * agents send the most specific path first); DQUOTEs around a value are dropped; percent-escapes
 * are decoded when they decode (values set by res.cookie() are encoded).
 */
export function parseCookies(headers: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const header of headers) {
    let at = 0;
    while (at < header.length) {
      let end = header.indexOf(';', at);
      if (end === -1) end = header.length;
      const eq = header.indexOf('=', at);
      if (eq !== -1 && eq < end) {
        const name = header.slice(at, eq).trim();
        if (name !== '' && !(name in out)) {
          let value = header.slice(eq + 1, end).trim();
          if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1);
          out[name] = decode(value);
        }
      }
      at = end + 1;
    }
  }
  return out;
}

function decode(value: string): string {
  if (value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function signature(key: Buffer, name: string, value: string): string {
  // The name is signed with the value: a signed value cannot be replayed under another cookie's name.
  return createHmac('sha256', key).update(`${name}=${value}`).digest('base64url');
}

export function signValue(keys: readonly Buffer[], name: string, value: string): string {
  return `${value}.${signature(keys[0]!, name, value)}`;
}

/** The value if its signature verifies under any key, else null. */
export function unsignValue(keys: readonly Buffer[], name: string, signed: string): string | null {
  const dot = signed.lastIndexOf('.');
  if (dot === -1) return null;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1), 'utf8');
  for (const key of keys) {
    const expected = Buffer.from(signature(key, name, value), 'utf8');
    if (expected.length === given.length && timingSafeEqual(expected, given)) return value;
  }
  return null;
}

/** Verified values of the signed cookies among `cookies`; ones with a bad or missing signature are left out. */
export function verifySigned(keys: readonly Buffer[], cookies: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const name of Object.keys(cookies)) {
    const value = unsignValue(keys, name, cookies[name]!);
    if (value !== null) out[name] = value;
  }
  return out;
}

/** One Set-Cookie field value; every part validated, the value percent-encoded, so nothing can end the field or an attribute early. */
export function serializeCookie(name: string, value: string, options: CookieOptions | undefined, keys: readonly Buffer[] | null): string {
  if (typeof name !== 'string' || !TOKEN.test(name)) throw invalid(`cookie name must be an HTTP token, got ${JSON.stringify(name)}`);
  if (typeof value !== 'string') throw invalid(`cookie ${name}: value must be a string, got ${typeof value}`);
  const o = options ?? {};
  if (typeof o !== 'object') throw invalid(`cookie ${name}: options must be an object`);
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key)) throw invalid(`cookie ${name}: unknown option ${JSON.stringify(key)}`);
  }
  if (o.signed === true) {
    if (keys === null) throw new UsageError('ERR_NO_COOKIE_SECRET', `cookie ${name}: signed cookies need the app's cookieSecret option`);
    value = signValue(keys, name, value);
  }
  let out = `${name}=${encodeURIComponent(value)}`;
  if (o.maxAge !== undefined) {
    if (typeof o.maxAge !== 'number' || !Number.isFinite(o.maxAge)) throw invalid(`cookie ${name}: maxAge must be a finite number of seconds`);
    out += `; Max-Age=${Math.floor(o.maxAge)}`;
  }
  if (o.expires !== undefined) {
    if (!(o.expires instanceof Date) || Number.isNaN(o.expires.getTime())) throw invalid(`cookie ${name}: expires must be a valid Date`);
    out += `; Expires=${o.expires.toUTCString()}`;
  }
  if (o.domain !== undefined) {
    if (typeof o.domain !== 'string' || !isDomain(o.domain)) throw invalid(`cookie ${name}: invalid domain ${JSON.stringify(o.domain)}`);
    out += `; Domain=${o.domain}`;
  }
  const path = o.path ?? '/';
  if (typeof path !== 'string' || path.charCodeAt(0) !== 47 || !ATTRIBUTE_VALUE.test(path)) {
    throw invalid(`cookie ${name}: path must start with / and hold no control characters or ';', got ${JSON.stringify(path)}`);
  }
  out += `; Path=${path}`;
  if (o.httpOnly === true) out += '; HttpOnly';
  if (o.secure === true) out += '; Secure';
  if (o.sameSite !== undefined) {
    const sameSite = typeof o.sameSite === 'string' ? SAME_SITE[o.sameSite.toLowerCase()] : undefined;
    if (sameSite === undefined) throw invalid(`cookie ${name}: sameSite must be Strict, Lax or None, got ${JSON.stringify(o.sameSite)}`);
    // RFC 6265bis 5.6.7: browsers reject SameSite=None without Secure.
    if (sameSite === 'None' && o.secure !== true) throw invalid(`cookie ${name}: SameSite=None requires secure: true`);
    out += `; SameSite=${sameSite}`;
  }
  if (o.partitioned === true) {
    if (o.secure !== true) throw invalid(`cookie ${name}: partitioned requires secure: true`);
    out += '; Partitioned';
  }
  // RFC 6265bis 4.1.3: user agents drop prefixed cookies that break these rules; fail where it is written.
  if (name.startsWith('__Secure-') && o.secure !== true) throw invalid(`cookie ${name}: the __Secure- prefix requires secure: true`);
  if (name.startsWith('__Host-') && (o.secure !== true || o.domain !== undefined || path !== '/')) {
    throw invalid(`cookie ${name}: the __Host- prefix requires secure: true, path '/' and no domain`);
  }
  return out;
}

const OPTION_KEYS = new Set(['maxAge', 'expires', 'domain', 'path', 'httpOnly', 'secure', 'sameSite', 'partitioned', 'signed']);
