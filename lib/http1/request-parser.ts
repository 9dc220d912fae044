// The request head parser (RFC 9112 2-3, 5-6; RFC 9110 7-10 for the fields that frame a message):
// bytes in, a RequestHead or a ProtocolError out. Resumable byte by byte, so a head that arrives one
// byte per packet is examined once, and every limit fires at the byte that crosses it.

import { FIELD_VALUE, TARGET, TOKEN } from './header-validation.js';
import { HeadFields } from './head-fields.js';
import type { NativeBuffer } from './native-buffer.js';
import { DEFAULT_PARSER_LIMITS, type ParserLimits } from './request-head.js';
import { methodString, parseVersion, targetFormError } from './request-line.js';

export { DEFAULT_PARSER_LIMITS, RequestHead, type ParserLimits } from './request-head.js';

/** RFC 9112 2.2 asks servers to ignore at least one empty line before the request line; a few cover
 * every client that sends a stray CRLF after a body, more than that is not an HTTP client. */
const MAX_LEADING_EMPTY_LINES = 4;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

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

/** Offsets of the field lines completed during one execute() call: [nameStart, nameEnd, valueStart,
 * valueEnd] each. Shared by every parser: execute() is synchronous and consumes them before returning. */
let spans = new Int32Array(256);

function growSpans(): void {
  const next = new Int32Array(spans.length * 2);
  next.set(spans);
  spans = next;
}

/** The scanner: finds the lines of a head and their parts, enforces the size limits and the byte classes,
 * and hands each completed field line to HeadFields. */
export class RequestParser extends HeadFields {
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

  /** A complete limits object is kept by reference, so all of a server's connections share one. */
  constructor(limits: Partial<ParserLimits> = DEFAULT_PARSER_LIMITS) {
    super();
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
    this.resetHead();
    this.bytes = 0;
    this.partial = 0;
    this.phase = LINE_START;
    this.mark1 = this.mark2 = this.mark3 = 0;
    this.emptyLines = 0;
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
        return this.finish(i, last, this.bytes) ? i + 1 - start : -1;
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
}
