// Request body framing (RFC 9112 6.2 and 7.1): Content-Length and chunked decoders as byte state
// machines that keep their state across calls and never buffer input; body bytes come out as
// [dataStart, dataEnd) ranges of the caller's buffer.

import './buffer-methods.js';
import { FIELD_VALUE, HEX, TOKEN, isToken, isValidHeaderValue } from './header-validation.js';
import { ProtocolError } from './protocol-error.js';

export interface BodyDecoder {
  /** Consumes from buf[pos, end) and returns the new position; at most one data segment per call. */
  next(buf: Buffer, pos: number, end: number): number;
  dataStart: number;
  dataEnd: number;
  done: boolean;
  error: ProtocolError | null;
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
    this.done = length === 0;
  }

  next(buf: Buffer, pos: number, end: number): number {
    const n = Math.min(end - pos, this.remaining);
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
const SEMI = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

// States of the chunked decoder.
const SIZE = 0; // hex digits
const EXT = 1; // after the size: BWS, then ";" starts an extension, CR ends the line
const EXT_NAME_START = 2; // after ";": BWS then a token
const EXT_NAME = 3;
const EXT_VALUE_START = 4; // after "=": BWS then token or quoted-string
const EXT_VALUE_TOKEN = 5;
const EXT_QUOTED = 6;
const EXT_QUOTED_PAIR = 7;
const EXT_NAME_WS = 8; // BWS after a name: only "=" or ";" may follow
const SIZE_LF = 9;
const DATA = 10;
const DATA_CR = 11;
const DATA_LF = 12;
const TRAILER_START = 13; // start of a trailer line or the final CRLF
const TRAILER_LINE = 14;
const TRAILER_LF = 15;
const END_LF = 16;

/** 2^53 - 1 has 14 hex digits; 13 keep every size exact in a double. */
const MAX_SIZE_DIGITS = 13;

export class ChunkedDecoder implements BodyDecoder {
  dataStart = 0;
  dataEnd = 0;
  done = false;
  error: ProtocolError | null = null;
  received = 0;
  trailers: string[] = [];
  private state = SIZE;
  private size = 0;
  private digits = 0;
  private lineLength = 0;
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

  private fail(code: string, status: number, message: string, pos: number): number {
    this.error = new ProtocolError(code, status, message);
    return pos;
  }

  next(buf: Buffer, pos: number, end: number): number {
    this.dataStart = this.dataEnd = pos;
    while (pos < end) {
      const state = this.state;
      if (state === DATA) {
        const n = Math.min(end - pos, this.remaining);
        this.dataStart = pos;
        this.dataEnd = pos + n;
        this.remaining -= n;
        this.received += n;
        if (this.remaining === 0) this.state = DATA_CR;
        return pos + n;
      }
      const c = buf[pos]!;
      if (state <= EXT_NAME_WS && ++this.lineLength > this.maxChunkLineLength) {
        return this.fail('ERR_CHUNK_LINE_TOO_LONG', 400, 'chunk size line too long', pos);
      }
      switch (state) {
        case SIZE: {
          const v = HEX[c]!;
          if (v !== 255) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.fail('ERR_CHUNK_SIZE_TOO_LARGE', 400, 'chunk size too large', pos);
            this.size = this.size * 16 + v;
            pos++;
            continue;
          }
          if (this.digits === 0) return this.fail('ERR_INVALID_CHUNK_SIZE', 400, 'invalid chunk size', pos);
          this.state = EXT;
          this.sawSpace = false;
          continue;
        }
        case EXT:
          if (c === SP || c === HTAB) this.sawSpace = true;
          else if (c === SEMI) this.state = EXT_NAME_START;
          else if (c === CR && !this.sawSpace) this.state = SIZE_LF;
          else return this.fail(c === CR || c === LF ? 'ERR_MISSING_CHUNK_CRLF' : 'ERR_INVALID_CHUNK_SIZE', 400, 'invalid chunk size line', pos);
          pos++;
          continue;
        case EXT_NAME_START:
          if (c === SP || c === HTAB) {
            pos++;
            continue;
          }
          if (TOKEN[c] === 0) return this.fail('ERR_INVALID_CHUNK_EXTENSION', 400, 'invalid chunk extension', pos);
          this.state = EXT_NAME;
          pos++;
          continue;
        case EXT_NAME:
          if (TOKEN[c] === 1) {
            pos++;
            continue;
          }
          if (c === EQUALS) this.state = EXT_VALUE_START;
          else if (c === SEMI) this.state = EXT_NAME_START;
          else if (c === CR) this.state = SIZE_LF;
          else if (c === SP || c === HTAB) this.state = EXT_NAME_WS;
          else return this.fail('ERR_INVALID_CHUNK_EXTENSION', 400, 'invalid chunk extension', pos);
          pos++;
          continue;
        case EXT_NAME_WS:
          if (c === EQUALS) this.state = EXT_VALUE_START;
          else if (c === SEMI) this.state = EXT_NAME_START;
          else if (c !== SP && c !== HTAB) return this.fail('ERR_INVALID_CHUNK_EXTENSION', 400, 'invalid chunk extension', pos);
          pos++;
          continue;
        case EXT_VALUE_TOKEN:
          if (TOKEN[c] === 1) {
            pos++;
            continue;
          }
          if (c === SEMI) this.state = EXT_NAME_START;
          else if (c === CR) this.state = SIZE_LF;
          else if (c === SP || c === HTAB) {
            this.state = EXT;
            this.sawSpace = true;
          } else return this.fail('ERR_INVALID_CHUNK_EXTENSION', 400, 'invalid chunk extension value', pos);
          pos++;
          continue;
        case EXT_VALUE_START:
          if (c === SP || c === HTAB) {
            pos++;
            continue;
          }
          if (c === DQUOTE) this.state = EXT_QUOTED;
          else if (TOKEN[c] === 1) this.state = EXT_VALUE_TOKEN;
          else return this.fail('ERR_INVALID_CHUNK_EXTENSION', 400, 'invalid chunk extension value', pos);
          pos++;
          continue;
        case EXT_QUOTED:
          if (c === DQUOTE) {
            this.state = EXT;
            this.sawSpace = false;
          }
          else if (c === BACKSLASH) this.state = EXT_QUOTED_PAIR;
          else if (FIELD_VALUE[c] === 0) return this.fail('ERR_INVALID_CHUNK_EXTENSION', 400, 'invalid byte in quoted chunk extension', pos);
          pos++;
          continue;
        case EXT_QUOTED_PAIR:
          if (FIELD_VALUE[c] === 0) return this.fail('ERR_INVALID_CHUNK_EXTENSION', 400, 'invalid quoted-pair in chunk extension', pos);
          this.state = EXT_QUOTED;
          pos++;
          continue;
        case SIZE_LF:
          if (c !== LF) return this.fail('ERR_MISSING_CHUNK_CRLF', 400, 'CR without LF after chunk size', pos);
          pos++;
          this.lineLength = 0;
          if (this.size === 0) {
            this.state = TRAILER_START;
          } else {
            this.state = DATA;
            this.remaining = this.size;
          }
          continue;
        case DATA_CR:
          if (c !== CR) return this.fail('ERR_MISSING_CHUNK_CRLF', 400, 'chunk data not followed by CRLF', pos);
          this.state = DATA_LF;
          pos++;
          continue;
        case DATA_LF:
          if (c !== LF) return this.fail('ERR_MISSING_CHUNK_CRLF', 400, 'chunk data not followed by CRLF', pos);
          this.state = SIZE;
          this.size = 0;
          this.digits = 0;
          this.lineLength = 0;
          pos++;
          continue;
        case TRAILER_START:
          if (c === CR) {
            this.state = END_LF;
            pos++;
            continue;
          }
          if (c === SP || c === HTAB) return this.fail('ERR_INVALID_TRAILER', 400, 'obsolete line folding in trailer', pos);
          this.state = TRAILER_LINE;
          this.trailerLine = '';
          continue;
        case TRAILER_LINE: {
          // Scan to the CR of this line; the line is validated whole when it ends.
          let stop = pos;
          while (stop < end && buf[stop] !== CR && buf[stop] !== LF) stop++;
          this.trailerBytes += stop - pos;
          if (this.trailerBytes > this.maxTrailerSize) return this.fail('ERR_TRAILER_TOO_LARGE', 431, 'trailer section too large', pos);
          this.trailerLine += buf.latin1Slice(pos, stop);
          pos = stop;
          if (stop < end) {
            if (buf[stop] === LF) return this.fail('ERR_INVALID_TRAILER', 400, 'trailer line ended by bare LF', pos);
            this.state = TRAILER_LF;
            pos++;
          }
          continue;
        }
        case TRAILER_LF: {
          if (c !== LF) return this.fail('ERR_INVALID_TRAILER', 400, 'CR without LF in trailer', pos);
          const error = this.addTrailer(this.trailerLine);
          if (error !== null) return this.fail(error, 400, 'invalid trailer field', pos);
          this.trailerBytes += 2;
          this.state = TRAILER_START;
          pos++;
          continue;
        }
        case END_LF:
          if (c !== LF) return this.fail('ERR_MISSING_CHUNK_CRLF', 400, 'CR without LF at the end of the chunked body', pos);
          this.done = true;
          return pos + 1;
      }
    }
    return pos;
  }

  private addTrailer(line: string): string | null {
    const colon = line.indexOf(':');
    if (colon <= 0) return 'ERR_INVALID_TRAILER';
    const name = line.slice(0, colon);
    if (!isToken(name)) return 'ERR_INVALID_TRAILER';
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!isValidHeaderValue(value)) return 'ERR_INVALID_TRAILER';
    this.trailers.push(name, value);
    return null;
  }
}
