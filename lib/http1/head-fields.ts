// The fields that frame a request or steer its connection (Host, Content-Length, Transfer-Encoding,
// Connection, Expect, Upgrade), judged from their bytes as each field line completes, the rules that
// need the whole head, and the RequestHead they build. RequestParser, which scans the lines, extends it.

import { TARGET } from './header-validation.js';
import { ProtocolError } from './protocol-error.js';
import { RequestHead } from './request-head.js';
import { lowerIs } from './request-line.js';

/** 15 significant decimal digits stay exact in a double and allow bodies up to ~1 PB; longer is refused as invalid. */
const MAX_CONTENT_LENGTH_DIGITS = 15;

const SP = 32;
const HTAB = 9;
const COMMA = 44;

// Bits of HeadFields.flags, set by the fields that frame the message or steer the connection.
const TRANSFER_ENCODING = 1;
const LAST_CODING_CHUNKED = 2;
const OTHER_CODING = 4;
const CONNECTION_CLOSE = 8;
const CONNECTION_KEEP_ALIVE = 16;
const CONNECTION_UPGRADE = 32;
const EXPECT_CONTINUE = 64;
const EXPECT_OTHER = 128;

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

/** The head under construction and its framing state; the scanner (RequestParser) fills it line by line. */
export abstract class HeadFields {
  head: RequestHead | null = null;
  error: ProtocolError | null = null;
  /** Field lines of the current head so far. */
  protected fieldCount = 0;
  // The head under construction.
  protected method = '';
  protected target = '';
  protected versionMinor = 1;
  protected rawHeaders: string[] = [];
  // Framing and connection state, gathered from the bytes of the fields as they complete.
  private hostCount = 0;
  private hostIndex = -1;
  private upgradeIndex = -1;
  private upgradeCount = 0;
  private contentLength = -1;
  private chunkedCount = 0;
  /** The bits above: one field to clear per request instead of eight. */
  private flags = 0;

  /** Forgets the head, or the error, of the last request. */
  protected resetHead(): void {
    this.head = null;
    this.error = null;
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

  protected tooLarge(): number {
    this.error = new ProtocolError(431, 'ERR_HEAD_TOO_LARGE', 'request head larger than maxHeaderSize');
    return -1;
  }

  /** An error found at `pos`: when the line already ran past the size limit there, the limit came first. */
  protected failAt(pos: number, last: number, statusCode: number, code: string, message: string): number {
    if (pos > last) return this.tooLarge();
    this.error = new ProtocolError(statusCode, code, message);
    return -1;
  }

  /** failAt() for the helpers that answer whether parsing may go on. */
  protected reject(pos: number, last: number, statusCode: number, code: string, message: string): false {
    this.failAt(pos, last, statusCode, code, message);
    return false;
  }

  /** Fields that frame the message or steer the connection, recognised by length, then bytes (no lower-casing). */
  protected onField(buf: Buffer, ns: number, ne: number, vs: number, ve: number, visibleEnd: number, pos: number, last: number): boolean {
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

  /** The rules that need the whole head; `pos` is the LF that ended it, `headBytes` the head's length. */
  protected finish(pos: number, last: number, headBytes: number): boolean {
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

    const raw = this.rawHeaders;
    const head = new RequestHead(raw);
    head.method = this.method;
    head.target = this.target;
    head.versionMinor = this.versionMinor;
    if (this.hostIndex >= 0) head.host = raw[this.hostIndex * 2 + 1]!;
    head.contentLength = this.contentLength;
    head.chunked = chunked;
    // RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
    head.keepAlive = (flags & CONNECTION_CLOSE) === 0 && (http11 || (flags & CONNECTION_KEEP_ALIVE) !== 0);
    head.expectContinue = http11 && (flags & EXPECT_CONTINUE) !== 0;
    if ((flags & CONNECTION_UPGRADE) !== 0 && this.upgradeCount > 0) head.upgrade = this.upgradeValue(raw);
    head.headBytes = headBytes;
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
