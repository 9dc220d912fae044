// The request and response members handlers use, each over a real socket: what the peer receives
// is what is asserted, parsed by the independent raw client.

import { Readable } from 'node:stream';
import t from 'tap';
import { startApp } from '../helpers/servers.js';
import { get, RawClient, sleep } from '../helpers/raw-client.js';

t.test('request members: method, path, lazy query, params, headers, raw headers, version, addresses, hostname, locals', async (t) => {
  const { port } = await startApp(t, {}, (app) => {
    app.get('/users/:id/files/*', (req) => {
      req.locals.seen = true;
      return {
        method: req.method,
        path: req.path,
        url: req.url,
        q: req.query.getAll('q'),
        params: req.params,
        accept: req.headers.accept,
        repeated: req.headers['x-rep'],
        headerFn: req.header('X-Custom'),
        raw: req.rawHeaders,
        version: req.httpVersion,
        remote: req.remoteAddress,
        remotePortIsNumber: typeof req.remotePort === 'number',
        hostname: req.hostname,
        route: req.route,
        locals: req.locals.seen,
      };
    });
  });
  const client = await RawClient.connect(port);
  client.write('GET /users/a%2Fb/files/x/y.txt?q=1&q=two HTTP/1.0\r\nHost: Example.com:8080\r\nAccept: text/html\r\nX-Rep: a\r\nX-Rep: b\r\nX-Custom: c\r\n\r\n');
  const res = await client.response();
  const body = JSON.parse(res.body.toString());
  t.same(body, {
    method: 'GET',
    path: '/users/a%2Fb/files/x/y.txt',
    url: '/users/a%2Fb/files/x/y.txt?q=1&q=two',
    q: ['1', 'two'],
    params: { id: 'a/b', '*': 'x/y.txt' },
    accept: 'text/html',
    repeated: 'a, b',
    headerFn: 'c',
    raw: ['Host', 'Example.com:8080', 'Accept', 'text/html', 'X-Rep', 'a', 'X-Rep', 'b', 'X-Custom', 'c'],
    version: '1.0',
    remote: '127.0.0.1',
    remotePortIsNumber: true,
    hostname: 'Example.com',
    route: '/users/:id/files/*',
    locals: true,
  });
  t.equal(res.version, 'HTTP/1.1', 'the response speaks 1.1 to a 1.0 client (RFC 9110 6.2)');
});

t.test('body limit: a declared length over the limit gets 413 before the body is read, and the connection closes cleanly', async (t) => {
  let handlerSaw: unknown = null;
  const { port } = await startApp(t, { bodyLimit: 4096 }, (app) => {
    app.post('/small', { bodyLimit: 1024 }, async (req) => {
      try {
        return await req.text();
      } catch (err) {
        handlerSaw = (err as { code?: string }).code;
        throw err;
      }
    });
    app.post('/default', (req) => req.buffer().then((b) => String(b.length)));
  });
  const client = await RawClient.connect(port);
  client.write('POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n' + 'x'.repeat(5000));
  const res = await client.response();
  t.equal(res.status, 413);
  t.equal(handlerSaw, 'ERR_BODY_TOO_LARGE');
  t.match(res.body.toString(), /exceeds the limit of 1024\b/);
  t.equal(res.headers.connection, 'close', 'ten megabytes left unread are not worth reading: the connection closes');
  t.equal(await client.waitEnd(), 'eof', 'closed with a FIN, not a reset');

  const other = await RawClient.connect(port);
  other.write('POST /default HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n' + 'y'.repeat(5000));
  t.equal((await other.response()).status, 413, 'the app-wide bodyLimit applies to routes without their own');
  other.write('POST /default HTTP/1.1\r\nHost: a\r\nContent-Length: 4096\r\n\r\n' + 'y'.repeat(4096));
  const ok = await other.response().catch(() => null);
  if (ok !== null) t.equal(ok.body.toString(), '4096', 'exactly the limit is accepted');
  else {
    const fresh = await RawClient.connect(port);
    fresh.write('POST /default HTTP/1.1\r\nHost: a\r\nContent-Length: 4096\r\n\r\n' + 'y'.repeat(4096));
    t.equal((await fresh.response()).body.toString(), '4096', 'exactly the limit is accepted');
  }
});

