// One Hono app with Hono's own middleware on @hono/node-server (in a child process) and on linger's
// serve(): the same requests, byte for byte, must get the same status, headers and body. Only
// Date, Connection and Keep-Alive may differ: they describe the connection, not the answer.

import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serve } from '../../lib/index.js';
import { buildDiffApp, type Observed } from '../fixtures/hono-diff-app.js';
import { RawClient, sleep, type ParsedResponse } from '../helpers/raw-client.js';

const IGNORED = new Set(['date', 'connection', 'keep-alive']);

interface Case {
  name: string;
  request: string | Buffer;
  head?: boolean;
  /**
   * Where linger follows the fetch spec (as undici's own Response does) and @hono/node-server does
   * not: the reference's headers to replace (null: remove) before comparing, and why.
   */
  deliberate?: { why: string; reference: Record<string, string | null> };
}

const NO_INVENTED_TYPE = 'a body without a Content-Type gets none (Fetch: extract a body); @hono/node-server adds text/plain';

const json = (body: unknown) => JSON.stringify(body);
function post(path: string, type: string, body: string | Buffer, extra = '', method = 'POST'): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: test.local\r\nContent-Type: ${type}\r\nContent-Length: ${bytes.length}\r\n${extra}\r\n`), bytes]);
}
const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: test.local\r\n${extra}\r\n`;
const boundary = '----lingerdiff7MA4YWxkTrZu0gW';
const multipart = [
  `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nA report\r\n`,
  `--${boundary}\r\nContent-Disposition: form-data; name="tag"\r\n\r\none\r\n`,
  `--${boundary}\r\nContent-Disposition: form-data; name="tag"\r\n\r\ntwo\r\n`,
  `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\nfile contents\nline 2\r\n`,
  `--${boundary}--\r\n`,
].join('');
const chunkedUpload = `POST /echo/stream HTTP/1.1\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\n${'400\r\n' + 'u'.repeat(0x400) + '\r\n'}${'400\r\n' + 'v'.repeat(0x400) + '\r\n'}5\r\nhello\r\n0\r\n\r\n`;
const binary = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));

