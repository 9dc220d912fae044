// Request body framing (RFC 9112 6.2 and 7.1): Content-Length and chunked decoders as byte state
// machines that keep their state across calls and never buffer input; body bytes come out as
// [dataStart, dataEnd) ranges of the caller's buffer.

import { FIELD_VALUE, HEX, TOKEN } from './header-validation.js';
import type { NativeBuffer } from './native-buffer.js';
import { ProtocolError } from './protocol-error.js';

export interface BodyDecoder {
  /** Consumes from buf[pos, end) and returns the new position. After each call, body bytes found in this
   * step are buf[dataStart, dataEnd) (empty when equal). Each call yields at most one data segment, so
   * callers loop: while (pos < end && !dec.done && !dec.error) { pos = dec.next(buf, pos, end); ... } */
  next(buf: Buffer, pos: number, end: number): number;
  dataStart: number;
  dataEnd: number;
  /** Message body complete (for chunked: after the trailer section's final CRLF). */
  done: boolean;
  error: ProtocolError | null;
  /** Body bytes delivered so far. */
  readonly received: number;
}

export class LengthDecoder implements BodyDecoder {
  dataStart = 0;
  dataEnd = 0;
  done: boolean;
  error: ProtocolError | null = null;
  received = 0;
  private remaining: number;

  constructor(length: number) {
    this.remaining = length;
    this.done = length <= 0;
  }

  next(buf: Buffer, pos: number, end: number): number {
    const n = end - pos < this.remaining ? end - pos : this.remaining;
    this.dataStart = pos;
    this.dataEnd = pos + n;
    this.remaining -= n;
    this.received += n;
    if (this.remaining === 0) this.done = true;
    return pos + n;
  }
}

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 0x3a;
const SEMI = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

// States of the chunked decoder. The chunk-size line (RFC 9112 7.1, 7.1.1) is
//   chunk-size *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ) CRLF
const SIZE = 0; // 1*HEXDIG
const AFTER_SIZE = 1; // BWS before ";" or CR, after the size or after an extension
const EXT_NAME_START = 2; // after ";": BWS then a token
const EXT_NAME = 3;
const EXT_AFTER_NAME = 4; // BWS after a name: "=" or ";" must follow
const EXT_VALUE_START = 5; // after "=": BWS then a token or a quoted-string
const EXT_VALUE_TOKEN = 6;
const EXT_QUOTED = 7;
const EXT_QUOTED_PAIR = 8;
const SIZE_LF = 9;
const DATA = 10;
const DATA_CR = 11;
const DATA_LF = 12;
const TRAILER_START = 13; // a trailer field line, or the CR of the empty line that ends the body
const TRAILER_LINE = 14;
const TRAILER_LF = 15;
const END_LF = 16;

export class ChunkedDecoder implements BodyDecoder {
  dataStart = 0;
  dataEnd = 0;
  done = false;
  error: ProtocolError | null = null;
  received = 0;
  /** Flat [name, value, ...] from the trailer section (RFC 9112 7.1.2), validated like header fields. */
  trailers: string[] = [];
  private state = SIZE;
  private size = 0;
  private digits = 0;
  private lineLength = 0;
  /** Whether the size line has reached its extensions, for the error code. */
  private inExtensions = false;
  /** BWS seen in AFTER_SIZE: only ";" may follow, not the end of the line (BWS is never trailing). */
  private sawSpace = false;
  private remaining = 0;
  private trailerLine = '';
  private trailerBytes = 0;
  private readonly maxTrailerSize: number;
  private readonly maxChunkLineLength: number;

  constructor(limits: { maxTrailerSize?: number; maxChunkLineLength?: number } = {}) {
    this.maxTrailerSize = limits.maxTrailerSize ?? 16_384;
    this.maxChunkLineLength = limits.maxChunkLineLength ?? 4_096;
  }

  private fail(statusCode: number, code: string, message: string, pos: number): number {
    this.error = new ProtocolError(statusCode, code, message);
    return pos;
  }

  /** Something other than the grammar allows on the size line: blamed on the size or the extension. */
  private badLine(pos: number): number {
    return this.inExtensions
      ? this.fail(400, 'ERR_INVALID_CHUNK_EXTENSION', 'invalid chunk extension', pos)
      : this.fail(400, 'ERR_INVALID_CHUNK_SIZE', 'invalid chunk size', pos);
  }