t.test('body limit on a chunked body: 413 once the limit is crossed, whatever the reading method', async (t) => {
  const { port } = await startApp(t, {}, (app) => {
    app.post('/iterate', { bodyLimit: 100 }, async (req) => {
      let n = 0;
      for await (const chunk of req) n += chunk.length;
      return String(n);
    });
    app.post('/json', { bodyLimit: 100 }, (req) => req.json());
  });
  const client = await RawClient.connect(port);
  const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;
  client.write('POST /iterate HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' + chunk('a'.repeat(60)));
  await sleep(30);
  client.write(chunk('b'.repeat(60)) + '0\r\n\r\n');
  t.equal((await client.response()).status, 413);

  const c2 = await RawClient.connect(port);
  c2.write('POST /iterate HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' + chunk('a'.repeat(60)) + chunk('b'.repeat(40)) + '0\r\n\r\n');
  t.equal((await c2.response()).body.toString(), '100', 'async iteration delivers every byte up to the limit');
  c2.write('POST /json HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' + chunk('{"a":') + chunk('1}') + '0\r\n\r\n');
  t.same(JSON.parse((await c2.response()).body.toString()), { a: 1 });
});

t.test('invalid JSON is a clear 400 and the connection stays usable', async (t) => {
  const { port } = await startApp(t, {}, (app) => {
    app.post('/json', async (req) => ({ got: await req.json() }));
  });
  const client = await RawClient.connect(port);
  client.write('POST /json HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\n{"a": }');
  const bad = await client.response();
  t.equal(bad.status, 400);
  t.match(bad.body.toString(), /not valid JSON/);
  client.write('POST /json HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n{"a": 1}');
  t.same(JSON.parse((await client.response()).body.toString()), { got: { a: 1 } });
});

t.test('the body is read once: a second buffer()/text()/json(), or one after read(), is ERR_BODY_CONSUMED', async (t) => {
  const { port } = await startApp(t, {}, (app) => {
    app.onRequest(async (req) => {
      if (req.path === '/hook-then-handler') req.locals.peek = await req.json();
    });
    app.post('/twice', async (req) => {
      const first = await req.text();
      const second = await req.text().then(() => 'no error', (err: { code?: string }) => err.code);
      return { first, second };
    });
    app.post('/stream-then-whole', async (req) => {
      const chunk = await req.read();
      const whole = await req.buffer().then(() => 'no error', (err: { code?: string }) => err.code);
      return { chunk: chunk?.toString(), whole };
    });
    app.post('/whole-then-stream', async (req) => {
      await req.buffer();
      const chunk = await req.read().then(() => 'no error', (err: { code?: string }) => err.code);
      return { chunk };
    });
    app.post('/hook-then-handler', async (req) => {
      await req.json();
      return 'unreachable';
    });
  });
  const client = await RawClient.connect(port);
  const post = (path: string, body: string): string => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  client.write(post('/twice', 'hello'));
  t.same(JSON.parse((await client.response()).body.toString()), { first: 'hello', second: 'ERR_BODY_CONSUMED' });
  client.write(post('/whole-then-stream', 'xyz'));
  t.same(JSON.parse((await client.response()).body.toString()), { chunk: 'ERR_BODY_CONSUMED' });
  client.write(post('/hook-then-handler', '{"a":1}'));
  const res = await client.response();
  t.equal(res.status, 500, 'a handler reading a body a hook already read fails loudly instead of seeing nothing');
  // A chunked body sent in two pieces, so read() returns the first chunk and leaves the rest (its
  // unknown remainder then closes the connection after the response: a fresh one here).
  const chunked = await RawClient.connect(port);
  chunked.write('POST /stream-then-whole HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n');
  await sleep(20);
  chunked.write('2\r\ncd\r\n0\r\n\r\n');
  t.same(JSON.parse((await chunked.response()).body.toString()), { chunk: 'ab', whole: 'ERR_BODY_CONSUMED' });
});

t.test('the body as an async iterable: a large upload arrives whole while the handler reads slowly', async (t) => {
  let peakBuffered = 0;
  const { port } = await startApp(t, { maxBufferedBody: 65_536 }, (app) => {
    app.post('/upload', { bodyLimit: 8 * 1024 * 1024 }, async (req) => {
      let total = 0;
      let sum = 0;
      for await (const chunk of req) {
        total += chunk.length;
        for (let i = 0; i < chunk.length; i++) sum = (sum + chunk[i]! * ((total - chunk.length + i) % 7 + 1)) % 65521;
        peakBuffered = Math.max(peakBuffered, req._buffered);
        await sleep(1);
      }
      return { total, sum };
    });
  });
  const client = await RawClient.connect(port);
  const size = 4 * 1024 * 1024;
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = i % 251;
  let expectedSum = 0;
  for (let i = 0; i < size; i++) expectedSum = (expectedSum + body[i]! * (i % 7 + 1)) % 65521;
  client.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
  client.write(body);
  const res = await client.response(20_000);
  t.same(JSON.parse(res.body.toString()), { total: size, sum: expectedSum });
  // Reading pauses at maxBufferedBody; one socket read (up to 64 KiB) may land on top of it.
  t.ok(peakBuffered <= 65_536 * 2 + 65_536, `unread body held by the server stayed bounded (peak ${peakBuffered} bytes)`);
});

