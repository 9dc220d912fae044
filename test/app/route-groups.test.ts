// Route groups with encapsulation, in process through app.inject() (the socket adds nothing to
// group semantics; the timeout and WebSocket cases stay on real sockets): a group's hooks, error handler, body limit
// and timeout apply to its routes only, after the app's; nested groups; params typed through the
// prefix; onSend hooks on every answer; error answers keep the headers hooks set.

import t from 'tap';
import { createServer, HttpError, type ErrorLogEntry } from '../../lib/index.js';
import { injectApp, startApp } from '../helpers/servers.js';
import { get, RawClient, sleep } from '../helpers/raw-client.js';

t.test('a group\'s onRequest hook (auth) guards its routes only; the app\'s hooks run first, for every route', async (t) => {
  const order: string[] = [];
  const app = injectApp(t, {}, (app) => {
    app.onRequest((req) => {
      order.push(`app ${req.path}`);
    });
    app.get('/public', () => 'public');
    app.group('/api', (api) => {
      api.onRequest((req, res) => {
        order.push(`api ${req.path}`);
        if (req.header('authorization') !== 'Bearer ok') return res.status(401).send({ error: 'unauthorized' });
        req.locals.user = 'ada';
      });
      api.get('/me', (req) => ({ user: req.locals.user }));
      api.get('/', () => 'api root');
    });
  });
  t.equal((await app.inject({ url: '/public' })).text(), 'public', 'routes outside the group do not run its hook');
  let res = await app.inject({ url: '/api/me' });
  t.equal(res.statusCode, 401);
  res = await app.inject({ url: '/api/me', headers: { Authorization: 'Bearer ok' } });
  t.same(res.json(), { user: 'ada' });
  t.equal((await app.inject({ url: '/api', headers: { Authorization: 'Bearer ok' } })).text(), 'api root', 'a group\'s "/" is its prefix');
  t.equal((await app.inject({ url: '/api/nothing-here' })).statusCode, 404, 'no route: 404, through the app\'s hooks only');
  t.same(order, ['app /public', 'app /api/me', 'api /api/me', 'app /api/me', 'api /api/me', 'app /api', 'api /api', 'app /api/nothing-here']);
});

t.test('hooks added to the app after a group was registered still run first for the group\'s routes', async (t) => {
  const order: string[] = [];
  const app = injectApp(t, {}, (app) => {
    app.group('/g', (g) => {
      g.onRequest(() => {
        order.push('group');
      });
      g.get('/x', () => 'x');
    });
    app.onRequest(() => {
      order.push('app');
    });
  });
  t.equal((await app.inject({ url: '/g/x' })).text(), 'x');
  t.same(order, ['app', 'group']);
});

t.test('nested groups: prefixes join, params from every prefix reach the handler, hooks run outermost first', async (t) => {
  const order: string[] = [];
  const app = injectApp(t, {}, (app) => {
    app.group('/orgs/:org', (org) => {
      org.onRequest(() => {
        order.push('org');
      });
      org.group('/teams/:team/', (team) => {
        team.onRequest(() => {
          order.push('team');
        });
        // Compiles only because the prefixes type the params: org, team and id are all strings.
        team.get('/members/:id', (req) => {
          const { org: o, team: tm, id } = req.params;
          return { org: o, team: tm, id, route: req.route };
        });
      });
    });
  });
  const res = await app.inject({ url: '/orgs/acme/teams/red%20team/members/7' });
  t.same(res.json(), { org: 'acme', team: 'red team', id: '7', route: '/orgs/:org/teams/:team/members/:id' });
  t.same(order, ['org', 'team']);
});

t.test('a group\'s error handler, onError and body limit apply to its routes only', async (t) => {
  const appErrors: string[] = [];
  const groupErrors: string[] = [];
  const app = injectApp(t, {}, (app) => {
    app.onError((err, req) => appErrors.push(`${req.path} ${(err as Error).message}`));
    app.get('/fail', () => {
      throw new HttpError(409, 'ERR_CONFLICT', 'app conflict');
    });
    app.post('/upload', async (req) => (await req.buffer()).length);
    app.group('/api', { bodyLimit: 8 }, (api) => {
      api.onError((err, req) => groupErrors.push(`${req.path} ${(err as Error).message}`));
      api.setErrorHandler((err, _req, res) => ({ problem: (err as Error).message, status: res.statusCode }));
      api.get('/fail', () => {
        throw new HttpError(409, 'ERR_CONFLICT', 'api conflict');
      });
      api.post('/upload', async (req) => (await req.buffer()).length);
      api.post('/big-upload', { bodyLimit: 100 }, async (req) => (await req.buffer()).length);
    });
  });
  let res = await app.inject({ url: '/fail' });
  t.equal(res.statusCode, 409);
  t.equal(res.text(), 'app conflict\n', 'the app\'s default error answer outside the group');
  res = await app.inject({ url: '/api/fail' });
  t.equal(res.statusCode, 409);
  t.same(res.json(), { problem: 'api conflict', status: 409 }, 'the group\'s error handler inside it');
  const body = 'x'.repeat(20);
  t.equal((await app.inject({ method: 'POST', url: '/upload', body })).text(), '20', 'the app\'s 1 MiB limit outside the group');
  t.equal((await app.inject({ method: 'POST', url: '/api/big-upload', body })).text(), '20', 'a route\'s own limit wins over its group\'s');
  res = await app.inject({ method: 'POST', url: '/api/upload', body });
  t.equal(res.statusCode, 413, 'the group\'s 8-byte limit inside it');
  t.same(res.json<{ status: number }>().status, 413);
  t.same(appErrors, ['/fail app conflict', '/api/fail api conflict', '/api/upload request body of 20 bytes exceeds the limit of 8'], 'the app\'s onError sees every error');
  t.same(groupErrors, ['/api/fail api conflict', '/api/upload request body of 20 bytes exceeds the limit of 8'], 'the group\'s only its own');
});

