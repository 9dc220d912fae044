// The fetch adapter's promises: the handler's Request is a real Request for every use but built
// on nothing it does not touch; whole Response bodies of every kind leave with Content-Length,
// pipelined ones in one write per read batch; the global Response is replaced only while asked.

import t from 'tap';
import { Hono } from 'hono';
import { serve, type FetchServer } from '../../lib/index.js';
import { get, RawClient } from '../helpers/raw-client.js';

const NativeRequest = globalThis.Request;
const NativeResponse = globalThis.Response;

async function start(t: { teardown(fn: () => unknown): void }, fetch: (request: Request) => Response | Promise<Response>, options: { overrideGlobalObjects?: boolean; bodyLimit?: number; logErrors?: boolean } = {}): Promise<{ server: FetchServer; client: RawClient }> {
  const server = await serve({ fetch, port: 0, ...options });
  t.teardown(() => server.close({ timeout: 500 }));
  const client = await RawClient.connect(server.address()!.port);
  t.teardown(() => client.destroy());
  return { server, client };
}

t.test('the request is a real Request: instanceof, url, method, headers, body readers, clone, new Request(it)', async (t) => {
  const seen: Record<string, unknown> = {};
  const { client } = await start(t, async (request) => {
    const path = new URL(request.url).pathname;
    if (path === '/inspect') {
      seen['instanceof'] = request instanceof NativeRequest;
      seen['tag'] = Object.prototype.toString.call(request);
      seen['method'] = request.method;
      seen['url'] = request.url;
      seen['type'] = request.headers.get('Content-Type');
      seen['hasMissing'] = request.headers.has('x-missing');
      seen['multi'] = request.headers.get('x-multi');
      seen['cookie'] = request.headers.get('cookie');
      seen['headersInstance'] = request.headers instanceof Headers;
      seen['entries'] = [...request.headers].filter(([name]) => name.startsWith('x-'));
      seen['mode'] = request.mode;
      seen['signal'] = request.signal instanceof AbortSignal && !request.signal.aborted;
      seen['bodyUsedBefore'] = request.bodyUsed;
      const copy = request.clone();
      seen['cloneText'] = await copy.text();
      seen['originalAfterClone'] = await request.clone().text();
      const rebuilt = new NativeRequest(request, { headers: { 'x-rebuilt': 'yes' } });
      seen['rebuilt'] = [rebuilt.url, rebuilt.method, rebuilt.headers.get('x-rebuilt'), await rebuilt.text()];
      seen['bodyUsedAfter'] = request.bodyUsed;
      return new Response('ok');
    }
    if (path === '/json-twice') {
      const first = await request.json();
      const second = await request.json().then(() => 'read twice', (err: Error) => err.constructor.name);
      return Response.json({ first, second, used: request.bodyUsed });
    }
    if (path === '/bom') return new Response(await request.text());
    if (path === '/bytes') {
      const buffer = await request.arrayBuffer();
      const view = new Uint8Array(buffer);
      return Response.json({ length: buffer.byteLength, own: buffer.byteLength === view.buffer.byteLength, first: view[0] });
    }
    if (path === '/form') {
      const form = await request.formData();
      const file = form.get('file') as File;
      return Response.json({ name: form.get('name'), file: file.name, text: await file.text() });
    }
    if (path === '/blob') {
      const blob = await request.blob();
      return Response.json({ size: blob.size, type: blob.type });
    }
    if (path === '/stream-then-text') {
      const reader = request.body!.getReader();
      const first = await reader.read();
      reader.releaseLock();
      const rest = await request.text().then(() => 'read again', (err: Error) => err.constructor.name);
      return Response.json({ first: first.value!.length, rest, used: request.bodyUsed });
    }
    return new Response('unknown', { status: 404 });
  });

  const body = 'the body';
  client.write(`POST /inspect?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nContent-Type: text/plain\r\nX-Multi: a\r\nX-Multi: b\r\nCookie: a=1\r\nCookie: b=2\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  t.equal((await client.response()).body.toString(), 'ok');
  t.same(seen, {
    instanceof: true,
    tag: '[object Request]',
    method: 'POST',
    url: 'http://example.com:8080/inspect?x=1',
    type: 'text/plain',
    hasMissing: false,
    multi: 'a, b',
    cookie: 'a=1; b=2',
    headersInstance: true,
    entries: [['x-multi', 'a, b']],
    mode: 'cors',
    signal: true,
    bodyUsedBefore: false,
    cloneText: 'the body',
    originalAfterClone: 'the body',
    rebuilt: ['http://example.com:8080/inspect?x=1', 'POST', 'yes', 'the body'],
    bodyUsedAfter: true,
  });

  const json = JSON.stringify({ a: [1, 2] });
  client.write(`POST /json-twice HTTP/1.1\r\nHost: a\r\nContent-Length: ${json.length}\r\n\r\n${json}`);
  t.same(JSON.parse((await client.response()).body.toString()), { first: { a: [1, 2] }, second: 'TypeError', used: true }, 'a body is read once, as the spec says');

  client.write(Buffer.concat([Buffer.from('PUT /bom HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n'), Buffer.from([0xef, 0xbb, 0xbf, 0x68, 0x69, 0x21])]));
  t.equal((await client.response()).body.toString(), 'hi!', 'text() drops a UTF-8 byte order mark like undici');

  client.write(`POST /bytes HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n\u0007yz`);
  t.same(JSON.parse((await client.response()).body.toString()), { length: 3, own: true, first: 7 }, 'arrayBuffer() is a copy the handler owns, not a view of the socket buffer');

  const boundary = 'XyZ';
  const form = `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nAda\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nfile text\r\n--${boundary}--\r\n`;
  client.write(`POST /form HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${form.length}\r\n\r\n${form}`);
  t.same(JSON.parse((await client.response()).body.toString()), { name: 'Ada', file: 'a.txt', text: 'file text' });

  client.write('POST /blob HTTP/1.1\r\nHost: a\r\nContent-Type: image/png\r\nContent-Length: 4\r\n\r\nabcd');
  t.same(JSON.parse((await client.response()).body.toString()), { size: 4, type: 'image/png' });

  client.write('POST /stream-then-text HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd');
  t.same(JSON.parse((await client.response()).body.toString()), { first: 4, rest: 'TypeError', used: true }, 'a body read through its stream is used');
});

t.test('nothing is built that the handler does not touch: a TRACE request, which undici cannot represent, is served', async (t) => {
  const { client } = await start(t, (request) => new Response(`${request.method} ${new URL(request.url).pathname}`));
  client.write('TRACE /probe HTTP/1.1\r\nHost: a\r\n\r\n');
  const res = await client.response();
  t.equal(res.status, 200);
  t.equal(res.body.toString(), 'TRACE /probe');
});

t.test('request.url is what the URL parser makes of the target, whether it is built directly or by the parser', async (t) => {
  const targets = [
    '/', '/users/12345', '/a/b?q=1&r=/../x', '/.hidden', '/a/.well-known/x', '/./a', '/../a', '/a/b/..', '/a/./b/.',
    '/%2e/a', '/%2E%2e/a', '/a/%2e', '/%41%2f', '/a\\b', "/it's", '/a{b}', '/a|b', '/a^b', '/a`b', '/a"b', '/a<b>',
    '/~user/[x]:@!$&()*+,;=', '/a#frag', '/?', '/a?b#c',
  ];
  const { client } = await start(t, (request) => new Response(request.url));
  for (const target of targets) {
    client.write(`GET ${target} HTTP/1.1\r\nHost: example.com:8080\r\n\r\n`);
    const res = await client.response();
    t.equal(res.body.toString(), new URL(target, 'http://example.com:8080/').href, target);
  }
});

