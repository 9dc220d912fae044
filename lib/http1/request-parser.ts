// The request head parser (RFC 9112 2-3, 5-6): bytes in, a RequestHead or a ProtocolError out.
// Resumable line by line, so a head that arrives one byte per packet costs O(n), and every limit
// fires as soon as it is crossed, even before the head is complete.

import './buffer-methods.js';
import { FIELD_VALUE, TARGET, TOKEN } from './header-validation.js';
import { ProtocolError } from './protocol-error.js';

export interface ParserLimits {
  /** Total head bytes including the request line and CRLFs -> 431. */
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
  method = '';
  target = '';
  versionMinor = 1;
  /** Flat [name, value, ...]; names as sent, values without surrounding SP/HTAB. */
  rawHeaders: string[] = [];
  host: string | null = null;
  /** -1 when absent. */
  contentLength = -1;
  chunked = false;
  keepAlive = true;
  expectContinue = false;
  /** The Upgrade value when Connection lists "upgrade", else null. */
  upgrade: string | null = null;
  headBytes = 0;
}

/** RFC 9112 2.2: ignore at least one empty line before the request line; more is not a client. */
const MAX_LEADING_EMPTY_LINES = 4;
/** Method and version around the target: "OPTIONS " .. " HTTP/1.1" fits in this with room for long extension methods. */
const REQUEST_LINE_SLACK = 64;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