t.test('a group timeout applies to its routes; the app\'s handlerTimeout to the rest', async (t) => {
  const entries: ErrorLogEntry[] = [];
  const { port } = await startApp(t, { handlerTimeout: 0, logErrors: (e) => entries.push(e) }, (app) => {
    app.get('/slow', async () => {
      await sleep(250);
      return 'slow but fine';
    });
    app.group('/quick', { timeout: 100 }, (quick) => {
      quick.get('/slow', async () => {
        await sleep(250);
        return 'too late';
      });
      quick.get('/own', { timeout: 0 }, async () => {
        await sleep(250);
        return 'its own timeout';
      });
    });
  });
  for (const [path, status, body] of [['/slow', 200, 'slow but fine'], ['/quick/slow', 503, null], ['/quick/own', 200, 'its own timeout']] as const) {
    const client = await RawClient.connect(port);
    client.write(get(path));
    const res = await client.response(3000);
    t.equal(res.status, status, path);
    if (body !== null) t.equal(res.body.toString(), body);
  }
  t.same(entries.map((e) => [e.phase, e.url]), [['timeout', '/quick/slow']]);
});

t.test('onSend: headers on every answer (handlers, 404s, errors, streams), whole bodies replaced, scoped to groups', async (t) => {
  const seen: Array<string | null | undefined> = [];
  const app = injectApp(t, {}, (app) => {
    app.onSend((req, res, body) => {
      res.setHeader('X-Request-Id', `id-${req.path}`);
      seen.push(body === undefined ? undefined : body === null ? null : String(body));
    });
    app.get('/text', () => 'hello');
    app.get('/json', () => ({ a: 1 }));
    app.get('/empty', (_req, res) => res.status(204).end());
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.get('/stream', async function* () {
      yield 'a';
      yield 'b';
    });
    app.group('/v2', (v2) => {
      v2.onSend((_req, res, body) => {
        res.setHeader('X-Version', '2');
        if (typeof body === 'string') return body.toUpperCase();
      });
      v2.get('/text', () => 'hello');
    });
  });
  const fetchOne = (path: string) => app.inject({ url: path });
  let res = await fetchOne('/text');
  t.equal(res.headers['x-request-id'], 'id-/text');
  t.notOk(res.headers['x-version'], 'a group\'s onSend stays in the group');
  t.equal(res.body.toString(), 'hello');
  res = await fetchOne('/json');
  t.equal(res.headers['x-request-id'], 'id-/json');
  res = await fetchOne('/empty');
  t.equal(res.statusCode, 204);
  t.equal(res.headers['x-request-id'], 'id-/empty');
  res = await fetchOne('/missing');
  t.equal(res.statusCode, 404);
  t.equal(res.headers['x-request-id'], 'id-/missing', 'a 404 passes through onSend');
  res = await fetchOne('/boom');
  t.equal(res.statusCode, 500);
  t.equal(res.headers['x-request-id'], 'id-/boom', 'an error answer passes through onSend');
  res = await fetchOne('/stream');
  t.equal(res.body.toString(), 'ab');
  t.equal(res.headers['x-request-id'], 'id-/stream', 'a streamed response gets its headers before the head');
  res = await fetchOne('/v2/text');
  t.equal(res.body.toString(), 'HELLO', 'the group\'s onSend replaced the body, after the app\'s');
  t.equal(res.headers['content-length'], '5');
  t.equal(res.headers['x-version'], '2');
  t.equal(res.headers['x-request-id'], 'id-/v2/text');
  t.same(seen, ['hello', '{"a":1}', null, 'Not Found\n', 'Internal Server Error\n', undefined, 'hello']);
});

