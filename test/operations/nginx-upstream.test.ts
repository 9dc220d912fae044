// nginx in front of a 2-worker `linger serve` cluster with upstream keep-alive, linger's idle
// timeout cut to 1 s and nginx's upstream keepalive_timeout just below it, under wrk load that
// leaves upstream connections idle around both timeouts, plus two rolling restarts: zero 502s.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { freePort, parseWrk, pidStatus, rollingRestart, run, sleep, startCli, which, workerPids } from './helpers.js';

const WRK = await which('wrk');
const NGINX = await which('nginx');
const missing = [WRK === null ? 'wrk' : null, NGINX === null ? 'nginx' : null].filter((x) => x !== null);

// linger closes a connection idle for keepAliveTimeout; its timers run on a cached clock that is
// exact to one sweeper tick (timeout / 8 = 125 ms here), so the real idle time before the close is
// 875-1125 ms. nginx must give up on an idle upstream connection before that: 800 ms.
const LINGER_KEEPALIVE_MS = 1000;
const NGINX_KEEPALIVE_MS = Number(process.env.LINGER_OPS_NGINX_KEEPALIVE_MS ?? 800);

function nginxConfig(dir: string, listenPort: number, upstreamPort: number): string {
  return `worker_processes 1;
events { worker_connections 1024; }
http {
  log_format status '$status $upstream_status $request_time';
  access_log ${dir}/access.log status;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  upstream linger {
    server 127.0.0.1:${upstreamPort};
    keepalive 16;
    keepalive_timeout ${NGINX_KEEPALIVE_MS}ms;
    keepalive_requests 100000;
  }
  # The same linger port with a pool of its own: only the delayed client uses it, so these
  # upstream connections really sit idle around the timeouts instead of being kept hot.
  upstream linger_idle {
    server 127.0.0.1:${upstreamPort};
    keepalive 32;
    keepalive_timeout ${NGINX_KEEPALIVE_MS}ms;
    keepalive_requests 100000;
  }
  server {
    listen 127.0.0.1:${listenPort};
    location /idle/ {
      proxy_pass http://linger_idle/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream off;
    }
    keepalive_requests 100000;
    location / {
      proxy_pass http://linger;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # No retry on another connection: a request lost to a close race must show up as a 502
      # here, not be hidden by nginx's silent retry of a failed cached connection.
      proxy_next_upstream off;
    }
  }
}
`;
}

// Each connection waits 750-1250 ms between requests, so its upstream connection sits idle right
// around both keep-alive timeouts.
const DELAY_LUA = `math.randomseed(os.time())
function delay()
  return math.random(750, 1250)
end
`;


