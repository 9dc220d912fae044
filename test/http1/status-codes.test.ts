// Status lines: cached for every known code, empty reason for unknown ones, typed errors for misuse.

import t from 'tap';
import { statusLine, STATUS_TEXT } from '../../lib/http1/status-codes.js';

t.test('known codes have their RFC 9110 reason phrase', async (t) => {
  t.equal(statusLine(200), 'HTTP/1.1 200 OK\r\n');
  t.equal(statusLine(404), 'HTTP/1.1 404 Not Found\r\n');
  t.equal(statusLine(413), 'HTTP/1.1 413 Content Too Large\r\n');
  t.equal(statusLine(422), 'HTTP/1.1 422 Unprocessable Content\r\n');
  t.equal(statusLine(505), 'HTTP/1.1 505 HTTP Version Not Supported\r\n');
  t.equal(STATUS_TEXT[431], 'Request Header Fields Too Large');
  t.equal(STATUS_TEXT[417], 'Expectation Failed');
  const rfc9110 = [100, 101, 200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407,
    408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426, 500, 501, 502, 503, 504, 505];
  t.same(rfc9110.filter((code) => typeof STATUS_TEXT[code] !== 'string'), [], 'every RFC 9110 code has a phrase');
});

t.test('every known line is one well-formed status line, and cached', async (t) => {
  for (const code of Object.keys(STATUS_TEXT).map(Number)) {
    const line = statusLine(code);
    if (!/^HTTP\/1\.1 \d{3} [\x20-\x7e]+\r\n$/.test(line) || statusLine(code) !== line) t.fail(`status ${code}: ${JSON.stringify(line)}`);
  }
  t.pass('checked');
});

t.test('unknown codes get an empty reason, still a valid status line', async (t) => {
  t.equal(statusLine(599), 'HTTP/1.1 599 \r\n');
  t.equal(statusLine(599), 'HTTP/1.1 599 \r\n', 'twice');
  t.equal(statusLine(999), 'HTTP/1.1 999 \r\n');
  t.equal(statusLine(100), 'HTTP/1.1 100 Continue\r\n');
});

t.test('custom reasons are validated', async (t) => {
  t.equal(statusLine(200, 'Fine'), 'HTTP/1.1 200 Fine\r\n');
  t.equal(statusLine(200, ''), 'HTTP/1.1 200 \r\n');
  t.equal(statusLine(200), 'HTTP/1.1 200 OK\r\n', 'a custom reason does not replace the cached line');
  t.throws(() => statusLine(200, 'x\r\nSet-Cookie: a=b'), { code: 'ERR_INVALID_STATUS_MESSAGE', name: 'UsageError' });
  t.throws(() => statusLine(200, 'a\u0000b'), { code: 'ERR_INVALID_STATUS_MESSAGE' });
});

t.test('status outside 100..999 is a UsageError', async (t) => {
  for (const bad of [99, 1000, 0, -200, 200.5, Number.NaN, Infinity]) {
    t.throws(() => statusLine(bad), { code: 'ERR_INVALID_STATUS', name: 'UsageError' }, String(bad));
  }
});
