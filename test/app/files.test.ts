// File responses and the static file handler over real sockets: validators and 304s, ranges,
// HEAD, streaming of large files, every way a path could try to leave the root or redirect off-site,
// and special files (FIFOs, sockets, devices) that must never be opened.

import { execFileSync } from 'node:child_process';
import { linkSync, mkdtempSync, mkdirSync, renameSync, writeFileSync, utimesSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createServer, serveStatic } from '../../lib/index.js';
import { openRegularFile, parseRange } from '../../lib/app/file-response.js';
import { get, RawClient } from '../helpers/raw-client.js';

const root = mkdtempSync(join(tmpdir(), 'linger-files-'));
const outside = mkdtempSync(join(tmpdir(), 'linger-outside-'));
t.teardown(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});
writeFileSync(join(root, 'hello.txt'), 'hello file\n');
const big = Buffer.alloc(1024 * 1024 + 17);
for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 256;
writeFileSync(join(root, 'big.bin'), big);
mkdirSync(join(root, 'docs'));
writeFileSync(join(root, 'docs', 'index.html'), '<h1>docs</h1>');
writeFileSync(join(root, 'docs', 'a b.css'), 'body{}');
writeFileSync(join(root, '.env'), 'SECRET=1');
writeFileSync(join(outside, 'secret.txt'), 'outside the root');
const mtime = new Date('2026-01-02T03:04:05Z');
utimesSync(join(root, 'hello.txt'), mtime, mtime);

async function startFiles(t: { teardown(fn: () => unknown): void }): Promise<number> {
  const app = createServer();
  app.get('/static/*', serveStatic(root, { maxAge: 60 }));
  app.get('/download', (_req, res) => res.file(join(root, 'hello.txt'), { contentType: 'text/x-custom' }));
  app.get('/missing-file', (_req, res) => res.file(join(root, 'nope.txt')));
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close({ timeout: 500 }));
  return port;
}

