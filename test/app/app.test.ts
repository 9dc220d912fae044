// The DESIGN.md API example, as written, over real sockets: return values, params, res.send,
// req.buffer(), streams, 404/405, HEAD from GET, query and path of absolute-form targets.

import { Readable } from 'node:stream';
import t from 'tap';
import { createServer } from '../../lib/index.js';
import { get, RawClient } from '../helpers/raw-client.js';

t.test('the DESIGN.md API example works as written', async (t) => {
  const app = createServer({ keepAliveTimeout: 65_000, maxRequestsPerSocket: 1000 });
  app.get('/', () => 'hello');
  app.get('/users/:id', (req) => ({ id: req.params.id }));
  app.post('/echo', async (req, res) => res.send(await req.buffer()));
  app.get('/bytes', () => Buffer.from([1, 2, 3]));
  app.get('/stream', () => Readable.from(['a', 'b', 'c']));
  app.get('/query', (req) => ({ path: req.path, q: req.query.get('q') }));
  app.put('/thing', () => 'put');
  app.delete('/thing', () => 'deleted');
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port);

  client.write(get('/'));
  let res = await client.response();
  t.equal(res.body.toString(), 'hello');
  t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');

  client.write(get('/users/42'));
  res = await client.response();
  t.same(JSON.parse(res.body.toString()), { id: '42' });
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8');

  client.write('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world');
  res = await client.response();
  t.equal(res.body.toString(), 'hello world');
  t.equal(res.headers['content-type'], 'application/octet-stream');

  client.write(get('/bytes'));
  t.same([...(await client.response()).body], [1, 2, 3]);

  client.write(get('/stream'));
  res = await client.response();
  t.equal(res.headers['transfer-encoding'], 'chunked');
  t.equal(res.body.toString(), 'abc');

  client.write('GET http://example.com/query?q=x%20y HTTP/1.1\r\nHost: example.com\r\n\r\n');
  t.same(JSON.parse((await client.response()).body.toString()), { path: '/query', q: 'x y' });

  client.write(get('/missing'));
  t.equal((await client.response()).status, 404);

  client.write('PATCH /thing HTTP/1.1\r\nHost: a\r\n\r\n');
  res = await client.response();
  t.equal(res.status, 405);
  t.equal(res.headers.allow, 'PUT, DELETE');

  client.write('HEAD /users/1 HTTP/1.1\r\nHost: a\r\n\r\n');
  client.expectNoBody();
  res = await client.response();
  t.equal(res.status, 200);
  t.equal(res.headers['content-length'], String(JSON.stringify({ id: '1' }).length), 'HEAD reports the GET length');

  client.write('DELETE /thing HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal((await client.response()).body.toString(), 'deleted', 'no stray bytes after the HEAD response');
  client.destroy();
});
