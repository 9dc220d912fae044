// SIGUSR2 upgrades `linger serve`'s primary in place: a new primary (fresh node, the app module
// read again from disk) takes over the listening socket, and the old one stops once the new one is
// ready. Twice in a row under wrk load with a changed app each time: no socket error, no non-2xx,
// new pids, the pid file following, responses switching to the new app. And an app that throws at
// start: the upgrade is abandoned and the old primary keeps serving.

import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { freePort, parseWrk, run, sleep, startCli, which, type CliProcess } from './helpers.js';

const WRK = await which('wrk');
const LINGER = fileURLToPath(new URL('../../lib/index.js', import.meta.url));

/** The app module as a deploy would change it: the version shows in a response header. */
function appSource(version: string, throwAtStart = false): string {
  return `import { createServer } from ${JSON.stringify(LINGER)};
${throwAtStart ? "throw new Error('broken deploy: the app throws at start');" : ''}
const app = createServer();
const PAD = 'x'.repeat(1024);
app.get('/', (req, res) => {
  res.setHeader('x-app-version', ${JSON.stringify(version)});
  return PAD + 'pid ' + process.pid + '\\n';
});
export default app;
`;
}

function get(port: number): Promise<{ status: number; version: string | undefined }> {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, version: res.headers['x-app-version'] as string | undefined }));
    }).on('error', () => resolve({ status: 0, version: undefined }));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

/** Like cli.waitFor, but past the exit of the first primary: later ones write to the same pipe. */
async function waitOutput(cli: CliProcess, pattern: RegExp, ms: number, from: number): Promise<RegExpExecArray> {
  let m: RegExpExecArray | null = null;
  await until(() => (m = pattern.exec(cli.output().slice(from))) !== null, ms);
  if (m === null) throw new Error(`no ${pattern} within ${ms} ms: ${cli.output().slice(from)}`);
  return m;
}

async function setup(t: Test): Promise<{ dir: string; appPath: string; pidFile: string; port: number; cli: CliProcess; pids: Set<number> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'linger-upgrade-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const appPath = path.join(dir, 'app.js');
  writeFileSync(appPath, appSource('1'));
  const pidFile = path.join(dir, 'linger.pid');
  const port = await freePort();
  const cli = startCli(['--workers', '2', '--port', String(port), '--host', '127.0.0.1', '--shutdown-timeout', '5000', '--pid-file', pidFile, '--upgrade-timeout', '15000'], {}, appPath);
  // Primaries started by an upgrade are not our children: every pid seen is killed at the end.
  const pids = new Set<number>([cli.child.pid!]);
  t.teardown(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  await cli.waitFor(/ready: /, 15_000);
  return { dir, appPath, pidFile, port, cli, pids };
}

// Keep-alive connections, and a new connection per request: those keep arriving while the old
// primary leaves the shared socket, where a connection it accepted but did not hand over was lost.
for (const mode of [{ name: 'keep-alive', args: [] as string[] }, { name: 'a new connection per request', args: ['-H', 'Connection: close'] }]) {
  t.test(`two SIGUSR2 upgrades in a row under wrk load, ${mode.name}: 0 socket errors, 0 non-2xx, the new app serving`, WRK === null ? { skip: 'wrk not installed (scripts/install-real-clients.sh)' } : {}, async (t) => {
    const { appPath, pidFile, port, cli, pids } = await setup(t);
    let primary = cli.child.pid!;
    t.equal(readFileSync(pidFile, 'utf8').trim(), String(primary), 'the pid file names the primary');
    t.equal((await get(port)).version, '1');

    const load = run(WRK!, ['-t1', '-c20', '-d8s', '--timeout', '4s', ...mode.args, `http://127.0.0.1:${port}/`], 25_000);
    const primaries = [primary];
    for (const version of ['2', '3']) {
      await sleep(1000);
      writeFileSync(appPath, appSource(version));
      const mark = cli.output().length;
      process.kill(primary, 'SIGUSR2');
      const done = await waitOutput(cli, new RegExp(`upgrade: new primary (\\d+) ready \\(workers [\\d,]+\\); stopping primary ${primary}`), 15_000, mark);
      const next = Number(done[1]);
      pids.add(next);
      t.not(next, primary, `upgrade to ${version}: a new primary`);
      t.ok(await until(() => !alive(primary), 10_000), `the old primary ${primary} exited`);
      t.equal(readFileSync(pidFile, 'utf8').trim(), String(next), 'the pid file names the new primary');
      t.ok(await until(async () => (await get(port)).version === version, 5_000), `responses come from app version ${version}`);
      primary = next;
      primaries.push(next);
    }
    const wrk = await load;
    t.equal(wrk.code, 0, wrk.stderr);
    const summary = parseWrk(wrk.stdout);
    t.equal((await cli.exited).code, 0, 'the first primary exited 0: nothing forced');
    t.equal(new Set(primaries).size, 3, `three primaries: ${primaries.join(' -> ')}`);
    t.ok(summary.requests > 1000, `${summary.requests} requests`);
    t.same(summary.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 }, 'no socket errors');
    t.equal(summary.non2xx, 0, 'no non-2xx');
    t.comment(`two upgrades under load, ${mode.name}: requests=${summary.requests} socketErrors=${JSON.stringify(summary.socketErrors)} non2xx=${summary.non2xx} primaries=${primaries.join('->')}`);

    const mark = cli.output().length;
    process.kill(primary, 'SIGTERM');
    await waitOutput(cli, /stopped: \d+ connections closed gracefully, 0 forced, 0 workers failed/, 10_000, mark);
    t.ok(await until(() => !alive(primary), 10_000), 'the last primary stops on SIGTERM');
    t.ok(await until(() => { try { readFileSync(pidFile); return false; } catch { return true; } }, 2_000), 'and removes its pid file');
  });
}

t.test('an upgrade to an app that throws at start is abandoned; the old primary keeps serving', async (t) => {
  const { appPath, pidFile, port, cli } = await setup(t);
  const primary = cli.child.pid!;
  writeFileSync(appPath, appSource('2', true));
  const mark = cli.output().length;
  process.kill(primary, 'SIGUSR2');
  const abandoned = await cli.waitFor(/upgrade abandoned: the new primary (\d+) exited before it was ready \(code (\d+), signal null\); primary (\d+) keeps serving/, 15_000, mark);
  t.equal(abandoned[2], '1', 'the new primary exits 1');
  t.equal(Number(abandoned[3]), primary);
  t.match(cli.output().slice(mark), /worker could not start: .*broken deploy/, 'the log says why the new primary failed');
  t.equal(cli.child.exitCode, null, 'the old primary is still running');
  const after = await get(port);
  t.same(after, { status: 200, version: '1' }, 'and still serving the old app');
  t.equal(readFileSync(pidFile, 'utf8').trim(), String(primary), 'the pid file still names it');

  // A later good deploy still upgrades.
  writeFileSync(appPath, appSource('3'));
  const mark2 = cli.output().length;
  process.kill(primary, 'SIGUSR2');
  await cli.waitFor(/upgrade: new primary (\d+) ready/, 15_000, mark2).then((m) => {
    const next = Number(m[1]);
    t.teardown(() => { if (alive(next)) process.kill(next, 'SIGKILL'); });
  });
  t.equal((await cli.exited).code, 0);
  t.ok(await until(async () => (await get(port)).version === '3', 5_000), 'the retried upgrade serves the new app');
  const final = Number(readFileSync(pidFile, 'utf8').trim());
  process.kill(final, 'SIGTERM');
  t.ok(await until(() => !alive(final), 10_000));
});
