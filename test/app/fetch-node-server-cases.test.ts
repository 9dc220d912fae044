// The cases of @hono/node-server's own test suite (test/server.test.ts and test/app.ts) that apply
// to a fetch-handler server, rewritten for tap and run against linger's serve(). Not taken, and why:
// - SSL, HTTP2: linger speaks HTTP/1.1 over TCP; TLS is a planned transport (DESIGN.md).
// - "forwarding IncomingMessage and ServerResponse in env": node:http objects; linger passes its own
//   request and response as the second argument instead (asserted below in their place).
// - "GET /ponyfill": needs @whatwg-node/fetch, which linger does not depend on.
// - "Memory leak test": reads node-server's private abort-controller symbol and needs --expose-gc.
// - "serve on ipv4 / ipv6 at port 3000": fixed ports and a resolver for localhost; linger's serve()
//   listening is covered by its own tests on ephemeral loopback ports.
// - serve-static, conninfo, early-hints, websocket, vercel, nextjs: node-server helpers for node:http
//   (linger has static files, remote address and WebSockets of its own).

import t from 'tap';
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { compress } from 'hono/compress';
import { etag } from 'hono/etag';
import { poweredBy } from 'hono/powered-by';
import { stream } from 'hono/streaming';
import { serve, type FetchServer } from '../../lib/index.js';
import { RawClient, get } from '../helpers/raw-client.js';

const NativeResponse = globalThis.Response;

async function start(t: { teardown(fn: () => unknown): void }, app: Parameters<typeof serve>[0]['fetch'], options: { overrideGlobalObjects?: boolean } = {}): Promise<{ server: FetchServer; base: string }> {
  const server = await serve({ fetch: app, port: 0, ...options });
  t.teardown(() => server.close({ timeout: 500 }));
  return { server, base: `http://127.0.0.1:${server.address()!.port}` };
}

