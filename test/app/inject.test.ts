// app.inject() and app.injectRaw(): in-process requests through the real parser, connection,
// hooks and dispatcher. Each answer is compared with the same request over a real socket.

import t from 'tap';
import type { App } from '../../lib/index.js';
import { injectApp, startApp } from '../helpers/servers.js';
import { RawClient } from '../helpers/raw-client.js';

function routes(app: App): void {
  app.onRequest((req, res) => {
    res.setHeader('X-Seen-By', 'hook');
    req.locals.at = 'hook';
  });
  app.get('/users/:id', (req) => ({ id: req.params.id, q: req.query.get('q'), remote: req.remoteAddress, at: req.locals.at }));
  app.post('/echo', async (req, res) => {
    res.type(req.header('content-type') ?? 'application/octet-stream');
    return req.buffer();
  });
  app.get('/stream', async function* () {
    for (let i = 0; i < 64; i++) yield 'x'.repeat(16_384);
  });
  app.get('/cookies', (_req, res) => {
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    return 'ok';
  });
}

t.test('inject answers as a socket does: status, headers, JSON, params, hooks, bodies both ways, streams, HEAD', async (t) => {
  const injected = injectApp(t, {}, routes);
  const { port } = await startApp(t, {}, routes);
  const big = Buffer.alloc(300_000, 7);
  const cases = [
    { inject: { url: '/users/7?q=z' }, raw: 'GET /users/7?q=z HTTP/1.1\r\nHost: localhost\r\n\r\n' },
    { inject: { method: 'POST', url: '/echo', headers: { 'content-type': 'text/plain' }, body: 'héllo' }, raw: `POST /echo HTTP/1.1\r\nHost: localhost\r\ncontent-type: text/plain\r\nContent-Length: 6\r\n\r\nhéllo` },
    { inject: { url: '/stream' }, raw: 'GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n' },
    { inject: { url: '/cookies' }, raw: 'GET /cookies HTTP/1.1\r\nHost: localhost\r\n\r\n' },
    { inject: { url: '/nope' }, raw: 'GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n' },
  ];
  for (const c of cases) {
    const client = await RawClient.connect(port);
    client.write(Buffer.from(c.raw, 'utf8'));
    const over = await client.response();
    client.destroy();
    const res = await injected.inject(c.inject);
    t.equal(res.statusCode, over.status, `${c.inject.url} status`);
    t.same(res.body, over.body, `${c.inject.url} body`);
    const { date: _a, ...headers } = res.headers;
    const { date: _b, ...socketHeaders } = over.headers;
    t.same(Object.keys(headers).sort(), Object.keys(socketHeaders).sort(), `${c.inject.url} header names`);
    t.equal(res.headers['x-seen-by'], 'hook', 'onRequest hooks ran');
  }
  const user = await injected.inject({ url: '/users/7', remoteAddress: '203.0.113.9' });
  t.same(user.json(), { id: '7', q: null, remote: '203.0.113.9', at: 'hook' }, 'remoteAddress reaches req.remoteAddress');
  const stream = await injected.inject({ url: '/stream' });
  t.equal(stream.headers['transfer-encoding'], 'chunked');
  t.equal(stream.body.length, 64 * 16_384, 'a 1 MiB streamed body arrives whole through the drain path');
  const echoed = await injected.inject({ method: 'POST', url: '/echo', body: big });
  t.same(echoed.body, big, 'a 300 KB body delivered in socket-sized reads and echoed');
  const json = await injected.inject({ method: 'POST', url: '/echo', body: { a: [1, 2] } });
  t.equal(json.headers['content-type'], 'application/json', 'an object body is sent as JSON');
  t.same(json.json(), { a: [1, 2] });
  t.same((await injected.inject({ url: '/cookies' })).headers['set-cookie'], ['a=1', 'b=2'], 'Set-Cookie is always a list');
  const head = await injected.inject({ method: 'HEAD', url: '/users/7' });
  t.equal(head.statusCode, 200);
  t.equal(head.body.length, 0, 'HEAD: no body read');
  t.ok(Number(head.headers['content-length']) > 0, 'HEAD keeps the GET length');
  t.match(head.raw.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/, 'raw holds the bytes as written');
});

