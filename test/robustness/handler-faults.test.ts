// Faulty handlers through the app layer: a sync throw and a rejected promise become 500, a stream
// that fails mid-body ends its connection without a clean message end, and a handler that never
// answers is preempted by handlerTimeout. Other connections never notice.

import t from 'tap';
import { Readable } from 'node:stream';
import { createServer, UsageError, type App } from '../../lib/index.js';
import { eventually, get, RawClient, sleep } from '../helpers/raw-client.js';
import { startApp } from '../helpers/servers.js';


/** A slow streamed response on its own connection, to show it completes whatever the others do. */
function slowStream(): AsyncIterable<string> {
  return (async function* () {
    for (let i = 0; i < 20; i++) {
      await sleep(10);
      yield `part ${i}\n`;
    }
  })();
}
const SLOW_BODY = Array.from({ length: 20 }, (_v, i) => `part ${i}\n`).join('');

t.test('sync throw and rejected promise answer 500 and keep the connection; a failing stream ends only its own', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    app.get('/throw', () => {
      throw new Error('secret detail');
    });
    app.get('/reject', async () => {
      await sleep(5);
      throw new Error('secret detail');
    });
    app.get('/stream-error', () => {
      let n = 0;
      // Parts go out before the failure, so the client holds half a message.
      return new Readable({
        read() {
          setTimeout(() => {
            if (n++ < 3) this.push(Buffer.alloc(1000, 'e'));
            else this.destroy(new Error('disk went away'));
          }, 10);
        },
      });
    });
    app.get('/slow', () => slowStream());
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const bystander = await RawClient.connect(port);
  bystander.write(get('/slow'));

  const client = await RawClient.connect(port);
  client.write(get('/throw'));
  const thrown = await client.response();
  t.equal(thrown.status, 500);
  t.equal(thrown.body.toString(), 'Internal Server Error\n', 'the error message is not leaked');
  t.equal(thrown.headers.connection, 'keep-alive', 'a 500 before the head keeps the connection');
  client.write(get('/reject'));
  t.equal((await client.response()).status, 500);

  const streamer = await RawClient.connect(port);
  streamer.write(get('/stream-error'));
  const end = await streamer.waitEnd();
  t.not(end, 'timeout', `the connection ended (${end})`);
  await t.rejects(streamer.response(100), 'no complete response: the chunked body never got its last chunk');
  t.match(streamer.unparsed.toString('latin1'), /^HTTP\/1\.1 200 /, 'the head and part of the body had gone out');
  t.notMatch(streamer.unparsed.toString('latin1'), /\r\n0\r\n\r\n$/, 'no terminating chunk');

  const slow = await bystander.response(5000);
  t.equal(slow.body.toString(), SLOW_BODY, 'a concurrent streamed response completed intact');
  client.write(get('/throw'));
  t.equal((await client.response()).status, 500, 'the first client still works');
  for (const c of [client, bystander, streamer]) c.destroy();
  t.ok(await eventually(() => app.stats().connections.open === 0));
  t.equal(app.stats().closes['handler-error'], 1, 'only the failing stream closed with handler-error');
});

