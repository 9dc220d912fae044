// Response heads and the engine's own responses: serialized heads, error responses that parse as
// complete messages, the 100 Continue interim response.

import t from 'tap';
import { CONTINUE_RESPONSE, errorResponse, serializeHead } from '../../lib/http1/head-writer.js';
import { STATUS_TEXT } from '../../lib/http1/status-codes.js';

t.test('serializeHead puts the status line, headers, engine lines and the final CRLF in order', async (t) => {
  t.equal(
    serializeHead(201, undefined, ['X-A', '1', 'Set-Cookie', 'a=b', 'Set-Cookie', 'c=d'], 'Content-Length: 0\r\n'),
    'HTTP/1.1 201 Created\r\nX-A: 1\r\nSet-Cookie: a=b\r\nSet-Cookie: c=d\r\nContent-Length: 0\r\n\r\n',
  );
  t.equal(serializeHead(204, undefined, [], ''), 'HTTP/1.1 204 No Content\r\n\r\n');
  t.equal(serializeHead(200, 'Fine', ['X-Empty', ''], ''), 'HTTP/1.1 200 Fine\r\nX-Empty: \r\n\r\n');
  t.equal(serializeHead(299, undefined, [], 'Connection: close\r\n'), 'HTTP/1.1 299 \r\nConnection: close\r\n\r\n');
});

/** Parses a response the way a client would: status line, fields, Content-Length body, nothing after. */
function parseResponse(text: string): { status: number; reason: string; fields: Map<string, string>; body: string; rest: string } {
  const end = text.indexOf('\r\n\r\n');
  const [line, ...fieldLines] = text.slice(0, end).split('\r\n') as [string, ...string[]];
  const m = /^HTTP\/1\.1 (\d{3}) ([^\r\n]*)$/.exec(line);
  if (m === null) throw new Error(`bad status line ${JSON.stringify(line)}`);
  const fields = new Map<string, string>();
  for (const f of fieldLines) {
    const colon = f.indexOf(':');
    if (colon <= 0) throw new Error(`bad field line ${JSON.stringify(f)}`);
    const name = f.slice(0, colon).toLowerCase();
    if (fields.has(name)) throw new Error(`duplicate ${name}`);
    fields.set(name, f.slice(colon + 1).trim());
  }
  const length = Number(fields.get('content-length'));
  const bodyBytes = Buffer.from(text.slice(end + 4), 'latin1');
  return {
    status: Number(m[1]),
    reason: m[2]!,
    fields,
    body: bodyBytes.subarray(0, length).toString(),
    rest: bodyBytes.subarray(length).toString(),
  };
}

t.test('error responses are complete messages that close the connection', async (t) => {
  for (const status of [400, 408, 413, 414, 417, 431, 500, 501, 503, 505]) {
    const r = parseResponse(errorResponse(status));
    t.equal(r.status, status);
    t.equal(r.reason, STATUS_TEXT[status]);
    t.equal(r.fields.get('connection'), 'close', `${status}: Connection: close`);
    t.match(r.fields.get('date'), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/, `${status}: Date`);
    t.match(r.fields.get('content-type'), /^text\/plain/);
    t.equal(r.body, `${STATUS_TEXT[status]}\n`, `${status}: the body names the status`);
    t.equal(r.rest, '', `${status}: Content-Length matches the body exactly`);
  }
  t.equal(errorResponse(431), errorResponse(431), 'stable within a second');
  t.match(errorResponse(599), /^HTTP\/1\.1 599 \r\n/, 'an unknown status still makes a response');
});

t.test('100 Continue', async (t) => {
  t.equal(CONTINUE_RESPONSE, 'HTTP/1.1 100 Continue\r\n\r\n');
});
