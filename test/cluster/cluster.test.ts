// The cluster primary and CLI without load: argument errors exit 2, a module that is not an app
// exits 1, crashed workers come back with a doubling delay that resets, a rolling restart
// replaces every pid or is aborted without harm when the new code cannot start.

import { execFile } from 'node:child_process';
import { writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runCluster, type Cluster } from '../../lib/index.js';

const CLI = fileURLToPath(new URL('../../bin/linger.js', import.meta.url));
const APP = fileURLToPath(new URL('../fixtures/cluster-app.js', import.meta.url));
const NOT_AN_APP = fileURLToPath(new URL('../fixtures/not-an-app.js', import.meta.url));

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 20_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function fetchText(port: number, pathname: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: pathname, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function next<T>(c: Cluster, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    c.once(event, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

t.test('CLI: bad arguments print a clear message and exit 2', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /missing command/],
    [['start', APP], /unknown command "start"/],
    [['serve'], /needs the path of an app module/],
    [['serve', '/nonexistent/app.js'], /does not exist/],
    [['serve', APP, '--workers', 'two'], /--workers must be a whole number/],
    [['serve', APP, '--workers', '0'], /--workers must be between 1/],
    [['serve', APP, '--port', '70000'], /--port must be between 0 and 65535/],
    [['serve', APP, '--bogus'], /Unknown option '--bogus'/],
    [['serve', APP, 'extra'], /unexpected argument "extra"/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    t.equal(r.code, 2, `exit 2 for ${JSON.stringify(args)}`);
    t.match(r.stderr, message);
    t.match(r.stderr, /Usage: linger serve/);
  }
  const help = await cli(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /SIGHUP rolling restart/);
});

t.test('CLI: PORT and HOST are honoured like the examples; flags win; bad values exit 2', async (t) => {
  const bad = await cli(['serve', APP], { PORT: 'eighty' });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /PORT must be a whole number, got "eighty"/);
  const range = await cli(['serve', APP], { PORT: '70000' });
  t.equal(range.code, 2);
  t.match(range.stderr, /PORT must be between 0 and 65535/);
  const { spawn } = await import('node:child_process');
  const serveUntilReady = async (args: string[], env: Record<string, string>): Promise<string> => {
    const child = spawn(process.execPath, [CLI, 'serve', APP, '--workers', '1', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const started = Date.now();
    while (!/ready: /.test(out) && child.exitCode === null && Date.now() - started < 15_000) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    t.equal(await exited, 0, 'stopped cleanly');
    return out;
  };
  const port = await freePort();
  const fromEnv = await serveUntilReady([], { PORT: String(port), HOST: '127.0.0.1' });
  t.match(fromEnv, new RegExp(`ready: 1 workers on http://127\\.0\\.0\\.1:${port}/`), 'PORT picked the port');
  const flagPort = await freePort();
  const fromFlag = await serveUntilReady(['--port', String(flagPort)], { PORT: String(port) });
  t.match(fromFlag, new RegExp(`:${flagPort}/`), '--port wins over PORT');
});

t.test('CLI: a module that does not export an app stops the cluster with exit 1', async (t) => {
  const r = await cli(['serve', NOT_AN_APP, '--workers', '1', '--port', '0']);
  t.equal(r.code, 1);
  t.match(r.stderr, /must default-export an app created with createServer\(\)/);
});

t.test('runCluster: options are validated with UsageErrors', async (t) => {
  t.throws(() => runCluster({ module: APP, workers: 0, signals: false }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => runCluster({ module: APP, port: 1.5, signals: false }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => runCluster({ module: '', signals: false }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => runCluster({ module: '/nonexistent.js', signals: false }), { code: 'ERR_MODULE_NOT_FOUND' });
});

t.test('a crashed worker is replaced after a doubling delay, reset once a worker stays up', async (t) => {
  // One worker, so every /crash reaches the one that just started (its uptime is what resets the
  // delay), on a fixed port, which the replacement binds again after the listener closed with it.
  const c = runCluster({ module: APP, workers: 1, port: await freePort(), signals: false, backoff: { initial: 50, max: 200, resetAfter: 1500 } });
  t.teardown(() => c.stop());
  const { port } = await c.ready;
  const delays: number[] = [];
  const pids = new Set<number>();
  for (let i = 0; i < 4; i++) {
    const crashed = next<{ delay: number; code: number }>(c, 'crash');
    const listening = next<{ pid: number }>(c, 'listening');
    await fetchText(port, '/crash');
    const crash = await crashed;
    t.equal(crash.code, 70, 'the exit code of the crash is reported');
    delays.push(crash.delay);
    pids.add((await listening).pid);
  }
  t.same(delays, [50, 100, 200, 200], 'doubling from 50 ms, capped at 200 ms');
  t.equal(pids.size, 4, 'a new process each time');
  await new Promise((resolve) => setTimeout(resolve, 1600));
  const crashed = next<{ delay: number }>(c, 'crash');
  const listening = next(c, 'listening');
  await fetchText(port, '/crash');
  t.equal((await crashed).delay, 50, 'back to the initial delay after the worker stayed up past resetAfter');
  await listening;
  t.match(await fetchText(port, '/pid'), /^\d+$/, 'serving again');
  const result = await c.stop();
  t.same(result, { closedGracefully: result.closedGracefully, forced: 0, failed: 0 });
});

t.test('rolling restart replaces every worker; one whose new code cannot start is aborted and the old ones keep serving', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'linger-cluster-'));
  const marker = path.join(dir, 'fail');
  process.env.LINGER_TEST_FAIL_MARKER = marker;
  t.teardown(() => {
    delete process.env.LINGER_TEST_FAIL_MARKER;
    rmSync(dir, { recursive: true, force: true });
  });
  const c = runCluster({ module: APP, workers: 2, port: 0, signals: false, startTimeout: 10_000 });
  t.teardown(() => c.stop());
  const { port, pids: before } = await c.ready;
  t.equal(before.length, 2);
  await c.restart();
  const after = c.listeningPids;
  t.equal(after.length, 2);
  t.same(after.filter((pid) => before.includes(pid)), [], 'no pid survives a rolling restart');
  writeFileSync(marker, '');
  await t.rejects(c.restart(), /exited before listening.*fail marker present/);
  t.same(c.listeningPids.sort(), [...after].sort(), 'the old workers are untouched');
  t.match(await fetchText(port, '/pid'), /^\d+$/);
  const result = await c.stop();
  t.equal(result.forced, 0);
  t.equal(result.failed, 0);
});

t.test('a stop while the workers are still loading ends them without waiting for any deadline', async (t) => {
  const c = runCluster({ module: APP, workers: 2, port: 0, signals: false, shutdownTimeout: 20_000 });
  const started = Date.now();
  const result = await c.stop();
  const elapsed = Date.now() - started;
  t.same(result, { closedGracefully: 0, forced: 0, failed: 0 }, 'both exited cleanly without serving');
  t.ok(elapsed < 10_000, `stopped in ${elapsed} ms, not after the 20 s deadline plus the kill grace`);
  t.same(c.workers, []);
  await t.rejects(c.ready, /stopped before it was ready/);
});

t.test('CLI: SIGTERM waits for a busy request, a second SIGTERM forces it and the exit code is 1', async (t) => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [CLI, 'serve', APP, '--workers', '1', '--port', '0', '--shutdown-timeout', '20000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = Date.now();
  while (!/ready: .*http:\/\/127\.0\.0\.1:(\d+)/.test(out) && Date.now() - started < 15_000) await new Promise((r) => setTimeout(r, 20));
  const port = Number(/ready: .*http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  const slow = new Promise<string>((resolve) => {
    http.get({ host: '127.0.0.1', port, path: '/slow?ms=15000', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve('complete'));
      res.on('error', (err) => resolve(err.message));
    }).on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(child.exitCode, null, 'still waiting for the busy request');
  const signalled = Date.now();
  child.kill('SIGTERM');
  t.equal(await exited, 1, 'exit 1: a connection was forced');
  t.ok(Date.now() - signalled < 5000, 'right after the second signal, not at the 20 s deadline');
  t.match(out, /stopped: 0 connections closed gracefully, 1 forced/);
  t.not(await slow, 'complete', 'the forced request did not complete');
});
