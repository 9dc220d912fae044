// One socket's life over real loopback sockets: keep-alive rules and advertised limits, pipelining
// order and write coalescing, timeouts, backpressure bounds, request bodies, Expect: 100-continue.

import t from 'tap';
import { createServer, type App } from '../../lib/index.js';
import { eventually, get, RawClient, sleep } from '../helpers/raw-client.js';
import { startApp } from '../helpers/servers.js';


t.test('HTTP/1.1 keep-alive advertises timeout and a max that counts down; the last response closes', async (t) => {
  const { app, port } = await startApp(t, { maxRequestsPerSocket: 3, keepAliveTimeout: 65_000 }, (app) => app.get('/', () => 'hi'));
  const client = await RawClient.connect(port);
  const seen: Array<[string | undefined, string | undefined]> = [];
  for (let i = 0; i < 3; i++) {
    client.write(get('/'));
    const res = await client.response();
    t.equal(res.body.toString(), 'hi');
    seen.push([res.headers.connection, res.headers['keep-alive']]);
  }
  t.same(seen, [
    ['keep-alive', 'timeout=60, max=2'],
    ['keep-alive', 'timeout=60, max=1'],
    ['close', undefined],
  ]);
  t.equal(await client.waitEnd(), 'eof', 'server closes right after the Connection: close response');
  client.destroy();
});

t.test('HTTP/1.0: keep-alive only when asked, and then said in the response', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => app.get('/', () => 'hi'));
  const ka = await RawClient.connect(port);
  ka.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  const first = await ka.response();
  t.equal(first.headers.connection, 'keep-alive');
  t.match(first.headers['keep-alive'], /^timeout=\d+, max=999$/);
  ka.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  t.equal((await ka.response()).body.toString(), 'hi', 'second request on the same HTTP/1.0 connection');
  ka.destroy();

  const plain = await RawClient.connect(port);
  plain.write('GET / HTTP/1.0\r\n\r\n');
  const res = await plain.response();
  t.equal(res.headers.connection, 'close');
  t.equal(await plain.waitEnd(), 'eof');
  plain.destroy();
});

t.test('Connection: close from the client is honoured; bytes after it are discarded, not a 400', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => app.get('/', () => 'hi'));
  const client = await RawClient.connect(port);
  client.write(get('/', 'Connection: close\r\n') + get('/') + 'garbage that is not HTTP\r\n\r\n');
  const res = await client.response();
  t.equal(res.status, 200);
  t.equal(res.headers.connection, 'close');
  t.equal(await client.waitEnd(), 'eof');
  t.equal(client.unparsed.length, 0, 'nothing after the response');
  client.destroy();
  await eventually(() => app.stats().closes['client-connection-close'] === 1);
  t.equal(app.stats().protocolErrors, 0);
});

t.test('pipelined requests are answered in order while handlers finish out of order', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    app.get('/wait/:ms', async (req) => {
      await sleep(Number(req.params.ms));
      return `waited ${req.params.ms}`;
    });
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  const delays = [60, 5, 40, 0, 20];
  client.write(delays.map((d) => get(`/wait/${d}`)).join(''));
  const responses = await client.responses(delays.length);
  t.same(responses.map((r) => r.body.toString()), delays.map((d) => `waited ${d}`));
  client.destroy();
});

t.test('16 pipelined requests in one chunk are answered with one socket write', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    app.get('/sync/:n', (req) => `sync ${req.params.n}`);
    app.get('/async/:n', async (req) => `async ${req.params.n}`);
  });
  t.teardown(() => app.close({ timeout: 500 }));
  for (const kind of ['sync', 'async']) {
    const client = await RawClient.connect(port);
    client.write(get(`/${kind}/warm`));
    await client.response();
    const before = app.stats().socketWrites;
    let batch = '';
    for (let i = 0; i < 16; i++) batch += get(`/${kind}/${i}`);
    client.write(batch);
    const responses = await client.responses(16);
    t.same(responses.map((r) => r.body.toString()), Array.from({ length: 16 }, (_, i) => `${kind} ${i}`));
    t.equal(app.stats().socketWrites - before, 1, `${kind} handlers: one write for 16 responses`);
    client.destroy();
  }
});

t.test('head and a small body leave in one write', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => app.get('/', () => Buffer.alloc(1000, 'b')));
  const client = await RawClient.connect(port);
  const before = app.stats().socketWrites;
  client.write(get('/'));
  const res = await client.response();
  t.equal(res.body.length, 1000);
  t.equal(app.stats().socketWrites - before, 1);
  client.destroy();
});

