// inject() options turned into the bytes a client would send, refused with ERR_INVALID_INJECT
// when they could not be one well-formed HTTP/1.1 request.

import { UsageError } from '../http1/protocol-error.js';

export interface InjectOptions {
  /** Default 'GET'. */
  method?: string;
  /** The request target; default '/'. */
  url?: string;
  /** Header values are sent as written; a Host of 'localhost' is added when none is given. */
  headers?: Readonly<Record<string, string | number | readonly string[]>>;
  /** Strings and bytes are sent as they are; other values as JSON (with a JSON Content-Type unless one is given). */
  body?: string | Buffer | Uint8Array | object | number | boolean | null;
  /** What `req.remoteAddress` says; default '127.0.0.1'. */
  remoteAddress?: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values may not carry CR, LF or NUL (RFC 9110 5.5): a request built here must be one request.
const BAD_VALUE = /[\r\n\0]/;

/** Serialises inject() options as the bytes a client would send. */
export function requestBytes(options: InjectOptions): { bytes: Buffer; method: string } {
  if (options === null || typeof options !== 'object') throw new UsageError('ERR_INVALID_INJECT', 'inject() takes an options object');
  const method = options.method ?? 'GET';
  if (typeof method !== 'string' || !TOKEN.test(method)) throw new UsageError('ERR_INVALID_INJECT', `inject() method must be an HTTP token, got ${JSON.stringify(method)}`);
  const url = options.url ?? '/';
  if (typeof url !== 'string' || url.length === 0 || /[\s\0]/.test(url)) {
    throw new UsageError('ERR_INVALID_INJECT', `inject() url must be a request target without whitespace, got ${JSON.stringify(url)}`);
  }
  let head = `${method} ${url} HTTP/1.1\r\n`;
  let hasHost = false;
  let hasLength = false;
  let hasType = false;
  const headers = options.headers ?? {};
  for (const name of Object.keys(headers)) {
    if (!TOKEN.test(name)) throw new UsageError('ERR_INVALID_INJECT', `inject() header name ${JSON.stringify(name)} is not an HTTP token`);
    const lower = name.toLowerCase();
    if (lower === 'host') hasHost = true;
    else if (lower === 'content-length' || lower === 'transfer-encoding') hasLength = true;
    else if (lower === 'content-type') hasType = true;
    const value = headers[name]!;
    for (const one of Array.isArray(value) ? value : [value]) {
      const text = String(one);
      if (BAD_VALUE.test(text)) throw new UsageError('ERR_INVALID_INJECT', `inject() header ${name} has CR, LF or NUL in its value`);
      head += `${name}: ${text}\r\n`;
    }
  }
  if (!hasHost) head += 'Host: localhost\r\n';
  let body: Buffer | null = null;
  const given = options.body;
  if (given !== undefined) {
    if (typeof given === 'string') body = Buffer.from(given, 'utf8');
    else if (given instanceof Uint8Array) body = Buffer.from(given.buffer, given.byteOffset, given.byteLength);
    else {
      body = Buffer.from(JSON.stringify(given), 'utf8');
      if (!hasType) head += 'Content-Type: application/json\r\n';
    }
    if (!hasLength) head += `Content-Length: ${body.length}\r\n`;
  }
  head += '\r\n';
  const headBytes = Buffer.from(head, 'latin1');
  return { bytes: body === null || body.length === 0 ? headBytes : Buffer.concat([headBytes, body]), method };
}
