// wrk keeps 20 keep-alive connections busy on a 2-worker `linger serve` cluster while two SIGHUP
// rolling restarts replace every worker: not one socket error, timeout or non-2xx response.

import t from 'tap';
import { freePort, parseWrk, rollingRestart, run, sleep, startCli, which, workerPids } from './helpers.js';

const WRK = await which('wrk');

t.test('two rolling restarts under wrk load: zero errors, zero non-2xx, new pids', WRK === null ? { skip: 'wrk is not installed (apt-get install wrk)' } : {}, async (t) => {
  const port = await freePort();
  const cli = startCli(['--workers', '2', '--port', String(port), '--host', '127.0.0.1', '--shutdown-timeout', '10000']);
  t.teardown(() => cli.kill('SIGKILL'));
  const ready = await cli.waitFor(/ready: .*workers ([\d,]+)\)/, 15_000);
  const initial = workerPids(ready[0]);
  t.equal(initial.length, 2, `initial workers ${initial.join(',')}`);

  const load = run(WRK!, ['-t1', '-c20', '-d7s', '--timeout', '5s', `http://127.0.0.1:${port}/`], 25_000);
  await sleep(1500);
  const first = await rollingRestart(cli);
  const second = await rollingRestart(cli);
  const wrk = await load;
  t.equal(wrk.code, 0, wrk.stderr);
  const summary = parseWrk(wrk.stdout);

  const afterFirst = workerPids(first[0]);
  const afterSecond = workerPids(second[0]);
  t.equal(afterSecond.length, 2);
  t.same(afterFirst.filter((pid) => initial.includes(pid)), [], 'the first restart replaced both workers');
  t.same(afterSecond.filter((pid) => initial.includes(pid) || afterFirst.includes(pid)), [], 'the second replaced them again');
  const forcedInRestarts = [first[0], second[0]].reduce((sum, line) => sum + Number(/(\d+) forced/.exec(line)![1]), 0);

  t.ok(summary.requests > 1000, `${summary.requests} requests`);
  t.same(summary.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 }, 'no socket errors or timeouts');
  t.equal(summary.non2xx, 0, 'no non-2xx responses');
  t.equal(forcedInRestarts, 0, 'old workers closed every connection gracefully');

  const stopMark = cli.output().length;
  cli.kill('SIGTERM');
  const exit = await cli.exited;
  t.equal(exit.code, 0, 'the primary exits 0 after a graceful stop');
  const stopped = /stopped: (\d+) connections closed gracefully, (\d+) forced/.exec(cli.output().slice(stopMark));
  t.comment(`rolling restarts under wrk: requests=${summary.requests} socketErrors=${JSON.stringify(summary.socketErrors)} non2xx=${summary.non2xx} ` +
    `forcedInRestarts=${forcedInRestarts} forcedAtStop=${stopped?.[2]} pids ${initial.join(',')} -> ${afterFirst.join(',')} -> ${afterSecond.join(',')}`);
});
