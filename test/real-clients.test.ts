// Real clients against a real server: ab -k (HTTP/1.0 keep-alive), curl (connection reuse, HTTP/1.0,
// raw pipelined bytes through telnet://) and wrk (keep-alive and pipelined load). Installed by
// scripts/install-real-clients.sh; required under CI, skipped with a message locally.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { buildHelloApp } from '../examples/hello.js';

const PIPELINE_LUA = fileURLToPath(new URL('../../benchmarks/pipeline.lua', import.meta.url));

function run(cmd: string, args: string[], options: { timeout?: number; input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: options.timeout ?? 30_000, maxBuffer: 16 * 1024 * 1024, encoding: 'latin1' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

async function have(binary: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${binary}`])).code === 0;
}

const INSTALLED = {
  ab: await have('ab'),
  curl: await have('curl'),
  wrk: await have('wrk'),
};

/** Missing clients skip locally with a visible reason; under CI they run and fail (the install script must have provided them). */
function needs(binary: keyof typeof INSTALLED): { skip?: string } {
  return INSTALLED[binary] || process.env.CI ? {} : { skip: `${binary} not installed: run scripts/install-real-clients.sh` };
}

async function requireClient(t: Test, binary: keyof typeof INSTALLED): Promise<boolean> {
  if (INSTALLED[binary]) return true;
  t.fail(`${binary} is not installed: scripts/install-real-clients.sh should have installed it`);
  return false;
}

async function startHello(options: Parameters<typeof buildHelloApp>[0] = {}) {
  const app = buildHelloApp(options);
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${port}`, port };
}

t.test('ab -k: HTTP/1.0 keep-alive, every request on a reused connection', needs('ab'), async (t) => {
  if (!(await requireClient(t, 'ab'))) return;
  const { app, url } = await startHello();
  t.teardown(() => app.close({ timeout: 1000 }));
  const r = await run('ab', ['-q', '-k', '-n', '2000', '-c', '10', `${url}/`]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /Complete requests:\s+2000\b/);
  t.match(r.stdout, /Failed requests:\s+0\b/);
  t.match(r.stdout, /Keep-Alive requests:\s+2000\b/);
  t.notMatch(r.stdout, /Non-2xx responses/);
  const stats = app.stats();
  t.ok(stats.connections.accepted <= 12, `ab opened ${stats.connections.accepted} connections for 2000 requests`);
  t.ok(stats.requests.reused >= 1988, `reused ${stats.requests.reused}`);
});

t.test('ab -k against a per-connection limit: reconnects after Connection: close, nothing fails', needs('ab'), async (t) => {
  if (!(await requireClient(t, 'ab'))) return;
  const { app, url } = await startHello({ maxRequestsPerSocket: 100 });
  t.teardown(() => app.close({ timeout: 1000 }));
  const r = await run('ab', ['-q', '-k', '-n', '1000', '-c', '4', `${url}/`]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /Failed requests:\s+0\b/);
  t.match(r.stdout, /Complete requests:\s+1000\b/);
  const stats = app.stats();
  t.ok(stats.connections.accepted >= 10, `${stats.connections.accepted} connections for 1000 requests at 100 per connection`);
  // The last few connections end when ab exits, before reaching the limit.
  t.ok(stats.closes['max-requests'] >= 6, `${stats.closes['max-requests']} closed by the limit`);
});

t.test('curl: several URLs share one connection; HTTP/1.0 keep-alive; max counts down to close', needs('curl'), async (t) => {
  if (!(await requireClient(t, 'curl'))) return;
  const { app, url } = await startHello();
  t.teardown(() => app.close({ timeout: 1000 }));
  const reuse = await run('curl', ['-s', '-w', '%{num_connects} %{http_code}\\n',
    '-o', '/dev/null', `${url}/`, '-o', '/dev/null', `${url}/users/1`, '-o', '/dev/null', `${url}/`]);
  t.equal(reuse.code, 0, reuse.stderr);
  t.same(reuse.stdout.trim().split('\n'), ['1 200', '0 200', '0 200'], 'one connect, then reuse');

  const old = await run('curl', ['-s', '-v', '-o', '/dev/null', '--http1.0', '-H', 'Connection: keep-alive', `${url}/`, `${url}/`]);
  t.equal(old.code, 0, old.stderr);
  t.match(old.stderr, /< Connection: keep-alive/i);
  t.match(old.stderr, /< Keep-Alive: timeout=60, max=\d+/i);
  t.match(old.stderr, /Re-using existing connection|Reusing existing/i, 'curl reused the HTTP/1.0 connection');

  const limited = await startHello({ maxRequestsPerSocket: 2 });
  t.teardown(() => limited.app.close({ timeout: 1000 }));
  const counted = await run('curl', ['-s', '-i', `${limited.url}/`, `${limited.url}/`, `${limited.url}/`]);
  t.equal(counted.code, 0, counted.stderr);
  const connectionHeaders = [...counted.stdout.matchAll(/^(Connection|Keep-Alive): (.*)\r$/gim)].map((m) => `${m[1]}: ${m[2]}`);
  t.same(connectionHeaders, [
    'Connection: keep-alive', 'Keep-Alive: timeout=60, max=1',
    'Connection: close',
    'Connection: keep-alive', 'Keep-Alive: timeout=60, max=1',
  ], 'max counts down, the last allowed response closes, curl reconnects');
});

t.test('curl telnet://: raw pipelined requests are answered in order', needs('curl'), async (t) => {
  if (!(await requireClient(t, 'curl'))) return;
  const { app, port } = await startHello();
  t.teardown(() => app.close({ timeout: 1000 }));
  const requests =
    'GET /users/1 HTTP/1.1\r\nHost: x\r\n\r\n' +
    'GET /users/2 HTTP/1.1\r\nHost: x\r\n\r\n' +
    'GET /users/3 HTTP/1.1\r\nHost: x\r\n\r\n' +
    'GET /users/4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const r = await run('curl', ['-s', '--max-time', '5', `telnet://127.0.0.1:${port}`], { input: requests });
  const bodies = [...r.stdout.matchAll(/\{"id":"(\d)"\}/g)].map((m) => m[1]);
  t.same(bodies, ['1', '2', '3', '4'], 'four responses, in request order');
  t.equal((r.stdout.match(/HTTP\/1\.1 200 OK/g) ?? []).length, 4);
  t.match(r.stdout, /Connection: close\r\n[^]*\{"id":"4"\}$/, 'the last one closes and nothing follows it');
});

function wrkRequests(output: string): number {
  const m = /(\d+) requests in/.exec(output);
  return m === null ? 0 : Number(m[1]);
}

t.test('wrk: keep-alive and pipelined (depth 16) load without a single error', needs('wrk'), async (t) => {
  if (!(await requireClient(t, 'wrk'))) return;
  const { app, url } = await startHello();
  t.teardown(() => app.close({ timeout: 1000 }));
  const plain = await run('wrk', ['-t1', '-c50', '-d2s', `${url}/`], { timeout: 20_000 });
  t.equal(plain.code, 0, plain.stderr);
  t.notMatch(plain.stdout, /Socket errors/, 'no socket errors');
  t.notMatch(plain.stdout, /Non-2xx/, 'no non-2xx responses');
  t.ok(wrkRequests(plain.stdout) > 1000, `keep-alive: ${wrkRequests(plain.stdout)} requests`);

  const piped = await run('wrk', ['-t1', '-c10', '-d2s', '-s', PIPELINE_LUA, `${url}/`, '--', '16'], { timeout: 20_000 });
  t.equal(piped.code, 0, piped.stderr);
  t.notMatch(piped.stdout, /Socket errors/, 'no socket errors while pipelining');
  t.notMatch(piped.stdout, /Non-2xx/, 'no non-2xx responses while pipelining');
  t.ok(wrkRequests(piped.stdout) > 1000, `pipelined: ${wrkRequests(piped.stdout)} requests`);
  t.ok(app.stats().protocolErrors === 0, 'the server saw no protocol error');
});