t.test('a failing onSend hook is reported and answered 500 once, without running the hooks again', async (t) => {
  const entries: ErrorLogEntry[] = [];
  let calls = 0;
  const app = injectApp(t, { logErrors: (e) => entries.push(e) }, (app) => {
    app.onSend((req) => {
      calls++;
      if (req.path === '/bad') throw new Error('onSend broke');
    });
    app.onSend((req) => {
      if (req.path === '/async') return Promise.resolve('later') as never;
    });
    app.get('/bad', () => 'secret payload');
    app.get('/async', () => 'x');
    app.get('/ok', () => 'ok');
  });
  let res = await app.inject({ url: '/bad' });
  t.equal(res.statusCode, 500);
  t.equal(res.text(), 'Internal Server Error\n', 'the untransformed body is not sent');
  res = await app.inject({ url: '/async' });
  t.equal(res.statusCode, 500, 'an async onSend hook is refused');
  t.equal((await app.inject({ url: '/ok' })).text(), 'ok');
  t.equal(calls, 3, 'once per response');
  t.same(entries.map((e) => [e.phase, (e.error as { code?: string; message: string }).code ?? (e.error as Error).message]), [
    ['hook', 'onSend broke'],
    ['hook', 'ERR_INVALID_HOOK'],
  ]);
});

t.test('the error handler keeps headers set by onRequest hooks unless it removes them; the handler\'s are dropped', async (t) => {
  const app = injectApp(t, {}, (app) => {
    app.onRequest((req, res) => {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('X-Request-Id', 'r-1');
      if (req.path === '/hook-fails') throw new HttpError(400, 'ERR_BAD', 'bad hook input');
    });
    app.setErrorHandler((err, req, res) => {
      if (req.path === '/strip') res.removeHeader('X-Request-Id');
      return { error: (err as Error).message };
    });
    app.get('/fail', (_req, res) => {
      res.setHeader('X-Partial', 'yes');
      res.setHeader('X-Request-Id', 'handler-changed-it');
      throw new Error('handler failed');
    });
    app.get('/strip', () => {
      throw new Error('strip');
    });
    app.get('/hook-fails', () => 'unreachable');
  });
  let res = await app.inject({ url: '/fail' });
  t.equal(res.statusCode, 500);
  t.equal(res.headers['access-control-allow-origin'], '*', 'CORS header from the hook kept');
  t.equal(res.headers['x-request-id'], 'r-1', 'the hook\'s value, not the handler\'s');
  t.notOk(res.headers['x-partial'], 'headers the handler set are dropped');
  res = await app.inject({ url: '/strip' });
  t.equal(res.headers['access-control-allow-origin'], '*');
  t.notOk(res.headers['x-request-id'], 'the error handler removed it');
  res = await app.inject({ url: '/hook-fails' });
  t.equal(res.statusCode, 400);
  t.equal(res.headers['access-control-allow-origin'], '*', 'a failing hook keeps the headers hooks set before it');
  t.same(res.json(), { error: 'bad hook input' });
});

t.test('WebSocket routes in a group: the group\'s onRequest hook decides before the upgrade', async (t) => {
  const { port } = await startApp(t, {}, (app) => {
    app.group('/live/:room', (live) => {
      live.onRequest((req, res) => {
        if (req.query.get('token') !== 'ok') return res.status(403).send('no\n');
      });
      live.ws('/socket', (socket, req) => socket.send(`room ${req.params.room}`));
    });
  });
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const upgrade = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  const refused = await RawClient.connect(port);
  refused.write(upgrade('/live/lobby/socket'));
  t.equal((await refused.response()).status, 403);
  const accepted = await RawClient.connect(port);
  accepted.write(upgrade('/live/lobby/socket?token=ok'));
  const head = await accepted.response();
  t.equal(head.status, 101);
  accepted.destroy();
});

t.test('group misuse is a typed error', async (t) => {
  const app = createServer();
  t.throws(() => app.group('api', () => {}), { code: 'ERR_INVALID_ROUTE' });
  t.throws(() => app.group('/files/*', () => {}), { code: 'ERR_INVALID_ROUTE' });
  t.throws(() => app.group('/api', 'routes' as never), { code: 'ERR_INVALID_HANDLER' });
  t.throws(() => app.group('/api', { bodyLimt: 5 } as never, () => {}), { code: 'ERR_INVALID_OPTION', message: /did you mean bodyLimit\?/ });
  t.throws(() => app.group('/api', { timeout: -1 }, () => {}), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => app.group('/api', (api) => api.get('users', () => '')), { code: 'ERR_INVALID_ROUTE' });
  t.throws(() => app.group('/api', (api) => api.onSend(42 as never)), { code: 'ERR_INVALID_HANDLER' });
  app.get('/api/x', () => '');
  t.throws(() => app.group('/api', (api) => api.get('/x', () => '')), { code: 'ERR_DUPLICATE_ROUTE' }, 'a group route is a route like any other');
});
