// Shared by the operations tests: start the `linger serve` CLI as a real process and read its log
// lines, pick a free loopback port, run wrk and parse its summary, look up installed binaries.

import http from 'node:http';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../bin/linger.js', import.meta.url));
export const APP = fileURLToPath(new URL('../fixtures/cluster-app.js', import.meta.url));

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function run(cmd: string, args: string[], timeout = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function which(binary: string): Promise<string | null> {
  for (const candidate of [binary, `/usr/sbin/${binary}`, `/usr/local/sbin/${binary}`]) {
    const r = await run('sh', ['-c', `command -v ${candidate}`]);
    if (r.code === 0 && r.stdout.trim() !== '') return r.stdout.trim();
  }
  return null;
}

/** A port the kernel just handed out and released: free unless someone races us for it. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface CliProcess {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the first match of `pattern` at or after `from` in the output. */
  waitFor(pattern: RegExp, timeoutMs: number, from?: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  kill(signal: NodeJS.Signals): void;
}

export function startCli(args: string[], env: Record<string, string> = {}, module = APP): CliProcess {
  const child = spawn(process.execPath, [CLI, 'serve', module, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  const waiters = new Set<() => void>();
  const onData = (chunk: string): void => {
    out += chunk;
    for (const wake of waiters) wake();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = once(child, 'exit').then(([code, signal]) => {
    for (const wake of waiters) wake();
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, at: Date.now() };
  });
  return {
    child,
    output: () => out,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    waitFor(pattern, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const re = new RegExp(pattern.source, pattern.flags.replace('g', ''));
          const m = re.exec(out.slice(from));
          if (m !== null) {
            done();
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`linger exited before printing ${pattern}: ${out}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${out}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

export interface WrkSummary {
  requests: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
}

/** wrk prints "Socket errors" and "Non-2xx or 3xx responses" only when they are not zero. */
export function parseWrk(output: string): WrkSummary {
  const requests = /(\d+) requests in/.exec(output);
  if (requests === null) throw new Error(`not a wrk summary: ${output}`);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requests: Number(requests[1]),
    socketErrors: errors === null
      ? { connect: 0, read: 0, write: 0, timeout: 0 }
      : { connect: Number(errors[1]), read: Number(errors[2]), write: Number(errors[3]), timeout: Number(errors[4]) },
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
  };
}

/** Pids from a "rolling restart done" or "ready" line. */
export function workerPids(line: string): number[] {
  const list = /workers ([\d,]+)/.exec(line)?.[1];
  return list === undefined ? [] : list.split(',').map(Number);
}

/** Status of GET /pid through a proxy, 0 when the connection fails: polled until the proxy is up. */
export function pidStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: '/pid', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', () => resolve(0));
  });
}

/** Sends SIGHUP and waits for the primary to report the rolling restart done; returns that line. */
export async function rollingRestart(cli: CliProcess): Promise<RegExpExecArray> {
  const mark = cli.output().length;
  cli.kill('SIGHUP');
  return cli.waitFor(/rolling restart done: .*\n/, 8_000, mark);
}
