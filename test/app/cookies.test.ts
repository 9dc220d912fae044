// Cookies: req.cookies parsing (RFC 6265 5.4), res.cookie()/clearCookie() with validated
// attributes, signed cookies under rotating keys, and res.set(name, value). Through inject and over
// a real socket.

import t from 'tap';
import { createServer, type App } from '../../lib/index.js';
import { injectApp, startApp } from '../helpers/servers.js';
import { get, RawClient } from '../helpers/raw-client.js';

const OLD_KEY = 'an-old-key-that-is-at-least-32-bytes-long';
const NEW_KEY = 'the-new-key-that-is-also-32-bytes-or-more';

function routes(app: App): void {
  app.get('/read', (req) => ({ ...req.cookies }));
  app.get('/signed', (req) => ({ ...req.signedCookies }));
  app.get('/set', (_req, res) => {
    res.cookie('session', 'a b;c=d,é', { httpOnly: true, secure: true, sameSite: 'lax', maxAge: 3600 });
    res.cookie('theme', 'dark');
    return 'ok';
  });
  app.get('/sign', (req, res) => {
    res.cookie('user', req.query.get('v') ?? 'ada', { signed: true, httpOnly: true });
    return 'signed';
  });
  app.get('/clear', (_req, res) => {
    res.clearCookie('session', { path: '/app', domain: 'example.com' });
    return 'cleared';
  });
  app.get('/set-one', (_req, res) => {
    res.set('X-Name', 'v').set({ 'X-Other': 'w' });
    return 'ok';
  });
  app.get('/misuse/:what', (req, res) => {
    try {
      switch (req.params.what) {
        case 'none-insecure': res.cookie('a', 'b', { sameSite: 'None' }); break;
        case 'partitioned-insecure': res.cookie('a', 'b', { partitioned: true }); break;
        case 'host-prefix': res.cookie('__Host-id', 'b', { secure: true, domain: 'example.com' }); break;
        case 'secure-prefix': res.cookie('__Secure-id', 'b'); break;
        case 'bad-name': res.cookie('a;b', 'c'); break;
        case 'bad-path': res.cookie('a', 'b', { path: '/x;Domain=evil.example' }); break;
        case 'bad-domain': res.cookie('a', 'b', { domain: 'evil.example\r\nX-Injected: 1' }); break;
        case 'bad-samesite': res.cookie('a', 'b', { sameSite: 'sometimes' as never }); break;
        case 'bad-expires': res.cookie('a', 'b', { expires: new Date('nope') }); break;
        case 'bad-maxage': res.cookie('a', 'b', { maxAge: Infinity }); break;
        case 'unknown-option': res.cookie('a', 'b', { maxage: 5 } as never); break;
        case 'set-no-value': (res.set as unknown as (name: string) => unknown)('X-Name'); break;
        default: return 'no such case';
      }
    } catch (err) {
      return { code: (err as { code?: string }).code, headersSet: res.headerList.filter((_, i) => i % 2 === 0) };
    }
    return 'accepted';
  });
}

t.test('req.cookies: RFC 6265 pairs, first of a repeated name wins, quotes and percent-escapes, several Cookie fields', async (t) => {
  const app = injectApp(t, { cookieSecret: NEW_KEY }, routes);
  const res = await app.inject({ url: '/read', headers: { cookie: ['a=1; b="quoted"; a=2;  c = spaced ; bad; =novalue; enc=caf%C3%A9; broken=%E0%A4%A', 'd=4'] } });
  t.same(res.json(), { a: '1', b: 'quoted', c: 'spaced', enc: 'café', broken: '%E0%A4%A', d: '4' });
  t.same((await app.inject({ url: '/read' })).json(), {}, 'no Cookie header: no cookies');
  const proto = await app.inject({ url: '/read', headers: { cookie: '__proto__=x; constructor=y' } });
  t.equal(proto.text(), '{"__proto__":"x","constructor":"y"}', 'names that are Object.prototype members are plain keys');
});

t.test('res.cookie and clearCookie: encoded values, attributes, a round trip over a real socket', async (t) => {
  const { port } = await startApp(t, {}, routes);
  const client = await RawClient.connect(port);
  client.write(get('/set'));
  const res = await client.response();
  const raw = res.rawHead.split('\r\n').filter((line) => line.toLowerCase().startsWith('set-cookie:')).map((line) => line.slice(12));
  t.same(raw, [
    'session=a%20b%3Bc%3Dd%2C%C3%A9; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax',
    'theme=dark; Path=/',
  ], 'one field per cookie; ; , = and non-ASCII cannot leak out of the value');
  client.write(get('/read', 'Cookie: session=a%20b%3Bc%3Dd%2C%C3%A9; theme=dark\r\n'));
  t.same(JSON.parse((await client.response()).body.toString()), { session: 'a b;c=d,é', theme: 'dark' }, 'the value set is the value read');
  client.write(get('/clear'));
  const cleared = (await client.response()).rawHead;
  t.match(cleared, /\r\nSet-Cookie: session=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=example\.com; Path=\/app\r\n/);
  client.destroy();
});

