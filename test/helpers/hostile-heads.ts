// Worst-case request heads for every header and path the app layer interprets, each exactly as long
// as the head limit allows, plus the app that serves them; shared by the hostile-headers test and
// benchmarks/hostile-headers.ts so the measured cases are the tested ones.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic, type App } from '../../lib/index.js';

export interface HostileCase {
  name: string;
  /** The complete request head, `limit` bytes long. */
  request: string;
  /** The status the server answers with once it has interpreted the head. */
  status: number;
  /** The server closes the connection after answering (a protocol error). */
  closes: boolean;
}

/** Routes the cases hit: static files, a file response, route params, the query, Host, a WebSocket route. */
export function hostileApp(app: App, root: string): void {
  app.get('/files/*', serveStatic(root));
  app.get('/file', (_req, res) => res.file(join(root, 'hello.txt')));
  app.get('/params/:id', (req) => String(req.params.id.length));
  app.get('/query', (req) => String([...req.query.keys()].length));
  app.get('/host', (req) => String(req.hostname.length));
  app.get('/ping', () => 'pong');
  app.ws('/ws', (socket) => socket.close());
  // The toolkit's parsers of request headers: cookies, a CORS preflight's header list, Accept-Encoding's q-values.
  app.get('/cookies', (req) => String(Object.keys(req.cookies).length));
  app.group('/cors', (api) => api.cors({ origin: '*' }).get('/x', () => 'ok'));
  app.get('/big', (_req, res) => res.type('text/plain').send('x'.repeat(4096)));
  app.compress();
}

export function writeHostileRoot(root: string): void {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'hello.txt'), 'hello file\n');
}

const URI_LIMIT = 8192;

/**
 * `value(n)` returns a value of exactly n characters; the request is padded to `limit` bytes.
 * Cases with a long target fill the URI up to its own limit and the rest of the head with a filler field.
 */
function build(limit: number, target: string, name: string, value: (n: number) => string, extra = ''): string {
  const fixed = `GET ${target} HTTP/1.1\r\nHost: test\r\n${extra}${name}: \r\n\r\n`.length;
  const head = `GET ${target} HTTP/1.1\r\nHost: test\r\n${extra}${name}: ${value(limit - fixed)}\r\n\r\n`;
  if (head.length !== limit) throw new Error(`${name}: built ${head.length} bytes, wanted ${limit}`);
  return head;
}

function repeatTo(unit: string, n: number, tail = ''): string {
  const body = unit.repeat(Math.floor((n - tail.length) / unit.length)) + tail;
  return body + 'x'.repeat(n - body.length);
}

/** A target of exactly `length` characters starting with `prefix`, filled with `unit`. */
function longTarget(prefix: string, unit: string, length: number): string {
  const fill = unit.repeat(Math.floor((length - prefix.length) / unit.length));
  return prefix + fill + 'z'.repeat(length - prefix.length - fill.length);
}