t.test('nginx upstream keep-alive racing a 1 s linger idle timeout, with rolling restarts: zero 502', missing.length > 0 ? { skip: `${missing.join(' and ')} not installed (apt-get install ${missing.join(' ')})` } : {}, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'linger-nginx-'));
  // nginx started as root runs its workers as an unprivileged user, which must reach the temp paths.
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'tmp'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const upstreamPort = await freePort();
  const listenPort = await freePort();
  writeFileSync(path.join(dir, 'nginx.conf'), nginxConfig(dir, listenPort, upstreamPort));
  writeFileSync(path.join(dir, 'delay.lua'), DELAY_LUA);

  const cli = startCli(['--workers', '2', '--port', String(upstreamPort), '--host', '127.0.0.1', '--shutdown-timeout', '10000'],
    { LINGER_TEST_KEEPALIVE_MS: String(LINGER_KEEPALIVE_MS) });
  t.teardown(() => cli.kill('SIGKILL'));
  const ready = await cli.waitFor(/ready: .*workers ([\d,]+)\)/, 15_000);
  const initial = workerPids(ready[0]);

  const nginx = spawn(NGINX!, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', `daemon off; pid ${dir}/nginx.pid; error_log ${dir}/err.log;`], { stdio: ['ignore', 'inherit', 'inherit'] });
  const nginxExit = once(nginx, 'exit');
  t.teardown(() => {
    if (nginx.exitCode === null) nginx.kill('SIGKILL');
  });
  let up = false;
  for (let i = 0; i < 50 && !up; i++) {
    up = (await pidStatus(listenPort)) === 200;
    if (!up) await sleep(100);
  }
  t.ok(up, 'nginx proxies to linger');

  const url = `http://127.0.0.1:${listenPort}/`;
  const steady = run(WRK!, ['-t1', '-c12', '-d7s', '--timeout', '5s', url], 25_000);
  const idling = run(WRK!, ['-t1', '-c24', '-d7s', '--timeout', '5s', '-s', path.join(dir, 'delay.lua'), `${url}idle/`], 25_000);
  await sleep(1500);
  const first = await rollingRestart(cli);
  const second = await rollingRestart(cli);
  const [a, b] = await Promise.all([steady, idling]);
  t.equal(a.code, 0, a.stderr);
  t.equal(b.code, 0, b.stderr);
  const sa = parseWrk(a.stdout);
  const sb = parseWrk(b.stdout);

  nginx.kill('SIGQUIT');
  await nginxExit;
  const log = readFileSync(path.join(dir, 'access.log'), 'latin1').trim().split('\n');
  const statuses = new Map<string, number>();
  for (const line of log) {
    // The log_format above starts each line with $status; a line that does not is counted as such.
    const code = /^(\d{3}) /.exec(line)?.[1] ?? 'unparsed';
    statuses.set(code, (statuses.get(code) ?? 0) + 1);
  }
  const errorLog = readFileSync(path.join(dir, 'err.log'), 'latin1');
  const upstreamErrors = (errorLog.match(/upstream prematurely closed|reset by peer|broken pipe/g) ?? []).length;
  const count502 = statuses.get('502') ?? 0;
  // 499: wrk closed a connection with a request in flight when its duration ended; the client's
  // doing, counted apart.
  const clientClosed = statuses.get('499') ?? 0;
  const non200 = log.length - (statuses.get('200') ?? 0) - clientClosed;

  const afterSecond = workerPids(second[0]);
  t.same(afterSecond.filter((pid) => initial.includes(pid) || workerPids(first[0]).includes(pid)), [], 'every worker was replaced twice');
  t.ok(sb.requests > 60, `${sb.requests} requests on connections that idle around the timeouts`);
  t.equal(count502, 0, '502s in the nginx access log');
  t.equal(non200, 0, `every proxied response was a 200 (statuses ${JSON.stringify(Object.fromEntries(statuses))})`);
  t.equal(sa.non2xx + sb.non2xx, 0, 'wrk saw no non-2xx');
  t.same([sa.socketErrors, sb.socketErrors], [{ connect: 0, read: 0, write: 0, timeout: 0 }, { connect: 0, read: 0, write: 0, timeout: 0 }], 'wrk saw no socket errors');
  t.equal(upstreamErrors, 0, 'nginx logged no upstream close or reset');

  const stopMark = cli.output().length;
  cli.kill('SIGTERM');
  const exit = await cli.exited;
  t.equal(exit.code, 0);
  const forcedInRestarts = [first[0], second[0]].reduce((sum, line) => sum + Number(/(\d+) forced/.exec(line)![1]), 0);
  const stopped = /stopped: (\d+) connections closed gracefully, (\d+) forced/.exec(cli.output().slice(stopMark));
  t.comment(`nginx (upstream keepalive_timeout ${NGINX_KEEPALIVE_MS} ms, linger keepAliveTimeout ${LINGER_KEEPALIVE_MS} ms): ` +
    `requests=${log.length} (steady ${sa.requests}, idling ${sb.requests}) 502=${count502} non200=${non200} clientClosed499=${clientClosed} ` +
    `upstreamErrors=${upstreamErrors} wrkSocketErrors=${JSON.stringify([sa.socketErrors, sb.socketErrors])} forcedInRestarts=${forcedInRestarts} forcedAtStop=${stopped?.[2]}`);
});

t.test('the nginx example config as shipped proxies to the cluster, /healthz included', missing.length > 0 ? { skip: `${missing.join(' and ')} not installed (apt-get install ${missing.join(' ')})` } : {}, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'linger-nginx-example-'));
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'tmp'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const upstreamPort = await freePort();
  const listenPort = await freePort();
  const example = readFileSync(fileURLToPath(new URL('../../../examples/nginx/linger.conf', import.meta.url)), 'utf8');
  t.match(example, /listen 80;/);
  t.match(example, /server 127\.0\.0\.1:3000 /);
  writeFileSync(path.join(dir, 'linger.conf'), example
    .replace('listen 80;', `listen 127.0.0.1:${listenPort};`)
    .replace('server 127.0.0.1:3000 ', `server 127.0.0.1:${upstreamPort} `));
  writeFileSync(path.join(dir, 'nginx.conf'), `worker_processes 1;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  include ${dir}/linger.conf;
}
`);
  const cli = startCli(['--workers', '2', '--port', String(upstreamPort), '--host', '127.0.0.1']);
  t.teardown(() => cli.kill('SIGKILL'));
  await cli.waitFor(/ready: /, 15_000);
  const nginx = spawn(NGINX!, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', `daemon off; pid ${dir}/nginx.pid; error_log ${dir}/err.log;`], { stdio: ['ignore', 'inherit', 'inherit'] });
  const nginxExit = once(nginx, 'exit');
  t.teardown(() => {
    if (nginx.exitCode === null) nginx.kill('SIGKILL');
  });
  let code = 0;
  for (let i = 0; i < 50 && code !== 200; i++) {
    code = await pidStatus(listenPort);
    if (code !== 200) await sleep(100);
  }
  t.equal(code, 200, 'a request through the example config is answered');
  const health = await new Promise<string>((resolve) => {
    http.get({ host: '127.0.0.1', port: listenPort, path: '/healthz', agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    }).on('error', (err) => resolve(err.message));
  });
  t.equal(health, '200 ok', '/healthz through nginx');
  nginx.kill('SIGQUIT');
  await nginxExit;
  cli.kill('SIGTERM');
  t.equal((await cli.exited).code, 0);
});
