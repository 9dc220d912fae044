// Reads back what the engine wrote: complete responses, with their framing (Content-Length,
// chunked with trailers, or until close) removed; lenient, since the engine is the only writer.

export interface InjectResponse {
  statusCode: number;
  statusMessage: string;
  httpVersion: string;
  /** Lower-cased names; a repeated field is an array (Set-Cookie always is). */
  headers: Record<string, string | string[]>;
  body: Buffer;
  trailers: Record<string, string>;
  /** The bytes of this response as the engine wrote them (head, framing and body). */
  raw: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

export interface Parsed {
  response: InjectResponse;
  consumed: number;
}

/**
 * One response from the start of `data`, or null when more bytes are needed. Interim (1xx)
 * responses are skipped. `noBody`: the request was a HEAD; `closed`: no more bytes will come
 * (a response without framing ends there).
 */
export function parseResponse(data: Buffer, noBody: boolean, closed: boolean): Parsed | null {
  let start = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', start, 'latin1');
    if (headEnd === -1) return null;
    const lines = data.toString('latin1', start, headEnd).split('\r\n');
    const statusLine = lines[0]!;
    // HTTP/x.y SP 3DIGIT [SP reason]: what the engine writes (RFC 9112 4).
    const statusCode = statusLine.startsWith('HTTP/') && statusLine[8] === ' ' ? Number(statusLine.slice(9, 12)) : NaN;
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) throw new Error(`inject: unparseable status line ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string | string[]> = Object.create(null);
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      addField(headers, line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    let at = headEnd + 4;
    if (statusCode >= 100 && statusCode < 200 && statusCode !== 101) {
      start = at;
      continue;
    }
    let body: Buffer;
    const trailers: Record<string, string> = Object.create(null);
    const length = headers['content-length'];
    const chunked = /chunked/i.test(String(headers['transfer-encoding'] ?? ''));
    if (noBody || statusCode === 204 || statusCode === 304 || statusCode === 101) {
      body = Buffer.alloc(0);
    } else if (chunked) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = data.indexOf('\r\n', at, 'latin1');
        if (lineEnd === -1) return null;
        const size = parseInt(data.toString('latin1', at, lineEnd), 16);
        if (Number.isNaN(size)) throw new Error('inject: bad chunk size');
        at = lineEnd + 2;
        if (size === 0) {
          for (;;) {
            const trailerEnd = data.indexOf('\r\n', at, 'latin1');
            if (trailerEnd === -1) return null;
            const line = data.toString('latin1', at, trailerEnd);
            at = trailerEnd + 2;
            if (line === '') break;
            const colon = line.indexOf(':');
            trailers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
          }
          break;
        }
        if (data.length < at + size + 2) return null;
        parts.push(data.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (length !== undefined) {
      const n = Number(Array.isArray(length) ? length[0] : length);
      if (data.length < at + n) return null;
      body = data.subarray(at, at + n);
      at += n;
    } else {
      if (!closed) return null;
      body = data.subarray(at);
      at = data.length;
    }
    const raw = data.subarray(start, at);
    return {
      consumed: at,
      response: {
        statusCode,
        statusMessage: statusLine.slice(13),
        httpVersion: statusLine.slice(5, 8),
        headers,
        body,
        trailers,
        raw,
        text: () => body.toString('utf8'),
        json: <T>() => JSON.parse(body.toString('utf8')) as T,
      },
    };
  }
}

function addField(headers: Record<string, string | string[]>, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
  else if (Array.isArray(existing)) existing.push(value);
  else headers[name] = [existing, value];
}
