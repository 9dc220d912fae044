// App-level hooks and error handling over real sockets: the documented order, hooks that answer,
// errors mapped to statuses, a pluggable error handler, and route timeouts.

import t from 'tap';
import { createServer, HttpError } from '../../lib/index.js';
import { startApp } from '../helpers/servers.js';
import { get, RawClient, sleep } from '../helpers/raw-client.js';

t.test('order: routing, onRequest hooks in order (sync and async), handler, then onResponse once the response is complete', async (t) => {
  const events: string[] = [];
  let resolveLogged: () => void = () => {};
  const logged = new Promise<void>((resolve) => (resolveLogged = resolve));
  const { port } = await startApp(t, {}, (app) => {
    app.onRequest((req) => {
      events.push(`hook1 route=${req.route} id=${(req.params as Record<string, string>).id}`);
      req.locals.start = 1;
    });
    app.onRequest(async (req) => {
      await sleep(5);
      events.push(`hook2 locals=${String(req.locals.start)}`);
    });
    app.onResponse((req, res) => {
      events.push(`response ${req.method} ${req.path} ${res.statusCode} finished=${res.finished}`);
      if (req.path === '/items/7') resolveLogged();
    });
    app.get('/items/:id', (req) => {
      events.push(`handler ${req.params.id}`);
      return 'item';
    });
  });
  const client = await RawClient.connect(port);
  client.write(get('/items/7'));
  t.equal((await client.response()).body.toString(), 'item');
  await Promise.race([logged, sleep(2000)]);
  t.same(events, [
    'hook1 route=/items/:id id=7',
    'hook2 locals=1',
    'handler 7',
    'response GET /items/7 200 finished=true',
  ]);
});

t.test('an onRequest hook that answers (auth) ends the request before the handler; 404s pass through hooks too', async (t) => {
  let handlerRan = 0;
  const statuses: number[] = [];
  const { port } = await startApp(t, {}, (app) => {
    app.onRequest((req, res) => {
      if (req.header('authorization') !== 'Bearer good') {
        res.status(401).setHeader('WWW-Authenticate', 'Bearer');
        return { error: 'unauthorized' };
      }
    });
    app.onResponse((_req, res) => statuses.push(res.statusCode));
    app.get('/secret', () => {
      handlerRan++;
      return 'secret';
    });
  });
  const client = await RawClient.connect(port);
  client.write(get('/secret'));
  let res = await client.response();
  t.equal(res.status, 401);
  t.equal(res.headers['www-authenticate'], 'Bearer');
  t.same(JSON.parse(res.body.toString()), { error: 'unauthorized' });
  t.equal(handlerRan, 0);
  client.write(get('/secret', 'Authorization: Bearer good\r\n'));
  res = await client.response();
  t.equal(res.body.toString(), 'secret');
  client.write(get('/nowhere', 'Authorization: Bearer good\r\n'));
  t.equal((await client.response()).status, 404);
  await sleep(20);
  t.same(statuses, [401, 200, 404]);
});