t.test('a Host that cannot form a URL is a 400, not a handler error', async (t) => {
  let called = 0;
  const { client } = await start(t, () => {
    called++;
    return new Response('ran');
  });
  client.write('GET / HTTP/1.1\r\nHost: bad host@x\r\n\r\n');
  const res = await client.response();
  t.equal(res.status, 400);
  t.equal(called, 0);
});

t.test('every whole body kind leaves with Content-Length and its spec Content-Type', async (t) => {
  const form = new FormData();
  form.append('field', 'value');
  const bodies: Record<string, () => Response> = {
    '/string': () => new Response('text body'),
    '/uint8': () => new Response(new TextEncoder().encode('typed array')),
    '/arraybuffer': () => new Response(new TextEncoder().encode('array buffer').buffer as ArrayBuffer),
    '/dataview': () => new Response(new DataView(new TextEncoder().encode('a data view').buffer)),
    '/blob': () => new Response(new Blob(['blob'], { type: 'text/x-blob' })),
    '/params': () => new Response(new URLSearchParams({ q: 'a b' })),
    '/formdata': () => new Response(form),
    '/json': () => Response.json({ ok: true }, { status: 201 }),
    '/native': () => new NativeResponse('native text', { headers: { 'X-Kind': 'undici' } }),
    '/native-bytes': () => new NativeResponse(new Uint8Array([1, 2, 3])),
    '/empty': () => new Response(null, { status: 204 }),
  };
  const { client } = await start(t, (request) => bodies[new URL(request.url).pathname]!());
  const expected: Record<string, [string | undefined, string]> = {
    '/string': ['text/plain;charset=UTF-8', 'text body'],
    '/uint8': [undefined, 'typed array'],
    '/arraybuffer': [undefined, 'array buffer'],
    '/dataview': [undefined, 'a data view'],
    '/blob': ['text/x-blob', 'blob'],
    '/params': ['application/x-www-form-urlencoded;charset=UTF-8', 'q=a+b'],
    '/json': ['application/json', '{"ok":true}'],
    '/native': ['text/plain;charset=UTF-8', 'native text'],
    '/native-bytes': [undefined, '\u0001\u0002\u0003'],
  };
  for (const [path, [type, text]] of Object.entries(expected)) {
    client.write(get(path));
    const res = await client.response();
    t.equal(res.headers['content-type'], type, `${path}: Content-Type`);
    t.equal(res.headers['content-length'], String(Buffer.byteLength(text)), `${path}: Content-Length, not chunked`);
    t.equal(res.headers['transfer-encoding'], undefined);
    t.equal(res.body.toString('latin1'), text);
  }
  client.write(get('/formdata'));
  const res = await client.response();
  t.match(res.headers['content-type'], /^multipart\/form-data; boundary=/);
  t.equal(res.headers['content-length'], String(res.body.length));
  const parsed = await new NativeResponse(res.body, { headers: { 'content-type': res.headers['content-type']! } }).formData();
  t.equal(parsed.get('field'), 'value', 'the multipart body parses back');
  client.write(get('/empty'));
  const empty = await client.response();
  t.equal(empty.status, 204);
  t.equal(empty.body.length, 0);
});

