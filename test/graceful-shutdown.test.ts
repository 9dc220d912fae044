// gracefulShutdown(): signals start a graceful close, a second signal forces it, the exit code
// says which; option validation; the disposer removes exactly its listeners.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createServer, gracefulShutdown, EXIT_CODES, type ShutdownInfo } from '../lib/index.js';
import { get, RawClient, sleep } from './helpers/raw-client.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/shutdown-app.js', import.meta.url));

interface Child {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

async function startChild(shutdownTimeout: number): Promise<Child> {
  const child = spawn(process.execPath, [FIXTURE], { env: { ...process.env, SHUTDOWN_TIMEOUT: String(shutdownTimeout) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => { out += chunk; });
  let signalledAt = 0;
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, ms: Date.now() - signalledAt }));
  const started = Date.now();
  while (!/port (\d+)/.test(out)) {
    if (Date.now() - started > 10_000 || child.exitCode !== null) throw new Error(`fixture did not start: ${out}`);
    await sleep(20);
  }
  const port = Number(/port (\d+)/.exec(out)![1]);
  const kill = child.kill.bind(child);
  child.kill = (signal?: NodeJS.Signals | number) => {
    if (signalledAt === 0) signalledAt = Date.now();
    return kill(signal);
  };
  return { child, port, output: () => out, exited };
}

/** The ShutdownInfo the fixture prints as `shutdown {json}` once it has closed. */
function shutdownInfo(output: string): ShutdownInfo {
  const json = /shutdown (.*)/.exec(output)?.[1];
  if (json === undefined) throw new Error(`the fixture printed no shutdown line: ${output}`);
  return JSON.parse(json) as ShutdownInfo;
}

t.test('SIGTERM: the in-flight request completes, then exit 0', async (t) => {
  const c = await startChild(5000);
  t.teardown(() => { if (c.child.exitCode === null) c.child.kill('SIGKILL'); });
  const client = await RawClient.connect(c.port);
  client.write(get('/slow?ms=300'));
  await sleep(50);
  c.child.kill('SIGTERM');
  const response = await client.response();
  t.equal(response.body.toString(), 'slept 300');
  t.equal(response.headers.connection, 'close');
  const exit = await c.exited;
  t.equal(exit.code, EXIT_CODES.graceful);
  const info = shutdownInfo(c.output());
  t.match(info, { signal: 'SIGTERM', forcedBySignal: false, exitCode: 0, result: { forced: 0, closedGracefully: 1 } });
  client.destroy();
});

t.test('SIGINT with a request outlasting the deadline: it is forced, exit 1', async (t) => {
  const c = await startChild(200);
  t.teardown(() => { if (c.child.exitCode === null) c.child.kill('SIGKILL'); });
  const client = await RawClient.connect(c.port);
  client.write(get('/slow?ms=5000'));
  await sleep(50);
  c.child.kill('SIGINT');
  const exit = await c.exited;
  t.equal(exit.code, EXIT_CODES.forced);
  t.ok(exit.ms < 4000, `exited ${exit.ms} ms after the signal, long before the 5 s handler`);
  t.match(c.output(), /"forced":1/);
  client.destroy();
});

t.test('a second SIGTERM destroys what is left at once, exit 1', async (t) => {
  const c = await startChild(20_000);
  t.teardown(() => { if (c.child.exitCode === null) c.child.kill('SIGKILL'); });
  const client = await RawClient.connect(c.port);
  client.write(get('/slow?ms=10000'));
  await sleep(50);
  c.child.kill('SIGTERM');
  await sleep(200);
  t.equal(c.child.exitCode, null, 'still waiting for the busy request after the first signal');
  c.child.kill('SIGTERM');
  const exit = await c.exited;
  t.equal(exit.code, EXIT_CODES.forced);
  t.ok(exit.ms < 5000, `exited ${exit.ms} ms after the first signal, not at the 20 s deadline`);
  const info = shutdownInfo(c.output());
  t.match(info, { forcedBySignal: true, result: { forced: 1 } });
  client.destroy();
});

t.test('the same signal delivered twice at once (process and process group) is one request, not a force', async (t) => {
  const app = createServer({ idleReapGuard: 10 });
  app.get('/slow', async () => {
    await sleep(300);
    return 'slow done';
  });
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  const seen: ShutdownInfo[] = [];
  const dispose = gracefulShutdown(app, { signals: ['SIGUSR2'], exit: false, timeout: 5000, onShutdown: (info) => { seen.push(info); } });
  t.teardown(dispose);
  const client = await RawClient.connect(port);
  client.write(get('/slow'));
  await sleep(50);
  // What `timeout` does: the signal to the process, then to its group, microseconds apart.
  process.emit('SIGUSR2', 'SIGUSR2');
  process.emit('SIGUSR2', 'SIGUSR2');
  const response = await client.response();
  t.equal(response.body.toString(), 'slow done', 'the in-flight request completes');
  const started = Date.now();
  while (seen.length === 0 && Date.now() - started < 3000) await sleep(10);
  t.match(seen, [{ forcedBySignal: false, exitCode: 0, result: { forced: 0 } }]);
  client.destroy();
});

t.test('exit: false runs onShutdown with the result and leaves the process alone; the disposer removes listeners', async (t) => {
  const app = createServer({ idleReapGuard: 10 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const before = process.listenerCount('SIGUSR2');
  const seen: ShutdownInfo[] = [];
  const dispose = gracefulShutdown(app, { signals: ['SIGUSR2'], exit: false, timeout: 1000, onShutdown: (info) => { seen.push(info); } });
  t.equal(process.listenerCount('SIGUSR2'), before + 1);
  process.emit('SIGUSR2', 'SIGUSR2');
  t.equal(app.ready, false, 'close() started synchronously on the signal');
  const started = Date.now();
  while (seen.length === 0 && Date.now() - started < 3000) await sleep(10);
  t.match(seen, [{ signal: 'SIGUSR2', exitCode: 0, result: { forced: 0 } }]);
  dispose();
  t.equal(process.listenerCount('SIGUSR2'), before);
});

t.test('bad options are UsageErrors with code ERR_INVALID_OPTION', async (t) => {
  const app = createServer();
  const listenersBefore = process.listenerCount('SIGTERM');
  const bad: unknown[] = [
    { signals: [] },
    { signals: ['SIGNOPE'] },
    { signals: ['SIGKILL'] },
    { signals: 'SIGTERM' },
    { timeout: -1 },
    { timeout: Number.NaN },
    { timeout: '10' },
    { exit: 'yes' },
    { onShutdown: 42 },
    null,
  ];
  for (const options of bad) {
    t.throws(() => gracefulShutdown(app, options as never), { name: 'UsageError', code: 'ERR_INVALID_OPTION' }, JSON.stringify(options));
  }
  t.throws(() => gracefulShutdown({} as never), { code: 'ERR_INVALID_OPTION' }, 'not a server');
  t.equal(process.listenerCount('SIGTERM'), listenersBefore, 'a rejected call installs nothing');
});
