// The request parser on literal bytes: every strictness rule with its status and code, every valid
// request parsed whole, split at every byte offset and fed one byte at a time, and limits that fire
// before a head is complete.

import t from 'tap';
import { RequestParser, type ParserLimits, type RequestHead } from '../../lib/http1/request-parser.js';

/** Feeds `pieces` the way the connection does: unconsumed bytes are presented again, followed by the next piece. */
function feed(pieces: Buffer[], limits?: Partial<ParserLimits>): { head: RequestHead | null; consumed: number; error: { code: string; status: number } | null; rest: Buffer } {
  const parser = new RequestParser(limits);
  let pending: Buffer = Buffer.alloc(0);
  let total = 0;
  for (const piece of pieces) {
    const buf = pending.length === 0 ? piece : Buffer.concat([pending, piece]);
    const n = parser.execute(buf, 0, buf.length);
    if (n < 0) return { head: null, consumed: total, error: parser.error, rest: Buffer.alloc(0) };
    total += n;
    pending = buf.subarray(n);
    if (parser.head !== null) return { head: parser.head, consumed: total, error: null, rest: pending };
  }
  return { head: null, consumed: total, error: null, rest: pending };
}

function parseWhole(text: string, limits?: Partial<ParserLimits>) {
  return feed([Buffer.from(text, 'latin1')], limits);
}

