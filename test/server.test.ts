// The server: graceful close with counts and a deadline, the reuse guard during shutdown, stats,
// diagnostics_channel events, listen errors and option validation.

import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import t from 'tap';
import { CHANNELS, createServer, UsageError, type App } from '../lib/index.js';
import { eventually, get, RawClient, sleep } from './helpers/raw-client.js';
import { startApp } from './helpers/servers.js';


t.test('close(): idle connections reaped, busy ones finish with Connection: close, counts returned', async (t) => {
  const { app, port } = await startApp(t, { idleReapGuard: 50 }, (app) => {
    app.get('/', () => 'hi');
    app.get('/slow', async () => {
      await sleep(200);
      return 'slow done';
    });
  });
  const idle = await RawClient.connect(port);
  idle.write(get('/'));
  await idle.response();
  const busy = await RawClient.connect(port);
  busy.write(get('/slow'));
  await sleep(30);
  const closing = app.close({ timeout: 5000 });
  const slow = await busy.response();
  t.equal(slow.body.toString(), 'slow done', 'the in-flight request completes');
  t.equal(slow.headers.connection, 'close', 'and its response says Connection: close');
  t.equal(await busy.waitEnd(), 'eof');
  t.equal(await idle.waitEnd(), 'eof', 'the idle connection is closed cleanly');
  const result = await closing;
  t.same(result, { closedGracefully: 2, forced: 0 });
  const stats = app.stats();
  t.equal(stats.closes['shutdown-idle'], 1);
  t.equal(stats.closes['shutdown-after-response'], 1);
  const refused = await new Promise<string>((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('connect', () => resolve('connected'));
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
  t.equal(refused, 'ECONNREFUSED', 'no longer accepting');
  idle.destroy();
  busy.destroy();
});

t.test('close(): a request that arrives during the reuse guard is served with Connection: close', async (t) => {
  const { app, port } = await startApp(t, { idleReapGuard: 300 }, (app) => app.get('/', () => 'hi'));
  const client = await RawClient.connect(port);
  client.write(get('/'));
  await client.response();
  const closing = app.close({ timeout: 5000 });
  await sleep(20);
  client.write(get('/'));
  const res = await client.response();
  t.equal(res.status, 200, 'served, not dropped');
  t.equal(res.headers.connection, 'close');
  t.equal(await client.waitEnd(), 'eof');
  t.same(await closing, { closedGracefully: 1, forced: 0 });
  client.destroy();
});

t.test('close(): what is still busy at the deadline is destroyed and counted as forced', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => app.get('/never', () => new Promise<string>(() => {})));
  const client = await RawClient.connect(port);
  client.write(get('/never'));
  await eventually(() => app.stats().connections.active === 1);
  const result = await app.close({ timeout: 150 });
  t.same(result, { closedGracefully: 0, forced: 1 });
  t.equal(app.stats().closes['shutdown-forced'], 1);
  t.not(await client.waitEnd(), 'timeout');
  client.destroy();
});

t.test('stats: keep-alive reuse ratio and connection phases', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => app.get('/', () => 'hi'));
  const client = await RawClient.connect(port);
  for (let i = 0; i < 4; i++) {
    client.write(get('/'));
    await client.response();
  }
  const stats = app.stats();
  t.equal(stats.requests.total, 4);
  t.equal(stats.requests.reused, 3);
  t.equal(stats.requests.keepAliveReuseRatio, 0.75);
  t.equal(stats.connections.open, 1);
  t.equal(stats.connections.idle, 1);
  client.destroy();
  await eventually(() => app.stats().connections.open === 0);
  t.equal(app.stats().closes['client-reset'] + app.stats().closes['client-close'], 1);
});

t.test('diagnostics_channel publishes connection closes with their reason', async (t) => {
  const { app, port } = await startApp(t, { maxRequestsPerSocket: 1 }, (app) => app.get('/', () => 'hi'));
  const events: Array<{ reason: string; requests: number }> = [];
  const onClose = (message: unknown): void => {
    events.push(message as { reason: string; requests: number });
  };
  diagnosticsChannel.subscribe(CHANNELS.connectionClose, onClose);
  t.teardown(() => diagnosticsChannel.unsubscribe(CHANNELS.connectionClose, onClose));
  const client = await RawClient.connect(port);
  client.write(get('/'));
  await client.response();
  await client.waitEnd();
  client.end();
  await eventually(() => events.length === 1);
  t.match(events[0], { reason: 'max-requests', requests: 1 });
  client.destroy();
});