  next(buf: Buffer, pos: number, end: number): number {
    this.dataStart = this.dataEnd = pos;
    if (this.done || this.error !== null) return pos;
    const token = TOKEN;
    const fieldValue = FIELD_VALUE;
    while (pos < end) {
      const state = this.state;
      if (state === DATA) {
        const n = end - pos < this.remaining ? end - pos : this.remaining;
        this.dataStart = pos;
        this.dataEnd = pos + n;
        this.remaining -= n;
        this.received += n;
        if (this.remaining === 0) this.state = DATA_CR;
        return pos + n;
      }
      const c = buf[pos]!;
      if (state < SIZE_LF && ++this.lineLength > this.maxChunkLineLength) {
        return this.fail(400, 'ERR_CHUNK_LINE_TOO_LONG', 'chunk size line too long', pos);
      }
      switch (state) {
        case SIZE: {
          const v = HEX[c]!;
          if (v !== 255) {
            this.size = this.size * 16 + v;
            // Sizes stay exact integers; a larger one is no real body and would lose precision.
            if (this.size > Number.MAX_SAFE_INTEGER) return this.fail(400, 'ERR_CHUNK_SIZE_TOO_LARGE', 'chunk size too large', pos);
            this.digits++;
            pos++;
            continue;
          }
          if (this.digits === 0) return this.fail(400, 'ERR_INVALID_CHUNK_SIZE', 'chunk size is not 1*HEXDIG', pos);
          this.state = AFTER_SIZE;
          this.sawSpace = false;
          this.lineLength--; // the byte is looked at again in AFTER_SIZE
          continue;
        }
        case AFTER_SIZE:
          if (c === SP || c === HTAB) this.sawSpace = true;
          else if (c === SEMI) {
            this.inExtensions = true;
            this.state = EXT_NAME_START;
          } else if (c === CR && !this.sawSpace) this.state = SIZE_LF;
          else if (c === LF) return this.fail(400, 'ERR_MISSING_CHUNK_CRLF', 'chunk size line ended by LF without CR', pos);
          else return this.badLine(pos);
          pos++;
          continue;
        case EXT_NAME_START:
          if (token[c] === 1) this.state = EXT_NAME;
          else if (c !== SP && c !== HTAB) return this.badLine(pos);
          pos++;
          continue;
        case EXT_NAME:
          if (token[c] === 1) {
            pos++;
            continue;
          }
          if (c === EQUALS) this.state = EXT_VALUE_START;
          else if (c === SEMI) this.state = EXT_NAME_START;
          else if (c === CR) this.state = SIZE_LF;
          else if (c === SP || c === HTAB) this.state = EXT_AFTER_NAME;
          else if (c === LF) return this.fail(400, 'ERR_MISSING_CHUNK_CRLF', 'chunk size line ended by LF without CR', pos);
          else return this.badLine(pos);
          pos++;
          continue;
        case EXT_AFTER_NAME:
          if (c === EQUALS) this.state = EXT_VALUE_START;
          else if (c === SEMI) this.state = EXT_NAME_START;
          else if (c !== SP && c !== HTAB) return this.badLine(pos);
          pos++;
          continue;
        case EXT_VALUE_START:
          if (c === DQUOTE) this.state = EXT_QUOTED;
          else if (token[c] === 1) this.state = EXT_VALUE_TOKEN;
          else if (c !== SP && c !== HTAB) return this.badLine(pos);
          pos++;
          continue;
        case EXT_VALUE_TOKEN:
          if (token[c] === 1) {
            pos++;
            continue;
          }
          if (c === SEMI) this.state = EXT_NAME_START;
          else if (c === CR) this.state = SIZE_LF;
          else if (c === SP || c === HTAB) {
            this.state = AFTER_SIZE;
            this.sawSpace = true;
          } else if (c === LF) return this.fail(400, 'ERR_MISSING_CHUNK_CRLF', 'chunk size line ended by LF without CR', pos);
          else return this.badLine(pos);
          pos++;
          continue;
        case EXT_QUOTED:
          // qdtext and quoted-pair (RFC 9110 5.6.4): field-value bytes, with " and \ special.
          if (c === DQUOTE) {
            this.state = AFTER_SIZE;
            this.sawSpace = false;
          } else if (c === BACKSLASH) this.state = EXT_QUOTED_PAIR;
          else if (fieldValue[c] === 0) return this.badLine(pos);
          pos++;
          continue;
        case EXT_QUOTED_PAIR:
          if (fieldValue[c] === 0) return this.badLine(pos);
          this.state = EXT_QUOTED;
          pos++;
          continue;
        case SIZE_LF:
          if (c !== LF) return this.fail(400, 'ERR_MISSING_CHUNK_CRLF', 'CR without LF after the chunk size', pos);
          pos++;
          this.lineLength = 0;
          this.inExtensions = false;
          if (this.size === 0) {
            this.state = TRAILER_START;
          } else {
            this.state = DATA;
            this.remaining = this.size;
          }
          continue;
        case DATA_CR:
          if (c !== CR) return this.fail(400, 'ERR_MISSING_CHUNK_CRLF', 'chunk data not followed by CRLF', pos);
          this.state = DATA_LF;
          pos++;
          continue;
        case DATA_LF:
          if (c !== LF) return this.fail(400, 'ERR_MISSING_CHUNK_CRLF', 'chunk data not followed by CRLF', pos);
          this.state = SIZE;
          this.size = 0;
          this.digits = 0;
          pos++;
          continue;
        case TRAILER_START:
          if (c === CR) {
            this.state = END_LF;
            pos++;
            continue;
          }
          if (c === LF) return this.fail(400, 'ERR_MISSING_CHUNK_CRLF', 'chunked body ended by LF without CR', pos);
          // RFC 9112 5.2: obs-fold is refused in trailers as in the head.
          if (c === SP || c === HTAB) return this.fail(400, 'ERR_INVALID_TRAILER', 'obsolete line folding in a trailer', pos);
          this.state = TRAILER_LINE;
          this.trailerLine = '';
          continue;
        case TRAILER_LINE: {
          // The line is taken up to its CR in as few pieces as the packets allow, and validated whole.
          let stop = pos;
          while (stop < end && buf[stop] !== CR && buf[stop] !== LF) stop++;
          this.trailerBytes += stop - pos;
          if (this.trailerBytes > this.maxTrailerSize) return this.fail(431, 'ERR_TRAILER_TOO_LARGE', 'trailer section too large', pos);
          this.trailerLine += (buf as NativeBuffer).latin1Slice(pos, stop);
          pos = stop;
          if (stop < end) {
            if (buf[stop] === LF) return this.fail(400, 'ERR_INVALID_TRAILER', 'trailer line ended by LF without CR', pos);
            this.state = TRAILER_LF;
            pos++;
          }
          continue;
        }
        case TRAILER_LF:
          if (c !== LF) return this.fail(400, 'ERR_INVALID_TRAILER', 'CR without LF in a trailer', pos);
          if (!this.addTrailer(this.trailerLine)) return this.fail(400, 'ERR_INVALID_TRAILER', 'invalid trailer field', pos);
          this.trailerLine = '';
          this.trailerBytes += 2;
          if (this.trailerBytes > this.maxTrailerSize) return this.fail(431, 'ERR_TRAILER_TOO_LARGE', 'trailer section too large', pos);
          this.state = TRAILER_START;
          pos++;
          continue;
        case END_LF:
          if (c !== LF) return this.fail(400, 'ERR_MISSING_CHUNK_CRLF', 'CR without LF at the end of the chunked body', pos);
          this.done = true;
          return pos + 1;
      }
    }
    return pos;
  }

  /** field-line = field-name ":" OWS field-value OWS, with the head's rules (RFC 9112 5, RFC 9110 5.5). */
  private addTrailer(line: string): boolean {
    let colon = 0;
    while (colon < line.length && TOKEN[line.charCodeAt(colon)] === 1) colon++;
    if (colon === 0 || colon === line.length || line.charCodeAt(colon) !== COLON) return false;
    let vs = colon + 1;
    let ve = line.length;
    while (vs < ve && (line.charCodeAt(vs) === SP || line.charCodeAt(vs) === HTAB)) vs++;
    while (ve > vs && (line.charCodeAt(ve - 1) === SP || line.charCodeAt(ve - 1) === HTAB)) ve--;
    for (let i = vs; i < ve; i++) if (FIELD_VALUE[line.charCodeAt(i)] === 0) return false;
    this.trailers.push(line.slice(0, colon), line.slice(vs, ve));
    return true;
  }
}