t.test('a client that pipelines and never reads cannot grow server memory past the documented bound', async (t) => {
  const body = Buffer.alloc(16 * 1024, 'p');
  let handled = 0;
  const { app, port } = await startApp(t, {}, (app) =>
    app.get('/p/:n', () => {
      handled++;
      return body;
    }),
  );
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port, { paused: true });
  // 4000 requests asking for 64 MB of responses; the client reads none of it.
  let batch = '';
  for (let i = 0; i < 4000; i++) batch += get(`/p/${i}`);
  client.write(batch);
  // Wait (bounded) until the count stops moving for 300 ms: reading has paused, however slow the machine.
  let last = -1;
  let stableSince = Date.now();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (handled !== last) {
      last = handled;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= 300) {
      break;
    }
    await sleep(20);
  }
  t.ok(Date.now() - stableSince >= 300, `the server stopped reading (handled ${handled} of 4000)`);
  t.ok(handled < 4000, 'not everything was handled');
  // Bound: maxQueuedOutput (64 KiB) plus what the requests already dispatched can add (16 x response).
  const bound = 65_536 + 16 * (body.length + 512);
  const peak = app.stats().peakQueuedOutput;
  t.ok(peak <= bound, `peak queued output ${peak} <= ${bound}`);
  client.destroy();
});

t.test('idle timeout closes a quiet keep-alive connection with a clean EOF', async (t) => {
  const { app, port } = await startApp(t, { keepAliveTimeout: 150 }, (app) => app.get('/', () => 'hi'));
  const client = await RawClient.connect(port);
  client.write(get('/'));
  const res = await client.response();
  const answeredAt = Date.now();
  // No whole second is below 150 ms minus the reap guard: the timeout is left out, never 0.
  t.match(res.headers['keep-alive'], /^max=\d+$/, 'advertises no timeout it cannot keep');
  t.equal(await client.waitEnd(3000), 'eof');
  // A lower bound, not a speed claim: a proxy whose idle timeout sits just below ours relies on it.
  t.ok(Date.now() - answeredAt >= 150, `not closed before keepAliveTimeout (after ${Date.now() - answeredAt} ms)`);
  client.destroy();
  await eventually(() => app.stats().closes['idle-timeout'] === 1);
  t.equal(app.stats().closes['idle-timeout'], 1);
});

t.test('a connection that never sends a byte is closed after firstByteTimeout', async (t) => {
  const { app, port } = await startApp(t, { firstByteTimeout: 100 }, (app) => app.get('/', () => 'hi'));
  const client = await RawClient.connect(port);
  t.equal(await client.waitEnd(3000), 'eof');
  t.equal(client.unparsed.length, 0, 'no response for a request never made');
  client.destroy();
  await eventually(() => app.stats().closes['first-byte-timeout'] === 1);
  t.equal(app.stats().closes['first-byte-timeout'], 1);
});

t.test('slowloris: a head trickling in is answered 408 at headersTimeout', async (t) => {
  const { app, port } = await startApp(t, { headersTimeout: 200 }, (app) => app.get('/', () => 'hi'));
  const client = await RawClient.connect(port);
  const text = 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ';
  let i = 0;
  const trickle = setInterval(() => {
    if (i < text.length + 100 && !client.ended) client.write(i < text.length ? text[i]! : 'a');
    i++;
  }, 20);
  t.teardown(() => clearInterval(trickle));
  const res = await client.response(3000);
  clearInterval(trickle);
  t.equal(res.status, 408);
  t.equal(res.headers.connection, 'close');
  t.equal(await client.waitEnd(), 'eof');
  client.destroy();
  await eventually(() => app.stats().closes['headers-timeout'] === 1);
  t.equal(app.stats().closes['headers-timeout'], 1);
});

t.test('a stalled request body is answered 408 at bodyTimeout', async (t) => {
  const { app, port } = await startApp(t, { bodyTimeout: 150 }, (app) => app.post('/upload', async (req) => `got ${(await req.buffer()).length}`));
  const client = await RawClient.connect(port);
  client.write('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly-part');
  const res = await client.response(3000);
  t.equal(res.status, 408);
  t.equal(res.headers.connection, 'close');
  t.equal(await client.waitEnd(), 'eof');
  client.destroy();
});

t.test('request bodies: Content-Length and chunked, echoed; an unread small body is discarded and the connection kept', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    app.post('/echo', async (req) => (await req.buffer()).toString());
    app.post('/ignore', () => 'ignored');
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  client.write('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
  t.equal((await client.response()).body.toString(), 'hello');
  client.write('POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n');
  t.equal((await client.response()).body.toString(), 'abcde');
  client.write(`POST /ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n${'i'.repeat(2000)}`);
  const ignored = await client.response();
  t.equal(ignored.body.toString(), 'ignored');
  t.equal(ignored.headers.connection, 'keep-alive', 'small unread body: connection kept');
  client.write(get('/echo'.replace('/echo', '/nope')));
  t.equal((await client.response()).status, 404, 'the next request parses after the discarded body');
  client.destroy();
});