t.test('a file: Content-Length, type from the extension, validators, Cache-Control', async (t) => {
  const port = await startFiles(t);
  const client = await RawClient.connect(port);
  client.write(get('/static/hello.txt'));
  const res = await client.response();
  t.equal(res.status, 200);
  t.equal(res.body.toString(), 'hello file\n');
  t.equal(res.headers['content-length'], '11');
  t.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
  t.equal(res.headers['last-modified'], 'Fri, 02 Jan 2026 03:04:05 GMT');
  t.match(res.headers.etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
  t.equal(res.headers['cache-control'], 'public, max-age=60');
  t.equal(res.headers['accept-ranges'], 'bytes');

  client.write(get('/download'));
  t.equal((await client.response()).headers['content-type'], 'text/x-custom', 'an explicit type wins');
});

t.test('conditional requests: If-None-Match and If-Modified-Since give 304 without a body', async (t) => {
  const port = await startFiles(t);
  const client = await RawClient.connect(port);
  client.write(get('/static/hello.txt'));
  const first = await client.response();
  const etag = first.headers.etag!;

  client.write(get('/static/hello.txt', `If-None-Match: "other", ${etag}\r\n`));
  let res = await client.response();
  t.equal(res.status, 304);
  t.equal(res.body.length, 0);
  t.equal(res.headers.etag, etag);
  t.notOk(res.headers['content-length'], 'a 304 carries no Content-Length of its own');

  client.write(get('/static/hello.txt', `If-None-Match: W/${etag}\r\n`));
  t.equal((await client.response()).status, 304, 'If-None-Match uses the weak comparison (RFC 9110 13.1.2)');

  client.write(get('/static/hello.txt', 'If-None-Match: "nope"\r\nIf-Modified-Since: Fri, 02 Jan 2026 03:04:05 GMT\r\n'));
  t.equal((await client.response()).status, 200, 'If-Modified-Since is ignored when If-None-Match is present');

  client.write(get('/static/hello.txt', 'If-Modified-Since: Fri, 02 Jan 2026 03:04:05 GMT\r\n'));
  t.equal((await client.response()).status, 304);
  client.write(get('/static/hello.txt', 'If-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT\r\n'));
  t.equal((await client.response()).status, 200);
  client.write(get('/static/hello.txt', 'If-Modified-Since: not a date\r\n'));
  t.equal((await client.response()).status, 200, 'an invalid date is ignored');
});

t.test('ranges: 206 with Content-Range, suffix ranges, 416 for unsatisfiable, If-Range', async (t) => {
  const port = await startFiles(t);
  const client = await RawClient.connect(port);
  client.write(get('/static/hello.txt', 'Range: bytes=0-4\r\n'));
  let res = await client.response();
  t.equal(res.status, 206);
  t.equal(res.body.toString(), 'hello');
  t.equal(res.headers['content-range'], 'bytes 0-4/11');
  t.equal(res.headers['content-length'], '5');

  client.write(get('/static/hello.txt', 'Range: bytes=-5\r\n'));
  res = await client.response();
  t.equal(res.body.toString(), 'file\n');

  client.write(get('/static/hello.txt', 'Range: bytes=6-\r\n'));
  t.equal((await client.response()).body.toString(), 'file\n');

  client.write(get('/static/hello.txt', 'Range: bytes=50-60\r\n'));
  res = await client.response();
  t.equal(res.status, 416);
  t.equal(res.headers['content-range'], 'bytes */11');

  client.write(get('/static/hello.txt', 'Range: bytes=0-1,3-4\r\n'));
  t.equal((await client.response()).status, 200, 'multiple ranges get the whole file (a permitted answer, RFC 9110 14.2)');

  client.write(get('/static/hello.txt', 'Range: bytes=0-4\r\nIf-Range: "stale"\r\n'));
  t.equal((await client.response()).status, 200, 'a stale If-Range gets the whole file');

  client.write(get('/static/big.bin', 'Range: bytes=1048576-\r\n'));
  res = await client.response();
  t.equal(res.status, 206);
  t.same([...res.body], [...big.subarray(1048576)]);
});

t.test('large files stream with Content-Length; HEAD gets the length and no body', async (t) => {
  const port = await startFiles(t);
  const client = await RawClient.connect(port);
  client.write(get('/static/big.bin'));
  const res = await client.response(10_000);
  t.equal(res.headers['content-length'], String(big.length));
  t.notOk(res.headers['transfer-encoding']);
  t.ok(res.body.equals(big), 'every byte arrives intact');
  client.write('HEAD /static/big.bin HTTP/1.1\r\nHost: a\r\n\r\n');
  client.expectNoBody();
  const head = await client.response();
  t.equal(head.headers['content-length'], String(big.length));
  t.equal(head.body.length, 0);
  client.write(get('/static/hello.txt'));
  t.equal((await client.response()).body.toString(), 'hello file\n', 'the connection is intact after HEAD');
});

t.test('directories: index.html, a redirect to the slash form, encoded names', async (t) => {
  const port = await startFiles(t);
  const client = await RawClient.connect(port);
  client.write(get('/static/docs/'));
  let res = await client.response();
  t.equal(res.body.toString(), '<h1>docs</h1>');
  t.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  client.write(get('/static/docs?x=1'));
  res = await client.response();
  t.equal(res.status, 301);
  t.equal(res.headers.location, '/static/docs/?x=1');
  client.write(get('/static/docs/a%20b.css'));
  res = await client.response();
  t.equal(res.body.toString(), 'body{}');
  t.equal(res.headers['content-type'], 'text/css; charset=utf-8');
  client.write(get('/static/hello.txt/'));
  t.equal((await client.response()).status, 404, 'a file asked for as a directory is not found');
});

t.test('traversal, encoded separators, NUL and dotfiles never leave the root', async (t) => {
  const port = await startFiles(t);
  const attempts = [
    '/static/../hello.txt',
    '/static/docs/../../' + outside.split('/').pop() + '/secret.txt',
    '/static/%2e%2e/%2e%2e/etc/passwd',
    '/static/..%2f..%2fetc%2fpasswd',
    '/static/docs%2f..%2f..%2fetc%2fpasswd',
    '/static/..%5c..%5cetc%5cpasswd',
    '/static/hello.txt%00.png',
    '/static/.env',
    '/static/%2eenv',
    '/static/docs/./index.html',
  ];
  const client = await RawClient.connect(port);
  for (const path of attempts) {
    client.write(get(path));
    const res = await client.response();
    t.equal(res.status, 404, `${path} is not found`);
    t.notMatch(res.body.toString(), /outside the root|root:|SECRET/);
  }
  client.write(get('/static/%E0%A4%A'));
  t.equal((await client.response()).status, 400, 'malformed escapes are a 400');
  client.write(get('/missing-file'));
  t.equal((await client.response()).status, 404, 'res.file() of a missing file is a 404');
});

t.test('a "/*" mount never redirects to a protocol-relative Location', async (t) => {
  const app = createServer();
  app.get('/*', serveStatic(root));
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  const cases: Array<[string, string]> = [
    ['//docs', '/docs/'],
    ['///docs?x=1', '/docs/?x=1'],
    ['http://test//docs', '/docs/'],
    ['/docs', '/docs/'],
  ];
  for (const [target, location] of cases) {
    client.write(get(target));
    const res = await client.response();
    t.equal(res.status, 301, `${target} redirects`);
    t.equal(res.headers.location, location, `${target} -> ${location}`);
  }
  for (const target of ['/\\docs', '/%5Cdocs', '/%2Fdocs']) {
    client.write(get(target));
    t.equal((await client.response()).status, 404, `${target}: a backslash or encoded slash in a segment is not found`);
  }
  client.write(get('//docs/'));
  t.equal((await client.response()).body.toString(), '<h1>docs</h1>', 'the directory itself is served under its doubled-slash path');
});

t.test('FIFOs, sockets and devices in the root are 404 without being opened; files are still served', async (t) => {
  const special = join(root, 'special');
  mkdirSync(special);
  t.teardown(() => rmSync(special, { recursive: true, force: true }));
  execFileSync('mkfifo', [join(special, 'pipe')]);
  symlinkSync('/dev/zero', join(special, 'zero'));
  const unixServer = net.createServer();
  await new Promise<void>((resolve) => unixServer.listen(join(special, 'sock'), resolve));
  t.teardown(() => unixServer.close());

  const app = createServer();
  app.get('/static/*', serveStatic(root));
  app.get('/fifo-file', (_req, res) => res.file(join(special, 'pipe')));
  app.get('/device-file', (_req, res) => res.file('/dev/zero'));
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close({ timeout: 500 }));

  // Twice libuv's four fs threads: blocking opens of the FIFO would take every one of them.
  const targets = [...Array.from({ length: 8 }, () => '/static/special/pipe'), '/fifo-file', '/static/special/sock', '/static/special/zero', '/device-file'];
  const clients = await Promise.all(targets.map(() => RawClient.connect(port)));
  targets.forEach((target, i) => clients[i]!.write(get(target)));
  const answers = await Promise.all(clients.map((c) => c.response()));
  answers.forEach((res, i) => t.equal(res.status, 404, `${targets[i]} is not found`));
  for (const c of clients) c.destroy();

  const client = await RawClient.connect(port);
  client.write(get('/static/hello.txt'));
  t.equal((await client.response()).body.toString(), 'hello file\n', 'a small file is served afterwards');
  client.write(get('/static/big.bin'));
  t.ok((await client.response(10_000)).body.equals(big), 'a streamed file is served afterwards');
});

