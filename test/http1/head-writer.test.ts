// Response heads and the engine's own responses: status lines, the Date cache, error responses
// that parse as complete messages, header validation that refuses response splitting.

import t from 'tap';
import { CHUNK_END, chunkHeader, LAST_CHUNK, lastChunkWithTrailers } from '../../lib/http1/chunked-encoder.js';
import { formatHttpDate, httpDate } from '../../lib/http1/date-cache.js';
import { CONTINUE_RESPONSE, errorResponse, serializeHead } from '../../lib/http1/head-writer.js';
import { isToken, isValidHeaderValue } from '../../lib/http1/header-validation.js';
import { statusLine, STATUS_TEXT } from '../../lib/http1/status-codes.js';

t.test('status lines', async (t) => {
  t.equal(statusLine(200), 'HTTP/1.1 200 OK\r\n');
  t.equal(statusLine(404), 'HTTP/1.1 404 Not Found\r\n');
  t.equal(statusLine(599), 'HTTP/1.1 599 \r\n', 'unknown code, empty reason');
  t.equal(statusLine(200, 'Fine'), 'HTTP/1.1 200 Fine\r\n');
  t.throws(() => statusLine(99), { code: 'ERR_INVALID_STATUS' });
  t.throws(() => statusLine(1000), { code: 'ERR_INVALID_STATUS' });
  t.throws(() => statusLine(200, 'x\r\nSet-Cookie: a=b'), { code: 'ERR_INVALID_STATUS_MESSAGE' });
  t.equal(STATUS_TEXT[431], 'Request Header Fields Too Large');
});

t.test('Date is IMF-fixdate for the current second', async (t) => {
  const before = new Date().toUTCString();
  const value = httpDate();
  const after = new Date().toUTCString();
  t.match(value, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  t.ok(value === before || value === after, 'matches the clock');
  t.equal(formatHttpDate(0), 'Thu, 01 Jan 1970 00:00:00 GMT');
});

t.test('serializeHead puts headers, engine lines and the final CRLF in order', async (t) => {
  t.equal(serializeHead(201, undefined, ['X-A', '1', 'Set-Cookie', 'a=b'], 'Content-Length: 0\r\n'),
    'HTTP/1.1 201 Created\r\nX-A: 1\r\nSet-Cookie: a=b\r\nContent-Length: 0\r\n\r\n');
});

t.test('error responses are complete messages that close the connection', async (t) => {
  for (const status of [400, 408, 413, 414, 417, 431, 501, 503, 505]) {
    const text = errorResponse(status);
    const [head, body] = text.split('\r\n\r\n') as [string, string];
    t.match(head, new RegExp(`^HTTP/1\\.1 ${status} ${STATUS_TEXT[status]}\\r\\n`));
    t.match(head, /\r\nConnection: close(\r\n|$)/);
    t.match(head, /\r\nDate: [A-Z][a-z]{2}, /);
    const length = Number(/Content-Length: (\d+)/.exec(head)![1]);
    t.equal(Buffer.byteLength(body), length, `${status}: Content-Length matches the body`);
  }
  t.equal(CONTINUE_RESPONSE, 'HTTP/1.1 100 Continue\r\n\r\n');
});

t.test('header validation refuses what would split a response', async (t) => {
  t.ok(isToken('X-Custom_Header.1'));
  t.notOk(isToken(''));
  t.notOk(isToken('Bad Name'));
  t.notOk(isToken('Bad:Name'));
  t.ok(isValidHeaderValue('text/html; charset=utf-8'));
  t.ok(isValidHeaderValue('caf\u00e9\t'));
  t.notOk(isValidHeaderValue('a\r\nb'));
  t.notOk(isValidHeaderValue('a\nb'));
  t.notOk(isValidHeaderValue('a\u0000b'));
  t.notOk(isValidHeaderValue('\u0100'), 'above U+00FF cannot be sent as one byte');
});

t.test('chunked encoder', async (t) => {
  t.equal(chunkHeader(255), 'ff\r\n');
  t.equal(chunkHeader(0), '0\r\n');
  t.equal(CHUNK_END, '\r\n');
  t.equal(LAST_CHUNK, '0\r\n\r\n');
  t.equal(lastChunkWithTrailers(['X-Sum', 'abc']), '0\r\nX-Sum: abc\r\n\r\n');
  t.throws(() => lastChunkWithTrailers(['X-Sum', 'a\r\nb']), { code: 'ERR_INVALID_TRAILER' });
});
