// Response compression: Accept-Encoding negotiation (RFC 9110 12.5.3), what is and is not
// compressed, Vary and weak ETags, files and their cache, streamed bodies with backpressure over a
// real socket. Bodies are checked by decompressing them with node:zlib.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import t from 'tap';
import { compress, createServer, negotiateEncoding, type App } from '../../lib/index.js';
import { injectApp, startApp } from '../helpers/servers.js';
import { sleep } from '../helpers/raw-client.js';

const TEXT = 'the quick brown fox jumps over the lazy dog\n'.repeat(500);

function decode(encoding: string | string[] | undefined, body: Buffer): string {
  if (encoding === 'gzip') return zlib.gunzipSync(body).toString();
  if (encoding === 'br') return zlib.brotliDecompressSync(body).toString();
  return body.toString();
}

t.test('negotiation: q-values, server preference on ties, *, q=0, identity, malformed q', async (t) => {
  const both = ['br', 'gzip'] as const;
  t.equal(negotiateEncoding(undefined, both), null, 'no header: identity');
  t.equal(negotiateEncoding('', both), null);
  t.equal(negotiateEncoding('gzip, deflate, br', both), 'br', 'equal q: the server\'s order');
  t.equal(negotiateEncoding('gzip;q=1.0, br;q=0.8', both), 'gzip');
  t.equal(negotiateEncoding('br;q=0, gzip', both), 'gzip', 'q=0 refuses');
  t.equal(negotiateEncoding('br;q=0, gzip;q=0', both), null);
  t.equal(negotiateEncoding('*', both), 'br', '* rates every coding not named');
  t.equal(negotiateEncoding('br;q=0, *;q=0.5', both), 'gzip');
  t.equal(negotiateEncoding('identity', both), null);
  t.equal(negotiateEncoding('deflate', both), null, 'only codings offered');
  t.equal(negotiateEncoding('GZIP', both), 'gzip', 'case-insensitive');
  t.equal(negotiateEncoding('x-gzip', both), 'gzip', 'x-gzip is gzip (RFC 9110 8.4.1.3)');
  t.equal(negotiateEncoding('br;q=2, gzip;q=0.1', both), 'gzip', 'an invalid q counts as 0');
  t.equal(negotiateEncoding('br , gzip ; q=0.5', ['gzip']), 'gzip', 'only the codings the app offers');
});

function routes(app: App): void {
  app.compress({ threshold: 1024 });
  app.get('/text', () => TEXT);
  app.get('/json', (_req, res) => {
    res.setHeader('ETag', '"v1"');
    return { text: TEXT };
  });
  app.get('/small', () => 'tiny');
  app.get('/png', (_req, res) => res.type('image/png').send(Buffer.alloc(5000, 1)));
  app.get('/precompressed', (_req, res) => res.type('text/plain').setHeader('Content-Encoding', 'gzip').send(zlib.gzipSync(TEXT)));
  app.get('/no-transform', (_req, res) => res.type('text/plain').setHeader('Cache-Control', 'no-transform').send(TEXT));
  app.get('/empty', (_req, res) => res.status(204).end());
  app.get('/events', (_req, res) => res.type('text/event-stream').send(TEXT));
  app.get('/stream', (_req, res) => {
    res.type('text/plain');
    return (async function* () {
      for (let i = 0; i < 40; i++) yield TEXT;
    })();
  });
}