const CASES: Case[] = [
  { name: 'plain text', request: get('/') },
  { name: 'HEAD of a text route', request: 'HEAD / HTTP/1.1\r\nHost: test.local\r\n\r\n', head: true },
  { name: 'HEAD of a JSON route', request: 'HEAD /users/7 HTTP/1.1\r\nHost: test.local\r\n\r\n', head: true },
  { name: 'route params and repeated query', request: get('/users/42?q=a&q=b') },
  { name: 'percent-encoded path', request: get('/users/J%C3%B6rg%20M') },
  { name: 'dot segments in the target', request: get('/a/../users/9') },
  { name: 'unknown route: notFound', request: get('/nowhere') },
  { name: 'wrong method: notFound', request: 'PATCH /users/1 HTTP/1.1\r\nHost: test.local\r\nContent-Length: 0\r\n\r\n' },
  { name: 'Host with a port and upper case', request: 'GET /users/5 HTTP/1.1\r\nHost: Test.Local:8080\r\n\r\n' },
  { name: 'CORS simple request', request: get('/api/items', 'Origin: https://app.example\r\n') },
  { name: 'CORS from another origin', request: get('/api/items', 'Origin: https://evil.example\r\n') },
  { name: 'CORS preflight', request: 'OPTIONS /api/items HTTP/1.1\r\nHost: test.local\r\nOrigin: https://app.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: X-Custom, Content-Type\r\n\r\n' },
  { name: 'CORS POST with JSON', request: post('/api/items', 'application/json', json({ name: 'widget', n: 3 }), 'Origin: https://app.example\r\n') },
  { name: 'ETag first request', request: get('/etag/doc') },
  { name: 'ETag revalidation: 304', request: get('/etag/doc', 'If-None-Match: "PLACEHOLDER"\r\n') },
  { name: 'ETag not matching', request: get('/etag/doc', 'If-None-Match: "other"\r\n') },
  { name: 'compress gzip', request: get('/big/text', 'Accept-Encoding: gzip\r\n') },
  { name: 'compress deflate', request: get('/big/text', 'Accept-Encoding: deflate\r\n') },
  { name: 'compress: no Accept-Encoding', request: get('/big/text') },
  { name: 'compress: under the threshold', request: get('/big/small', 'Accept-Encoding: gzip\r\n') },
  { name: 'basic auth missing', request: get('/admin/panel') },
  { name: 'basic auth wrong', request: get('/admin/panel', `Authorization: Basic ${Buffer.from('ada:wrong').toString('base64')}\r\n`) },
  { name: 'basic auth right', request: get('/admin/panel', `Authorization: Basic ${Buffer.from('ada:lovelace').toString('base64')}\r\n`) },
  { name: 'bearer auth missing', request: get('/token/data') },
  { name: 'bearer auth wrong', request: get('/token/data', 'Authorization: Bearer nope\r\n') },
  { name: 'bearer auth right', request: get('/token/data', 'Authorization: Bearer secret-token\r\n') },
  { name: 'bodyLimit under', request: post('/limited', 'text/plain', 'short body') },
  { name: 'bodyLimit over (Content-Length)', request: post('/limited', 'text/plain', 'x'.repeat(200)) },
  { name: 'bodyLimit over (chunked)', request: `POST /limited HTTP/1.1\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n${'y'.repeat(100)}\r\n0\r\n\r\n` },
  { name: 'bodyLimit under (chunked)', request: 'POST /limited HTTP/1.1\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nsmall\r\n0\r\n\r\n' },
  { name: 'set cookies', request: get('/cookie/set') },
  { name: 'read cookies', request: get('/cookie/read', 'Cookie: session=abc%20123; theme=dark\r\n') },
  { name: 'delete cookie', request: get('/cookie/delete') },
  { name: 'validator json ok', request: post('/validate/json', 'application/json', json({ name: 'Ada' })) },
  { name: 'validator json rejected', request: post('/validate/json', 'application/json', json({ nom: 'Ada' })) },
  { name: 'validator json malformed', request: post('/validate/json', 'application/json', '{"name": ') },
  { name: 'validator form ok', request: post('/validate/form', 'application/x-www-form-urlencoded', 'age=37&x=1') },
  { name: 'validator form rejected', request: post('/validate/form', 'application/x-www-form-urlencoded', 'age=old') },
  { name: 'parseBody urlencoded', request: post('/form', 'application/x-www-form-urlencoded', 'a=1&b=two+words&a=3&c=%C3%A9') },
  { name: 'parseBody multipart with a file', request: post('/form', `multipart/form-data; boundary=${boundary}`, multipart) },
  { name: 'duplicate request headers', request: get('/headers', 'X-Multi: one\r\nX-Multi: two\r\nUser-Agent: diff/1.0\r\n') },
  { name: 'binary upload echoed', request: post('/echo/bytes', 'application/octet-stream', binary) },
  { name: 'chunked upload read as a stream', request: chunkedUpload },
  { name: 'PUT text echo with UTF-8', request: post('/echo/text', 'text/plain; charset=utf-8', 'grüße, 世界', '', 'PUT') },
  { name: 'DELETE with 204', request: 'DELETE /things/3 HTTP/1.1\r\nHost: test.local\r\n\r\n' },
  {
    name: 'redirect',
    request: get('/redirect'),
    deliberate: { why: 'an empty body is framed by Content-Length: 0; node:http sends an empty chunked body', reference: { 'transfer-encoding': null, 'content-length': '0' } },
  },
  { name: 'html', request: get('/html') },
  { name: 'ArrayBuffer body', request: get('/buffer'), deliberate: { why: NO_INVENTED_TYPE, reference: { 'content-type': null } } },
  {
    name: 'Blob body',
    request: get('/blob'),
    deliberate: { why: "a Blob's type is the Content-Type (Fetch: extract a body); @hono/node-server sends text/plain", reference: { 'content-type': 'text/x-blob' } },
  },
  { name: 'URLSearchParams body', request: get('/params') },
  { name: 'Response.json with status and headers', request: get('/static-json') },
  { name: "custom status (418)", request: get('/status/418') },
  { name: 'large text body', request: get('/large') },
  { name: 'HTTPException to onError', request: get('/http-error') },
  { name: 'thrown Error to onError', request: get('/throw') },
  { name: 'streamSSE', request: get('/sse') },
  { name: 'streamed text', request: get('/stream/text'), deliberate: { why: NO_INVENTED_TYPE, reference: { 'content-type': null } } },
  { name: 'HTTP/1.0 request', request: 'GET /users/10 HTTP/1.0\r\nHost: test.local\r\n\r\n' },
];

