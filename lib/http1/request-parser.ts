// The request head parser (RFC 9112 2-3, 5-6; RFC 9110 7-10 for the fields that frame a message):
// bytes in, a RequestHead or a ProtocolError out. Resumable byte by byte, so a head that arrives one
// byte per packet is examined once, and every limit fires at the byte that crosses it.

import { FIELD_VALUE, TARGET, TOKEN } from './header-validation.js';
import type { NativeBuffer } from './native-buffer.js';
import { ProtocolError } from './protocol-error.js';

export interface ParserLimits {
  /** Total head bytes including the request line, every CRLF and the final empty line -> 431. */
  maxHeaderSize: number;
  /** Header field lines -> 431. */
  maxHeaderCount: number;
  /** Length of the request-target -> 414. */
  maxUriLength: number;
}

export const DEFAULT_PARSER_LIMITS: Readonly<ParserLimits> = Object.freeze({
  maxHeaderSize: 16_384,
  maxHeaderCount: 100,
  maxUriLength: 8_192,
});

export class RequestHead {
  /** As sent: methods are case-sensitive (RFC 9110 9.1). */
  method = '';
  target = '';
  versionMinor = 1;
  /** Flat [name, value, ...]; names as sent, values without surrounding SP/HTAB. */
  rawHeaders: string[] = [];
  /** null only when an HTTP/1.0 request has no Host. */
  host: string | null = null;
  /** -1 when there is no Content-Length. */
  contentLength = -1;
  chunked = false;
  keepAlive = true;
  expectContinue = false;
  /** The Upgrade value when Connection lists "upgrade", else null (RFC 9110 7.8). */
  upgrade: string | null = null;
  /** Bytes of the head, including any ignored leading empty lines and the final CRLF. */
  headBytes = 0;
}

/** RFC 9112 2.2 asks servers to ignore at least one empty line before the request line; a few cover
 * every client that sends a stray CRLF after a body, more than that is not an HTTP client. */
const MAX_LEADING_EMPTY_LINES = 4;
/** 15 significant decimal digits stay exact in a double and allow bodies up to ~1 PB; longer is refused as invalid. */
const MAX_CONTENT_LENGTH_DIGITS = 15;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const COMMA = 44;
const SLASH = 47;
const STAR = 42;

// Where the scan stands inside the current line. Positions before it are known good; when a line is
// incomplete the phase and the marks survive until the caller presents the same bytes again.
const LINE_START = 0; // before the request line: an empty line (RFC 9112 2.2) or the method
const EMPTY_LF = 1; // CR of a leading empty line seen
const RL_METHOD = 2;
const RL_TARGET = 3;
const RL_VERSION = 4;
const RL_LF = 5;
const F_START = 6; // a field line, or the CR of the empty line that ends the head
const F_NAME = 7;
const F_OWS = 8;
const F_VALUE = 9;
const F_LF = 10;
const END_LF = 11;

// Bits of RequestParser.flags, set by the fields that frame the message or steer the connection.
const TRANSFER_ENCODING = 1;
const LAST_CODING_CHUNKED = 2;
const OTHER_CODING = 4;
const CONNECTION_CLOSE = 8;
const CONNECTION_KEEP_ALIVE = 16;
const CONNECTION_UPGRADE = 32;
const EXPECT_CONTINUE = 64;
const EXPECT_OTHER = 128;

/** Offsets of the field lines completed during one execute() call: [nameStart, nameEnd, valueStart,
 * valueEnd] each. Shared by every parser: execute() is synchronous and consumes them before returning. */
let spans = new Int32Array(256);

function growSpans(): void {
  const next = new Int32Array(spans.length * 2);
  next.set(spans);
  spans = next;
}

