#!/usr/bin/env node
// The linger command: `linger serve app.js --workers 2 --port 3000` runs an app module on a
// cluster with rolling restarts (SIGHUP), graceful stop (SIGTERM/SIGINT) and in-place upgrade of
// the primary itself (SIGUSR2).

import { spawn } from 'node:child_process';
import cluster from 'node:cluster';
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCluster, type Cluster } from '../lib/cluster/index.js';
import { isUpgradeReady, listeningSocketFd, UPGRADE_FD, UPGRADE_FD_ENV, type UpgradeReady } from '../lib/cluster/upgrade.js';
import { inheritedListenFds } from '../lib/socket-activation.js';

const USAGE = `Usage: linger serve <module> [options]

  <module>                   a module whose default export is an app from createServer(), not listening
  -w, --workers <n>          worker processes (default: number of CPUs)
  -p, --port <n>             port the workers share (default $PORT, else 3000; 0 picks a free one)
      --host <address>       address to listen on (default $HOST, else 127.0.0.1)
      --fd <n>               serve a listening socket inherited as descriptor n instead of a port;
                             without --fd and --port, LISTEN_FDS/LISTEN_PID (socket activation) are used
      --shutdown-timeout <ms> deadline of each worker's graceful close, drain included (default 30000)
      --drain-delay <ms>     on stop, keep serving new connections this long while reporting not ready
                             and answering with Connection: close (default 0; at most the shutdown timeout)
      --pid-file <path>      write the primary's pid here once ready; an upgrade rewrites it with the new pid
      --upgrade-timeout <ms> time a new primary has to become ready on SIGUSR2 before the upgrade is abandoned (default 60000)
      --tls-cert <file>      serve HTTPS with this PEM certificate (chain) ...
      --tls-key <file>       ... and this PEM private key; SIGHUP reloads both files
  -h, --help                 this text

Signals to the primary: SIGHUP rolling restart (with --tls-cert: certificate reload), SIGTERM/SIGINT graceful stop (a second one forces),
SIGUSR2 upgrade in place (a new primary, fresh node and code, takes over the listening socket;
this one stops once the new one is ready, or keeps serving if it fails).
Exit codes: 0 stopped with every connection closed gracefully; 1 something was forced or failed to
start; 2 bad arguments.`;

