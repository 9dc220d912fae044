// The fetch adapter proven with a real Hono app: routes, params, JSON in and out, a streamed
// response, a streamed request body, cookies, the request's signal, and errors of the handler.

import t from 'tap';
import { Hono } from 'hono';
import { stream, streamSSE } from 'hono/streaming';
import { serve, createFetchServer } from '../../lib/index.js';
import { get, RawClient, sleep } from '../helpers/raw-client.js';

function buildApp(events: string[]): Hono {
  const app = new Hono();
  app.get('/', (c) => c.text('hello from hono'));
  app.get('/users/:id', (c) => c.json({ id: c.req.param('id'), q: c.req.query('q') ?? null }));
  app.post('/echo', async (c) => {
    const body = await c.req.json<Record<string, unknown>>();
    return c.json({ received: body, type: c.req.header('content-type') }, 201);
  });
  app.post('/count', async (c) => {
    let bytes = 0;
    const reader = c.req.raw.body!.getReader();
    for (let step = await reader.read(); !step.done; step = await reader.read()) bytes += step.value.length;
    return c.text(String(bytes));
  });
  app.get('/stream', (c) => stream(c, async (s) => {
    for (let i = 0; i < 5; i++) {
      await s.write(`part ${i}\n`);
      await s.sleep(10);
    }
  }));
  app.get('/sse', (c) => streamSSE(c, async (s) => {
    for (let i = 0; i < 3; i++) await s.writeSSE({ data: `tick ${i}`, event: 'tick', id: String(i) });
  }));
  app.get('/cookies', (c) => {
    c.header('Set-Cookie', 'a=1; Path=/', { append: true });
    c.header('Set-Cookie', 'b=2; Path=/', { append: true });
    return c.text('cookies');
  });
  app.get('/slow', async (c) => {
    const signal = c.req.raw.signal;
    await new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => {
        events.push('aborted');
        resolve();
      });
    });
    return c.text('too late');
  });
  app.get('/boom', () => {
    throw new Error('inside hono');
  });
  app.onError((err, c) => c.text(`handled: ${err.message}`, 500));
  return app;
}

t.test('a Hono app on serve(): routes, params, query, JSON both ways, 404, HEAD', async (t) => {
  const server = await serve({ fetch: buildApp([]).fetch, port: 0, hostname: '127.0.0.1' });
  t.teardown(() => server.close({ timeout: 500 }));
  const { port } = server.address()!;
  const client = await RawClient.connect(port);

  client.write(get('/'));
  let res = await client.response();
  t.equal(res.status, 200);
  t.equal(res.body.toString(), 'hello from hono');
  t.match(res.headers['content-type'], /^text\/plain/);
  t.equal(res.headers['content-length'], '15', 'a whole body goes out with Content-Length, not chunked');
  t.match(res.headers['keep-alive'], /timeout=\d+/, 'the engine still owns the connection headers');

  client.write(get('/users/42?q=x'));
  t.same(JSON.parse((await client.response()).body.toString()), { id: '42', q: 'x' });

  const json = JSON.stringify({ name: 'Ada', tags: ['x'] });
  client.write(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
  res = await client.response();
  t.equal(res.status, 201);
  t.same(JSON.parse(res.body.toString()), { received: { name: 'Ada', tags: ['x'] }, type: 'application/json' });

  client.write(get('/nope'));
  t.equal((await client.response()).status, 404);

  client.write('HEAD / HTTP/1.1\r\nHost: a\r\n\r\n');
  client.expectNoBody();
  res = await client.response();
  t.equal(res.status, 200);
  t.equal(res.body.length, 0);
});

t.test('streamed responses (hono/streaming) arrive chunk by chunk, SSE included', async (t) => {
  const server = await serve({ fetch: buildApp([]), port: 0 });
  t.teardown(() => server.close({ timeout: 500 }));
  const { port } = server.address()!;
  const client = await RawClient.connect(port);
  client.write(get('/stream'));
  // The first part must arrive before the handler has produced the rest (50 ms of sleeps).
  const firstSeen = (await client.waitForText('part 0')) && !client.unparsed.toString().includes('part 4');
  t.ok(firstSeen, 'the first chunk is on the wire before the last exists');
  let res = await client.response();
  t.equal(res.headers['transfer-encoding'], 'chunked');
  t.equal(res.body.toString(), 'part 0\npart 1\npart 2\npart 3\npart 4\n');

  client.write(get('/sse'));
  res = await client.response();
  t.equal(res.headers['content-type'], 'text/event-stream');
  t.equal(res.body.toString(), 'event: tick\ndata: tick 0\nid: 0\n\nevent: tick\ndata: tick 1\nid: 1\n\nevent: tick\ndata: tick 2\nid: 2\n\n');
});

t.test('a streamed request body reaches the handler whole; cookies stay separate fields', async (t) => {
  const server = await serve({ fetch: buildApp([]), port: 0 });
  t.teardown(() => server.close({ timeout: 500 }));
  const { port } = server.address()!;
  const client = await RawClient.connect(port);
  client.write('POST /count HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n');
  for (let i = 0; i < 20; i++) {
    client.write(`1000\r\n${'z'.repeat(0x1000)}\r\n`);
    await sleep(2);
  }
  client.write('0\r\n\r\n');
  t.equal((await client.response()).body.toString(), String(20 * 0x1000));

  client.write(get('/cookies'));
  const res = await client.response();
  t.match(res.rawHead, /Set-Cookie: a=1; Path=\/\r\n/i);
  t.match(res.rawHead, /Set-Cookie: b=2; Path=\/\r\n/i);
});

t.test("the request's signal aborts when the client leaves; errors go through Hono's onError", async (t) => {
  const events: string[] = [];
  const server = await serve({ fetch: buildApp(events), port: 0 });
  t.teardown(() => server.close({ timeout: 500 }));
  const { port } = server.address()!;
  const leaving = await RawClient.connect(port);
  leaving.write(get('/slow'));
  await sleep(50);
  leaving.destroy();
  for (let i = 0; i < 100 && events.length === 0; i++) await sleep(20);
  t.same(events, ['aborted']);

  const client = await RawClient.connect(port);
  client.write(get('/boom'));
  const res = await client.response();
  t.equal(res.status, 500);
  t.equal(res.body.toString(), 'handled: inside hono');
});

t.test('fetch handlers that throw or return a non-Response get a 500; body limits apply; misuse is typed', async (t) => {
  const server = createFetchServer({
    bodyLimit: 10,
    fetch: async (request) => {
      const url = new URL(request.url);
      if (url.pathname === '/throw') throw new Error('plain failure');
      if (url.pathname === '/not-a-response') return 'text' as unknown as Response;
      if (url.pathname === '/body') return new Response(await request.text());
      return new Response(null, { status: 204 });
    },
  });
  await server.listen({ port: 0 });
  t.teardown(() => server.close({ timeout: 500 }));
  const { port } = server.address()!;
  const client = await RawClient.connect(port);
  client.write(get('/throw'));
  t.equal((await client.response()).status, 500);
  client.write(get('/not-a-response'));
  t.equal((await client.response()).status, 500);
  client.write(get('/empty'));
  t.equal((await client.response()).status, 204);
  client.write('POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nsmall');
  t.equal((await client.response()).body.toString(), 'small');
  client.write('POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\n' + 'x'.repeat(50));
  t.equal((await client.response()).status, 413, 'a body over the limit is refused through the web Request too');

  t.throws(() => createFetchServer({ fetch: 'nope' as never }), { code: 'ERR_INVALID_HANDLER' });
  await t.rejects(serve(null as never), { code: 'ERR_INVALID_OPTION' });
});