/** Common methods come back as interned literals, so `method === 'GET'` is a pointer compare. */
function methodString(buf: Buffer, s: number, e: number): string {
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
function lowerIs(buf: Buffer, s: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[s + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

// One element of a comma-separated list (RFC 9110 5.6.1), found by nextElement(): OWS trimmed, may be empty.
let elStart = 0;
let elEnd = 0;

/** Sets elStart/elEnd to the next element of buf[pos, end) and returns the position after its comma
 * (end + 1 after the last element), so `for (p = vs; p <= ve;) p = nextElement(buf, p, ve)` visits every element. */
function nextElement(buf: Buffer, pos: number, end: number): number {
  while (pos < end && (buf[pos] === SP || buf[pos] === HTAB)) pos++;
  elStart = pos;
  while (pos < end && buf[pos] !== COMMA) pos++;
  let e = pos;
  while (e > elStart && (buf[e - 1] === SP || buf[e - 1] === HTAB)) e--;
  elEnd = e;
  return pos + 1;
}

function elementIs(buf: Buffer, lower: string): boolean {
  return elEnd - elStart === lower.length && lowerIs(buf, elStart, lower);
}

/** 1 or 0 for HTTP/1.1 and HTTP/1.0, -2 for another well-formed version (505), -1 for anything else (400). */
function parseVersion(buf: Buffer, s: number, e: number): number {
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
function targetFormError(buf: Buffer, method: string, s: number, e: number): string | null {
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

export class RequestParser {
  head: RequestHead | null = null;
  error: ProtocolError | null = null;
  private readonly limits: ParserLimits;
  /** Bytes of complete lines of the current head. */
  private bytes = 0;
  /** Bytes of the incomplete line already examined (the caller presents them again). */
  private partial = 0;
  private phase = LINE_START;
  // Marks inside the incomplete line, relative to its start: method end / name end, target end / value start, value end.
  private mark1 = 0;
  private mark2 = 0;
  private mark3 = 0;
  private emptyLines = 0;
  private fieldCount = 0;
  // The head under construction.
  private method = '';
  private target = '';
  private versionMinor = 1;
  private rawHeaders: string[] = [];
  // Framing and connection state, gathered from the bytes of the fields as they complete.
  private hostCount = 0;
  private hostIndex = -1;
  private upgradeIndex = -1;
  private upgradeCount = 0;
  private contentLength = -1;
  private chunkedCount = 0;
  /** The F_* bits below: one field to clear per request instead of eight. */
  private flags = 0;

  /** A complete limits object is kept by reference, so all of a server's connections share one. */
  constructor(limits: Partial<ParserLimits> = DEFAULT_PARSER_LIMITS) {
    this.limits =
      limits.maxHeaderSize !== undefined && limits.maxHeaderCount !== undefined && limits.maxUriLength !== undefined
        ? (limits as ParserLimits)
        : { ...DEFAULT_PARSER_LIMITS, ...limits };
  }

  /**
   * Bytes of the current head seen so far (0 when nothing of the next request has arrived).
   * @internal For the tests and the fuzz harness, which check it against the bytes left unconsumed.
   */
  get pendingBytes(): number {
    return this.bytes + this.partial;
  }

  reset(): void {
    this.head = null;
    this.error = null;
    this.bytes = 0;
    this.partial = 0;
    this.phase = LINE_START;
    this.mark1 = this.mark2 = this.mark3 = 0;
    this.emptyLines = 0;
    this.fieldCount = 0;
    this.method = '';
    this.target = '';
    this.versionMinor = 1;
    this.rawHeaders = [];
    this.hostCount = 0;
    this.hostIndex = -1;
    this.upgradeIndex = -1;
    this.upgradeCount = 0;
    this.contentLength = -1;
    this.chunkedCount = 0;
    this.flags = 0;
  }

  execute(buf: Buffer, start: number, end: number): number {
    if (this.error !== null) return -1;
    if (this.head !== null) return 0;
    const maxHeaderSize = this.limits.maxHeaderSize;
    // Tables in locals: imported bindings are live module cells, loaded again on every access.
    const token = TOKEN;
    const targetChars = TARGET;
    const fieldValue = FIELD_VALUE;
    // LF is outside every byte class of a field line, so when the input ends with one, each run of a
    // class stops at or before it and the field loops test four bytes a round without comparing with end.
    const endsWithLf = end > start && buf[end - 1] === LF;
    let phase = this.phase;
    let i = start + this.partial;
    if (i > end) {
      // Fewer bytes than were seen before: not the contract, so scan the line again from its start.
      i = start;
      phase = phase < F_START ? LINE_START : F_START;
    }
    let ls = start; // start of the current line
    let m1 = start + this.mark1;
    let m2 = start + this.mark2;
    let m3 = start + this.mark3;
    let c = 0;
    let n = 0; // field lines completed in this call, offsets in `spans`
    let cutStart = -1; // first byte of the strings to cut from buf in this call
    let cutEnd = -1;
    let targetEnd = -1; // end of the target when the request line completed in this call
    let visibleEnd = -1; // end of the value's leading visible-ASCII run, -1 when the value began in an earlier call

    for (;;) {
      // The last position this line may reach before the head exceeds maxHeaderSize: every error found
      // past it is reported as 431, so the outcome never depends on how the bytes were split.
      const last = ls + (maxHeaderSize - this.bytes) - 1;

      if (phase === LINE_START) {
        if (i === end) break;
        c = buf[i]!;
        if (c === CR) {
          phase = EMPTY_LF;
          i++;
        } else if (c === LF) {
          return this.failAt(i, last, 400, 'ERR_BARE_LF', 'line terminated by LF without CR');
        } else {
          phase = RL_METHOD;
        }
      }
      if (phase === EMPTY_LF) {
        if (i === end) break;
        if (buf[i] !== LF) return this.failAt(i, last, 400, 'ERR_BARE_CR', 'CR not followed by LF');
        if (i > last) return this.tooLarge();
        if (++this.emptyLines > MAX_LEADING_EMPTY_LINES) {
          return this.failAt(i, last, 400, 'ERR_TOO_MANY_EMPTY_LINES', 'too many empty lines before the request line');
        }
        this.bytes += i + 1 - ls;
        ls = ++i;
        phase = LINE_START;
        continue;
      }

      if (phase === RL_METHOD) {
        while (i < end && token[buf[i]!] === 1) i++;
        if (i === end) break;
        c = buf[i]!;
        if (c !== SP || i === ls) {
          if (c === LF) return this.failAt(i, last, 400, 'ERR_BARE_LF', 'line terminated by LF without CR');
          if (c === CR && i > ls) return this.failAt(i, last, 400, 'ERR_INVALID_REQUEST_LINE', 'request line without target and version');
          return this.failAt(i, last, 400, 'ERR_INVALID_METHOD', 'method is not a token followed by one SP');
        }
        m1 = i++;
        phase = RL_TARGET;
      }
      if (phase === RL_TARGET) {
        const ts = m1 + 1;
        // A target byte at `over` makes the target one byte longer than allowed.
        const over = ts + this.limits.maxUriLength;
        const stop = end <= over ? end : over + 1;
        while (i < stop && targetChars[buf[i]!] === 1) i++;
        if (i > over) return this.failAt(over, last, 414, 'ERR_URI_TOO_LONG', 'request-target too long');
        if (i === end) break;
        c = buf[i]!;
        if (c !== SP || i === ts) {
          if (c === LF) return this.failAt(i, last, 400, 'ERR_BARE_LF', 'line terminated by LF without CR');
          if (c === CR) return this.failAt(i, last, 400, 'ERR_INVALID_REQUEST_LINE', 'request line without HTTP version');
          return this.failAt(i, last, 400, 'ERR_INVALID_TARGET', i === ts ? 'empty request-target' : 'invalid byte in request-target');
        }
        m2 = i++;
        phase = RL_VERSION;
      }
      if (phase === RL_VERSION) {
        const vs = m2 + 1;
        // "HTTP/x.y" is 8 bytes; a ninth byte before CR already makes it malformed.
        const stop = end <= vs + 8 ? end : vs + 9;
        while (i < stop && (c = buf[i]!) !== CR && c !== LF) i++;
        if (i > vs + 8) return this.failAt(vs + 8, last, 400, 'ERR_INVALID_VERSION', 'malformed HTTP version');
        if (i === end) break;
        if (c === LF) return this.failAt(i, last, 400, 'ERR_BARE_LF', 'line terminated by LF without CR');
        const minor = parseVersion(buf, vs, i);
        if (minor < 0) {
          return minor === -2
            ? this.failAt(i, last, 505, 'ERR_UNSUPPORTED_VERSION', 'HTTP version not supported')
            : this.failAt(i, last, 400, 'ERR_INVALID_VERSION', 'malformed HTTP version');
        }
        this.versionMinor = minor;
        i++;
        phase = RL_LF;
      }
      if (phase === RL_LF) {
        if (i === end) break;
        if (buf[i] !== LF) return this.failAt(i, last, 400, 'ERR_BARE_CR', 'CR not followed by LF');
        if (i > last) return this.tooLarge();
        const method = methodString(buf, ls, m1);
        const formError = targetFormError(buf, method, m1 + 1, m2);
        if (formError !== null) return this.failAt(i, last, 400, 'ERR_INVALID_TARGET', formError);
        this.method = method;
        cutStart = m1 + 1;
        targetEnd = cutEnd = m2;
        this.bytes += i + 1 - ls;
        ls = ++i;
        phase = F_START;
        continue;
      }

      if (phase === F_START) {
        if (i === end) break;
        c = buf[i]!;
        if (c === CR) {
          phase = END_LF;
          i++;
        } else if (c === SP || c === HTAB) {
          return this.failAt(i, last, 400, 'ERR_OBS_FOLD', 'obsolete line folding is not accepted');
        } else if (c === LF) {
          return this.failAt(i, last, 400, 'ERR_BARE_LF', 'line terminated by LF without CR');
        } else {
          phase = F_NAME;
        }
      }
      if (phase === END_LF) {
        if (i === end) break;
        if (buf[i] !== LF) return this.failAt(i, last, 400, 'ERR_BARE_CR', 'CR not followed by LF');
        if (i > last) return this.tooLarge();
        this.bytes += i + 1 - ls;
        this.partial = 0;
        if (cutStart >= 0) this.cut(buf, n, cutStart, cutEnd, targetEnd);
        return this.finish(i, last) ? i + 1 - start : -1;
      }
      if (phase === F_NAME) {
        if (endsWithLf) {
          for (;;) {
            if (token[buf[i]!] !== 1) break;
            if (token[buf[i + 1]!] !== 1) { i += 1; break; }
            if (token[buf[i + 2]!] !== 1) { i += 2; break; }
            if (token[buf[i + 3]!] !== 1) { i += 3; break; }
            i += 4;
          }
        } else {
          while (i < end && token[buf[i]!] === 1) i++;
        }
        if (i === end) break;
        c = buf[i]!;
        if (c !== COLON || i === ls) {
          if (i > ls && (c === SP || c === HTAB)) {
            return this.failAt(i, last, 400, 'ERR_WHITESPACE_BEFORE_COLON', 'whitespace between field name and colon');
          }
          if (c === LF) return this.failAt(i, last, 400, 'ERR_BARE_LF', 'line terminated by LF without CR');
          return this.failAt(i, last, 400, 'ERR_INVALID_HEADER_NAME', i === ls ? 'empty or invalid field name' : 'field name is not a token followed by a colon');
        }
        m1 = i++;
        phase = F_OWS;
      }
      if (phase === F_OWS) {
        while (i < end && ((c = buf[i]!) === SP || c === HTAB)) i++;
        if (i === end) break;
        m2 = i;
        phase = F_VALUE;
      }
      if (phase === F_VALUE) {
        // The leading run of visible ASCII is measured on the way, so that Host needs no second scan.
        if (i === m2) {
          if (endsWithLf) {
            for (;;) {
              if (targetChars[buf[i]!] !== 1) break;
              if (targetChars[buf[i + 1]!] !== 1) { i += 1; break; }
              if (targetChars[buf[i + 2]!] !== 1) { i += 2; break; }
              if (targetChars[buf[i + 3]!] !== 1) { i += 3; break; }
              i += 4;
            }
          } else {
            while (i < end && targetChars[buf[i]!] === 1) i++;
          }
          visibleEnd = i;
        } else {
          visibleEnd = -1;
        }
        if (endsWithLf) {
          for (;;) {
            if (fieldValue[buf[i]!] !== 1) break;
            if (fieldValue[buf[i + 1]!] !== 1) { i += 1; break; }
            if (fieldValue[buf[i + 2]!] !== 1) { i += 2; break; }
            if (fieldValue[buf[i + 3]!] !== 1) { i += 3; break; }
            i += 4;
          }
        } else {
          while (i < end && fieldValue[buf[i]!] === 1) i++;
        }
        if (i === end) break;
        c = buf[i]!;
        if (c !== CR) {
          if (c === LF) return this.failAt(i, last, 400, 'ERR_BARE_LF', 'line terminated by LF without CR');
          return this.failAt(i, last, 400, 'ERR_INVALID_HEADER_VALUE', 'invalid byte in field value');
        }
        // Trailing OWS is not part of the value (RFC 9110 5.5).
        m3 = i;
        while (m3 > m2 && ((c = buf[m3 - 1]!) === SP || c === HTAB)) m3--;
        i++;
        phase = F_LF;
      }
      // phase === F_LF
      if (i === end) break;
      if (buf[i] !== LF) return this.failAt(i, last, 400, 'ERR_INVALID_HEADER_VALUE', 'CR not followed by LF in field value');
      if (i > last) return this.tooLarge();
      if (++this.fieldCount > this.limits.maxHeaderCount) return this.failAt(i, last, 431, 'ERR_TOO_MANY_HEADERS', 'too many header fields');
      if (!this.onField(buf, ls, m1, m2, m3, visibleEnd, i, last)) return -1;
      const k = n << 2;
      if (k + 4 > spans.length) growSpans();
      spans[k] = ls;
      spans[k + 1] = m1;
      spans[k + 2] = m2;
      spans[k + 3] = cutEnd = m3;
      n++;
      if (cutStart < 0) cutStart = ls;
      this.bytes += i + 1 - ls;
      ls = ++i;
      phase = F_START;
    }

    // Out of bytes in the middle of a line: keep its progress, cut strings for the lines completed so far.
    if (end > ls + (maxHeaderSize - this.bytes) - 1) return this.tooLarge();
    this.phase = phase;
    this.partial = i - ls;
    this.mark1 = m1 - ls;
    this.mark2 = m2 - ls;
    this.mark3 = m3 - ls;
    if (cutStart >= 0) this.cut(buf, n, cutStart, cutEnd, targetEnd);
    return ls - start;
  }

  /** One latin1Slice for the target and all field lines completed in this call; the strings handed out
   * are slices of it, which costs no further copies of the bytes and no further calls into C++. */
  private cut(buf: Buffer, n: number, cutStart: number, cutEnd: number, targetEnd: number): void {
    const text = (buf as NativeBuffer).latin1Slice(cutStart, cutEnd);
    if (targetEnd >= 0) this.target = n === 0 ? text : text.slice(0, targetEnd - cutStart);
    let raw = this.rawHeaders;
    let j = raw.length;
    // Sized once: growing by push() costs more than the slices themselves.
    if (j === 0) raw = this.rawHeaders = new Array<string>(n << 1);
    else raw.length = j + (n << 1);
    for (let k = 0; k < n << 2; k += 4) {
      raw[j++] = text.slice(spans[k]! - cutStart, spans[k + 1]! - cutStart);
      raw[j++] = text.slice(spans[k + 2]! - cutStart, spans[k + 3]! - cutStart);
    }
  }

  private tooLarge(): number {
    this.error = new ProtocolError(431, 'ERR_HEAD_TOO_LARGE', 'request head larger than maxHeaderSize');
    return -1;
  }

  /** An error found at `pos`: when the line already ran past the size limit there, the limit came first. */
  private failAt(pos: number, last: number, statusCode: number, code: string, message: string): number {
    if (pos > last) return this.tooLarge();
    this.error = new ProtocolError(statusCode, code, message);
    return -1;
  }

  /** failAt() for the helpers that answer whether parsing may go on. */
  private reject(pos: number, last: number, statusCode: number, code: string, message: string): false {
    this.failAt(pos, last, statusCode, code, message);
    return false;
  }

  /** Fields that frame the message or steer the connection, recognised by length, then bytes (no lower-casing). */
  private onField(buf: Buffer, ns: number, ne: number, vs: number, ve: number, visibleEnd: number, pos: number, last: number): boolean {
    switch (ne - ns) {
      case 4:
        if ((buf[ns]! | 0x20) === 0x68 && lowerIs(buf, ns, 'host')) {
          // RFC 9112 3.2: exactly one Host; a second one is ambiguous about the authority.
          if (++this.hostCount > 1) return this.reject(pos, last, 400, 'ERR_DUPLICATE_HOST', 'more than one Host field');
          // A host is visible ASCII only (no SP, HTAB or obs-text inside it), which is the target table's class.
          if (visibleEnd < 0) {
            const visible = TARGET;
            for (visibleEnd = vs; visibleEnd < ve && visible[buf[visibleEnd]!] === 1; ) visibleEnd++;
          }
          if (ve > visibleEnd) return this.reject(pos, last, 400, 'ERR_INVALID_HOST', 'invalid byte in Host');
          this.hostIndex = this.fieldCount - 1;
        }
        break;
      case 6:
        if ((buf[ns]! | 0x20) === 0x65 && lowerIs(buf, ns, 'expect')) {
          for (let p = vs; p <= ve; ) {
            p = nextElement(buf, p, ve);
            if (elementIs(buf, '100-continue')) this.flags |= EXPECT_CONTINUE;
            else if (elEnd > elStart) this.flags |= EXPECT_OTHER;
          }
        }
        break;
      case 7:
        if ((buf[ns]! | 0x20) === 0x75 && lowerIs(buf, ns, 'upgrade')) {
          if (this.upgradeCount++ === 0) this.upgradeIndex = this.fieldCount - 1;
        }
        break;
      case 10:
        if ((buf[ns]! | 0x20) === 0x63 && lowerIs(buf, ns, 'connection')) {
          for (let p = vs; p <= ve; ) {
            p = nextElement(buf, p, ve);
            switch (elEnd - elStart) {
              case 5:
                if (lowerIs(buf, elStart, 'close')) this.flags |= CONNECTION_CLOSE;
                break;
              case 7:
                if (lowerIs(buf, elStart, 'upgrade')) this.flags |= CONNECTION_UPGRADE;
                break;
              case 10:
                if (lowerIs(buf, elStart, 'keep-alive')) this.flags |= CONNECTION_KEEP_ALIVE;
                break;
            }
          }
        }
        break;
      case 14:
        if ((buf[ns]! | 0x20) === 0x63 && lowerIs(buf, ns, 'content-length')) return this.onContentLength(buf, vs, ve, pos, last);
        break;
      case 17:
        if ((buf[ns]! | 0x20) === 0x74 && lowerIs(buf, ns, 'transfer-encoding')) {
          this.flags |= TRANSFER_ENCODING;
          for (let p = vs; p <= ve; ) {
            p = nextElement(buf, p, ve);
            if (elementIs(buf, 'chunked')) {
              this.chunkedCount++;
              this.flags |= LAST_CODING_CHUNKED;
            } else if (elEnd > elStart) {
              this.flags = (this.flags | OTHER_CODING) & ~LAST_CODING_CHUNKED;
            }
          }
        }
        break;
    }
    return true;
  }

  /** RFC 9112 6.3 and RFC 9110 8.6: 1*DIGIT; a list of identical values, or repeated identical fields,
   * is one length; signs, empty elements and differing values are errors. */
  private onContentLength(buf: Buffer, vs: number, ve: number, pos: number, last: number): boolean {
    for (let p = vs; p <= ve; ) {
      p = nextElement(buf, p, ve);
      let s = elStart;
      const e = elEnd;
      // Leading zeros are valid digits (1*DIGIT) that add nothing to the value: only the others count.
      while (e - s > 1 && buf[s] === 0x30) s++;
      if (e === s || e - s > MAX_CONTENT_LENGTH_DIGITS) {
        return this.reject(pos, last, 400, 'ERR_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
      }
      let value = 0;
      for (let i = s; i < e; i++) {
        const d = buf[i]! - 0x30;
        if (d < 0 || d > 9) return this.reject(pos, last, 400, 'ERR_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
        value = value * 10 + d;
      }
      if (this.contentLength >= 0 && this.contentLength !== value) {
        return this.reject(pos, last, 400, 'ERR_CONFLICTING_CONTENT_LENGTH', 'conflicting Content-Length values');
      }
      this.contentLength = value;
    }
    return true;
  }

  /** The rules that need the whole head; `pos` is the LF that ended it. */
  private finish(pos: number, last: number): boolean {
    const http11 = this.versionMinor === 1;
    const flags = this.flags;
    if (http11 && this.hostCount === 0) return this.reject(pos, last, 400, 'ERR_MISSING_HOST', 'HTTP/1.1 request without Host');
    let chunked = false;
    if ((flags & TRANSFER_ENCODING) !== 0) {
      // RFC 9112 6.1 and 6.3: both framings together is how requests are smuggled past a proxy that
      // frames by the other one; refuse instead of choosing.
      if (this.contentLength >= 0) {
        return this.reject(pos, last, 400, 'ERR_CONTENT_LENGTH_WITH_TRANSFER_ENCODING', 'Content-Length together with Transfer-Encoding');
      }
      // RFC 9112 6.1: an HTTP/1.0 peer cannot have meant chunked framing; the message may be a smuggling attempt.
      if (!http11) return this.reject(pos, last, 400, 'ERR_TRANSFER_ENCODING_HTTP10', 'Transfer-Encoding in an HTTP/1.0 request');
      // RFC 9112 6.3 and 7: chunked exactly once and last, else the length cannot be determined.
      if (this.chunkedCount > 1) return this.reject(pos, last, 400, 'ERR_CHUNKED_TWICE', 'chunked applied more than once');
      if ((flags & LAST_CODING_CHUNKED) === 0) {
        return this.reject(pos, last, 400, 'ERR_TRANSFER_ENCODING_NOT_CHUNKED', 'the final transfer coding is not chunked');
      }
      // RFC 9112 6.1: a server that receives a transfer coding it does not understand answers 501.
      if ((flags & OTHER_CODING) !== 0) return this.reject(pos, last, 501, 'ERR_UNSUPPORTED_TRANSFER_CODING', 'unsupported transfer coding');
      chunked = true;
    }
    // RFC 9110 10.1.1: 100-continue is the only expectation; HTTP/1.0 requests' Expect is ignored.
    if (http11 && (flags & EXPECT_OTHER) !== 0) return this.reject(pos, last, 417, 'ERR_UNSUPPORTED_EXPECTATION', 'unsupported expectation');

    const head = new RequestHead();
    head.method = this.method;
    head.target = this.target;
    head.versionMinor = this.versionMinor;
    const raw = this.rawHeaders;
    head.rawHeaders = raw;
    if (this.hostIndex >= 0) head.host = raw[this.hostIndex * 2 + 1]!;
    head.contentLength = this.contentLength;
    head.chunked = chunked;
    // RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
    head.keepAlive = (flags & CONNECTION_CLOSE) === 0 && (http11 || (flags & CONNECTION_KEEP_ALIVE) !== 0);
    head.expectContinue = http11 && (flags & EXPECT_CONTINUE) !== 0;
    if ((flags & CONNECTION_UPGRADE) !== 0 && this.upgradeCount > 0) head.upgrade = this.upgradeValue(raw);
    head.headBytes = this.bytes;
    this.head = head;
    return true;
  }

  /** The Upgrade value; several Upgrade fields combine into one list (RFC 9110 5.3). */
  private upgradeValue(raw: string[]): string {
    let value = raw[this.upgradeIndex * 2 + 1]!;
    for (let k = this.upgradeIndex * 2 + 2; this.upgradeCount > 1 && k < raw.length; k += 2) {
      const name = raw[k]!;
      if (name.length === 7 && name.toLowerCase() === 'upgrade') value = `${value}, ${raw[k + 1]!}`;
    }
    return value;
  }
}