t.test('an unread body larger than maxDiscardBody closes the connection after the response', async (t) => {
  const { app, port } = await startApp(t, { maxDiscardBody: 1000 }, (app) => app.post('/reject', (_req, res) => res.status(413).send('too big')));
  const client = await RawClient.connect(port);
  client.write('POST /reject HTTP/1.1\r\nHost: a\r\nContent-Length: 50000\r\n\r\n' + 'x'.repeat(10_000));
  const res = await client.response();
  t.equal(res.status, 413);
  t.equal(res.headers.connection, 'close');
  client.write('x'.repeat(40_000));
  t.equal(await client.waitEnd(), 'eof', 'lingering close, no reset');
  client.destroy();
});

t.test('Expect: 100-continue is answered when the handler reads the body, not before', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    app.post('/read', async (req) => `read ${(await req.buffer()).length}`);
    app.post('/deny', (_req, res) => res.status(403).send('no'));
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  client.write('POST /read HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
  const interim = await client.response();
  t.equal(interim.status, 100);
  client.write('data');
  const final = await client.response();
  t.equal(final.body.toString(), 'read 4');

  const deny = await RawClient.connect(port);
  deny.write('POST /deny HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
  const denied = await deny.response();
  t.equal(denied.status, 403, 'final status without 100 Continue');
  t.equal(denied.headers.connection, 'close', 'the unsent body may never come: close (RFC 9110 10.1.1)');
  t.equal(await deny.waitEnd(), 'eof');
  client.destroy();
  deny.destroy();
});

t.test('a body that arrives with its head is complete when the handler starts; one that follows is not', async (t) => {
  const seen: boolean[] = [];
  const { app, port } = await startApp(t, {}, (app) => {
    app.post('/echo', async (req) => {
      seen.push(req.complete);
      return req.json();
    });
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  const body = '{"a":[1,2,3]}';
  const head = `POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n`;
  // Pipelined, with Expect: 100-continue although the body is already sent: no 100 is owed for it.
  client.write(`${head}\r\n${body}${head}Expect: 100-continue\r\n\r\n${body}`);
  const [first, second] = await client.responses(2);
  t.same([first!.status, second!.status], [200, 200], 'no interim 100 for a body that came with its head');
  t.same(JSON.parse(first!.body.toString()), { a: [1, 2, 3] });
  t.same(JSON.parse(second!.body.toString()), { a: [1, 2, 3] });
  // Head first, body 30 ms later: the handler starts before the body and waits for it.
  client.write(`${head}\r\n`);
  await sleep(30);
  client.write(body);
  const third = await client.response();
  t.same(JSON.parse(third.body.toString()), { a: [1, 2, 3] });
  t.same(seen, [true, true, false]);
  client.destroy();
});

t.test('streamed responses: chunked on HTTP/1.1, close-delimited on HTTP/1.0, HEAD without body', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    app.get('/stream', (_req, res) => {
      res.write('one,');
      setTimeout(() => res.end('two', ['X-Checksum', 'abc']), 10);
    });
    app.get('/text', () => 'a body');
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  client.write(get('/stream'));
  const chunked = await client.response();
  t.equal(chunked.headers['transfer-encoding'], 'chunked');
  t.equal(chunked.body.toString(), 'one,two');
  t.same(chunked.trailers, { 'x-checksum': 'abc' });
  client.write('HEAD /text HTTP/1.1\r\nHost: a\r\n\r\n');
  client.expectNoBody();
  const head = await client.response();
  t.equal(head.headers['content-length'], '6');
  client.write(get('/text'));
  t.equal((await client.response()).body.toString(), 'a body', 'no stray body bytes after HEAD');
  client.destroy();

  const old = await RawClient.connect(port);
  old.write('GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  await old.waitEnd();
  const res = await old.response();
  t.equal(res.headers['transfer-encoding'], undefined);
  t.equal(res.headers.connection, 'close');
  t.equal(res.body.toString(), 'one,two');
  old.destroy();
});

t.test('handler errors: 500 before the head, a destroyed connection after it, other connections unharmed', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    app.get('/throw', () => {
      throw new Error('boom');
    });
    app.get('/reject', async () => {
      throw Object.assign(new Error('teapot'), { statusCode: 418 });
    });
    app.get('/midway', (_req, res) => {
      res.write('partial');
      setTimeout(() => res.destroy(new Error('stream broke')), 5);
    });
    app.get('/', () => 'fine');
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const bystander = await RawClient.connect(port);
  const client = await RawClient.connect(port);
  client.write(get('/throw'));
  const thrown = await client.response();
  t.equal(thrown.status, 500);
  t.equal(thrown.body.toString(), 'Internal Server Error\n', 'no internals leaked');
  client.write(get('/reject'));
  t.equal((await client.response()).status, 418, "the error's statusCode is used");
  client.write(get('/midway'));
  const end = await client.waitEnd();
  t.not(end, 'timeout', 'a half-sent response ends the connection');
  bystander.write(get('/'));
  t.equal((await bystander.response()).body.toString(), 'fine');
  client.destroy();
  bystander.destroy();
});

t.test('max connections: the connection over the limit gets 503, existing ones keep working', async (t) => {
  const { app, port } = await startApp(t, { maxConnections: 2 }, (app) => app.get('/', () => 'hi'));
  const a = await RawClient.connect(port);
  const b = await RawClient.connect(port);
  await eventually(() => app.stats().connections.open === 2);
  const c = await RawClient.connect(port);
  const refused = await c.response();
  t.equal(refused.status, 503);
  t.equal(refused.headers.connection, 'close');
  t.equal(await c.waitEnd(), 'eof');
  a.write(get('/'));
  b.write(get('/'));
  t.equal((await a.response()).status, 200);
  t.equal((await b.response()).status, 200);
  t.equal(app.stats().connections.rejected, 1);
  a.destroy();
  b.destroy();
  c.destroy();
});

t.test('CONNECT is answered 501: an origin server is not a tunnel', async (t) => {
  const { app, port } = await startApp(t, {}, () => {});
  const client = await RawClient.connect(port);
  client.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  t.equal((await client.response()).status, 501);
  client.destroy();
});

t.test('backpressure: a 4 MiB upload read slowly by its handler arrives whole, then the connection is reused', async (t) => {
  const { app, port } = await startApp(t, { maxBufferedBody: 16_384 }, (app) => {
    app.post('/slow-read', { bodyLimit: 8 * 1024 * 1024 }, async (req) => {
      let total = 0;
      let sum = 0;
      for await (const chunk of req) {
        total += chunk.length;
        for (const b of chunk) sum = (sum + b) % 65_521;
        if (total % 8 === 0) await sleep(0);
      }
      return `${total} ${sum}`;
    });
    app.get('/', () => 'after');
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const body = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = i % 251;
  let expectedSum = 0;
  for (const b of body) expectedSum = (expectedSum + b) % 65_521;
  const client = await RawClient.connect(port);
  client.write(`POST /slow-read HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`);
  client.write(body);
  client.write(get('/'));
  const [upload, after] = await client.responses(2, 20_000);
  t.equal(upload!.body.toString(), `${body.length} ${expectedSum}`, 'every byte, in order');
  t.equal(after!.body.toString(), 'after', 'the pipelined request behind the body is served');
  client.destroy();
});

t.test('backpressure: a streamed 8 MiB response to a client that reads late arrives whole', async (t) => {
  const chunk = Buffer.alloc(64 * 1024, 'z');
  let waits = 0;
  const { app, port } = await startApp(t, {}, (app) => {
    app.get('/big-stream', async (_req, res) => {
      for (let i = 0; i < 128; i++) {
        if (!res.write(chunk)) {
          waits++;
          await res.drained();
        }
      }
      res.end();
    });
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port, { paused: true });
  client.write(get('/big-stream'));
  await sleep(300);
  client.resume();
  const res = await client.response(20_000);
  t.equal(res.body.length, 128 * chunk.length);
  t.ok(waits > 0, `the handler waited for the connection ${waits} times`);
  client.destroy();
});

t.test('a streamed response parked behind a slower one is released in order', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    app.get('/slow', async () => {
      await sleep(50);
      return 'slow';
    });
    app.get('/streamed', async (_req, res) => {
      for (let i = 0; i < 200; i++) if (!res.write(Buffer.alloc(1024, 's'))) await res.drained();
      res.end();
    });
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  client.write(get('/slow') + get('/streamed') + get('/slow'));
  const [a, b, c] = await client.responses(3, 5000);
  t.equal(a!.body.toString(), 'slow');
  t.equal(b!.body.length, 200 * 1024, 'the parked stream is complete');
  t.equal(c!.body.toString(), 'slow');
  client.destroy();
});

t.test('a pipelined stream that fails while parked becomes a 500; the response before it is not lost', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    app.get('/slow', async () => {
      await sleep(50);
      return 'slow';
    });
    app.get('/fails', async (_req, res) => {
      res.write('partial');
      await sleep(5);
      throw new Error('source broke');
    });
    app.get('/throws-after-end', (_req, res) => {
      res.end('complete');
      throw new Error('late');
    });
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  client.write(get('/throws-after-end') + get('/slow') + get('/fails'));
  const [done, slow, failed] = await client.responses(3, 5000);
  t.equal(done!.body.toString(), 'complete', 'an error after the response completed does not harm it');
  t.equal(slow!.body.toString(), 'slow');
  t.equal(failed!.status, 500);
  t.equal(failed!.headers.connection, 'close');
  t.equal(await client.waitEnd(), 'eof');
  client.destroy();
});