t.test('signed cookies: HMAC under the first key, verified under any (rotation), tampering and swaps rejected', async (t) => {
  const oldApp = injectApp(t, { cookieSecret: OLD_KEY }, routes);
  const rotated = injectApp(t, { cookieSecret: [NEW_KEY, OLD_KEY] }, routes);
  const newOnly = injectApp(t, { cookieSecret: NEW_KEY }, routes);
  const issued = (await oldApp.inject({ url: '/sign?v=ada' })).headers['set-cookie'] as string[];
  const pair = issued[0]!.split(';')[0]!;
  t.match(pair, /^user=ada\.[A-Za-z0-9_-]{43}$/, 'value and a base64url HMAC-SHA256');
  t.same((await rotated.inject({ url: '/signed', headers: { cookie: pair } })).json(), { user: 'ada' }, 'an old key still verifies after rotation');
  t.same((await newOnly.inject({ url: '/signed', headers: { cookie: pair } })).json(), {}, 'a retired key no longer does');
  const reissued = ((await rotated.inject({ url: '/sign?v=ada' })).headers['set-cookie'] as string[])[0]!.split(';')[0]!;
  t.not(reissued, pair, 'the first key signs');
  t.same((await newOnly.inject({ url: '/signed', headers: { cookie: reissued } })).json(), { user: 'ada' });
  const tampered = pair.replace('user=ada', 'user=eve');
  t.same((await rotated.inject({ url: '/signed', headers: { cookie: tampered } })).json(), {}, 'a changed value fails');
  const swapped = pair.replace('user=', 'admin=');
  t.same((await rotated.inject({ url: '/signed', headers: { cookie: swapped } })).json(), {}, 'a signed value moved to another name fails');
  t.same((await rotated.inject({ url: '/read', headers: { cookie: pair } })).json<Record<string, string>>().user, pair.slice(5), 'req.cookies keeps the raw signed value');
  const dotted = ((await rotated.inject({ url: '/sign?v=a.b.c' })).headers['set-cookie'] as string[])[0]!.split(';')[0]!;
  t.same((await rotated.inject({ url: '/signed', headers: { cookie: dotted } })).json(), { user: 'a.b.c' }, 'dots in the value survive');
  const unsigned = injectApp(t, {}, routes);
  const noSecret = await unsigned.inject({ url: '/sign' });
  t.equal(noSecret.statusCode, 500, 'signing without cookieSecret is an error');
  t.throws(() => createServer({ cookieSecret: 'short' }), { code: 'ERR_INVALID_OPTION' }, 'a key under 32 bytes is refused');
  t.throws(() => createServer({ cookieSecret: [] }), { code: 'ERR_INVALID_OPTION' });
});

t.test('attribute misuse is a typed error and no Set-Cookie is added; res.set(name, value) works', async (t) => {
  const app = injectApp(t, {}, routes);
  const cases: Record<string, string> = {
    'none-insecure': 'ERR_INVALID_COOKIE',
    'partitioned-insecure': 'ERR_INVALID_COOKIE',
    'host-prefix': 'ERR_INVALID_COOKIE',
    'secure-prefix': 'ERR_INVALID_COOKIE',
    'bad-name': 'ERR_INVALID_COOKIE',
    'bad-path': 'ERR_INVALID_COOKIE',
    'bad-domain': 'ERR_INVALID_COOKIE',
    'bad-samesite': 'ERR_INVALID_COOKIE',
    'bad-expires': 'ERR_INVALID_COOKIE',
    'bad-maxage': 'ERR_INVALID_COOKIE',
    'unknown-option': 'ERR_INVALID_COOKIE',
    'set-no-value': 'ERR_INVALID_HEADER_VALUE',
  };
  for (const [what, code] of Object.entries(cases)) {
    const res = await app.inject({ url: `/misuse/${what}` });
    t.same(res.json(), { code, headersSet: [] }, what);
  }
  const ok = await app.inject({ url: '/set-one' });
  t.equal(ok.headers['x-name'], 'v', 'set(name, value), the Express habit, sets that header');
  t.equal(ok.headers['x-other'], 'w');
  t.notOk('0' in ok.headers, 'no headers named after the characters of the name');
  const partitioned = injectApp(t, {}, (a) => a.get('/', (_req, res) => {
    res.cookie('__Host-chip', '1', { secure: true, sameSite: 'None', partitioned: true, expires: new Date(Date.UTC(2030, 0, 1)) });
    return '';
  }));
  t.same((await partitioned.inject({ url: '/' })).headers['set-cookie'], ['__Host-chip=1; Expires=Tue, 01 Jan 2030 00:00:00 GMT; Path=/; Secure; SameSite=None; Partitioned']);
});