const VALID: Array<{ name: string; text: string; expect: Partial<RequestHead> & { headers?: string[] } }> = [
  { name: 'minimal GET', text: 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', expect: { method: 'GET', target: '/', versionMinor: 1, host: 'a', contentLength: -1, chunked: false, keepAlive: true, headers: ['Host', 'a'] } },
  {
    name: 'typical browser GET',
    text:
      'GET /search?q=linger&lang=en HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n' +
      'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n' +
      'Referer: https://www.example.com/\r\nConnection: keep-alive\r\nCookie: session=abc123; theme=dark\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n' +
      'Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: same-origin\r\n\r\n',
    expect: { method: 'GET', target: '/search?q=linger&lang=en', host: 'www.example.com', keepAlive: true },
  },
  { name: 'POST with Content-Length', text: 'POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n', expect: { method: 'POST', contentLength: 5 } },
  { name: 'chunked POST', text: 'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', expect: { chunked: true, contentLength: -1 } },
  { name: 'HTTP/1.0 without keep-alive', text: 'GET / HTTP/1.0\r\n\r\n', expect: { versionMinor: 0, keepAlive: false, host: null } },
  { name: 'HTTP/1.0 with keep-alive', text: 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n', expect: { versionMinor: 0, keepAlive: true } },
  { name: 'HTTP/1.1 Connection: close', text: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n', expect: { keepAlive: false } },
  { name: 'absolute-form', text: 'GET http://example.com/x?y=1 HTTP/1.1\r\nHost: example.com\r\n\r\n', expect: { target: 'http://example.com/x?y=1' } },
  { name: 'OPTIONS *', text: 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n', expect: { method: 'OPTIONS', target: '*' } },
  { name: 'CONNECT authority-form', text: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', expect: { method: 'CONNECT', target: 'example.com:443' } },
  { name: 'Upgrade: websocket', text: 'GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n', expect: { upgrade: 'websocket' } },
  { name: 'Upgrade without Connection: upgrade is ignored', text: 'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n', expect: { upgrade: null } },
  { name: 'Expect: 100-continue', text: 'PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nExpect: 100-Continue\r\n\r\n', expect: { expectContinue: true, contentLength: 10 } },
  { name: 'Expect on HTTP/1.0 is ignored', text: 'PUT /f HTTP/1.0\r\nContent-Length: 1\r\nExpect: something-else\r\n\r\n', expect: { expectContinue: false } },
  { name: 'duplicate identical Content-Length', text: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n', expect: { contentLength: 7 } },
  { name: 'Content-Length list of identical values', text: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\n\r\n', expect: { contentLength: 7 } },
  { name: 'leading CRLF before the request line', text: '\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', expect: { method: 'GET' } },
  { name: 'OWS around values and empty value', text: 'GET / HTTP/1.1\r\nHost:a\r\nX-Empty:\r\nX-Pad: \t v \t\r\n\r\n', expect: { headers: ['Host', 'a', 'X-Empty', '', 'X-Pad', 'v'] } },
  { name: 'obs-text in a value', text: 'GET / HTTP/1.1\r\nHost: a\r\nX-Latin: caf\xe9\r\n\r\n', expect: { headers: ['Host', 'a', 'X-Latin', 'caf\xe9'] } },
  { name: 'extension method', text: 'PROPFIND /dav HTTP/1.1\r\nHost: a\r\n\r\n', expect: { method: 'PROPFIND' } },
];


t.test('valid requests parse field by field', async (t) => {
  for (const v of VALID) {
    const r = parseWhole(v.text);
    t.equal(r.error, null, `${v.name}: no error`);
    t.ok(r.head, `${v.name}: parsed`);
    const { headers, ...fields } = v.expect;
    t.match(r.head, fields, `${v.name}: fields`);
    if (headers !== undefined) t.same(r.head?.rawHeaders, headers, `${v.name}: raw headers`);
    t.equal(r.consumed, Buffer.byteLength(v.text, 'latin1'), `${v.name}: consumed the whole head`);
    t.equal(r.head?.headBytes, Buffer.byteLength(v.text, 'latin1'), `${v.name}: headBytes`);
  }
});

t.test('every valid request split at every byte offset, and one byte at a time, gives the same head', async (t) => {
  for (const v of VALID) {
    const bytes = Buffer.from(v.text, 'latin1');
    const whole = parseWhole(v.text).head!;
    let mismatches = 0;
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = feed([bytes.subarray(0, cut), bytes.subarray(cut)]);
      if (r.head === null || r.consumed !== bytes.length || JSON.stringify(r.head) !== JSON.stringify(whole)) mismatches++;
    }
    t.equal(mismatches, 0, `${v.name}: ${bytes.length - 1} splits`);
    const single = feed([...bytes].map((b) => Buffer.from([b])));
    t.same(single.head, whole, `${v.name}: one byte at a time`);
  }
});

t.test('pipelined heads: consumed counts exactly the first head', async (t) => {
  const first = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n';
  const second = 'GET /2 HTTP/1.1\r\nHost: a\r\n\r\n';
  const buf = Buffer.from(first + second);
  const parser = new RequestParser();
  const n = parser.execute(buf, 0, buf.length);
  t.equal(n, first.length);
  t.equal(parser.head?.target, '/1');
  parser.reset();
  const m = parser.execute(buf, n, buf.length);
  t.equal(m, second.length);
  t.equal(parser.head?.target, '/2');
});

const INVALID: Array<{ name: string; text: string; status: number; code: string; limits?: Partial<ParserLimits> }> = [
  { name: 'double space in request line', text: 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_INVALID_TARGET' },
  { name: 'extra field after the version', text: 'GET / HTTP/1.1 x\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_INVALID_VERSION' },
  { name: 'no version (HTTP/0.9 style)', text: 'GET /\r\n\r\n', status: 400, code: 'ERR_INVALID_REQUEST_LINE' },
  { name: 'invalid method token', text: 'G@T / HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_INVALID_METHOD' },
  { name: 'empty method', text: ' / HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_INVALID_METHOD' },
  { name: 'control byte in the target', text: 'GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_INVALID_TARGET' },
  { name: 'non-ASCII byte in the target', text: 'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_INVALID_TARGET' },
  { name: 'relative target', text: 'GET index.html HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_INVALID_TARGET' },
  { name: 'asterisk-form with GET', text: 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_INVALID_TARGET' },
  { name: 'absolute-form with another scheme', text: 'GET ftp://a/b HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_INVALID_TARGET' },
  { name: 'HTTP/2.0', text: 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', status: 505, code: 'ERR_UNSUPPORTED_VERSION' },
  { name: 'HTTP/1.2', text: 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', status: 505, code: 'ERR_UNSUPPORTED_VERSION' },
  { name: 'lower-case http', text: 'GET / http/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_INVALID_VERSION' },
  { name: 'HTTP/1.10', text: 'GET / HTTP/1.10\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_INVALID_VERSION' },
  { name: 'bare LF ending the request line', text: 'GET / HTTP/1.1\nHost: a\r\n\r\n', status: 400, code: 'ERR_BARE_LF' },
  { name: 'bare LF ending a header line', text: 'GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n', status: 400, code: 'ERR_BARE_LF' },
  { name: 'bare LF ending the head', text: 'GET / HTTP/1.1\r\nHost: a\r\n\n', status: 400, code: 'ERR_BARE_LF' },
  { name: 'bare CR inside a value', text: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n', status: 400, code: 'ERR_INVALID_HEADER_VALUE' },
  { name: 'bare CR inside the request line', text: 'GET /\r HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_INVALID_TARGET' },
  { name: 'NUL in a value', text: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n', status: 400, code: 'ERR_INVALID_HEADER_VALUE' },
  { name: 'DEL in a value', text: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n', status: 400, code: 'ERR_INVALID_HEADER_VALUE' },
  { name: 'control byte in a value', text: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x1bb\r\n\r\n', status: 400, code: 'ERR_INVALID_HEADER_VALUE' },
  { name: 'whitespace before the colon', text: 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n', status: 400, code: 'ERR_WHITESPACE_BEFORE_COLON' },
  { name: 'tab before the colon', text: 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n', status: 400, code: 'ERR_WHITESPACE_BEFORE_COLON' },
  { name: 'obs-fold', text: 'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n  b\r\n\r\n', status: 400, code: 'ERR_OBS_FOLD' },
  { name: 'invalid token character in a name', text: 'GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n', status: 400, code: 'ERR_INVALID_HEADER_NAME' },
  { name: 'empty header name', text: 'GET / HTTP/1.1\r\nHost: a\r\n: z\r\n\r\n', status: 400, code: 'ERR_INVALID_HEADER_NAME' },
  { name: 'header line without a colon', text: 'GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n', status: 400, code: 'ERR_INVALID_HEADER_NAME' },
  { name: 'missing Host on HTTP/1.1', text: 'GET / HTTP/1.1\r\nX: y\r\n\r\n', status: 400, code: 'ERR_MISSING_HOST' },
  { name: 'duplicate Host', text: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', status: 400, code: 'ERR_DUPLICATE_HOST' },
  { name: 'duplicate Host on HTTP/1.0', text: 'GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n', status: 400, code: 'ERR_DUPLICATE_HOST' },
  { name: 'space inside Host', text: 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', status: 400, code: 'ERR_INVALID_HOST' },
  { name: 'Content-Length with Transfer-Encoding', text: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', status: 400, code: 'ERR_CONTENT_LENGTH_WITH_TRANSFER_ENCODING' },
  { name: 'Transfer-Encoding before Content-Length', text: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n', status: 400, code: 'ERR_CONTENT_LENGTH_WITH_TRANSFER_ENCODING' },
  { name: 'differing duplicate Content-Length', text: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', status: 400, code: 'ERR_CONFLICTING_CONTENT_LENGTH' },
  { name: 'differing Content-Length list', text: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n', status: 400, code: 'ERR_CONFLICTING_CONTENT_LENGTH' },
  { name: 'signed Content-Length', text: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n', status: 400, code: 'ERR_INVALID_CONTENT_LENGTH' },
  { name: 'negative Content-Length', text: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', status: 400, code: 'ERR_INVALID_CONTENT_LENGTH' },
  { name: 'hex Content-Length', text: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n', status: 400, code: 'ERR_INVALID_CONTENT_LENGTH' },
  { name: 'empty Content-Length', text: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n', status: 400, code: 'ERR_INVALID_CONTENT_LENGTH' },
  { name: 'space inside Content-Length', text: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n', status: 400, code: 'ERR_INVALID_CONTENT_LENGTH' },
  { name: 'Content-Length over 15 digits', text: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000\r\n\r\n', status: 400, code: 'ERR_INVALID_CONTENT_LENGTH' },
  { name: 'Transfer-Encoding not ending in chunked', text: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', status: 400, code: 'ERR_TRANSFER_ENCODING_NOT_CHUNKED' },
  { name: 'Transfer-Encoding identity', text: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n', status: 400, code: 'ERR_TRANSFER_ENCODING_NOT_CHUNKED' },
  { name: 'chunked twice', text: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', status: 400, code: 'ERR_CHUNKED_TWICE' },
  { name: 'gzip before chunked', text: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', status: 501, code: 'ERR_UNSUPPORTED_TRANSFER_CODING' },
  { name: 'Transfer-Encoding on HTTP/1.0', text: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', status: 400, code: 'ERR_TRANSFER_ENCODING_HTTP10' },
  { name: 'unknown expectation', text: 'PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n', status: 417, code: 'ERR_UNSUPPORTED_EXPECTATION' },
  { name: 'too many leading empty lines', text: '\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', status: 400, code: 'ERR_TOO_MANY_EMPTY_LINES' },
  { name: 'target over maxUriLength', text: `GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: a\r\n\r\n`, status: 414, code: 'ERR_URI_TOO_LONG', limits: { maxUriLength: 64 } },
  { name: 'head over maxHeaderSize', text: `GET / HTTP/1.1\r\nHost: a\r\nX: ${'v'.repeat(300)}\r\n\r\n`, status: 431, code: 'ERR_HEAD_TOO_LARGE', limits: { maxHeaderSize: 256 } },
  { name: 'more headers than maxHeaderCount', text: `GET / HTTP/1.1\r\nHost: a\r\n${'X: y\r\n'.repeat(5)}\r\n`, status: 431, code: 'ERR_TOO_MANY_HEADERS', limits: { maxHeaderCount: 5 } },
];

t.test('every strictness rule: literal bytes, expected status and code', async (t) => {
  for (const c of INVALID) {
    const r = parseWhole(c.text, c.limits);
    t.equal(r.head, null, `${c.name}: no head`);
    t.same(r.error && { status: r.error.status, code: r.error.code }, { status: c.status, code: c.code }, c.name);
  }
});

t.test('rejections do not depend on how the bytes are split', async (t) => {
  for (const c of INVALID) {
    const bytes = Buffer.from(c.text, 'latin1');
    let wrong = 0;
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = feed([bytes.subarray(0, cut), bytes.subarray(cut)], c.limits);
      if (r.error === null || r.error.code !== c.code) wrong++;
    }
    t.equal(wrong, 0, `${c.name}: same error at every split`);
  }
});

t.test('limits fire on an incomplete head, before its end arrives', async (t) => {
  const longLine = feed([Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nX: '), Buffer.alloc(20_000, 'a')]);
  t.match(longLine.error, { status: 431, code: 'ERR_HEAD_TOO_LARGE' }, 'a header line with no LF yet');
  const longTarget = feed([Buffer.from('GET /'), Buffer.alloc(10_000, 'a')]);
  t.match(longTarget.error, { status: 414, code: 'ERR_URI_TOO_LONG' }, 'a request line with no LF yet');
  const manyLines = feed([Buffer.from(`GET / HTTP/1.1\r\nHost: a\r\n${'X: y\r\n'.repeat(200)}`)]);
  t.match(manyLines.error, { status: 431, code: 'ERR_TOO_MANY_HEADERS' }, 'too many header lines before the blank line');
});

t.test('a long head fed one byte at a time only consumes complete lines', async (t) => {
  const text = `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 90 }, (_, i) => `X-Header-${i}: ${'v'.repeat(60)}\r\n`).join('')}\r\n`;
  const bytes = Buffer.from(text);
  const parser = new RequestParser();
  let pending: Buffer = Buffer.alloc(0);
  let maxPending = 0;
  let failures = 0;
  for (const b of bytes) {
    const buf = Buffer.concat([pending, Buffer.from([b])]);
    const n = parser.execute(buf, 0, buf.length);
    if (n < 0) failures++;
    pending = buf.subarray(n);
    maxPending = Math.max(maxPending, pending.length);
    if (parser.head !== null) break;
  }
  t.equal(failures, 0);
  t.equal(parser.head?.rawHeaders.length, 182);
  t.ok(maxPending <= 80, `re-presented bytes stay within one line (${maxPending}), so the work is linear`);
});

t.test('a failed parser stays failed until reset', async (t) => {
  const parser = new RequestParser();
  const bad = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nX : y\r\n\r\n');
  t.equal(parser.execute(bad, 0, bad.length), -1);
  const good = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal(parser.execute(good, 0, good.length), -1);
  parser.reset();
  t.equal(parser.execute(good, 0, good.length), good.length);
});
