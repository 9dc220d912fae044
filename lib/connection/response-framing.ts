// How a response becomes bytes: the head with the engine's Date, Connection and framing lines,
// whole bodies behind Content-Length (response-writer.ts writes that hot path out inline), streamed
// ones chunked (RFC 9112 7.1) or by a declared length. Pure: strings and buffers, no socket.

import { CHUNK_END, chunkHeader, LAST_CHUNK, lastChunkWithTrailers } from '../http1/chunked-encoder.js';
import { httpDate } from '../http1/date-cache.js';
import { serializeHead } from '../http1/head-writer.js';
import type { NativeBuffer } from '../http1/native-buffer.js';
import type { OutgoingResponse } from './outgoing-response.js';

/** A small body is copied behind its head so head and body leave in one buffer and one segment. */
export const INLINE_BODY_LIMIT = 16_384;
const ASCII = /^[\x00-\x7f]*$/;

/** UTF-8 length of a string; short ones are counted here, which is cheaper than a call into C++. */
export function utf8Length(text: string): number {
  const n = text.length;
  if (n > 128) return Buffer.byteLength(text);
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: one 4-byte sequence for two UTF-16 units.
      bytes += 2;
      i++;
    } else bytes += 2; // 3-byte sequences, lone surrogates included (written as U+FFFD, 3 bytes)
  }
  return bytes;
}

/** The lengths of small bodies repeat (the same page, the same JSON shape): their lines are built once. */
const contentLengthLines: string[] = [];
export function contentLengthLine(length: number): string {
  if (length >= 4096) return `Content-Length: ${length}\r\n`;
  return (contentLengthLines[length] ??= `Content-Length: ${length}\r\n`);
}

/** RFC 9110 9.3.2, 15.2, 15.3.5, 15.4.5: these responses carry no content whatever the handler gave. */
export function withoutContent(method: string, status: number): boolean {
  return method === 'HEAD' || status < 200 || status === 204 || status === 304;
}

/**
 * The framing line of a streamed response, recording on it how its body is framed: a declared
 * length, chunked on HTTP/1.1, or (HTTP/1.0 has no chunked coding) ended by the close.
 */
export function streamFraming(response: OutgoingResponse): string {
  const status = response.statusCode;
  response._noBody = withoutContent(response.request.method, status);
  if (response._contentLength >= 0) {
    response._remaining = response._contentLength;
    return status !== 204 && status >= 200 ? `Content-Length: ${response._contentLength}\r\n` : '';
  }
  if (response._noBody) return '';
  if (response.request.head.versionMinor === 1) {
    response._chunked = true;
    return 'Transfer-Encoding: chunked\r\n';
  }
  return '';
}

/** RFC 9112 6.3 item 8: a body with neither length nor chunking ends only with the connection. */
export function isCloseDelimited(response: OutgoingResponse): boolean {
  return !response._noBody && !response._chunked && response._remaining < 0;
}

export function buildHead(response: OutgoingResponse, connectionLines: string, framing: string): string {
  return serializeHead(response.statusCode, response.statusMessage, response.headerList,
    `Date: ${response._date ?? httpDate()}\r\n${connectionLines}${framing}`);
}

/** Head and body can join the writer's text output: an ASCII head encodes the same in UTF-8 and latin1. */
export function joinsText(response: OutgoingResponse, body: Buffer | string | null, length: number): boolean {
  return (body === null || typeof body === 'string') && length <= INLINE_BODY_LIMIT && !response._latin1Head
    && (response.statusMessage === undefined || ASCII.test(response.statusMessage));
}

/** A whole response as bytes: one buffer when small, else the head and the caller's body buffer. */
export function wholeAsBuffers(head: string, body: Buffer | string | null, length: number): Buffer | [Buffer, Buffer] {
  const headLength = head.length;
  let data: NativeBuffer;
  if (length === 0 || body === null) {
    data = Buffer.allocUnsafe(headLength) as NativeBuffer;
    data.latin1Write(head, 0);
  } else if (typeof body === 'string') {
    data = Buffer.allocUnsafe(headLength + length) as NativeBuffer;
    data.latin1Write(head, 0);
    data.utf8Write(body, headLength);
  } else if (length <= INLINE_BODY_LIMIT) {
    data = Buffer.allocUnsafe(headLength + length) as NativeBuffer;
    data.latin1Write(head, 0);
    body.copy(data, headLength);
  } else {
    data = Buffer.allocUnsafe(headLength) as NativeBuffer;
    data.latin1Write(head, 0);
    return [data, body];
  }
  return data;
}

/** One chunk of a chunked body; a small one copied into a single buffer with its framing. */
export function chunkAsBuffers(data: Buffer): Buffer | [Buffer, Buffer, Buffer] {
  const length = data.length;
  const size = chunkHeader(length);
  if (length <= INLINE_BODY_LIMIT) {
    const framed = Buffer.allocUnsafe(size.length + length + 2) as NativeBuffer;
    framed.latin1Write(size, 0);
    data.copy(framed, size.length);
    framed.latin1Write(CHUNK_END, size.length + length);
    return framed;
  }
  return [Buffer.from(size, 'latin1'), data, Buffer.from(CHUNK_END, 'latin1')];
}

export function lastChunk(trailers: readonly string[] | null): Buffer {
  return Buffer.from(trailers !== null && trailers.length > 0 ? lastChunkWithTrailers(trailers) : LAST_CHUNK, 'latin1');
}
