// Form bodies: req.form() for urlencoded bodies, req.multipart() for multipart/form-data with its
// limits answered 413, unread files skipped, and backpressure from a slow file consumer to the
// client over a real socket.

import net from 'node:net';
import t from 'tap';
import type { App, Part } from '../../lib/index.js';
import { injectApp, startApp } from '../helpers/servers.js';
import { sleep } from '../helpers/raw-client.js';

const BOUNDARY = 'x-boundary-7MA4YWxk';

type PartSpec = { name: string; value: string | Buffer; filename?: string; type?: string };

function multipartBody(parts: PartSpec[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.type !== undefined) head += `Content-Type: ${p.type}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`), Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

const MULTIPART = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };

async function describe(parts: AsyncIterable<Part>, skip: string[] = []): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const part of parts) {
    if (part.kind === 'field') {
      out.push([part.name, part.value]);
    } else if (skip.includes(part.name)) {
      out.push([part.name, 'skipped']);
    } else {
      const chunks: Buffer[] = [];
      for await (const chunk of part.stream) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      out.push([part.name, part.filename, part.mimeType, bytes.length, bytes.subarray(0, 16).toString('hex')]);
    }
  }
  return out;
}

function routes(app: App): void {
  app.post('/form', async (req) => {
    const form = await req.form({ fields: 5 });
    return [...form.entries()];
  });
  app.post('/upload', { bodyLimit: 5_000_000 }, async (req) => describe(req.multipart({ fileSize: 1_000_000, files: 3, fields: 3, fieldSize: 100, parts: 5 }), [req.query.get('skip') ?? '']));
}