t.test('diagnostics_channel publishes request starts before the handler runs', async (t) => {
  const order: string[] = [];
  const { app, port } = await startApp(t, {}, (app) => app.get('/x', () => {
    order.push('handler');
    return 'x';
  }));
  t.teardown(() => app.close({ timeout: 500 }));
  const starts: Array<{ method: string; url: string }> = [];
  const onStart = (message: unknown): void => {
    order.push('start');
    starts.push(message as { method: string; url: string });
  };
  diagnosticsChannel.subscribe(CHANNELS.requestStart, onStart);
  t.teardown(() => diagnosticsChannel.unsubscribe(CHANNELS.requestStart, onStart));
  const client = await RawClient.connect(port);
  client.write(get('/x?y=1'));
  await client.response();
  t.equal(CHANNELS.requestStart, 'linger:request:start');
  t.match(starts, [{ method: 'GET', url: '/x?y=1' }]);
  t.same(order, ['start', 'handler']);
  client.destroy();
});

t.test('ready: false before listen, true while listening, false as soon as close() starts', async (t) => {
  const app = createServer({ idleReapGuard: 50 });
  let readyInHandler: boolean | null = null;
  let release: () => void = () => {};
  app.get('/slow', async () => {
    await new Promise<void>((resolve) => { release = resolve; });
    readyInHandler = app.ready;
    return 'done';
  });
  t.equal(app.ready, false, 'not listening yet');
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  t.equal(app.ready, true);
  const client = await RawClient.connect(port);
  client.write(get('/slow'));
  await eventually(() => app.stats().connections.active === 1);
  const closing = app.close({ timeout: 5000 });
  t.equal(app.ready, false, 'false synchronously once close() is called');
  release();
  const response = await client.response();
  t.equal(response.body.toString(), 'done');
  t.equal(readyInHandler, false, 'a handler running during shutdown sees ready === false');
  await closing;
  t.equal(app.ready, false);
  client.destroy();
});

t.test('stopAccepting(): the listener closes, open keep-alive connections are still served as usual', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => app.get('/', () => 'hi'));
  const client = await RawClient.connect(port);
  client.write(get('/'));
  await client.response();
  app.stopAccepting();
  t.equal(app.ready, false, 'not ready once the listener is gone');
  t.equal(app.stats().shuttingDown, false, 'but not shutting down');
  const refused = await new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve('connected'); });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
  t.equal(refused, 'ECONNREFUSED', 'a new connection is refused');
  client.write(get('/'));
  const again = await client.response();
  t.equal(again.body.toString(), 'hi');
  t.not(again.headers.connection, 'close', 'the open connection stays persistent until close()');
  client.destroy();
});

t.test('API misuse gets typed errors with stable codes', async (t) => {
  t.throws(() => createServer({ keepAliveTimeout: -1 }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => createServer({ maxHeaderSize: Number.NaN }), { code: 'ERR_INVALID_OPTION' });
  const app = createServer();
  t.throws(() => app.get('no-slash', () => 'x'), { code: 'ERR_INVALID_ROUTE' });
  app.get('/a', () => 'x');
  t.throws(() => app.get('/a', () => 'y'), { code: 'ERR_DUPLICATE_ROUTE' });

  const errors: unknown[] = [];
  const { app: live, port } = await startApp(t, {}, (app) => {
    app.get('/bad-header', (_req, res) => {
      try {
        res.setHeader('X-Split', 'a\r\nSet-Cookie: evil=1');
      } catch (err) {
        errors.push(err);
      }
      return 'ok';
    });
    app.get('/twice', (_req, res) => {
      res.end('once');
      try {
        res.end('twice');
      } catch (err) {
        errors.push(err);
      }
    });
  });
  t.teardown(() => live.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  client.write(get('/bad-header') + get('/twice'));
  const [a, b] = await client.responses(2);
  t.equal(a!.headers['set-cookie'], undefined, 'no header injection');
  t.equal(b!.body.toString(), 'once');
  t.equal(errors.length, 2);
  t.ok(errors[0] instanceof UsageError);
  t.match(errors, [{ code: 'ERR_INVALID_HEADER_VALUE' }, { code: 'ERR_WRITE_AFTER_END' }]);
  await t.rejects(live.listen({ port: 0 }), { code: 'ERR_SERVER_ALREADY_LISTENING' });
  client.destroy();
});

t.test('listen() rejects when the port is taken', async (t) => {
  const { app, port } = await startApp(t, {}, () => {});
  const other = createServer();
  await t.rejects(other.listen({ port, host: '127.0.0.1' }), { code: 'EADDRINUSE' });
});

t.test('shutdownSignal aborts when close() starts, with a typed reason', async (t) => {
  const app = createServer();
  await app.listen({ port: 0 });
  const signal = app.shutdownSignal;
  t.equal(signal.aborted, false);
  const closing = app.close({ timeout: 500 });
  t.equal(signal.aborted, true, 'aborted at once, before connections are reaped');
  t.equal((signal.reason as { code?: string }).code, 'ERR_SERVER_CLOSING');
  t.equal(app.shutdownSignal, signal, 'the same signal afterwards');
  await closing;
});
