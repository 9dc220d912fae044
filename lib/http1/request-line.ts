// The parts of the request line judged from their bytes (RFC 9112 3, RFC 9110 9.1): method, form of
// the request-target, HTTP version; plus the case-insensitive byte compare that the field rules share.

import type { NativeBuffer } from './native-buffer.js';

const COLON = 58;
const SLASH = 47;
const STAR = 42;

/** Common methods come back as interned literals, so `method === 'GET'` is a pointer compare. */
export function methodString(buf: Buffer, s: number, e: number): string {
  const c0 = buf[s]!;
  switch (e - s) {
    case 3:
      if (buf[s + 2] === 0x54) {
        if (c0 === 0x47 && buf[s + 1] === 0x45) return 'GET';
        if (c0 === 0x50 && buf[s + 1] === 0x55) return 'PUT';
      }
      break;
    case 4:
      if (c0 === 0x50 && buf[s + 1] === 0x4f && buf[s + 2] === 0x53 && buf[s + 3] === 0x54) return 'POST';
      if (c0 === 0x48 && buf[s + 1] === 0x45 && buf[s + 2] === 0x41 && buf[s + 3] === 0x44) return 'HEAD';
      break;
    case 5:
      if (bytesAre(buf, s, 'PATCH')) return 'PATCH';
      if (bytesAre(buf, s, 'TRACE')) return 'TRACE';
      break;
    case 6:
      if (bytesAre(buf, s, 'DELETE')) return 'DELETE';
      break;
    case 7:
      if (bytesAre(buf, s, 'OPTIONS')) return 'OPTIONS';
      if (bytesAre(buf, s, 'CONNECT')) return 'CONNECT';
      break;
  }
  return (buf as NativeBuffer).latin1Slice(s, e);
}

function bytesAre(buf: Buffer, s: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (buf[s + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Case-insensitive match of buf[s..] against a lower-case name or token; the caller checked the length.
 * `| 0x20` folds A-Z onto a-z; the only other bytes it maps onto [a-z0-9-] are CTLs, which never reach
 * here because names are tchars and values were validated. */
export function lowerIs(buf: Buffer, s: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[s + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** 1 or 0 for HTTP/1.1 and HTTP/1.0, -2 for another well-formed version (505), -1 for anything else (400). */
export function parseVersion(buf: Buffer, s: number, e: number): number {
  // "HTTP" is case-sensitive (RFC 9112 2.3); HTTP-version = HTTP-name "/" DIGIT "." DIGIT.
  if (e - s !== 8 || buf[s] !== 0x48 || buf[s + 1] !== 0x54 || buf[s + 2] !== 0x54 || buf[s + 3] !== 0x50 || buf[s + 4] !== SLASH) {
    return -1;
  }
  const major = buf[s + 5]! - 0x30;
  const minor = buf[s + 7]! - 0x30;
  if (major < 0 || major > 9 || buf[s + 6] !== 0x2e || minor < 0 || minor > 9) return -1;
  return major === 1 && minor <= 1 ? minor : -2;
}

/** RFC 9112 3.2: origin-form, absolute-form (http/https), asterisk-form only for OPTIONS, authority-form
 * only and always for CONNECT. Returns a message when the form is wrong. */
export function targetFormError(buf: Buffer, method: string, s: number, e: number): string | null {
  const first = buf[s];
  if (method === 'CONNECT') return isAuthorityForm(buf, s, e) ? null : 'CONNECT needs an authority-form target (host:port)';
  if (first === SLASH) return null;
  if (first === STAR && e - s === 1) return method === 'OPTIONS' ? null : 'asterisk-form is only for OPTIONS';
  // absolute-form: "http://" or "https://" (schemes are case-insensitive, RFC 3986 3.1) and a non-empty authority.
  let p = s;
  if (e - p > 4 && lowerIs(buf, p, 'http')) {
    p += 4;
    if ((buf[p]! | 0x20) === 0x73) p++;
    if (e - p > 3 && buf[p] === COLON && buf[p + 1] === SLASH && buf[p + 2] === SLASH) {
      const a = buf[p + 3];
      if (a !== SLASH && a !== 0x3f && a !== 0x23) return null;
    }
  }
  return 'request-target is not origin-form or absolute-form';
}

/** authority-form = uri-host ":" port, with a non-empty host and port (RFC 9112 3.2.3, RFC 9110 9.3.6). */
function isAuthorityForm(buf: Buffer, s: number, e: number): boolean {
  let colon = -1;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c === SLASH || c === 0x3f || c === 0x23 || c === 0x40) return false;
    if (c === COLON) colon = i;
  }
  if (colon <= s || colon === e - 1) return false;
  for (let i = colon + 1; i < e; i++) if (buf[i]! < 0x30 || buf[i]! > 0x39) return false;
  return true;
}