t.test('req.form(): fields in order, repeated names, + and UTF-8 escapes; 415, 413 for too many fields or bytes', async (t) => {
  const app = injectApp(t, {}, routes);
  const urlencoded = { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' };
  let res = await app.inject({ method: 'POST', url: '/form', headers: urlencoded, body: 'a=1&b=hello+world&a=2&c=caf%C3%A9&empty=' });
  t.same(res.json(), [['a', '1'], ['b', 'hello world'], ['a', '2'], ['c', 'café'], ['empty', '']]);
  res = await app.inject({ method: 'POST', url: '/form', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal(res.statusCode, 415);
  res = await app.inject({ method: 'POST', url: '/form', headers: urlencoded, body: 'a=1&b=2&c=3&d=4&e=5&f=6' });
  t.equal(res.statusCode, 413, 'six fields past a limit of five');
  res = await app.inject({ method: 'POST', url: '/form', headers: urlencoded, body: `a=${'x'.repeat(1_100_000)}` });
  t.equal(res.statusCode, 413, 'the body limit applies');
});

t.test('req.multipart(): fields and files in order, binary intact, an unread file skipped, nothing else lost', async (t) => {
  const app = injectApp(t, {}, routes);
  const binary = Buffer.alloc(300_000);
  for (let i = 0; i < binary.length; i++) binary[i] = (i * 31) & 0xff;
  const note = Buffer.from(`--${BOUNDARY.slice(0, 5)} not a boundary\r\n`);
  const body = multipartBody([
    { name: 'title', value: 'hello ünïcode' },
    { name: 'doc', value: binary, filename: 'data.bin', type: 'application/octet-stream' },
    { name: 'note', value: note, filename: 'n.txt', type: 'text/plain' },
    { name: 'after', value: 'still here' },
  ]);
  let res = await app.inject({ method: 'POST', url: '/upload', headers: MULTIPART, body });
  t.equal(res.statusCode, 200);
  t.same(res.json(), [
    ['title', 'hello ünïcode'],
    ['doc', 'data.bin', 'application/octet-stream', 300_000, binary.subarray(0, 16).toString('hex')],
    ['note', 'n.txt', 'text/plain', note.length, note.subarray(0, 16).toString('hex')],
    ['after', 'still here'],
  ]);
  res = await app.inject({ method: 'POST', url: '/upload?skip=doc', headers: MULTIPART, body });
  const skipped = res.json<string[][]>();
  t.same(skipped.map((p) => p[0]), ['title', 'doc', 'note', 'after'], 'a file the handler does not read is drained, the parts after it arrive');
  t.equal(skipped[1]![1], 'skipped');
});

t.test('multipart limits are 413s; malformed bodies 400; another media type 415', async (t) => {
  const app = injectApp(t, {}, routes);
  const send = (parts: PartSpec[]) => app.inject({ method: 'POST', url: '/upload', headers: MULTIPART, body: multipartBody(parts) });
  const file = (name: string, size: number): PartSpec => ({ name, value: Buffer.alloc(size, 1), filename: `${name}.bin` });
  t.equal((await send([file('f', 1_000_000)])).statusCode, 200, 'a file exactly at fileSize is fine');
  t.equal((await send([file('f', 1_000_001)])).statusCode, 413, 'one byte past fileSize');
  t.equal((await send([file('a', 1), file('b', 1), file('c', 1), file('d', 1)])).statusCode, 413, 'four files past files: 3');
  t.equal((await send([{ name: 'a', value: '1' }, { name: 'b', value: '2' }, { name: 'c', value: '3' }, { name: 'd', value: '4' }])).statusCode, 413, 'fields');
  t.equal((await send([{ name: 'a', value: 'x'.repeat(100) }])).statusCode, 200, 'a field exactly at fieldSize');
  t.equal((await send([{ name: 'a', value: 'x'.repeat(101) }])).statusCode, 413, 'fieldSize');
  t.equal((await send([file('a', 1), file('b', 1), { name: 'c', value: '3' }, { name: 'd', value: '4' }, { name: 'e', value: '5' }, { name: 'f', value: '6' }])).statusCode, 413, 'parts');
  const big = await app.inject({ method: 'POST', url: '/upload', headers: MULTIPART, body: multipartBody([file('f', 900_000), file('g', 900_000), file('h', 900_000), { name: 'x', value: 'y'.repeat(50) }]).subarray(0) });
  t.equal(big.statusCode, 200, 'under every limit');
  const truncated = multipartBody([{ name: 'a', value: '1' }]).subarray(0, 40);
  t.equal((await app.inject({ method: 'POST', url: '/upload', headers: MULTIPART, body: truncated })).statusCode, 400, 'a body that ends mid-part');
  t.equal((await app.inject({ method: 'POST', url: '/upload', headers: { 'content-type': 'multipart/form-data' }, body: 'x' })).statusCode, 400, 'no boundary');
  t.equal((await app.inject({ method: 'POST', url: '/upload', headers: { 'content-type': 'text/plain' }, body: 'x' })).statusCode, 415);
  t.equal((await app.inject({ method: 'POST', url: '/upload', headers: MULTIPART, body: multipartBody([{ name: 'ok', value: '1' }]) })).statusCode, 200, 'the app is unharmed');
});

t.test('over a real socket: a consumer that stops reading a file stops the upload; it completes once it reads again', async (t) => {
  const total = 24 * 1024 * 1024;
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let fileStarted!: () => void;
  const started = new Promise<void>((resolve) => {
    fileStarted = resolve;
  });
  const { port } = await startApp(t, {}, (app) => {
    app.post('/slow', { bodyLimit: 64 * 1024 * 1024 }, async (req) => {
      let bytes = 0;
      for await (const part of req.multipart({ fileSize: 32 * 1024 * 1024 })) {
        if (part.kind !== 'file') continue;
        fileStarted();
        await released;
        for await (const chunk of part.stream) bytes += (chunk as Buffer).length;
      }
      return { bytes };
    });
  });
  const body = multipartBody([{ name: 'big', value: Buffer.alloc(total, 2), filename: 'big.bin' }]);
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  let response = '';
  socket.on('data', (chunk) => {
    response += chunk.toString('latin1');
  });
  socket.write(`POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${body.length}\r\n\r\n`);
  socket.write(body);
  await started;
  await sleep(300);
  const unsent = socket.writableLength;
  t.ok(unsent > total / 2, `the client still holds ${unsent} of ${body.length} bytes: the stalled consumer held the upload back`);
  release();
  for (let i = 0; i < 200 && !response.includes('"bytes"'); i++) await sleep(25);
  t.match(response, /^HTTP\/1\.1 200 OK\r\n/);
  t.match(response, new RegExp(`\\{"bytes":${total}\\}$`), 'every byte arrived once the consumer read again');
  socket.destroy();
});