t.test('nothing outlives an inject: no connection, no deadline owner, no timer; works without listen()', async (t) => {
  const app = injectApp(t, {}, routes);
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  for (let i = 0; i < 20; i++) t.equal((await app.inject({ url: `/users/${i}` })).statusCode, 200);
  t.equal(app.stats().connections.open, 0, 'every in-memory connection closed');
  t.equal(app.sweeper.size, 0, 'no connection left on the deadline sweeper');
  t.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before, 'the sweeper\'s interval is gone');
  t.equal(app.stats().requests.total, 21 - 1, 'requests counted like any other');
  t.equal(app.address(), null, 'never listened');
});

t.test('injectRaw: lifecycle in process (pipelining in order, keep-alive counting, a bad request closing with 400)', async (t) => {
  const app = injectApp(t, { maxRequestsPerSocket: 2 }, routes);
  const two = await app.injectRaw('GET /users/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /users/2 HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 2 });
  t.same(two.responses.map((r) => r.json<{ id: string }>().id), ['1', '2'], 'pipelined responses in order');
  t.equal(two.responses[0]!.headers['keep-alive'], 'timeout=60, max=1', 'Keep-Alive max counts down');
  t.equal(two.responses[1]!.headers.connection, 'close', 'the last allowed response says close');
  t.ok(two.closedByServer, 'and the server closed the connection');
  t.equal(Buffer.concat(two.responses.map((r) => r.raw)).length, two.raw.length, 'raw is every byte, each response\'s raw its own');
  const bad = await app.injectRaw('GET /users/1 HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n');
  t.equal(bad.responses[0]!.statusCode, 400);
  t.ok(bad.closedByServer, 'a parse error closes the connection');
  const kept = await app.injectRaw('GET /users/1 HTTP/1.1\r\nHost: x\r\n\r\n');
  t.notOk(kept.closedByServer, 'a keep-alive connection is ended by the client');
  const halfClosed = await app.injectRaw('GET /users/1 HTTP/1.1\r\nHost: x\r\n\r\n', { endAfterWrite: true });
  t.equal(halfClosed.responses[0]!.statusCode, 200, 'a client that half-closes after its request still gets the response');
  t.equal(app.stats().connections.open, 0);
});

t.test('inject misuse is a typed error, never a second request smuggled into the bytes', async (t) => {
  const app = injectApp(t, {}, routes);
  await t.rejects(app.inject({ url: '/x', headers: { 'X-A': 'v\r\nX-Injected: 1' } }), { code: 'ERR_INVALID_INJECT' });
  await t.rejects(app.inject({ method: 'GET /x HTTP/1.1\r\n' }), { code: 'ERR_INVALID_INJECT' });
  await t.rejects(app.inject({ url: '/a b' }), { code: 'ERR_INVALID_INJECT' });
  await t.rejects(app.inject({ url: '/x', headers: { 'Bad Name': 'v' } }), { code: 'ERR_INVALID_INJECT' });
  t.equal((await app.inject({ url: '/users/1' })).statusCode, 200, 'the app is unharmed');
});

t.test('injectStream: server-sent events read as they come; close() is the client leaving, and the handler hears it', async (t) => {
  let aborted = false;
  const app = injectApp(t, {}, (app) => {
    app.get('/events', (req, res) => {
      res.type('text/event-stream').flushHeaders();
      let n = 0;
      const timer = setInterval(() => res.write(`data: ${++n}\n\n`), 5);
      req.signal.addEventListener('abort', () => {
        aborted = true;
        clearInterval(timer);
      });
    });
    app.get('/finite', async (_req, res) => {
      res.type('text/plain');
      for (let i = 0; i < 3; i++) {
        res.write(`part ${i};`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      res.end();
    });
  });
  const stream = await app.injectStream({ url: '/events' });
  t.equal(stream.statusCode, 200);
  t.equal(stream.headers['content-type'], 'text/event-stream');
  let text = '';
  for await (const piece of stream.body) {
    text += piece.toString();
    if (text.includes('data: 3\n\n')) break;
  }
  t.match(text, /^data: 1\n\ndata: 2\n\ndata: 3\n\n/, 'events in order, framing removed');
  await stream.close();
  t.ok(aborted, 'the handler saw the client go (req.signal)');
  t.equal(app.stats().connections.open, 0, 'and the connection is gone');
  const finite = await app.injectStream({ url: '/finite' });
  const parts: string[] = [];
  for await (const piece of finite.body) parts.push(piece.toString());
  t.same(parts, ['part 0;', 'part 1;', 'part 2;'], 'each write arrives as written, and the body ends with the response');
  t.equal(app.stats().connections.open, 0);
});