t.test('req.signal fires when the client goes away mid-request', async (t) => {
  let resolveAborted: (reason: unknown) => void = () => {};
  const aborted = new Promise((resolve) => (resolveAborted = resolve));
  const { port } = await startApp(t, {}, (app) => {
    app.get('/wait', (req) => new Promise<string>((resolve) => {
      req.signal.addEventListener('abort', () => {
        resolveAborted(req.signal.reason);
        resolve('late');
      });
    }));
  });
  const client = await RawClient.connect(port);
  client.write(get('/wait'));
  await sleep(50);
  client.destroy();
  const reason = await Promise.race([aborted, sleep(3000).then(() => 'no abort')]);
  t.not(reason, 'no abort', 'the signal fired');
  t.type(reason, Error);
});

t.test('res.redirect refuses protocol-relative locations with ERR_PROTOCOL_RELATIVE_REDIRECT', async (t) => {
  const { port } = await startApp(t, {}, (app) => {
    app.get('/try', (req, res) => {
      try {
        res.redirect(req.query.get('to')!);
      } catch (err) {
        return { name: (err as Error).name, code: (err as { code: string }).code };
      }
      return undefined;
    });
    // The pattern open redirects come from: a Location built from the request path.
    app.get('/*', (req, res) => res.redirect(`${req.path}/`, 301));
  });
  const client = await RawClient.connect(port);
  for (const to of ['//evil.example/x', '/\\evil.example', '\\\\evil.example', '\\/evil.example']) {
    client.write(get(`/try?to=${encodeURIComponent(to)}`));
    const res = await client.response();
    t.notOk(res.headers.location, `${to}: no Location`);
    t.same(JSON.parse(res.body.toString()), { name: 'UsageError', code: 'ERR_PROTOCOL_RELATIVE_REDIRECT' }, `${to} is refused`);
  }
  for (const [to, location] of [['/x//y', '/x//y'], ['\\x', '\\x'], ['https://cdn.example/a', 'https://cdn.example/a'], ['x//y', 'x//y']]) {
    client.write(get(`/try?to=${encodeURIComponent(to!)}`));
    const res = await client.response();
    t.equal(res.status, 302);
    t.equal(res.headers.location, location, `${to} is allowed`);
  }
  client.write(get('//evil.example'));
  const res = await client.response();
  t.equal(res.status, 500, 'a handler that builds one from the request path fails instead of redirecting off-site');
  t.notOk(res.headers.location);
  client.write(get('/fine'));
  t.equal((await client.response()).headers.location, '/fine/', 'the connection is intact and ordinary paths redirect');
});

t.test('response members: status, set, type, json, redirects, Uint8Array, async iterables, explicit Content-Length', async (t) => {
  const { port } = await startApp(t, {}, (app) => {
    app.get('/created', (_req, res) => {
      res.status(201).set({ 'X-One': '1', 'X-Many': ['a', 'b'] }).json({ ok: true });
    });
    app.get('/typed', (_req, res) => res.type('text/csv').send('a,b\n'));
    app.get('/redirect', (_req, res) => res.redirect('/target path/ü'));
    app.get('/moved', (_req, res) => res.redirect('https://example.com/', 301));
    app.get('/bad-redirect', (_req, res) => {
      try {
        res.redirect('/x', 200);
      } catch (err) {
        return { code: (err as { code: string }).code };
      }
      return 'not thrown';
    });
    app.get('/u8', () => new Uint8Array([65, 66, 67]));
    app.get('/gen', () => (async function* () {
      yield 'one ';
      await sleep(5);
      yield Buffer.from('two ');
      yield new Uint8Array([51]);
    })());
    app.get('/length', (_req, res) => {
      res.setHeader('Content-Length', 6);
      res.write('abc');
      res.end('def');
    });
  });
  const client = await RawClient.connect(port);
  client.write(get('/created'));
  let res = await client.response();
  t.equal(res.status, 201);
  t.equal(res.headers['x-one'], '1');
  t.equal(res.headers['x-many'], 'a, b');
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  t.same(JSON.parse(res.body.toString()), { ok: true });

  client.write(get('/typed'));
  res = await client.response();
  t.equal(res.headers['content-type'], 'text/csv');

  client.write(get('/redirect'));
  res = await client.response();
  t.equal(res.status, 302);
  t.equal(res.headers.location, '/target%20path/%C3%BC', 'characters a URI cannot hold are percent-encoded');

  client.write(get('/moved'));
  res = await client.response();
  t.equal(res.status, 301);
  t.equal(res.headers.location, 'https://example.com/');

  client.write(get('/bad-redirect'));
  t.same(JSON.parse((await client.response()).body.toString()), { code: 'ERR_INVALID_STATUS' });

  client.write(get('/u8'));
  res = await client.response();
  t.equal(res.body.toString(), 'ABC');
  t.equal(res.headers['content-type'], 'application/octet-stream');
  t.equal(res.headers['content-length'], '3');

  client.write(get('/gen'));
  res = await client.response();
  t.equal(res.headers['transfer-encoding'], 'chunked', 'a body of unknown length is chunked');
  t.equal(res.body.toString(), 'one two 3');

  client.write(get('/length'));
  res = await client.response();
  t.equal(res.headers['content-length'], '6', 'an explicit Content-Length is kept, no chunking');
  t.notOk(res.headers['transfer-encoding']);
  t.equal(res.body.toString(), 'abcdef');
});