// Interned method strings: the common methods cost no allocation.
const METHODS = ['GET', 'PUT', 'POST', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'];

function methodString(buf: Buffer, start: number, end: number): string {
  for (const m of METHODS) {
    if (m.length !== end - start) continue;
    let i = 0;
    while (i < m.length && buf[start + i] === m.charCodeAt(i)) i++;
    if (i === m.length) return m;
  }
  return buf.latin1Slice(start, end);
}

/** Case-insensitive comparison of buf[start..] with a lower-case ASCII name, without making a string. */
function nameIs(buf: Buffer, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    // | 0x20 folds A-Z onto a-z and leaves "-" alone; the caller checked the length.
    if ((buf[start + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function fail(code: string, status: number, message: string): ProtocolError {
  return new ProtocolError(code, status, message);
}

export class RequestParser {
  head: RequestHead | null = null;
  error: ProtocolError | null = null;
  private readonly limits: ParserLimits;
  private building: RequestHead | null = null;
  private bytes = 0;
  private emptyLines = 0;
  private headerCount = 0;
  // Framing and connection state gathered from the fields as they arrive.
  private hostCount = 0;
  private contentLength: string | null = null;
  private transferCodings: string[] | null = null;
  private connectionClose = false;
  private connectionKeepAlive = false;
  private connectionUpgrade = false;
  private expect: string | null = null;
  private upgradeValue: string | null = null;

  /** A complete limits object is kept by reference, so a server's connections share one. */
  constructor(limits: Partial<ParserLimits> = DEFAULT_PARSER_LIMITS) {
    this.limits =
      limits.maxHeaderSize !== undefined && limits.maxHeaderCount !== undefined && limits.maxUriLength !== undefined
        ? (limits as ParserLimits)
        : { ...DEFAULT_PARSER_LIMITS, ...limits };
  }

  /** Bytes of complete lines of the current head consumed so far. */
  get pendingBytes(): number {
    return this.bytes;
  }

  reset(): void {
    this.head = null;
    this.error = null;
    this.building = null;
    this.bytes = 0;
    this.emptyLines = 0;
    this.headerCount = 0;
    this.hostCount = 0;
    this.contentLength = null;
    this.transferCodings = null;
    this.connectionClose = false;
    this.connectionKeepAlive = false;
    this.connectionUpgrade = false;
    this.expect = null;
    this.upgradeValue = null;
  }

  execute(buf: Buffer, start: number, end: number): number {
    if (this.error !== null) return -1;
    if (this.head !== null) return 0;
    const limits = this.limits;
    let pos = start;
    for (;;) {
      let lf = pos < end ? buf.indexOf(LF, pos) : -1;
      if (lf >= end) lf = -1;
      if (lf === -1) {
        // Incomplete line: the limits apply to what is buffered, not only to complete lines.
        const partial = end - pos;
        if (this.building === null && partial > limits.maxUriLength + REQUEST_LINE_SLACK) {
          return this.failWith(fail('ERR_URI_TOO_LONG', 414, 'request line too long'));
        }
        if (this.bytes + partial > limits.maxHeaderSize) {
          return this.failWith(fail('ERR_HEAD_TOO_LARGE', 431, 'request head too large'));
        }
        return pos - start;
      }
      if (lf === pos || buf[lf - 1] !== CR) {
        return this.failWith(fail('ERR_BARE_LF', 400, 'line terminated by LF without CR'));
      }
      const lineEnd = lf - 1;
      this.bytes += lf + 1 - pos;
      let error: ProtocolError | null = null;
      if (this.building === null) {
        if (lineEnd === pos) {
          if (++this.emptyLines > MAX_LEADING_EMPTY_LINES) {
            return this.failWith(fail('ERR_TOO_MANY_EMPTY_LINES', 400, 'too many empty lines before the request line'));
          }
          pos = lf + 1;
          continue;
        }
        error = this.parseRequestLine(buf, pos, lineEnd);
        if (error === null && this.bytes > limits.maxHeaderSize) error = fail('ERR_HEAD_TOO_LARGE', 431, 'request head too large');
      } else if (lineEnd === pos) {
        error = this.finish();
        if (error !== null) return this.failWith(error);
        const head = this.building;
        head.headBytes = this.bytes;
        this.head = head;
        return lf + 1 - start;
      } else {
        if (this.bytes > limits.maxHeaderSize) error = fail('ERR_HEAD_TOO_LARGE', 431, 'request head too large');
        else error = this.parseFieldLine(buf, pos, lineEnd);
      }
      if (error !== null) return this.failWith(error);
      pos = lf + 1;
    }
  }

  private failWith(error: ProtocolError): number {
    this.error = error;
    return -1;
  }

  private parseRequestLine(buf: Buffer, start: number, end: number): ProtocolError | null {
    let sp1 = start;
    while (sp1 < end && TOKEN[buf[sp1]!] === 1) sp1++;
    if (sp1 === start) return fail('ERR_INVALID_METHOD', 400, 'missing or invalid method');
    if (sp1 === end || buf[sp1] !== SP) {
      return fail(sp1 === end ? 'ERR_INVALID_REQUEST_LINE' : 'ERR_INVALID_METHOD', 400, 'invalid request line');
    }
    const targetStart = sp1 + 1;
    let sp2 = targetStart;
    while (sp2 < end && TARGET[buf[sp2]!] === 1) sp2++;
    const targetLength = sp2 - targetStart;
    if (targetLength > this.limits.maxUriLength) return fail('ERR_URI_TOO_LONG', 414, 'request-target too long');
    if (targetLength === 0) return fail('ERR_INVALID_TARGET', 400, 'empty request-target');
    if (sp2 === end) return fail('ERR_INVALID_REQUEST_LINE', 400, 'request line without HTTP version');
    if (buf[sp2] !== SP) return fail('ERR_INVALID_TARGET', 400, 'invalid byte in request-target');
    const versionStart = sp2 + 1;
    const versionMinor = parseVersion(buf, versionStart, end);
    if (versionMinor < 0) {
      return versionMinor === -2
        ? fail('ERR_UNSUPPORTED_VERSION', 505, 'HTTP version not supported')
        : fail('ERR_INVALID_VERSION', 400, 'malformed HTTP version');
    }
    const method = methodString(buf, start, sp1);
    const target = buf.latin1Slice(targetStart, sp2);
    const formError = checkTargetForm(method, target);
    if (formError !== null) return formError;
    const head = new RequestHead();
    head.method = method;
    head.target = target;
    head.versionMinor = versionMinor;
    this.building = head;
    return null;
  }

  private parseFieldLine(buf: Buffer, start: number, end: number): ProtocolError | null {
    const first = buf[start]!;
    if (first === SP || first === HTAB) return fail('ERR_OBS_FOLD', 400, 'obsolete line folding is not accepted');
    let colon = start;
    while (colon < end && TOKEN[buf[colon]!] === 1) colon++;
    if (colon === end || buf[colon] !== COLON) {
      const c = buf[colon];
      if (colon > start && (c === SP || c === HTAB)) return fail('ERR_WHITESPACE_BEFORE_COLON', 400, 'whitespace between field name and colon');
      return fail('ERR_INVALID_HEADER_NAME', 400, 'invalid header field name');
    }
    if (colon === start) return fail('ERR_INVALID_HEADER_NAME', 400, 'empty header field name');
    if (++this.headerCount > this.limits.maxHeaderCount) return fail('ERR_TOO_MANY_HEADERS', 431, 'too many header fields');
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && (buf[vs] === SP || buf[vs] === HTAB)) vs++;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    for (let i = vs; i < ve; i++) {
      if (FIELD_VALUE[buf[i]!] === 0) return fail('ERR_INVALID_HEADER_VALUE', 400, 'invalid byte in header field value');
    }
    const name = buf.latin1Slice(start, colon);
    const value = buf.latin1Slice(vs, ve);
    this.building!.rawHeaders.push(name, value);
    switch (colon - start) {
      case 4:
        if (nameIs(buf, start, 'host')) return this.onHost(value);
        break;
      case 6:
        if (nameIs(buf, start, 'expect')) this.expect = this.expect === null ? value : `${this.expect},${value}`;
        break;
      case 7:
        if (nameIs(buf, start, 'upgrade')) this.upgradeValue = value;
        break;
      case 10:
        if (nameIs(buf, start, 'connection')) this.onConnection(value);
        break;
      case 14:
        if (nameIs(buf, start, 'content-length')) return this.onContentLength(value);
        break;
      case 17:
        if (nameIs(buf, start, 'transfer-encoding')) this.onTransferEncoding(value);
        break;
    }
    return null;
  }

  private onHost(value: string): ProtocolError | null {
    if (++this.hostCount > 1) return fail('ERR_DUPLICATE_HOST', 400, 'more than one Host field');
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x21 || c > 0x7e) return fail('ERR_INVALID_HOST', 400, 'invalid Host');
    }
    this.building!.host = value;
    return null;
  }

  private onConnection(value: string): void {
    const lower = value.toLowerCase();
    // The two values nearly every client sends, without splitting.
    if (lower === 'keep-alive') {
      this.connectionKeepAlive = true;
      return;
    }
    if (lower === 'close') {
      this.connectionClose = true;
      return;
    }
    for (const raw of lower.split(',')) {
      const token = raw.trim().toLowerCase();
      if (token === 'close') this.connectionClose = true;
      else if (token === 'keep-alive') this.connectionKeepAlive = true;
      else if (token === 'upgrade') this.connectionUpgrade = true;
    }
  }

  /** RFC 9110 8.6: a list of identical values, or repeated identical fields, is one length; anything else is an error. */
  private onContentLength(value: string): ProtocolError | null {
    for (const raw of value.split(',')) {
      const part = raw.trim();
      if (part.length === 0 || part.length > 15) return fail('ERR_INVALID_CONTENT_LENGTH', 400, 'invalid Content-Length');
      for (let i = 0; i < part.length; i++) {
        const c = part.charCodeAt(i);
        if (c < 0x30 || c > 0x39) return fail('ERR_INVALID_CONTENT_LENGTH', 400, 'invalid Content-Length');
      }
      // Leading zeros compare by value: "05" and "5" are the same length.
      const normal = String(Number(part));
      if (this.contentLength !== null && this.contentLength !== normal) {
        return fail('ERR_CONFLICTING_CONTENT_LENGTH', 400, 'conflicting Content-Length values');
      }
      this.contentLength = normal;
    }
    return null;
  }

  private onTransferEncoding(value: string): void {
    const codings = (this.transferCodings ??= []);
    for (const raw of value.split(',')) {
      const coding = raw.trim().toLowerCase();
      if (coding.length > 0) codings.push(coding);
    }
  }

  private finish(): ProtocolError | null {
    const head = this.building!;
    const http11 = head.versionMinor === 1;
    if (http11 && this.hostCount === 0) return fail('ERR_MISSING_HOST', 400, 'HTTP/1.1 request without Host');
    const codings = this.transferCodings;
    if (codings !== null) {
      // RFC 9112 6.1 and 6.3: Transfer-Encoding overrides Content-Length, and both together is how
      // requests are smuggled past a proxy that frames by the other one; refuse instead of choosing.
      if (this.contentLength !== null) {
        return fail('ERR_CONTENT_LENGTH_WITH_TRANSFER_ENCODING', 400, 'Content-Length together with Transfer-Encoding');
      }
      if (!http11) return fail('ERR_TRANSFER_ENCODING_HTTP10', 400, 'Transfer-Encoding in an HTTP/1.0 request');
      let chunked = 0;
      for (const coding of codings) if (coding === 'chunked') chunked++;
      if (chunked > 1) return fail('ERR_CHUNKED_TWICE', 400, 'chunked applied more than once');
      if (codings.length === 0 || codings[codings.length - 1] !== 'chunked') {
        return fail('ERR_TRANSFER_ENCODING_NOT_CHUNKED', 400, 'the final transfer coding is not chunked');
      }
      if (codings.length > 1) return fail('ERR_UNSUPPORTED_TRANSFER_CODING', 501, `unsupported transfer coding ${codings[0]!}`);
      head.chunked = true;
    } else if (this.contentLength !== null) {
      head.contentLength = Number(this.contentLength);
    }
    head.keepAlive = http11 ? !this.connectionClose : this.connectionKeepAlive && !this.connectionClose;
    if (this.expect !== null && http11) {
      // RFC 9110 10.1.1: 100-continue is the only expectation defined; HTTP/1.0 expectations are ignored.
      for (const raw of this.expect.split(',')) {
        const expectation = raw.trim().toLowerCase();
        if (expectation === '100-continue') head.expectContinue = true;
        else if (expectation.length > 0) return fail('ERR_UNSUPPORTED_EXPECTATION', 417, 'unsupported expectation');
      }
    }
    if (this.connectionUpgrade && this.upgradeValue !== null) head.upgrade = this.upgradeValue;
    return null;
  }
}

/** 1 or 0 for HTTP/1.1 and HTTP/1.0, -2 for another well-formed version (505), -1 for garbage (400). */
function parseVersion(buf: Buffer, start: number, end: number): number {
  if (end - start !== 8) return -1;
  // "HTTP/" is case-sensitive (RFC 9112 2.3).
  if (buf[start] !== 0x48 || buf[start + 1] !== 0x54 || buf[start + 2] !== 0x54 || buf[start + 3] !== 0x50 || buf[start + 4] !== 0x2f) return -1;
  const major = buf[start + 5]! - 0x30;
  const minor = buf[start + 7]! - 0x30;
  if (major < 0 || major > 9 || buf[start + 6] !== 0x2e || minor < 0 || minor > 9) return -1;
  if (major === 1 && (minor === 1 || minor === 0)) return minor;
  return -2;
}

/** RFC 9112 3.2: the four forms, each only where it belongs. */
function checkTargetForm(method: string, target: string): ProtocolError | null {
  const first = target.charCodeAt(0);
  if (first === 0x2f /* / */) return null;
  if (target === '*') return method === 'OPTIONS' ? null : fail('ERR_INVALID_TARGET', 400, 'asterisk-form is only for OPTIONS');
  if (method === 'CONNECT') {
    return target.includes('/') ? fail('ERR_INVALID_TARGET', 400, 'CONNECT needs authority-form') : null;
  }
  const scheme = target.indexOf('://');
  if (scheme > 0) {
    const name = target.slice(0, scheme).toLowerCase();
    if ((name === 'http' || name === 'https') && target.length > scheme + 3) return null;
  }
  return fail('ERR_INVALID_TARGET', 400, 'invalid request-target');
}
