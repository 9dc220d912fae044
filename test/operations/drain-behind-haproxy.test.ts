// Two `linger serve` instances behind HAProxy (health checks on /healthz every 200 ms, no retries,
// so a refused or cut request reaches the client as an error), wrk load, SIGTERM to one instance:
// with a drainDelay longer than HAProxy's detection time nothing fails; with drainDelay 0 (a plain
// close) the requests HAProxy still routes to the stopping instance fail. The second case is the
// contrast the drain exists for.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { freePort, parseWrk, pidStatus, run, sleep, startCli, which, type CliProcess, type WrkSummary } from './helpers.js';

const WRK = await which('wrk');
const HAPROXY = await which('haproxy');
const missing = [WRK === null ? 'wrk' : null, HAPROXY === null ? 'haproxy' : null].filter((x) => x !== null);

// HAProxy marks a server down after `fall` failed checks `inter` apart: 2 x 200 ms, plus the check
// in flight when the instance turns not ready, so under 600 ms. The drain outlasts it with margin.
const CHECK_INTER_MS = 200;
const DRAIN_MS = 1500;

function haproxyConfig(listenPort: number, upstreams: number[]): string {
  return `global
    maxconn 1024
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout http-keep-alive 10s
    # No retries, no redispatch: a request sent to an instance that refuses or cuts it is an error.
    retries 0
frontend www
    bind 127.0.0.1:${listenPort}
    default_backend linger
backend linger
    balance roundrobin
    http-reuse safe
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    default-server check inter ${CHECK_INTER_MS}ms fall 2 rise 2
${upstreams.map((port, i) => `    server app${i} 127.0.0.1:${port}`).join('\n')}
`;
}

interface Outcome {
  summary: WrkSummary;
  exit: { code: number | null };
  output: string;
}

async function sigtermOneUnderLoad(t: Test, drainDelay: number): Promise<Outcome> {
  const dir = mkdtempSync(path.join(tmpdir(), 'linger-drain-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const upstreams = [await freePort(), await freePort()];
  const listenPort = await freePort();
  writeFileSync(path.join(dir, 'haproxy.cfg'), haproxyConfig(listenPort, upstreams));

  const instances: CliProcess[] = upstreams.map((port) => {
    const cli = startCli(['--workers', '1', '--port', String(port), '--host', '127.0.0.1', '--shutdown-timeout', '5000', '--drain-delay', String(drainDelay)]);
    t.teardown(() => cli.kill('SIGKILL'));
    return cli;
  });
  await Promise.all(instances.map((cli) => cli.waitFor(/ready: /, 15_000)));

  const haproxy = spawn(HAPROXY!, ['-f', path.join(dir, 'haproxy.cfg'), '-db'], { stdio: ['ignore', 'ignore', 'ignore'] });
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
  // Both servers pass `rise` checks before the load starts.
  await sleep(CHECK_INTER_MS * 4);

  const load = run(WRK!, ['-t1', '-c20', '-d4s', '--timeout', '3s', `http://127.0.0.1:${listenPort}/`], 20_000);
  await sleep(1000);
  const [stopped, other] = instances;
  if (stopped === undefined || other === undefined) throw new Error('two linger instances were expected');
  const mark = stopped.output().length;
  stopped.kill('SIGTERM');
  const exit = await stopped.exited;
  const wrk = await load;
  t.equal(wrk.code, 0, wrk.stderr);
  haproxy.kill('SIGUSR1');
  await haproxyExit;
  t.equal(other.child.exitCode, null, 'the other instance kept running');
  return { summary: parseWrk(wrk.stdout), exit, output: stopped.output().slice(mark) };
}

t.test('SIGTERM behind HAProxy with drainDelay longer than its detection: 0 errors, 0 non-2xx', missing.length > 0 ? { skip: `${missing.join(' and ')} not installed (scripts/install-real-clients.sh)` } : {}, async (t) => {
  const { summary, exit, output } = await sigtermOneUnderLoad(t, DRAIN_MS);
  t.match(output, new RegExp(`draining for ${DRAIN_MS} ms`), 'the primary logs the drain');
  t.equal(exit.code, 0, 'the stopped instance exits 0: nothing forced');
  t.ok(summary.requests > 1000, `${summary.requests} requests`);
  t.same(summary.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 }, 'no socket errors');
  t.equal(summary.non2xx, 0, 'no non-2xx: HAProxy answers 502/503 for every request the instance refused or cut');
  t.comment(`drainDelay ${DRAIN_MS}: requests=${summary.requests} socketErrors=${JSON.stringify(summary.socketErrors)} non2xx=${summary.non2xx}`);
});

t.test('the contrast: the same SIGTERM with drainDelay 0 (a plain close) loses requests', missing.length > 0 ? { skip: `${missing.join(' and ')} not installed (scripts/install-real-clients.sh)` } : {}, async (t) => {
  const { summary, exit } = await sigtermOneUnderLoad(t, 0);
  t.equal(exit.code, 0, 'the instance itself closed gracefully');
  const errors = summary.socketErrors.connect + summary.socketErrors.read + summary.socketErrors.write + summary.socketErrors.timeout;
  t.ok(summary.non2xx + errors > 0, `requests routed to the closed listener fail: non2xx=${summary.non2xx} socketErrors=${errors}`);
  t.comment(`drainDelay 0: requests=${summary.requests} socketErrors=${JSON.stringify(summary.socketErrors)} non2xx=${summary.non2xx}`);
});