t.test('a file swapped between stat and open is caught on the descriptor', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'linger-swap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'file.txt');
  writeFileSync(path, 'first');
  const stale = statSync(path);
  // A second name keeps the checked inode alive, so no file created below can reuse its number.
  linkSync(path, join(dir, 'kept.txt'));

  // Swapped for a FIFO: the open must not wait for a writer, and the fstat refuses it.
  unlinkSync(path);
  execFileSync('mkfifo', [path]);
  t.equal(await openRegularFile(path, stale), null, 'a FIFO in place of the checked file is refused');

  // Swapped for another regular file (a deploy renaming into place): served from a fresh stat.
  writeFileSync(join(dir, 'next.txt'), 'second!');
  renameSync(join(dir, 'next.txt'), path);
  const opened = await openRegularFile(path, stale);
  t.ok(opened !== null, 'a regular file in its place is opened after a fresh stat');
  if (opened !== null) {
    t.not(opened.stats.ino, stale.ino, 'the descriptor is the new file');
    t.equal(opened.stats.size, 7, 'with the new file\'s own stats');
    await opened.handle.close();
  }
  t.equal(await openRegularFile(dir), null, 'a directory is not a regular file');
  await t.rejects(openRegularFile(join(dir, 'missing')), { statusCode: 404, code: 'ERR_NOT_FOUND' }, 'a missing file is a 404');
});

t.test('parseRange: the forms RFC 9110 14.1.2 allows, and input that costs one pass however it is built', async (t) => {
  t.same(parseRange('bytes=0-4', 11), [0, 4]);
  t.same(parseRange('BYTES = 2 - ', 11), [2, 10], 'the unit is case-insensitive; blanks around "=" and "-" are tolerated');
  t.same(parseRange('bytes=-3', 11), [8, 10]);
  t.same(parseRange('bytes=-99', 11), [0, 10], 'a suffix longer than the file is the whole file');
  t.equal(parseRange('bytes=-0', 11), 'unsatisfiable');
  t.equal(parseRange('bytes=11-', 11), 'unsatisfiable');
  t.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  for (const ignored of ['bytes=5-2', 'bytes=-', 'bytes=0-1,3-4', 'items=0-1', 'bytes0-1', 'bytes=0-1x', 'bytes=1e3-', 'bytes=\u00a00-1']) {
    t.equal(parseRange(ignored, 11), null, `${JSON.stringify(ignored)} is ignored (whole file)`);
  }
  t.same(parseRange(`bytes=${'0'.repeat(16_000)}5-`, 11), [5, 10], 'leading zeros add nothing to the value');
  t.same(parseRange(`bytes=-${'9'.repeat(16_000)}`, 11), [0, 10], 'a suffix beyond any number is the whole file');
  t.equal(parseRange(`bytes=${' '.repeat(5000)}-${' '.repeat(10_000)}x`, 11), null, 'the old backtracking shape is one pass and ignored');
});
