// Errors never vanish: the default stderr log (once per error, with the request line), the
// logErrors option, errors thrown after a response was complete, and handler timeouts for
// handlers that return without answering.

import t from 'tap';
import { createServer, UsageError, type ErrorLogEntry } from '../../lib/index.js';
import { startApp } from '../helpers/servers.js';
import { eventually, get, RawClient, sleep } from '../helpers/raw-client.js';

/** Collects what is written to process.stderr while a test runs (then restores it). */
function captureStderr(t: { teardown(fn: () => void): void }): string[] {
  const lines: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    if (text.startsWith('linger: ')) {
      lines.push(text);
      return true;
    }
    return (original as (...args: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  t.teardown(() => {
    process.stderr.write = original;
  });
  return lines;
}

t.test('by default each 5xx error is written to stderr once, with its request line and stack; 4xx answers are not', async (t) => {
  const lines = captureStderr(t);
  const { port } = await startApp(t, { logErrors: true }, (app) => {
    app.get('/boom', () => {
      throw new Error('database unreachable');
    });
    app.get('/reject', async () => {
      await sleep(1);
      throw Object.assign(new Error('upstream failed'), { statusCode: 502 });
    });
    app.post('/json', async (req) => req.json());
  });
  const client = await RawClient.connect(port);
  client.write(get('/boom'));
  t.equal((await client.response()).status, 500);
  client.write(get('/reject?x=1'));
  t.equal((await client.response()).status, 502);
  client.write('POST /json HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n{x}');
  t.equal((await client.response()).status, 400, 'invalid JSON is the client\'s error');
  client.write(get('/missing'));
  t.equal((await client.response()).status, 404);
  t.equal(lines.length, 2, 'one entry per server error, none for client errors');
  t.match(lines[0], /^linger: 500 "GET \/boom HTTP\/1\.1" error answered: Error: database unreachable\n\s+at /);
  t.match(lines[1], /^linger: 502 "GET \/reject\?x=1 HTTP\/1\.1" error answered: Error: upstream failed/);
});

t.test('logErrors: a function receives each entry; false writes nothing; anything else is refused', async (t) => {
  const lines = captureStderr(t);
  const entries: ErrorLogEntry[] = [];
  const { port } = await startApp(t, { logErrors: (entry) => entries.push(entry) }, (app) => {
    app.get('/boom', () => {
      throw new Error('boom');
    });
  });
  const quiet = await startApp(t, { logErrors: false }, (app) => {
    app.get('/boom', () => {
      throw new Error('boom');
    });
  });
  for (const p of [port, quiet.port]) {
    const client = await RawClient.connect(p);
    client.write(get('/boom'));
    t.equal((await client.response()).status, 500);
  }
  t.equal(entries.length, 1);
  t.match(entries[0], { phase: 'request', statusCode: 500, method: 'GET', url: '/boom', httpVersion: '1.1' });
  t.equal((entries[0]!.error as Error).message, 'boom');
  t.same(lines, [], 'nothing reaches stderr when a function or false is given');
  t.throws(() => createServer({ logErrors: 'yes' as never }), { code: 'ERR_INVALID_OPTION' });
});

t.test('an error thrown after the response was complete (a second send) reaches onError and the log', async (t) => {
  const seen: Array<{ code: unknown; path: string; finished: boolean }> = [];
  const entries: ErrorLogEntry[] = [];
  const { port } = await startApp(t, { logErrors: (entry) => entries.push(entry) }, (app) => {
    app.onError((err, req, res) => seen.push({ code: (err as UsageError).code, path: req.path, finished: res.finished }));
    app.get('/twice', (_req, res) => {
      res.send('first');
      res.send('second');
    });
    app.get('/twice-async', async (_req, res) => {
      res.send('first');
      await sleep(5);
      res.send('second');
    });
  });
  const client = await RawClient.connect(port);
  client.write(get('/twice'));
  let res = await client.response();
  t.equal(res.status, 200);
  t.equal(res.body.toString(), 'first', 'the first answer stands');
  client.write(get('/twice-async'));
  res = await client.response();
  t.equal(res.body.toString(), 'first');
  t.ok(await eventually(() => seen.length === 2, 2000), 'both late errors were reported');
  t.same(seen, [
    { code: 'ERR_WRITE_AFTER_END', path: '/twice', finished: true },
    { code: 'ERR_WRITE_AFTER_END', path: '/twice-async', finished: true },
  ]);
  t.same(entries.map((e) => [e.phase, e.statusCode, e.url]), [['after-response', 200, '/twice'], ['after-response', 200, '/twice-async']]);
  client.write(get('/twice'));
  t.equal((await client.response()).body.toString(), 'first', 'the connection is still usable');
});

t.test('a failing onError or onResponse hook is logged, and the answer stands', async (t) => {
  const entries: ErrorLogEntry[] = [];
  const { port } = await startApp(t, { logErrors: (entry) => entries.push(entry) }, (app) => {
    app.onError(() => {
      throw new Error('observer broke');
    });
    app.onResponse((req) => {
      if (req.path === '/ok') throw new Error('metrics broke');
    });
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.get('/ok', () => 'ok');
  });
  const client = await RawClient.connect(port);
  client.write(get('/boom'));
  t.equal((await client.response()).status, 500);
  client.write(get('/ok'));
  t.equal((await client.response()).body.toString(), 'ok');
  t.ok(await eventually(() => entries.length === 4, 2000));
  t.same(entries.map((e) => [e.phase, (e.error as Error).message]), [
    ['hook', 'observer broke'], // onError failing on the handler's error
    ['request', 'boom'],
    ['hook', 'observer broke'], // onError failing on the onResponse hook's error
    ['hook', 'metrics broke'],
  ]);
});

t.test('a route timeout fires for a handler that returns or resolves undefined without answering', async (t) => {
  const seen: string[] = [];
  const entries: ErrorLogEntry[] = [];
  const { port } = await startApp(t, { logErrors: (entry) => entries.push(entry) }, (app) => {
    app.onError((err, req) => seen.push(`${req.path} ${(err as UsageError).code}`));
    app.get('/async-forgot', { timeout: 100 }, async () => {
      await sleep(1);
    });
    app.get('/sync-forgot', { timeout: 100 }, () => undefined);
    app.get('/no-timeout', { timeout: 0 }, async (_req, res) => {
      await sleep(300);
      res.send('late but allowed');
    });
  });
  for (const path of ['/async-forgot', '/sync-forgot']) {
    const client = await RawClient.connect(port);
    client.write(get(path));
    const res = await client.response(3000);
    t.equal(res.status, 503, `${path}: 503 in the handler's place`);
    t.equal(res.headers.connection, 'close');
  }
  const patient = await RawClient.connect(port);
  patient.write(get('/no-timeout'));
  t.equal((await patient.response(3000)).body.toString(), 'late but allowed', 'timeout: 0 on a route turns the timer off');
  t.same(seen, ['/async-forgot ERR_HANDLER_TIMEOUT', '/sync-forgot ERR_HANDLER_TIMEOUT']);
  t.same(entries.map((e) => [e.phase, e.statusCode, e.url]), [['timeout', 503, '/async-forgot'], ['timeout', 503, '/sync-forgot']]);
});

t.test('after a timeout, a handler failing with the abort is not reported twice; an unrelated late error is', async (t) => {
  const entries: ErrorLogEntry[] = [];
  const { port } = await startApp(t, { handlerTimeout: 100, logErrors: (entry) => entries.push(entry) }, (app) => {
    app.get('/echo-abort', async (req) => {
      await new Promise((resolve) => req.signal.addEventListener('abort', resolve));
      throw req.signal.reason;
    });
    app.get('/late-bug', async () => {
      await sleep(250);
      throw new Error('late bug');
    });
  });
  for (const path of ['/echo-abort', '/late-bug']) {
    const client = await RawClient.connect(port);
    client.write(get(path));
    t.equal((await client.response(3000)).status, 503);
  }
  await sleep(300);
  t.same(entries.map((e) => [e.phase, e.url, (e.error as Error).message]), [
    ['timeout', '/echo-abort', 'the handler did not start a response within 100 ms'],
    ['timeout', '/late-bug', 'the handler did not start a response within 100 ms'],
    ['after-response', '/late-bug', 'late bug'],
  ]);
});

t.test('a handler timeout is written to stderr without the engine\'s stack', async (t) => {
  const lines = captureStderr(t);
  const { port } = await startApp(t, { logErrors: true, handlerTimeout: 100 }, (app) => {
    app.get('/hang', () => new Promise<never>(() => {}));
  });
  const client = await RawClient.connect(port);
  client.write(get('/hang'));
  t.equal((await client.response(3000)).status, 503);
  t.same(lines, ['linger: 503 "GET /hang HTTP/1.1" handler timeout: the handler did not start a response within 100 ms\n']);
});