t.test('a Headers given as init is read as it is: its fields, each Set-Cookie apart, the default type, and it stays unchanged', async (t) => {
  const given = new Headers({ 'X-One': '1' });
  given.append('Set-Cookie', 'a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT');
  given.append('Set-Cookie', 'b=2');
  given.append('Connection', 'close');
  const typed = new Headers({ 'Content-Type': 'text/html' });
  const app = new Hono();
  // c.header() before c.json() makes Hono pass its prepared Headers as the Response's init.
  app.get('/hono', (c) => {
    c.header('X-Pre', 'set before');
    return c.json({ ok: true });
  });
  const { server, client } = await start(t, (request, ...rest) => {
    const path = new URL(request.url).pathname;
    if (path === '/given') return new Response('with given headers', { headers: given });
    if (path === '/typed') return new Response('<p>typed</p>', { headers: typed });
    return app.fetch(request, ...rest);
  });
  client.write(get('/given'));
  const res = await client.response();
  t.equal(res.headers['x-one'], '1');
  const cookies = res.rawHead.split('\r\n').filter((line) => /^set-cookie:/i.test(line)).map((line) => line.slice(line.indexOf(':') + 1).trim());
  t.same(cookies, ['a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT', 'b=2'], 'each cookie its own field');
  t.equal(res.headers['content-type'], 'text/plain;charset=UTF-8', "the body's default type");
  t.equal(res.headers['content-length'], String('with given headers'.length));
  t.not(res.headers['connection'], 'close', 'hop-by-hop fields are the engine\'s');
  t.equal(given.has('content-type'), false, 'the given Headers gained nothing');
  client.write(get('/typed'));
  const html = await client.response();
  t.equal(html.headers['content-type'], 'text/html', 'a given Content-Type wins');
  t.equal(html.body.toString(), '<p>typed</p>');
  client.write(get('/hono'));
  await client.response();
  const before = server.stats().socketWrites;
  client.write(get('/hono') + get('/hono'));
  const [first, second] = await client.responses(2);
  for (const hono of [first!, second!]) {
    t.equal(hono.headers['x-pre'], 'set before');
    t.equal(hono.headers['content-type'], 'application/json');
    t.equal(hono.headers['content-length'], '11');
    t.equal(hono.body.toString(), '{"ok":true}');
  }
  t.equal(server.stats().socketWrites - before, 1, 'both in one write');
});

t.test('a Content-Type in a record init is checked like any field: CR/LF refused, obs-text kept as sent', async (t) => {
  const app = new Hono();
  app.get('/vendor', (c) => c.json({ a: 1 }, 200, { 'Content-Type': 'application/vnd.api+json' }));
  app.get('/split', (c) => c.body('x', 200, { 'Content-Type': 'text/plain\r\nX-Injected: 1' }));
  app.get('/latin1', () => new Response('x', { headers: { 'Content-Type': 'text/plain; name=caf\u00e9' } }));
  app.get('/json', (c) => c.json({ b: 2 }));
  const { client } = await start(t, app.fetch, { logErrors: false });
  for (let round = 0; round < 2; round++) {
    client.write(get('/vendor'));
    const vendor = await client.response();
    t.equal(vendor.headers['content-type'], 'application/vnd.api+json', 'the handler\'s type replaces c.json()\'s');
    t.equal(vendor.body.toString(), '{"a":1}');
    client.write(get('/split'));
    const split = await client.response();
    t.equal(split.status, 500, 'a value with CR LF is a handler error');
    t.equal(split.headers['x-injected'], undefined, 'nothing injected');
    client.write(get('/latin1'));
    const latin1 = await client.response();
    t.ok(latin1.rawHead.includes('Content-Type: text/plain; name=caf\u00e9\r\n'), 'obs-text leaves as its latin1 byte');
    client.write(get('/json'));
    const json = await client.response();
    t.equal(json.headers['content-type'], 'application/json', 'and the constant type after them is still right');
    t.equal(json.headers['content-length'], '7');
  }
});