t.test('handlerTimeout: a handler that never answers gets 503 + close, its signal aborts, later writes are ignored', async (t) => {
  const handlerTimeout = 200;
  let aborted = null as { code?: string; statusCode?: number } | null;
  let lateWriteThrew: unknown = null;
  const { app, port } = await startApp(t, { handlerTimeout }, (app) => {
    app.get('/never', (req) => {
      req.signal.addEventListener('abort', () => {
        aborted = req.signal.reason as { code?: string };
      });
      return new Promise(() => {});
    });
    app.get('/late', async (req, res) => {
      await sleep(handlerTimeout * 3);
      try {
        res.setHeader('X-Late', '1');
        res.status(200);
        res.end('too late');
      } catch (err) {
        lateWriteThrew = err;
      }
      void req;
    });
    app.get('/fast', () => 'fast');
    app.get('/slow', () => slowStream());
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const bystander = await RawClient.connect(port);
  bystander.write(get('/slow'));

  const client = await RawClient.connect(port);
  const started = Date.now();
  client.write(get('/never'));
  const res = await client.response(handlerTimeout + 3000);
  const elapsed = Date.now() - started;
  t.equal(res.status, 503);
  t.equal(res.headers.connection, 'close');
  t.equal(await client.waitEnd(), 'eof', 'then a clean close');
  t.ok(elapsed >= handlerTimeout - handlerTimeout / 8 - 20, `not before handlerTimeout (${elapsed} ms)`);
  t.ok(await eventually(() => aborted !== null));
  t.equal(aborted?.code, 'ERR_HANDLER_TIMEOUT', "the request's signal aborted with the reason");
  t.equal(aborted?.statusCode, 503);

  const late = await RawClient.connect(port);
  late.write(get('/late') + get('/fast'));
  const lateRes = await late.response(handlerTimeout + 3000);
  t.equal(lateRes.status, 503, 'the engine answered for the late handler');
  t.equal(await late.waitEnd(), 'eof', 'the pipelined request behind it is not answered on this connection');
  await sleep(handlerTimeout * 3);
  t.equal(lateWriteThrew, null, 'the late handler\'s headers, status and end() were ignored, not thrown');
  t.equal(late.unparsed.length, 0, 'nothing of the late response reached the wire');

  const slow = await bystander.response(5000);
  t.equal(slow.body.toString(), SLOW_BODY, 'a streamed response that started in time is not cut');
  bystander.write(get('/fast'));
  t.equal((await bystander.response()).body.toString(), 'fast', 'other connections unaffected');
  for (const c of [client, late, bystander]) c.destroy();
  t.ok(await eventually(() => app.stats().connections.open === 0));
  t.equal(app.stats().closes['handler-timeout'], 2);
});

t.test('handlerTimeout starts when the body is received: a slow upload is not cut by it', async (t) => {
  const { app, port } = await startApp(t, { handlerTimeout: 150, bodyTimeout: 1000 }, (app) => {
    app.post('/up', async (req) => `got ${(await req.buffer()).length}`);
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  client.write('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n');
  for (let i = 0; i < 10; i++) {
    await sleep(50); // 500 ms of upload, well over handlerTimeout, each gap under bodyTimeout
    client.write('u');
  }
  const res = await client.response();
  t.equal(res.status, 200);
  t.equal(res.body.toString(), 'got 10');
  client.destroy();
});

t.test('handlerTimeout is validated like every option and 30 s by default', async (t) => {
  for (const bad of [-1, Number.NaN, '100']) {
    let caught: unknown = null;
    try {
      createServer({ handlerTimeout: bad as number });
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof UsageError && caught.code === 'ERR_INVALID_OPTION', `handlerTimeout ${String(bad)} is refused`);
  }
  t.equal(createServer({}).config.handlerTimeout, 30_000);
  t.equal(createServer({ handlerTimeout: 0 }).config.handlerTimeout, 0, '0 turns it off');
});

t.test('handlerTimeout: an answer parked behind a slow pipelined stream is not preempted', async (t) => {
  // /slow streams for ~200 ms, past handlerTimeout; /fast answered at once and waits its turn.
  const { app, port } = await startApp(t, { handlerTimeout: 100 }, (app) => {
    app.get('/slow', () => slowStream());
    app.get('/fast', () => 'fast');
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  client.write(get('/slow') + get('/fast'));
  const [slow, fast] = await client.responses(2, 5000);
  t.equal(slow!.body.toString(), SLOW_BODY);
  t.equal(fast!.status, 200);
  t.equal(fast!.body.toString(), 'fast');
  t.equal(fast!.headers.connection, 'keep-alive', 'the connection stays persistent');
  client.destroy();
  t.ok(await eventually(() => app.stats().connections.open === 0));
  t.equal(app.stats().closes['handler-timeout'], 0);
});
