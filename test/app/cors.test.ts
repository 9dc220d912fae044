// CORS: preflights answered with the allowed methods, headers and max age; actual responses
// decorated for allowed origins only; Vary: Origin; never '*' with credentials. App and group level,
// through inject and over a real socket.

import t from 'tap';
import { cors, createServer, HttpError, type App } from '../../lib/index.js';
import { injectApp, startApp } from '../helpers/servers.js';
import { RawClient } from '../helpers/raw-client.js';

const preflight = (origin: string, method = 'PUT', headers?: string) => ({
  method: 'OPTIONS',
  url: '/items/1',
  headers: { origin, 'access-control-request-method': method, ...(headers === undefined ? {} : { 'access-control-request-headers': headers }) },
});

function appWith(options: Parameters<typeof cors>[0]) {
  return (app: App): void => {
    app.cors(options);
    app.get('/items/:id', (req) => ({ id: req.params.id }));
    app.put('/items/:id', () => ({ saved: true }));
    app.get('/fail', () => {
      throw new HttpError(409, 'ERR_CONFLICT', 'conflict');
    });
  };
}

t.test('app.cors: a preflight from an allowed origin gets 204, methods, reflected headers, max age; the handler never runs', async (t) => {
  const app = injectApp(t, {}, appWith({ origin: ['https://a.example', /^https:\/\/[a-z]+\.b\.example$/], maxAge: 300, exposedHeaders: ['X-Total'] }));
  let res = await app.inject(preflight('https://a.example', 'PUT', 'content-type, x-token'));
  t.equal(res.statusCode, 204);
  t.equal(res.headers['access-control-allow-origin'], 'https://a.example');
  t.equal(res.headers['access-control-allow-methods'], 'GET, HEAD, PUT, PATCH, POST, DELETE');
  t.equal(res.headers['access-control-allow-headers'], 'content-type, x-token');
  t.equal(res.headers['access-control-max-age'], '300');
  t.equal(res.headers.vary, 'Origin, Access-Control-Request-Headers');
  t.notOk(res.headers['access-control-allow-credentials'], 'no credentials unless asked');
  res = await app.inject(preflight('https://api.b.example'));
  t.equal(res.headers['access-control-allow-origin'], 'https://api.b.example', 'a RegExp in the list');
  res = await app.inject(preflight('https://a.example', 'PUT', 'x-a x-b'));
  t.notOk(res.headers['access-control-allow-headers'], 'asked headers that are not a token list are not reflected');
  res = await app.inject({ method: 'GET', url: '/items/7', headers: { origin: 'https://a.example' } });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { id: '7' });
  t.equal(res.headers['access-control-allow-origin'], 'https://a.example');
  t.equal(res.headers['access-control-expose-headers'], 'X-Total');
  t.equal(res.headers.vary, 'Origin');
  t.notOk(res.headers['access-control-allow-methods'], 'preflight headers only on preflights');
  res = await app.inject({ url: '/fail', headers: { origin: 'https://a.example' } });
  t.equal(res.statusCode, 409);
  t.equal(res.headers['access-control-allow-origin'], 'https://a.example', 'an error answer keeps the CORS headers, so the page can read it');
});

t.test('wrong origins get no CORS headers; requests without Origin still get Vary: Origin', async (t) => {
  const app = injectApp(t, {}, appWith({ origin: 'https://a.example', credentials: true }));
  for (const origin of ['https://evil.example', 'https://a.example.evil.example', 'null', 'http://a.example']) {
    const pre = await app.inject(preflight(origin));
    t.equal(pre.statusCode, 204, `${origin}: preflight ends`);
    t.same(Object.keys(pre.headers).filter((n) => n.startsWith('access-control-')), [], `${origin}: no CORS headers on the preflight`);
    const actual = await app.inject({ url: '/items/1', headers: { origin } });
    t.equal(actual.statusCode, 200, 'the request itself is served (CORS protects the reader, not the server)');
    t.same(Object.keys(actual.headers).filter((n) => n.startsWith('access-control-')), [], `${origin}: no CORS headers`);
    t.equal(actual.headers.vary, 'Origin');
  }
  const plain = await app.inject({ url: '/items/1' });
  t.equal(plain.headers.vary, 'Origin', 'a same-origin answer varies on Origin too, so caches never serve it cross-origin');
  const allowed = await app.inject({ url: '/items/1', headers: { origin: 'https://a.example' } });
  t.equal(allowed.headers['access-control-allow-origin'], 'https://a.example', 'credentials: the origin named, never *');
  t.equal(allowed.headers['access-control-allow-credentials'], 'true');
});

t.test('origin * without credentials: a wildcard and no Vary; * with credentials is refused', async (t) => {
  const app = injectApp(t, {}, appWith({ origin: '*', allowedHeaders: ['Content-Type'], methods: ['GET', 'PUT'] }));
  const pre = await app.inject(preflight('https://anyone.example', 'PUT', 'x-not-listed'));
  t.equal(pre.headers['access-control-allow-origin'], '*');
  t.equal(pre.headers['access-control-allow-headers'], 'Content-Type', 'configured headers, not the asked ones');
  t.equal(pre.headers['access-control-allow-methods'], 'GET, PUT');
  t.notOk(pre.headers.vary);
  t.throws(() => cors({ origin: '*', credentials: true }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => cors({ origin: 'https://a.example/path' }), { code: 'ERR_INVALID_OPTION' }, 'an origin has no path');
  t.throws(() => cors({ origin: ['https://a.example', 5 as never] }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => cors({ origin: '*', methods: ['GET, PUT'] }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => cors({ origin: '*', maxAge: -1 }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => cors({ origin: '*', credential: true } as never), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => createServer().cors({} as never), { code: 'ERR_INVALID_OPTION' });
});

t.test('group.cors over a real socket: a function decides, preflights under the prefix are answered, other routes untouched', async (t) => {
  const seen: string[] = [];
  const { port } = await startApp(t, {}, (app) => {
    app.get('/private', () => 'no cors here');
    app.group('/api', (api) => {
      api.cors({ origin: (origin, req) => (seen.push(`${req.method} ${origin}`), origin.endsWith('.trusted.example')), credentials: true });
      api.post('/things', () => ({ created: true }));
    });
  });
  const client = await RawClient.connect(port);
  client.write('OPTIONS /api/things HTTP/1.1\r\nHost: x\r\nOrigin: https://app.trusted.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n');
  let res = await client.response();
  t.equal(res.status, 204);
  t.equal(res.headers['access-control-allow-origin'], 'https://app.trusted.example');
  t.equal(res.headers['access-control-allow-credentials'], 'true');
  t.equal(res.headers['access-control-allow-headers'], 'content-type');
  client.write('POST /api/things HTTP/1.1\r\nHost: x\r\nOrigin: https://app.trusted.example\r\nContent-Length: 0\r\n\r\n');
  res = await client.response();
  t.same(JSON.parse(res.body.toString()), { created: true });
  t.equal(res.headers['access-control-allow-origin'], 'https://app.trusted.example');
  client.write('GET /private HTTP/1.1\r\nHost: x\r\nOrigin: https://app.trusted.example\r\n\r\n');
  res = await client.response();
  t.notOk(res.headers['access-control-allow-origin'], 'routes outside the group get no CORS');
  t.notOk(res.headers.vary);
  client.write('OPTIONS /api/things HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n\r\n');
  res = await client.response();
  t.notOk(res.headers['access-control-allow-origin'], 'the function said no');
  t.same(seen, ['OPTIONS https://app.trusted.example', 'POST https://app.trusted.example', 'OPTIONS https://evil.example']);
  client.destroy();
});