t.test('whole and streamed bodies: compressed when they should be, with Vary and a weak ETag; left alone otherwise', async (t) => {
  const app = injectApp(t, {}, routes);
  for (const encoding of ['gzip', 'br']) {
    const res = await app.inject({ url: '/text', headers: { 'accept-encoding': encoding } });
    t.equal(res.headers['content-encoding'], encoding);
    t.equal(res.headers.vary, 'Accept-Encoding');
    t.equal(Number(res.headers['content-length']), res.body.length, 'a whole compressed body keeps an exact length');
    t.ok(res.body.length < TEXT.length / 10, `${encoding}: ${res.body.length} bytes for ${TEXT.length}`);
    t.equal(decode(encoding, res.body), TEXT);
  }
  const json = await app.inject({ url: '/json', headers: { 'accept-encoding': 'gzip' } });
  t.equal(json.headers.etag, 'W/"v1"', 'the compressed representation gets a weak ETag');
  t.same(JSON.parse(decode('gzip', json.body)), { text: TEXT });
  const stream = await app.inject({ url: '/stream', headers: { 'accept-encoding': 'br;q=1, gzip;q=0.5' } });
  t.equal(stream.headers['content-encoding'], 'br');
  t.equal(stream.headers['transfer-encoding'], 'chunked');
  t.equal(decode('br', stream.body), TEXT.repeat(40), 'a streamed body, compressed as it goes');
  const identity = await app.inject({ url: '/text' });
  t.notOk(identity.headers['content-encoding'], 'no Accept-Encoding: identity');
  t.equal(identity.headers.vary, 'Accept-Encoding', 'but it varies on it, for caches');
  t.equal(identity.text(), TEXT);
  const untouched: Array<[string, string]> = [
    ['/small', 'under the threshold'],
    ['/png', 'an image is already compressed'],
    ['/no-transform', 'Cache-Control: no-transform'],
    ['/events', 'server-sent events are not held in a compressor'],
  ];
  for (const [url, why] of untouched) {
    const res = await app.inject({ url, headers: { 'accept-encoding': 'gzip, br' } });
    t.notOk(res.headers['content-encoding'], why);
  }
  const pre = await app.inject({ url: '/precompressed', headers: { 'accept-encoding': 'gzip, br' } });
  t.equal(pre.headers['content-encoding'], 'gzip', 'a body already encoded is not encoded twice');
  t.equal(decode('gzip', pre.body), TEXT);
  const empty = await app.inject({ url: '/empty', headers: { 'accept-encoding': 'gzip' } });
  t.equal(empty.statusCode, 204);
  t.notOk(empty.headers['content-encoding']);
  const head = await app.inject({ method: 'HEAD', url: '/text', headers: { 'accept-encoding': 'gzip' } });
  t.notOk(head.headers['content-encoding'], 'HEAD: no coding');
  t.equal(head.headers['content-length'], String(Buffer.byteLength(TEXT)));
  t.throws(() => compress({ threshold: -1 }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => compress({ encodings: ['deflate' as never] }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => createServer().compress({ level: 3 } as never), { code: 'ERR_INVALID_OPTION' });
});

t.test('files: compressed with a weak ETag that still revalidates, ranges left alone, a hot file compressed once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'linger-compress-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'small.txt'), TEXT);
  writeFileSync(join(dir, 'large.txt'), TEXT.repeat(20));
  const app = injectApp(t, {}, (app) => {
    app.compress();
    app.get('/files/:name', (req, res) => res.file(join(dir, req.params.name)));
  });
  const original = zlib.gzipSync;
  let compressions = 0;
  (zlib as { gzipSync: typeof zlib.gzipSync }).gzipSync = ((...args: Parameters<typeof zlib.gzipSync>) => {
    compressions++;
    return original(...args);
  }) as typeof zlib.gzipSync;
  t.teardown(() => {
    (zlib as { gzipSync: typeof zlib.gzipSync }).gzipSync = original;
  });
  const first = await app.inject({ url: '/files/small.txt', headers: { 'accept-encoding': 'gzip' } });
  t.equal(first.headers['content-encoding'], 'gzip');
  t.match(String(first.headers.etag), /^W\/"/);
  t.equal(decode('gzip', first.body), TEXT);
  for (let i = 0; i < 5; i++) {
    const again = await app.inject({ url: '/files/small.txt', headers: { 'accept-encoding': 'gzip' } });
    t.same(again.body, first.body);
  }
  t.equal(compressions, 1, 'six requests for a hot file, one compression');
  const revalidated = await app.inject({ url: '/files/small.txt', headers: { 'accept-encoding': 'gzip', 'if-none-match': String(first.headers.etag) } });
  t.equal(revalidated.statusCode, 304, 'the weak ETag revalidates');
  t.notOk(revalidated.headers['content-encoding']);
  const range = await app.inject({ url: '/files/small.txt', headers: { 'accept-encoding': 'gzip', range: 'bytes=0-99' } });
  t.equal(range.statusCode, 206);
  t.notOk(range.headers['content-encoding'], 'a range is of the identity representation');
  t.equal(range.text(), TEXT.slice(0, 100));
  const large = await app.inject({ url: '/files/large.txt', headers: { 'accept-encoding': 'br' } });
  t.equal(large.headers['content-encoding'], 'br');
  t.notOk(large.headers['content-length'], 'a large file is streamed through the compressor');
  t.equal(decode('br', large.body), TEXT.repeat(20));
});

t.test('over a real socket: a client that stops reading stops a compressed stream; every byte arrives once it reads', async (t) => {
  let produced = 0;
  // Random letters: about 5 bits of 8 survive compression, so the output outgrows the socket buffers.
  const chunk = Buffer.from(randomBytes(65_536).map((b) => 97 + (b % 26)));
  const chunks = 400;
  const { port } = await startApp(t, {}, (app) => {
    app.compress({ encodings: ['gzip'], gzipLevel: 1 });
    app.get('/big', (_req, res) => {
      res.type('text/plain');
      return (async function* () {
        for (let i = 0; i < chunks; i++) {
          produced++;
          yield chunk;
        }
      })();
    });
  });
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.pause();
  socket.write('GET /big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n');
  await sleep(400);
  const stalled = produced;
  t.ok(stalled < chunks, `a paused client: ${stalled} of ${chunks} chunks produced`);
  const received: Buffer[] = [];
  socket.on('data', (data: Buffer) => received.push(data));
  socket.resume();
  await new Promise<void>((resolve) => socket.once('end', resolve));
  const raw = Buffer.concat(received);
  const headEnd = raw.indexOf('\r\n\r\n');
  t.match(raw.subarray(0, headEnd).toString(), /Content-Encoding: gzip/);
  // De-chunk the body.
  const parts: Buffer[] = [];
  let at = headEnd + 4;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = parseInt(raw.subarray(at, lineEnd).toString(), 16);
    if (size === 0) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  const body = zlib.gunzipSync(Buffer.concat(parts));
  t.equal(body.length, chunk.length * chunks, 'the whole stream, decompressed');
  t.ok(body.subarray(body.length - chunk.length).equals(chunk));
  socket.destroy();
});
