#!/usr/bin/env node
// The linger command: `linger serve app.js --workers 2 --port 3000` runs an app module on a
// cluster with rolling restarts (SIGHUP) and graceful stop (SIGTERM/SIGINT).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCluster, type Cluster } from '../lib/cluster/index.js';

const USAGE = `Usage: linger serve <module> [options]

  <module>                   a module whose default export is an app from createServer(), not listening
  -w, --workers <n>          worker processes (default: number of CPUs)
  -p, --port <n>             port the workers share (default $PORT, else 3000; 0 picks a free one)
      --host <address>       address to listen on (default $HOST, else 127.0.0.1)
      --shutdown-timeout <ms> deadline of each worker's graceful close (default 30000)
      --tls-cert <file>      serve HTTPS with this PEM certificate (chain) ...
      --tls-key <file>       ... and this PEM private key; SIGHUP reloads both files
  -h, --help                 this text

Signals to the primary: SIGHUP rolling restart (with --tls-cert: certificate reload), SIGTERM/SIGINT graceful stop (a second one forces).
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
        'shutdown-timeout': { type: 'string' },
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
  // Flags win over PORT and HOST, which win over the defaults: the variables platforms (Heroku,
  // Cloud Run, containers) set, and the ones the examples read.
  const port = values.port !== undefined ? integer(values.port, '--port', 0, 65535) : integer(env('PORT'), 'PORT', 0, 65535);
  const host = values.host ?? env('HOST')?.trim();
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if ((certFile === undefined) !== (keyFile === undefined)) usageError('--tls-cert and --tls-key go together');
  for (const file of [certFile, keyFile]) if (file !== undefined && !existsSync(file)) usageError(`${file} does not exist`);
  return {
    module: modulePath,
    // Unset options take runCluster()'s defaults (CPU count, 3000, 127.0.0.1, 30 s).
    workers: integer(values.workers, '--workers', 1, 1024),
    port,
    host: host === '' ? undefined : host,
    shutdownTimeout: integer(values['shutdown-timeout'], '--shutdown-timeout', 0, 86_400_000),
    ...(certFile === undefined || keyFile === undefined ? {} : { tls: { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) } }),
  };
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
  c.on('tls-reloaded', ({ pid, error }: { pid: number; error: string | null }) =>
    log(error === null ? `worker ${pid} reloaded its certificate` : `worker ${pid} kept its certificate, the files did not load: ${error}`));
  c.on('fatal', ({ message }) => process.stderr.write(`linger: worker could not start: ${message}\n`));
  c.on('stopped', (r) => log(`stopped: ${r.closedGracefully} connections closed gracefully, ${r.forced} forced, ${r.failed} workers failed`));
}

const options = parse(process.argv.slice(2));
const c = runCluster(options);
attachLogging(c);
c.ready.then(
  ({ port, host, pids }) => log(`ready: ${pids.length} workers on ${options.tls === undefined ? 'http' : 'https'}://${host}:${port}/ (primary ${process.pid}, workers ${pids.join(',')})`),
  async () => {
    // A worker could not start (bad module, port taken): the cluster is already stopping.
    await c.stop();
    process.exit(1);
  },
);