t.test('numbers and booleans returned by a handler are JSON', async (t) => {
  const { port } = await startApp(t, {}, (app) => {
    app.get('/count', () => 42);
    app.get('/flag', async () => false);
  });
  const client = await RawClient.connect(port);
  client.write(get('/count'));
  let res = await client.response();
  t.equal(res.body.toString(), '42');
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  client.write(get('/flag'));
  res = await client.response();
  t.equal(res.body.toString(), 'false');
});

t.test('flushHeaders sends the head before the body exists; trailers end a chunked body', async (t) => {
  let release: () => void = () => {};
  const { port } = await startApp(t, {}, (app) => {
    app.get('/later', async (_req, res) => {
      res.setHeader('Content-Type', 'text/plain');
      res.flushHeaders();
      await new Promise<void>((resolve) => (release = resolve));
      res.end('done');
    });
    app.get('/trailers', (_req, res) => {
      res.setHeader('Trailer', 'X-Checksum');
      res.write('data');
      res.end(null, ['X-Checksum', 'abc123']);
    });
  });
  const client = await RawClient.connect(port);
  client.write(get('/later'));
  const headArrived = await client.waitForText('\r\n\r\n');
  t.ok(headArrived, 'the head arrived while the handler still waits');
  release();
  const res = await client.response();
  t.equal(res.body.toString(), 'done');

  client.write(get('/trailers'));
  const withTrailers = await client.response();
  t.equal(withTrailers.body.toString(), 'data');
  t.same(withTrailers.trailers, { 'x-checksum': 'abc123' });
});

t.test('writing after end is a typed error for the handler and harms nothing', async (t) => {
  let code: unknown = null;
  const { port } = await startApp(t, {}, (app) => {
    app.get('/twice', (_req, res) => {
      res.end('first');
      try {
        res.write('again');
      } catch (err) {
        code = (err as { code: string }).code;
      }
    });
  });
  const client = await RawClient.connect(port);
  client.write(get('/twice'));
  t.equal((await client.response()).body.toString(), 'first');
  t.equal(code, 'ERR_WRITE_AFTER_END');
  client.write(get('/twice'));
  t.equal((await client.response()).body.toString(), 'first', 'the connection carries on');
});

t.test('a Readable stream body streams with backpressure to a slow reader', async (t) => {
  const { port } = await startApp(t, {}, (app) => {
    app.get('/big', () => Readable.from((function* () {
      for (let i = 0; i < 256; i++) yield Buffer.alloc(16_384, i % 256);
    })()));
  });
  const client = await RawClient.connect(port, { paused: true });
  client.write(get('/big'));
  await sleep(200);
  client.resume();
  const res = await client.response(20_000);
  t.equal(res.body.length, 256 * 16_384);
  t.equal(res.body[16_384 * 3], 3);
});

t.test('pipelined whole responses mixing ASCII, UTF-8 bodies and obs-text header values keep every byte', async (t) => {
  const { port } = await startApp(t, {}, (app) => {
    app.get('/ascii', () => 'plain');
    app.get('/utf8', () => 'héllo ✓ 😀');
    app.get('/latin1-header', (_req, res) => {
      res.setHeader('X-Name', 'caf\u00e9');
      res.end('é');
    });
  });
  const client = await RawClient.connect(port);
  client.write(get('/ascii') + get('/utf8') + get('/latin1-header') + get('/ascii'));
  const [a, u, l, a2] = await client.responses(4);
  t.equal(a!.body.toString(), 'plain');
  t.equal(u!.body.toString('utf8'), 'héllo ✓ 😀');
  t.equal(u!.headers['content-length'], String(Buffer.byteLength('héllo ✓ 😀')));
  t.ok(l!.rawHead.includes('X-Name: caf\u00e9'), 'the obs-text byte 0xE9 is sent as one byte (the client reads the head as latin1)');
  t.same([...l!.body], [0xc3, 0xa9], 'the body is UTF-8');
  t.equal(a2!.body.toString(), 'plain');
});