/** Exit code 2: the command line is wrong, nothing was started. */
function usageError(message: string): never {
  process.stderr.write(`linger: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

/** `name` is how the user gave it: `--port` or the `PORT` variable. */
function integer(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) usageError(`${name} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) usageError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** An environment variable, unset when empty (`PORT= linger serve` means "not given"). */
function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function parse(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        workers: { type: 'string', short: 'w' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        fd: { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        'drain-delay': { type: 'string' },
        'pid-file': { type: 'string' },
        'upgrade-timeout': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const [command, module, ...extra] = positionals;
  if (command === undefined) usageError('missing command');
  if (command !== 'serve') usageError(`unknown command "${command}"`);
  if (module === undefined) usageError('serve needs the path of an app module');
  if (extra.length > 0) usageError(`unexpected argument "${extra[0]}"`);
  const modulePath = path.resolve(module);
  if (!existsSync(modulePath)) usageError(`module ${modulePath} does not exist`);
  if (values.host !== undefined && values.host.trim() === '') usageError('--host must not be empty');
  let fd = integer(values.fd, '--fd', 0, 65535);
  if (fd !== undefined && (values.port !== undefined || values.host !== undefined)) usageError('--fd excludes --port and --host: the inherited socket is already bound');
  // Started by an upgrade: the old primary's socket is fd 3, whatever the repeated flags say.
  const upgrading = process.env[UPGRADE_FD_ENV] === String(UPGRADE_FD);
  delete process.env[UPGRADE_FD_ENV];
  if (upgrading) fd = UPGRADE_FD;
  // A socket passed by the supervisor (LISTEN_PID names this process) wins over PORT and HOST but
  // not over an explicit --port: read it in any case, so the variables do not reach the workers.
  const activated = inheritedListenFds();
  if (!upgrading && fd === undefined && values.port === undefined && values.host === undefined && activated.length > 0) fd = activated[0];
  // Flags win over PORT and HOST, which win over the defaults: the variables platforms (Heroku,
  // Cloud Run, containers) set, and the ones the examples read.
  const port = fd !== undefined ? undefined : values.port !== undefined ? integer(values.port, '--port', 0, 65535) : integer(env('PORT'), 'PORT', 0, 65535);
  const host = fd !== undefined ? undefined : values.host ?? env('HOST')?.trim();
  const shutdownTimeout = integer(values['shutdown-timeout'], '--shutdown-timeout', 0, 86_400_000);
  const drainDelay = integer(values['drain-delay'], '--drain-delay', 0, 86_400_000);
  if (drainDelay !== undefined && drainDelay > (shutdownTimeout ?? 30_000)) {
    usageError(`--drain-delay (${drainDelay}) must not exceed --shutdown-timeout (${shutdownTimeout ?? 30_000}): the deadline counts from the start of the drain`);
  }
  if (values['pid-file'] !== undefined && values['pid-file'].trim() === '') usageError('--pid-file must not be empty');
  const cli = {
    pidFile: values['pid-file'] === undefined ? null : path.resolve(values['pid-file']),
    upgradeTimeout: integer(values['upgrade-timeout'], '--upgrade-timeout', 1, 86_400_000) ?? 60_000,
    upgrading,
  };
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if ((certFile === undefined) !== (keyFile === undefined)) usageError('--tls-cert and --tls-key go together');
  for (const file of [certFile, keyFile]) if (file !== undefined && !existsSync(file)) usageError(`${file} does not exist`);
  const cluster = {
    module: modulePath,
    // Unset options take runCluster()'s defaults (CPU count, 3000, 127.0.0.1, 30 s).
    workers: integer(values.workers, '--workers', 1, 1024),
    port,
    host: host === '' ? undefined : host,
    fd,
    shutdownTimeout,
    drainDelay,
    ...(certFile === undefined || keyFile === undefined ? {} : { tls: { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) } }),
  };
  return { cli, cluster };
}

function log(line: string): void {
  process.stdout.write(`linger: ${line}\n`);
}

function attachLogging(c: Cluster): void {
  c.on('listening', ({ pid, address, port }) => log(`worker ${pid} listening on ${address}:${port}`));
  c.on('crash', ({ pid, code, signal, delay, fatal }) =>
    log(`worker ${pid} exited unexpectedly (${fatal ?? `code ${code}, signal ${signal}`}); replacing in ${delay} ms`));
  c.on('restart', ({ replaced, pids, closedGracefully, forced, failed }) =>
    log(`rolling restart done: replaced ${replaced.join(',')}; workers ${pids.join(',')}; ${closedGracefully} connections closed gracefully, ${forced} forced, ${failed} workers failed`));
  c.on('restart-failed', (err: Error) => log(`rolling restart aborted, old workers keep serving: ${err.message}`));
  c.on('signal', (signal) => log(`${signal}: stopping workers gracefully`));
  c.on('draining', ({ delay }) => log(`draining for ${delay} ms: not ready, new connections still served with Connection: close`));
  c.on('tls-reloaded', ({ pid, error }: { pid: number; error: string | null }) =>
    log(error === null ? `worker ${pid} reloaded its certificate` : `worker ${pid} kept its certificate, the files did not load: ${error}`));
  c.on('fatal', ({ message }) => process.stderr.write(`linger: worker could not start: ${message}\n`));
  c.on('stopped', (r) => log(`stopped: ${r.closedGracefully} connections closed gracefully, ${r.forced} forced, ${r.failed} workers failed`));
}

/** Written whole or not at all (a rename), so a process manager never reads half a pid. */
function writePidFile(file: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${process.pid}\n`);
  renameSync(tmp, file);
}

/** Removed at exit only while it still names this process: after an upgrade it names the new primary. */
function removePidFile(file: string): void {
  try {
    if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
  } catch {
    // Already gone or unreadable: nothing of ours to remove.
  }
}

/**
 * SIGUSR2: start a new primary (same command line, fresh node and code from disk) with the
 * listening socket as fd 3 and an IPC channel; once it says every worker listens, stop this one
 * gracefully. If it exits first or is not ready in time, it is stopped and this one keeps serving.
 */
function installUpgrade(c: Cluster, upgradeTimeout: number): void {
  let ready = false;
  let inProgress = false;
  let stopping = false;
  c.ready.then(() => { ready = true; }, () => {});
  c.on('signal', () => { stopping = true; });
  process.on('SIGUSR2', () => {
    if (stopping) return;
    if (!ready || inProgress) {
      log(`SIGUSR2: upgrade refused: ${inProgress ? 'an upgrade is already under way' : 'not ready yet'}`);
      return;
    }
    const fd = c.fd ?? (c.port === null ? null : listeningSocketFd(c.port));
    if (fd === null) {
      log('SIGUSR2: upgrade refused: the listening socket was not found (it is looked up in /proc, Linux only)');
      return;
    }
    const script = process.argv[1];
    if (script === undefined) {
      log('SIGUSR2: upgrade refused: this process was not started from a script');
      return;
    }
    inProgress = true;
    const child = spawn(process.execPath, [...process.execArgv, script, ...process.argv.slice(2)], {
      env: { ...process.env, [UPGRADE_FD_ENV]: String(UPGRADE_FD) },
      stdio: ['ignore', 'inherit', 'inherit', fd, 'ipc'],
    });
    log(`SIGUSR2: upgrading: new primary ${child.pid ?? '?'} starting on the listening socket`);
    let settled = false;
    const abandon = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      inProgress = false;
      log(`upgrade abandoned: the new primary ${child.pid ?? '?'} ${why}; primary ${process.pid} keeps serving`);
    };
    const timer = setTimeout(() => {
      abandon(`was not ready within ${upgradeTimeout} ms and is being stopped`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }, upgradeTimeout);
    child.on('error', (err) => abandon(`could not start (${err.message})`));
    child.on('exit', (code, signal) => abandon(`exited before it was ready (code ${code}, signal ${signal})`));
    // A stop requested meanwhile wins: the half-started new primary goes too.
    c.once('signal', () => {
      if (!settled) {
        abandon('was stopped because this primary is stopping');
        child.kill('SIGTERM');
      }
    });
    child.on('message', (message: unknown) => {
      if (!isUpgradeReady(message) || settled) return;
      settled = true;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.disconnect();
      child.unref();
      stopping = true;
      log(`upgrade: new primary ${message.pid} ready (workers ${message.workers.join(',')}); stopping primary ${process.pid}`);
      void c.stop().then((r) => process.exit(r.forced === 0 && r.failed === 0 ? 0 : 1));
    });
  });
}

// Workers accept from the shared socket themselves (SCHED_NONE), not through the primary's
// round-robin: a primary leaving in an upgrade closes its round-robin queue with it, and a
// connection it had accepted but not yet handed to a worker was dropped (3 read errors in every
// two-upgrade run with a new connection per request). Accepted by no one, a connection stays in
// the kernel's queue of the one socket both primaries share, for the new primary's workers.
cluster.schedulingPolicy = cluster.SCHED_NONE;
const { cli, cluster: options } = parse(process.argv.slice(2));
const c = runCluster(options);
attachLogging(c);
installUpgrade(c, cli.upgradeTimeout);
if (cli.pidFile !== null) {
  const pidFile = cli.pidFile;
  process.on('exit', () => removePidFile(pidFile));
}
c.ready.then(
  ({ port, host, pids }) => {
    if (cli.pidFile !== null) writePidFile(cli.pidFile);
    log(`ready: ${pids.length} workers on ${options.tls === undefined ? 'http' : 'https'}://${host}:${port}/ (primary ${process.pid}, workers ${pids.join(',')})`);
    if (cli.upgrading && process.send !== undefined) {
      const message: UpgradeReady = { linger: 'upgrade-ready', pid: process.pid, workers: pids };
      // Then the channel goes: this primary must not depend on the old one, which is about to exit.
      process.send(message, undefined, undefined, () => process.disconnect());
    }
  },
  async () => {
    // A worker could not start (bad module, port taken): the cluster is already stopping.
    await c.stop();
    process.exit(1);
  },
);
