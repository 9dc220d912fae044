// close({ drainDelay }): not ready at once, the listener kept and new connections served with
// Connection: close for the delay, idle keep-alive connections closed gracefully, then the usual
// close; the phase in stats() and on the shutdown channel; option checks.

import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import t from 'tap';
import { CHANNELS, gracefulShutdown } from '../lib/index.js';
import { startApp } from './helpers/servers.js';
import { get, RawClient, sleep } from './helpers/raw-client.js';

function connectOutcome(port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

t.test('during the drain: not ready, new connections served with Connection: close; after it, refused', async (t) => {
  const { app, port } = await startApp(t, { idleReapGuard: 50 }, (app) => {
    app.get('/', () => 'hello');
    app.get('/healthz', (req, res) => (app.ready ? 'ok' : res.status(503).send('draining')));
  });
  const phases: string[] = [];
  const onShutdown = (message: unknown): void => {
    phases.push((message as { phase: string }).phase);
  };
  diagnosticsChannel.subscribe(CHANNELS.shutdown, onShutdown);
  t.teardown(() => diagnosticsChannel.unsubscribe(CHANNELS.shutdown, onShutdown));

  const before = await RawClient.connect(port);
  before.write(get('/'));
  const first = await before.response();
  t.equal(first.headers.connection, 'keep-alive', 'before close(): keep-alive');
  t.equal(app.stats().phase, 'serving');

  const closing = app.close({ timeout: 5000, drainDelay: 400 });
  t.equal(app.ready, false, 'ready turns false at once');
  t.equal(app.stats().phase, 'draining');
  t.equal(app.stats().shuttingDown, true);

  // A connection opened during the drain is accepted and served, and told to go.
  const during = await RawClient.connect(port);
  during.write(get('/healthz'));
  const health = await during.response();
  t.equal(health.status, 503, 'the health route reports not ready during the drain');
  t.equal(health.headers.connection, 'close', 'every response in the drain says Connection: close');
  t.equal(await during.waitEnd(2000), 'eof', 'then a clean close');

  // The keep-alive connection opened before close(): idle, so closed gracefully once past the reuse guard.
  t.equal(await before.waitEnd(2000), 'eof', 'an idle keep-alive connection is closed with a FIN, not a reset');
  t.equal(app.stats().phase, 'draining', 'still draining after the idle close');
  t.equal(await connectOutcome(port), 'connected', 'the listener is still open');

  const result = await closing;
  t.equal(app.stats().phase, 'closed');
  t.equal(await connectOutcome(port), 'ECONNREFUSED', 'after the drain the listener is closed');
  t.equal(result.forced, 0);
  t.ok(result.closedGracefully >= 2, `closed gracefully: ${result.closedGracefully}`);
  t.same(phases, ['start', 'listener-close', 'done'], 'the shutdown channel shows the phases in order');
});

t.test('a keep-alive connection busy when the drain starts gets Connection: close on its response', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const { app, port } = await startApp(t, { idleReapGuard: 50 }, (app) => {
    app.get('/slow', async () => {
      await gate;
      return 'slow';
    });
    app.get('/', () => 'hello');
  });
  const client = await RawClient.connect(port);
  client.write(get('/slow'));
  await sleep(50);
  const closing = app.close({ timeout: 5000, drainDelay: 300 });
  release();
  const response = await client.response();
  t.equal(response.body.toString(), 'slow');
  t.equal(response.headers.connection, 'close');
  t.equal(await client.waitEnd(2000), 'eof');
  t.equal((await closing).forced, 0);
});

t.test('without a drainDelay the listener closes at once (as before)', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => app.get('/', () => 'hello'));
  const closing = app.close({ timeout: 1000 });
  t.equal(app.stats().phase, 'closing');
  t.equal(await connectOutcome(port), 'ECONNREFUSED');
  await closing;
  t.equal(app.phase, 'closed');
});

