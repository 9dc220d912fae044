// examples/haproxy/linger.cfg as shipped (ports swapped for free ones) in front of a 2-worker
// `linger serve` cluster: wrk load through HAProxy across a rolling restart, not one error.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { freePort, parseWrk, pidStatus, run, sleep, startCli, which, workerPids } from './helpers.js';

const WRK = await which('wrk');
const HAPROXY = await which('haproxy');
const missing = [WRK === null ? 'wrk' : null, HAPROXY === null ? 'haproxy' : null].filter((x) => x !== null);
const EXAMPLE = fileURLToPath(new URL('../../../examples/haproxy/linger.cfg', import.meta.url));


t.test('the HAProxy example config: a rolling restart under wrk load through it, zero errors', missing.length > 0 ? { skip: `${missing.join(' and ')} not installed (apt-get install ${missing.join(' ')})` } : {}, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'linger-haproxy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const upstreamPort = await freePort();
  const listenPort = await freePort();
  const example = readFileSync(EXAMPLE, 'utf8');
  t.match(example, /bind 127\.0\.0\.1:8080/);
  t.match(example, /server app1 127\.0\.0\.1:3000/);
  // Per-request log lines to stdout would be hundreds of thousands here: logging off, the rest as shipped.
  const config = example
    .replace('bind 127.0.0.1:8080', `bind 127.0.0.1:${listenPort}`)
    .replace('server app1 127.0.0.1:3000', `server app1 127.0.0.1:${upstreamPort}`)
    .replace(/^\s*log stdout.*$/m, '')
    .replace(/^\s*option httplog\s*$/m, '');
  writeFileSync(path.join(dir, 'haproxy.cfg'), config);

  const cli = startCli(['--workers', '2', '--port', String(upstreamPort), '--host', '127.0.0.1', '--shutdown-timeout', '10000']);
  t.teardown(() => cli.kill('SIGKILL'));
  const ready = await cli.waitFor(/ready: .*workers ([\d,]+)\)/, 15_000);
  const initial = workerPids(ready[0]);

  const haproxy = spawn(HAPROXY!, ['-f', path.join(dir, 'haproxy.cfg'), '-db'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const haproxyExit = once(haproxy, 'exit');
  t.teardown(() => {
    if (haproxy.exitCode === null) haproxy.kill('SIGKILL');
  });
  let up = false;
  for (let i = 0; i < 50 && !up; i++) {
    up = (await pidStatus(listenPort)) === 200;
    if (!up) await sleep(100);
  }
  t.ok(up, 'HAProxy proxies to linger');

  const load = run(WRK!, ['-t1', '-c20', '-d5s', '--timeout', '5s', `http://127.0.0.1:${listenPort}/`], 20_000);
  await sleep(1500);
  const mark = cli.output().length;
  cli.kill('SIGHUP');
  const restart = await cli.waitFor(/rolling restart done: .*\n/, 8_000, mark);
  const wrk = await load;
  t.equal(wrk.code, 0, wrk.stderr);
  const summary = parseWrk(wrk.stdout);
  haproxy.kill('SIGUSR1'); // soft stop
  await haproxyExit;

  const after = workerPids(restart[0]);
  t.same(after.filter((pid) => initial.includes(pid)), [], 'both workers replaced');
  t.ok(summary.requests > 1000, `${summary.requests} requests`);
  t.same(summary.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 }, 'no socket errors');
  t.equal(summary.non2xx, 0, 'no non-2xx (HAProxy answers 502/503 when it loses a request)');
  cli.kill('SIGTERM');
  t.equal((await cli.exited).code, 0);
  t.comment(`HAProxy example: requests=${summary.requests} socketErrors=${JSON.stringify(summary.socketErrors)} non2xx=${summary.non2xx} ` +
    `forcedInRestart=${/(\d+) forced/.exec(restart[0])?.[1]}`);
});