t.test('errors: sync throws and rejections are 500 without internals, statusCode errors keep theirs, onError sees all', async (t) => {
  const seen: string[] = [];
  const { port } = await startApp(t, {}, (app) => {
    app.onError((err, req) => seen.push(`${req.path}: ${(err as Error).message}`));
    app.get('/throw', () => {
      throw new Error('database password is hunter2');
    });
    app.get('/reject', async () => {
      await sleep(1);
      throw new Error('async failure');
    });
    app.get('/teapot', () => {
      throw new HttpError(418, 'ERR_TEAPOT', 'short and stout');
    });
    app.get('/plain-status', () => {
      throw Object.assign(new Error('gone for good'), { statusCode: 410 });
    });
    app.get('/bad-status', () => {
      throw Object.assign(new Error('weird'), { statusCode: 200 });
    });
    app.get('/headers-then-throw', (_req, res) => {
      res.setHeader('X-Partial', 'yes');
      throw new Error('after headers were set');
    });
  });
  const client = await RawClient.connect(port);
  client.write(get('/throw'));
  let res = await client.response();
  t.equal(res.status, 500);
  t.equal(res.body.toString(), 'Internal Server Error\n');
  client.write(get('/reject'));
  t.equal((await client.response()).status, 500);
  client.write(get('/teapot'));
  res = await client.response();
  t.equal(res.status, 418);
  t.equal(res.body.toString(), 'short and stout\n');
  client.write(get('/plain-status'));
  t.equal((await client.response()).status, 410);
  client.write(get('/bad-status'));
  t.equal((await client.response()).status, 500, 'a statusCode outside 4xx/5xx is not an error status');
  client.write(get('/headers-then-throw'));
  res = await client.response();
  t.equal(res.status, 500);
  t.notOk(res.headers['x-partial'], 'headers set before the error are dropped');
  t.equal(seen.length, 6);
  t.match(seen[0], /hunter2/, 'onError gets the real error');
});

t.test('a custom error handler answers; if it fails, the default answer stands', async (t) => {
  const { port } = await startApp(t, {}, (app) => {
    app.setErrorHandler((err, req, res) => {
      if (req.path === '/explode') throw new Error('the error handler itself failed');
      res.setHeader('X-Error', 'custom');
      return { error: (err as Error).message, status: res.statusCode };
    });
    app.get('/fail', () => {
      throw new HttpError(422, 'ERR_INVALID', 'name is required');
    });
    app.get('/explode', () => {
      throw new Error('first');
    });
  });
  const client = await RawClient.connect(port);
  client.write(get('/fail'));
  let res = await client.response();
  t.equal(res.status, 422);
  t.equal(res.headers['x-error'], 'custom');
  t.same(JSON.parse(res.body.toString()), { error: 'name is required', status: 422 });
  client.write(get('/explode'));
  res = await client.response();
  t.equal(res.status, 500);
  t.equal(res.body.toString(), 'Internal Server Error\n');
});

t.test('route timeout: a handler that never answers gets a 503 with Connection: close; other connections are unaffected', async (t) => {
  let abortedWith: unknown = null;
  const { port } = await startApp(t, {}, (app) => {
    app.get('/hang', { timeout: 100 }, (req) => {
      req.signal.addEventListener('abort', () => (abortedWith = (req.signal.reason as { code?: string }).code));
      return new Promise<never>(() => {});
    });
    app.get('/fast', () => 'fast');
  });
  const hanging = await RawClient.connect(port);
  const other = await RawClient.connect(port);
  hanging.write(get('/hang'));
  other.write(get('/fast'));
  t.equal((await other.response()).body.toString(), 'fast');
  const res = await hanging.response();
  t.equal(res.status, 503);
  t.equal(res.headers.connection, 'close');
  t.equal(await hanging.waitEnd(), 'eof');
  t.equal(abortedWith, 'ERR_HANDLER_TIMEOUT', 'the handler learns why through req.signal');
  other.write(get('/fast'));
  t.equal((await other.response()).body.toString(), 'fast');
});

t.test('API misuse of hooks and routes is a typed error', async (t) => {
  const app = createServer();
  t.throws(() => app.onRequest('x' as never), { code: 'ERR_INVALID_HANDLER' });
  t.throws(() => app.setErrorHandler(null as never), { code: 'ERR_INVALID_HANDLER' });
  t.throws(() => app.get('/x', { timeout: -1 }, () => ''), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => app.get('/x', { bodyLimit: 1.5 }, () => ''), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => app.route('BAD METHOD', '/x', () => ''), { code: 'ERR_INVALID_ROUTE' });
  t.throws(() => createServer({ bodyLimit: -1 }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => app.get('/x', 42 as never), { code: 'ERR_INVALID_HANDLER' });
});