export function hostileCases(limit = 16_384): HostileCase[] {
  const file = '/files/hello.txt';
  const spaces = (n: number): string => {
    // The old Range expression cost spaces1 x spaces2^2: its worst split is one third before "-".
    const a = Math.floor((n - 8) / 3);
    return `bytes=${' '.repeat(a)}-${' '.repeat(n - 8 - a)}x`;
  };
  const cases: Array<[string, string, string, (n: number) => string, string, number, boolean?]> = [
    ['Range: spaces around "-"', file, 'Range', spaces, '', 200],
    ['Range: leading zeros', file, 'Range', (n) => `bytes=${'0'.repeat(n - 7)}-`, '', 206],
    ['Range: a huge suffix length', file, 'Range', (n) => `bytes=-${'9'.repeat(n - 7)}`, '', 206],
    ['Range: thousands of ranges', file, 'Range', (n) => `bytes=${repeatTo('0-0,', n - 6)}`, '', 200],
    ['Range: unit and "=" spaced out', file, 'Range', (n) => `bytes${' '.repeat(n - 9)}=0-0`, '', 206],
    ['If-Range: an unterminated entity tag', file, 'If-Range', (n) => `"${'a'.repeat(n - 1)}`, 'Range: bytes=0-0\r\n', 200],
    ['If-Range: a long date', file, 'If-Range', (n) => repeatTo('Fri ', n), 'Range: bytes=0-0\r\n', 200],
    ['If-None-Match: only commas', file, 'If-None-Match', (n) => ','.repeat(n), '', 200],
    ['If-None-Match: weak tags', file, 'If-None-Match', (n) => repeatTo('W/"x", ', n), '', 200],
    ['If-Modified-Since: a long non-date', file, 'If-Modified-Since', (n) => repeatTo('Fri ', n), '', 200],
    ['If-Modified-Since: nested comments', file, 'If-Modified-Since', (n) => repeatTo('(', n), '', 200],
    ['Accept-Encoding: many codings', file, 'Accept-Encoding', (n) => repeatTo('gzip;q=0.5, ', n), '', 200],
    ['Cookie: many pairs', file, 'Cookie', (n) => repeatTo('a=b; ', n), '', 200],
    ['Connection: many tokens', '/ping', 'Connection', (n) => repeatTo('keep-alive, ', n), '', 200],
    ['Connection: spaces and commas', '/ping', 'Connection', (n) => repeatTo(' ,', n), '', 200],
    ['Content-Length: a long list of zeros', '/ping', 'Content-Length', (n) => '0'.repeat(n - 3 * Math.floor(n / 4)) + ', 0'.repeat(Math.floor(n / 4)), '', 200],
    ['Transfer-Encoding: chunked repeated', '/ping', 'Transfer-Encoding', (n) => repeatTo('chunked, ', n, 'chunked'), '', 400, true],
    ['Expect: many expectations', '/ping', 'Expect', (n) => repeatTo('100-continue, ', n), '', 417, true],
    ['Host: a long name', '/host', 'X-Filler', (n) => 'f'.repeat(n), '', 200],
    ['Sec-WebSocket-Key: base64 at length', '/ws', 'Sec-WebSocket-Key', (n) => 'A'.repeat(n), 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n', 400, true],
    ['Upgrade: many protocols', '/ping', 'Upgrade', (n) => repeatTo('h2c, ', n), '', 200],
  ];
  cases.push(
    ['Cookie: many pairs, parsed', '/cookies', 'Cookie', (n) => repeatTo('a=b; ', n), '', 200],
    ['Cookie: one long quoted value', '/cookies', 'Cookie', (n) => `a="${'x'.repeat(n - 3)}`, '', 200],
    ['Cookie: spaces and semicolons', '/cookies', 'Cookie', (n) => repeatTo(' ;', n), '', 200],
    ['Accept-Encoding: q-values spaced out', '/big', 'Accept-Encoding', (n) => repeatTo('gzip ; q =  0.5 , ', n), '', 200],
    ['Accept-Encoding: a long parameter', '/big', 'Accept-Encoding', (n) => `gzip;q${' '.repeat(n - 10)}=0.5`, '', 200],
  );
  const list = cases.map(([name, target, field, value, extra, status, closes]) => ({
    name,
    request: build(limit, target, field, value, extra),
    status,
    closes: closes === true,
  }));
  // The Host case above only pads; this one puts the length into Host itself.
  list.find((c) => c.name === 'Host: a long name')!.request = buildHost(limit);
  // Targets at the URI limit (half the head when the head limit is lowered), the rest of the head
  // filled: the router, serveStatic's segment walk, percent-decoding of params and the query parser.
  const uri = Math.min(URI_LIMIT, limit >> 1);
  const targets: Array<[string, string, number]> = [
    ['path: thousands of empty segments', longTarget('/files/', '/', uri), 404],
    ['path: thousands of segments', longTarget('/files/', 'a/', uri), 404],
    ['path: percent-escapes in one segment', longTarget('/files/', '%41', uri), 404],
    ['path: a malformed escape at the end', `${longTarget('/files/', '%41', uri - 2)}%4`, 400],
    ['route param: percent-escapes', longTarget('/params/', '%41', uri), 200],
    ['query: thousands of pairs', longTarget('/query?', 'a=&', uri), 200],
  ];
  for (const [name, target, status] of targets) {
    list.push({ name, request: build(limit, target, 'X-Filler', (n) => 'f'.repeat(n)), status, closes: false });
  }
  // CORS preflights: the requested header names are checked one by one before being reflected.
  const preflight = 'Origin: https://a.example\r\nAccess-Control-Request-Method: GET\r\n';
  for (const [name, value] of [
    ['Access-Control-Request-Headers: many names', (n: number) => repeatTo('x-a , ', n)],
    ['Access-Control-Request-Headers: commas and spaces', (n: number) => repeatTo(' ,', n)],
  ] as const) {
    // Built 4 bytes short: "OPTIONS" is 4 longer than "GET".
    const request = `OPTIONS ${build(limit - 4, '/cors/x', 'Access-Control-Request-Headers', value, preflight).slice(4)}`;
    list.push({ name, request, status: 204, closes: false });
  }
  return list;
}

function buildHost(limit: number): string {
  const fixed = 'GET /host HTTP/1.1\r\nHost: \r\n\r\n'.length;
  return `GET /host HTTP/1.1\r\nHost: ${'h'.repeat(limit - fixed)}\r\n\r\n`;
}