async function exchange(port: number, c: Case): Promise<ParsedResponse> {
  const client = await RawClient.connect(port);
  try {
    if (c.head === true) client.expectNoBody();
    client.write(c.request);
    return await client.response(5000);
  } finally {
    client.destroy();
  }
}

/**
 * The one deliberate difference: a string body's default Content-Type is what the fetch spec and
 * undici's own Response give, "text/plain;charset=UTF-8"; @hono/node-server's Response writes
 * "text/plain; charset=UTF-8". The same media type (RFC 9110 8.3.1); linger keeps the spec's.
 */
function sameDefaultType(value: string): string {
  return value === 'text/plain; charset=UTF-8' ? 'text/plain;charset=UTF-8' : value;
}

function comparable(res: ParsedResponse): { status: number; headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = {};
  for (const name of Object.keys(res.headers).sort()) if (!IGNORED.has(name)) headers[name] = res.headers[name]!;
  if (headers['content-type'] !== undefined) headers['content-type'] = sameDefaultType(headers['content-type']);
  return { status: res.status, headers, body: res.body.toString('latin1') };
}

/** Every Set-Cookie field of a head, in order: they must not be joined. */
function setCookies(res: ParsedResponse): string[] {
  return res.rawHead.split('\r\n').filter((line) => /^set-cookie:/i.test(line)).map((line) => line.slice(line.indexOf(':') + 1).trim());
}

async function startNodeServer(t: { teardown(fn: () => void): void }): Promise<number> {
  const script = fileURLToPath(new URL('../fixtures/hono-node-server.js', import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    child.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('@hono/node-server did not start')), 15_000);
    child.stdout!.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve((JSON.parse(chunk.toString()) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`@hono/node-server exited with ${code}`)));
  });
}

t.test('the same Hono app answers the same on @hono/node-server and on linger', async (t) => {
  t.ok(CASES.length >= 40, `${CASES.length} requests`);
  const nodePort = await startNodeServer(t);
  const linger = await serve({ fetch: buildDiffApp({ events: [] }), port: 0, bodyLimit: 16 * 1024 * 1024 });
  t.teardown(() => linger.close({ timeout: 500 }));
  const lingerPort = linger.address()!.port;

  // The 304 case needs the ETag of the document, the same on both (asserted by the case before it).
  const etag = (await exchange(nodePort, CASES.find((c) => c.name === 'ETag first request')!)).headers['etag']!;
  t.match(etag, /^"/);
  for (const c of CASES) {
    const request = typeof c.request === 'string' ? c.request.replace('"PLACEHOLDER"', etag) : c.request;
    const nodeRes = await exchange(nodePort, { ...c, request });
    const lingerRes = await exchange(lingerPort, { ...c, request });
    const expected = comparable(nodeRes);
    for (const [name, value] of Object.entries(c.deliberate?.reference ?? {})) {
      if (value === null) delete expected.headers[name];
      else expected.headers[name] = value;
    }
    t.same(comparable(lingerRes), expected, c.deliberate === undefined ? c.name : `${c.name} (deliberately: ${c.deliberate.why})`);
    t.same(setCookies(lingerRes), setCookies(nodeRes), `${c.name}: Set-Cookie fields`);
  }
});

t.test('a client that leaves mid-stream aborts the stream on linger (as on @hono/node-server)', async (t) => {
  const observed: Observed = { events: [] };
  const linger = await serve({ fetch: buildDiffApp(observed), port: 0 });
  t.teardown(() => linger.close({ timeout: 500 }));
  const client = await RawClient.connect(linger.address()!.port);
  client.write(get('/sse/forever'));
  t.ok(await client.waitForText('tick 1'), 'the stream is flowing');
  client.destroy();
  for (let i = 0; i < 100 && observed.events.length === 0; i++) await sleep(20);
  t.same(observed.events, ['sse aborted']);

  const nodePort = await startNodeServer(t);
  const nodeClient = await RawClient.connect(nodePort);
  nodeClient.write(get('/sse/forever'));
  t.ok(await nodeClient.waitForText('tick 1'));
  nodeClient.destroy();
  let seen: unknown = [];
  // The reference server runs in its own process: its app reports what it observed over HTTP.
  for (let i = 0; i < 100; i++) {
    seen = JSON.parse((await exchange(nodePort, { name: 'observed', request: get('/observed') })).body.toString());
    if ((seen as string[]).length > 0) break;
    await sleep(20);
  }
  t.same(seen, ['sse aborted'], 'the same on @hono/node-server');
});