t.test('forceClose() during the drain ends it: the listener closes and what is open is destroyed', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => app.get('/', () => 'hello'));
  const closing = app.close({ timeout: 10_000, drainDelay: 10_000 });
  t.equal(app.phase, 'draining');
  const result = await app.forceClose();
  t.equal(await closing, result);
  t.equal(app.phase, 'closed');
  t.equal(await connectOutcome(port), 'ECONNREFUSED');
});

t.test('stopAccepting() during the drain ends it and close() goes on', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => app.get('/', () => 'hello'));
  const closing = app.close({ timeout: 5000, drainDelay: 5000 });
  app.stopAccepting();
  t.equal(app.phase, 'closing');
  await closing;
  t.equal(await connectOutcome(port), 'ECONNREFUSED');
});

t.test('drainDelay checks: an integer, at most the deadline', async (t) => {
  const { app } = await startApp(t, {}, (app) => app.get('/', () => 'hello'));
  await t.rejects(app.close({ timeout: 100, drainDelay: 200 }), { code: 'ERR_INVALID_OPTION', message: /must not exceed/ });
  await t.rejects(app.close({ drainDelay: -1 }), { code: 'ERR_INVALID_OPTION' });
  await t.rejects(app.close({ drainDelay: 1.5 }), { code: 'ERR_INVALID_OPTION' });
  t.equal(app.phase, 'serving', 'a refused close() changes nothing');
  t.equal(app.ready, true);
  t.throws(() => gracefulShutdown(app, { timeout: 100, drainDelay: 200, exit: false }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => gracefulShutdown(app, { drainDelay: -5, exit: false }), { code: 'ERR_INVALID_OPTION' });
});

t.test('gracefulShutdown({ drainDelay }): the signal starts a drain', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => app.get('/', () => 'hello'));
  let finished!: (info: unknown) => void;
  const done = new Promise((resolve) => { finished = resolve; });
  const dispose = gracefulShutdown(app, { signals: ['SIGUSR2'], timeout: 2000, drainDelay: 200, exit: false, onShutdown: (info) => finished(info) });
  t.teardown(dispose);
  process.kill(process.pid, 'SIGUSR2');
  await sleep(50);
  t.equal(app.phase, 'draining');
  const client = await RawClient.connect(port);
  client.write(get('/'));
  const response = await client.response();
  t.equal(response.status, 200);
  t.equal(response.headers.connection, 'close');
  const info = (await done) as { exitCode: number };
  t.equal(info.exitCode, 0);
  t.equal(app.phase, 'closed');
});

t.test('runCluster() and linger serve check drainDelay and fd before anything starts', async (t) => {
  const { Cluster } = await import('../lib/cluster/index.js');
  const { fileURLToPath } = await import('node:url');
  const { execFile } = await import('node:child_process');
  const app = fileURLToPath(new URL('./fixtures/cluster-app.js', import.meta.url));
  const cli = fileURLToPath(new URL('../bin/linger.js', import.meta.url));
  t.throws(() => new Cluster({ module: app, signals: false, shutdownTimeout: 1000, drainDelay: 2000 }), { code: 'ERR_INVALID_OPTION', message: /drainDelay .* must not exceed shutdownTimeout/ });
  t.throws(() => new Cluster({ module: app, signals: false, fd: 3, port: 3000 }), { code: 'ERR_INVALID_OPTION', message: /fd excludes port and host/ });
  t.throws(() => new Cluster({ module: app, signals: false, fd: -1 }), { code: 'ERR_INVALID_OPTION' });
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(process.execPath, [cli, 'serve', app, '--drain-delay', '5000', '--shutdown-timeout', '1000'], { timeout: 10_000 }, (err, _stdout, stderr) => {
      resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? null, stderr });
    });
  });
  t.equal(r.code, 2, 'a usage error');
  t.match(r.stderr, /--drain-delay \(5000\) must not exceed --shutdown-timeout \(1000\)/);
});