t.test('Basic (test/app.ts)', async (t) => {
  const app = new Hono();
  app.get('/', (c) => c.text('Hello! Node!'));
  app.get('/url', (c) => c.text(c.req.url));
  app.get('/posts', (c) => c.text(`Page ${c.req.query('page')}`));
  app.get('/user-agent', (c) => c.text(c.req.header('user-agent') ?? ''));
  app.post('/posts', (c) => c.redirect('/posts'));
  app.post('/no-body-consumed', (c) => {
    if (!c.req.raw.body) throw new Error('No body consumed');
    return c.text('No body consumed');
  });
  app.post('/body-cancelled', (c) => {
    if (!c.req.raw.body) throw new Error('No body consumed');
    void c.req.raw.body.cancel();
    return c.text('Body cancelled');
  });
  app.post('/partially-consumed', async (c) => {
    const reader = c.req.raw.body!.getReader();
    await reader.read();
    return c.text('Partially consumed');
  });
  app.post('/partially-consumed-and-cancelled', async (c) => {
    const reader = c.req.raw.body!.getReader();
    await reader.read();
    void reader.cancel();
    return c.text('Partially consumed and cancelled');
  });
  app.delete('/posts/:id', (c) => c.text(`DELETE ${c.req.param('id')}`));
  // @ts-expect-error the handler returns a string, not a Response
  app.get('/invalid', () => '<h1>HTML</h1>');
  app.on('TRACE', '/', (c) => c.text(`headers: ${JSON.stringify(c.req.raw.headers)}`));
  const { base, server } = await start(t, app);

  let res = await fetch(`${base}/`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain/);
  t.equal(await res.text(), 'Hello! Node!');

  const url = new URL(await (await fetch(`${base}/url`)).text());
  t.same([url.pathname, url.hostname, url.protocol], ['/url', '127.0.0.1', 'http:']);
  t.equal(await (await fetch(`${base}/posts?page=2`)).text(), 'Page 2');
  t.equal(await (await fetch(`${base}/user-agent`, { headers: { 'user-agent': 'Hono' } })).text(), 'Hono');

  res = await fetch(`${base}/posts`, { method: 'POST', redirect: 'manual' });
  t.equal(res.status, 302);
  t.equal(res.headers.get('location'), '/posts');

  res = await fetch(`${base}/no-body-consumed`, { method: 'POST', body: '' });
  t.equal(await res.text(), 'No body consumed', 'Content-Length: 0 is an empty body, not none');
  res = await fetch(`${base}/body-cancelled`, { method: 'POST', body: '' });
  t.equal(await res.text(), 'Body cancelled');
  res = await fetch(`${base}/partially-consumed`, { method: 'POST', body: Buffer.alloc(10 * 1024) });
  t.equal(await res.text(), 'Partially consumed');
  res = await fetch(`${base}/partially-consumed-and-cancelled`, { method: 'POST', body: Buffer.alloc(1) });
  t.equal(await res.text(), 'Partially consumed and cancelled');
  t.equal(await (await fetch(`${base}/posts/123`, { method: 'DELETE' })).text(), 'DELETE 123');

  res = await fetch(`${base}/invalid`);
  t.equal(res.status, 500);
  t.match(res.headers.get('content-type'), /^text\/plain/);

  // fetch() refuses TRACE: a raw request, as supertest sends it.
  const client = await RawClient.connect(server.address()!.port);
  t.teardown(() => client.destroy());
  client.write('TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  t.equal((await client.response()).body.toString(), 'headers: {}', 'TRACE does not raise an error');
});

for (const kind of ['light (global) Response', 'undici Response'] as const) {
  t.test(`various response body types, ${kind}`, async (t) => {
    const largeText = 'a'.repeat(10 * 1024 * 1024);
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = new Hono();
    // Resolved at request time: the light one while the server runs, or undici's.
    const R = (): typeof Response => (kind === 'undici Response' ? NativeResponse : globalThis.Response);
    app.get('/', () => new (R())('Hello! Node!'));
    app.get('/large', () => new (R())(largeText));
    app.get('/uint8array', () => new (R())(new Uint8Array([1, 2, 3]), { headers: { 'content-type': 'application/octet-stream' } }));
    app.get('/blob', () => new (R())(new Blob([new Uint8Array([1, 2, 3])]), { headers: { 'content-type': 'application/octet-stream' } }));
    app.get('/readable-stream', () => new (R())(new ReadableStream({
      async start(controller) {
        await released;
        controller.enqueue(new TextEncoder().encode('Hello!'));
        controller.enqueue(new TextEncoder().encode(' Node!'));
        controller.close();
      },
    })));
    app.get('/buffer', () => new (R())(Buffer.from('Hello Hono!'), { headers: { 'content-type': 'text/plain' } }));
    app.use('/etag/*', etag());
    app.get('/etag/buffer', () => new (R())(Buffer.from('Hello Hono!'), { headers: { 'content-type': 'text/plain' } }));
    const { base, server } = await start(t, app);

    let res = await fetch(`${base}/`);
    t.equal(res.headers.get('content-length'), '12');
    t.equal(await res.text(), 'Hello! Node!');
    res = await fetch(`${base}/large`);
    t.equal(res.headers.get('content-length'), String(largeText.length));
    t.equal((await res.text()).length, largeText.length);
    for (const path of ['/uint8array', '/blob']) {
      res = await fetch(`${base}${path}`);
      t.equal(res.headers.get('content-type'), 'application/octet-stream');
      t.equal(res.headers.get('content-length'), '3', `${path}: Content-Length`);
      t.same([...new Uint8Array(await res.arrayBuffer())], [1, 2, 3]);
    }

    // The head must be out before the stream has produced anything.
    const client = await RawClient.connect(server.address()!.port);
    t.teardown(() => client.destroy());
    client.write(get('/readable-stream'));
    t.ok(await client.waitForText('\r\n\r\n'), 'head sent before the first chunk exists');
    t.match(client.unparsed.toString(), /transfer-encoding: chunked/i);
    release();
    const streamed = await client.response();
    t.equal(streamed.body.toString(), 'Hello! Node!');
    t.equal(streamed.headers['content-length'], undefined);

    res = await fetch(`${base}/buffer`);
    t.equal(res.headers.get('content-length'), '11');
    t.equal(await res.text(), 'Hello Hono!');
    res = await fetch(`${base}/etag/buffer`);
    t.equal(res.headers.get('etag'), `"${createHash('sha1').update('Hello Hono!').digest('hex')}"`);
    t.equal(res.headers.get('etag'), '"7e03b9b8ed6156932691d111c81c34c3c02912f9"', 'the value node-server expects');
    t.equal(res.headers.get('content-length'), '11');
    t.equal(await res.text(), 'Hello Hono!');
  });
}

t.test('Routing: nested and chained routes', async (t) => {
  const book = new Hono();
  book.get('/', (c) => c.text('get /book'));
  book.get('/:id', (c) => c.text(`get /book/${c.req.param('id')}`));
  book.post('/', (c) => c.text('post /book'));
  const app = new Hono();
  app.route('/book', book);
  app.get('/chained/:abc', (c) => c.text(`GET for ${c.req.param('abc')}`)).post((c) => c.text(`POST for ${c.req.param('abc')}`));
  const { base } = await start(t, app);
  t.equal(await (await fetch(`${base}/book`)).text(), 'get /book');
  t.equal(await (await fetch(`${base}/book/123`)).text(), 'get /book/123');
  t.equal(await (await fetch(`${base}/book`, { method: 'POST' })).text(), 'post /book');
  t.equal(await (await fetch(`${base}/chained/abc`)).text(), 'GET for abc');
  t.equal(await (await fetch(`${base}/chained/abc`, { method: 'POST' })).text(), 'POST for abc');
  t.equal((await fetch(`${base}/chained/abc`, { method: 'PUT' })).status, 404);
});

t.test('Request body: JSON and form', async (t) => {
  const app = new Hono();
  app.post('/json', async (c) => c.json(await c.req.json()));
  app.post('/form', async (c) => c.json(await c.req.parseBody()));
  const { base } = await start(t, app);
  let res = await fetch(`${base}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ foo: 'bar' }) });
  t.same(await res.json(), { foo: 'bar' });
  res = await fetch(`${base}/form`, { method: 'POST', body: new URLSearchParams({ foo: 'bar' }) });
  t.same(await res.json(), { foo: 'bar' });
});

t.test('Response body: cached responses and the fallback to the global Response', async (t) => {
  const app = new Hono();
  app.get('/json', (c) => c.json({ foo: 'bar' }));
  app.get('/json-async', async (c) => c.json({ foo: 'async' }));
  app.get('/html', (c) => c.html('<h1>Hello!</h1>'));
  app.get('/html-async', async (c) => c.html('<h1>Hello!</h1>'));
  app.get('/json-blob', async () => new Response(new Blob([JSON.stringify({ foo: 'blob' })]), { headers: { 'content-type': 'application/json' } }));
  app.get('/json-buffer', async () => new Response(new TextEncoder().encode(JSON.stringify({ foo: 'buffer' })).buffer as ArrayBuffer, { headers: { 'content-type': 'application/json' } }));
  const { base } = await start(t, app);
  for (const [path, body] of [['/json', { foo: 'bar' }], ['/json-async', { foo: 'async' }], ['/json-blob', { foo: 'blob' }], ['/json-buffer', { foo: 'buffer' }]] as const) {
    const res = await fetch(`${base}${path}`);
    t.match(res.headers.get('content-type'), /^application\/json/, path);
    t.same(await res.json(), body, path);
  }
  for (const path of ['/html', '/html-async']) {
    const res = await fetch(`${base}${path}`);
    t.match(res.headers.get('content-type'), /^text\/html/);
    t.equal(await res.text(), '<h1>Hello!</h1>');
  }
});

t.test('Middleware: poweredBy and a header set after next()', async (t) => {
  const app = new Hono<{ Variables: { foo: string } }>();
  app.use('*', poweredBy());
  app.use('*', async (c, next) => {
    c.set('foo', 'bar');
    await next();
    c.header('foo', c.get('foo'));
  });
  app.get('/', (c) => c.text('Hello! Middleware!'));
  const { base } = await start(t, app);
  const res = await fetch(`${base}/`);
  t.equal(res.headers.get('x-powered-by'), 'Hono');
  t.equal(res.headers.get('foo'), 'bar');
});

t.test('Error handling: custom notFound and onError, an unknown method', async (t) => {
  const app = new Hono();
  app.notFound((c) => c.text('Custom NotFound', 404));
  app.onError((_, c) => c.text('Custom Error!', 500));
  app.get('/error', () => {
    throw new Error();
  });
  const { base, server } = await start(t, app);
  let res = await fetch(`${base}/`);
  t.equal(res.status, 404);
  t.equal(await res.text(), 'Custom NotFound');
  res = await fetch(`${base}/error`);
  t.equal(res.status, 500);
  t.equal(await res.text(), 'Custom Error!');
  const client = await RawClient.connect(server.address()!.port);
  t.teardown(() => client.destroy());
  client.write('PURGE / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal((await client.response()).status, 404, 'PURGE');
});

t.test('Basic Auth middleware, ASCII and Unicode passwords', async (t) => {
  const app = new Hono();
  app.use('/auth/*', basicAuth({ username: 'hono-user-a', password: 'hono-password-a' }));
  app.use('/auth-unicode/*', basicAuth({ username: 'hono-user-a', password: '炎' }));
  app.get('/auth/*', (c) => c.text('auth'));
  app.get('/auth-unicode/*', (c) => c.text('auth'));
  const { base } = await start(t, app);
  let res = await fetch(`${base}/auth/a`);
  t.equal(res.status, 401);
  t.equal(await res.text(), 'Unauthorized');
  res = await fetch(`${base}/auth/a`, { headers: { authorization: `Basic ${Buffer.from('hono-user-a:hono-password-a').toString('base64')}` } });
  t.equal(await res.text(), 'auth');
  res = await fetch(`${base}/auth-unicode/a`, { headers: { authorization: `Basic ${Buffer.from('hono-user-a:炎').toString('base64')}` } });
  t.equal(res.status, 200);
});

t.test('Stream and non-stream responses, and a stream that errors', async (t) => {
  const app = new Hono();
  app.get('/json', (c) => c.json({ foo: 'bar' }));
  app.get('/text', (c) => c.text('Hello!'));
  app.get('/json-stream', (c) => {
    c.header('x-accel-buffering', 'no');
    c.header('content-type', 'application/json');
    return stream(c, async (s) => {
      await s.write(JSON.stringify({ foo: 'bar' }));
    });
  });
  app.get('/stream', (c) => {
    const body = new ReadableStream({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode('data: Hello!\n\n'));
        await new Promise((resolve) => setTimeout(resolve, 100));
        controller.enqueue(new TextEncoder().encode('data: end\n\n'));
        controller.close();
      },
    });
    c.header('Content-Type', 'text/event-stream; charset=utf-8');
    return c.body(body);
  });
  app.get('/error-stream', (c) => {
    const body = new ReadableStream({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode('data: Hello!\n\n'));
        await new Promise((resolve) => setTimeout(resolve, 100));
        controller.error(new Error('test'));
      },
    });
    c.header('Content-Type', 'text/event-stream; charset=utf-8');
    return c.body(body);
  });
  const { base, server } = await start(t, app);
  let res = await fetch(`${base}/json`);
  t.equal(res.headers.get('content-length'), '13');
  t.same(await res.json(), { foo: 'bar' });
  res = await fetch(`${base}/text`);
  t.equal(res.headers.get('content-length'), '6');
  t.equal(await res.text(), 'Hello!');
  res = await fetch(`${base}/json-stream`);
  t.equal(res.headers.get('content-length'), null);
  t.equal(res.headers.get('transfer-encoding'), 'chunked');
  t.same(await res.json(), { foo: 'bar' });

  const client = await RawClient.connect(server.address()!.port);
  t.teardown(() => client.destroy());
  client.write(get('/stream'));
  t.ok(await client.waitForText('data: Hello!'), 'the first event is out');
  t.notOk(client.unparsed.toString().includes('data: end'), 'before the second exists');
  const streamed = await client.response();
  t.equal(streamed.headers['transfer-encoding'], 'chunked');
  t.equal(streamed.headers['content-type'], 'text/event-stream; charset=utf-8');
  t.equal(streamed.body.toString(), 'data: Hello!\n\ndata: end\n\n');

  await t.rejects(fetch(`${base}/error-stream`).then((r) => r.text()), 'a stream that errors ends the connection without a clean end, and the server lives on');
  t.equal(await (await fetch(`${base}/text`)).text(), 'Hello!');
});

for (const encoding of ['gzip', 'deflate'] as const) {
  t.test(`Hono compression, ${encoding}`, async (t) => {
    const app = new Hono();
    app.use('*', compress(encoding === 'gzip' ? {} : { encoding }));
    app.notFound((c) => c.text('Custom NotFound', 404));
    app.onError((_, c) => c.text('Custom Error!', 500));
    app.get('/error', () => {
      throw new Error();
    });
    app.get('/one', (c) => c.text(`one${' one'.repeat(1000 * 1000)}`));
    const { base } = await start(t, app);
    let res = await fetch(`${base}/one`);
    t.equal(res.status, 200);
    t.equal(res.headers.get('content-encoding'), encoding);
    t.equal((await res.text()).length, 3 + 4 * 1000 * 1000);
    res = await fetch(`${base}/err`);
    t.equal(res.status, 404);
    t.equal(await res.text(), 'Custom NotFound');
    res = await fetch(`${base}/error`);
    t.equal(res.status, 500);
    t.equal(await res.text(), 'Custom Error!');
  });
}

t.test('a child response set to c.res keeps its headers', async (t) => {
  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    c.res = new Response('', c.res);
    void c.res.headers;
  });
  app.get('/json', (c) => c.json({}));
  const { base } = await start(t, app);
  const res = await fetch(`${base}/json`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^application\/json/);
});

t.test("the handler's second argument: linger's request and response, in place of node:http's", async (t) => {
  const app = new Hono();
  app.get('/', (c) => {
    const env = c.env as { incoming: { url: string }; outgoing: { statusCode: number } };
    return c.json({ incoming: env.incoming.constructor.name, url: env.incoming.url, outgoing: env.outgoing.constructor.name, status: env.outgoing.statusCode });
  });
  const { base } = await start(t, app);
  t.same(await (await fetch(`${base}/`)).json(), { incoming: 'Request', url: '/', outgoing: 'Response', status: 200 });
});

t.test('overrideGlobalObjects: default, true and false', async (t) => {
  const app = new Hono();
  app.get('/', (c) => c.text('x'));
  for (const option of [undefined, true, false]) {
    const server = await serve({ fetch: app, port: 0, ...(option === undefined ? {} : { overrideGlobalObjects: option }) });
    t.equal(globalThis.Response === NativeResponse, option === false, `overrideGlobalObjects: ${String(option)}`);
    await server.close({ timeout: 500 });
    t.equal(globalThis.Response, NativeResponse, 'given back on close');
  }
});