t.test('pipelined fetch responses leave in one write per read batch, like native ones', async (t) => {
  const app = new Hono();
  app.get('/sync/:n', (c) => c.text(`sync ${c.req.param('n')}`));
  app.get('/async/:n', async (c) => c.json({ n: c.req.param('n') }));
  for (const overrideGlobalObjects of [true, false]) {
    const { server, client } = await start(t, app.fetch, { overrideGlobalObjects });
    for (const kind of ['sync', 'async']) {
      client.write(get(`/${kind}/warm`));
      await client.response();
      const before = server.stats().socketWrites;
      let batch = '';
      for (let i = 0; i < 16; i++) batch += get(`/${kind}/${i}`);
      client.write(batch);
      const responses = await client.responses(16);
      t.same(responses.map((r) => r.body.toString()), Array.from({ length: 16 }, (_, i) => (kind === 'sync' ? `sync ${i}` : JSON.stringify({ n: String(i) }))));
      t.ok(responses.every((r) => r.headers['content-length'] !== undefined), 'each with a Content-Length');
      t.equal(server.stats().socketWrites - before, 1, `${kind} Hono handlers, overrideGlobalObjects ${overrideGlobalObjects}: one write for 16 responses`);
    }
  }
});

t.test('the light Response is a Response for every use', async (t) => {
  const server = await serve({ fetch: () => new Response('x'), port: 0 });
  t.teardown(() => server.close({ timeout: 500 }));
  const Light = globalThis.Response;
  t.not(Light, NativeResponse, 'serve() replaced the global Response');
  const res = new Light('hello', { status: 201, headers: { 'X-A': '1' } });
  t.ok(res instanceof NativeResponse, 'instanceof the original Response');
  t.ok(new NativeResponse('n') instanceof Light, 'and undici Responses are instances of the light one');
  t.equal(Object.prototype.toString.call(res), '[object Response]');
  t.equal(res.status, 201);
  t.equal(res.ok, true);
  t.equal(res.headers.get('content-type'), 'text/plain;charset=UTF-8');
  t.equal(res.headers.get('x-a'), '1');
  const copy = res.clone();
  t.equal(await copy.text(), 'hello');
  t.equal(await res.text(), 'hello');
  t.equal(res.bodyUsed, true);
  t.equal(await new Light(new Light('wrapped').body).text(), 'wrapped', 'its body stream feeds another Response');
  t.equal(await Light.json({ a: 1 }).text(), '{"a":1}');
  t.equal(Light.json({ a: 1 }).headers.get('content-type'), 'application/json');
  t.equal(Light.redirect('http://a/', 307).status, 307);
  t.equal(Light.error().type, 'error');
  t.throws(() => new Light('x', { status: 99 }), RangeError, 'the status check undici makes');
  t.throws(() => new Light('x', { status: 204 }), TypeError, 'no body with a null body status');
  const reinit = new Light(null, res);
  t.equal(reinit.status, 201, 'a Response as init, as Hono passes one');
  t.equal(reinit.headers.get('x-a'), '1');
});

t.test('the global Response is replaced only while a server that asked for it runs', async (t) => {
  const plain = await serve({ fetch: () => new Response('plain'), port: 0, overrideGlobalObjects: false });
  t.equal(globalThis.Response, NativeResponse, 'overrideGlobalObjects: false leaves it alone');
  const first = await serve({ fetch: () => new Response('a'), port: 0 });
  const second = await serve({ fetch: () => new Response('b'), port: 0 });
  t.not(globalThis.Response, NativeResponse);
  await first.close({ timeout: 500 });
  t.not(globalThis.Response, NativeResponse, 'still replaced while the second runs');
  await second.close({ timeout: 500 });
  t.equal(globalThis.Response, NativeResponse, 'given back when the last one closes');
  await plain.close({ timeout: 500 });
  await t.rejects(serve({ fetch: () => new Response(''), port: 0, overrideGlobalObjects: 'yes' as never }), { code: 'ERR_INVALID_OPTION' });
});
