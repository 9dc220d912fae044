// examples/rest-api.ts tested the way its users would test their own service: in process through
// app.inject(), with its session cookie, CORS, compression and validation.

import zlib from 'node:zlib';
import t from 'tap';
import { buildRestApp } from '../../examples/rest-api.js';

t.test('rest-api in process: session cookie, authored notes, CORS for the front end, compressed lists', async (t) => {
  const app = buildRestApp({ logErrors: false, corsOrigin: 'https://notes.example' });
  t.teardown(() => app.close({ timeout: 100 }));
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  let res = await app.inject({ method: 'POST', url: '/session', headers: form, body: 'user=ada' });
  t.equal(res.statusCode, 200);
  const setCookie = (res.headers['set-cookie'] as string[])[0]!;
  t.match(setCookie, /^session=ada\.[\w-]+; Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax$/);
  const cookie = setCookie.split(';')[0]!;
  res = await app.inject({ method: 'POST', url: '/session', headers: form, body: 'user=a%20b' });
  t.equal(res.statusCode, 422, 'a user name that is not a plain token');

  res = await app.inject({ method: 'POST', url: '/notes', headers: { cookie, origin: 'https://notes.example' }, body: { title: 'Signed', tags: ['x'] } });
  t.equal(res.statusCode, 201);
  t.equal(res.json<{ author: string }>().author, 'ada', 'the author comes from the signed cookie');
  t.equal(res.headers['access-control-allow-origin'], 'https://notes.example');
  t.equal(res.headers['access-control-allow-credentials'], 'true');
  t.equal(res.headers['access-control-expose-headers'], 'Location');
  const forged = cookie.replace('session=ada', 'session=eve');
  res = await app.inject({ method: 'POST', url: '/notes', headers: { cookie: forged }, body: { title: 'Forged' } });
  t.equal(res.json<{ author: string | null }>().author, null, 'a forged cookie names no one');

  res = await app.inject({ method: 'OPTIONS', url: '/notes', headers: { origin: 'https://notes.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
  t.equal(res.statusCode, 204, 'the front end\'s preflight');
  t.equal(res.headers['access-control-allow-headers'], 'content-type');
  res = await app.inject({ method: 'OPTIONS', url: '/notes', headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' } });
  t.notOk(res.headers['access-control-allow-origin'], 'another origin gets no CORS');

  for (let i = 0; i < 40; i++) await app.inject({ method: 'POST', url: '/notes', body: { title: `note ${i}`, body: 'some text to list', tags: ['bulk'] } });
  res = await app.inject({ url: '/notes?tag=bulk', headers: { 'accept-encoding': 'br, gzip' } });
  t.equal(res.headers['content-encoding'], 'br');
  t.equal(JSON.parse(zlib.brotliDecompressSync(res.body).toString()).length, 40, 'the list, compressed');

  res = await app.inject({ method: 'POST', url: '/notes', body: { title: '' } });
  t.equal(res.statusCode, 422);
  t.same(res.json(), { error: 'invalid note', problems: ['title: a non-empty string is required'] });
  res = await app.inject({ method: 'DELETE', url: '/session', headers: { cookie } });
  t.equal(res.statusCode, 204);
  t.match((res.headers['set-cookie'] as string[])[0], /^session=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=\/; HttpOnly; SameSite=Lax$/);
});
