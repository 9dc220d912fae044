// Runs a real pooled HTTP client (a child process: undici, Apache HttpClient, Go net/http, urllib3)
// through the scenarios of issue 13 against a linger server, and checks what it counted: reuse
// across the idle timeout with jitter, at the request limit, and across a graceful close().

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { createServer, type App, type AppOptions } from '../../lib/index.js';
import type { CloseResult } from '../../lib/server.js';

/**
 * What a client process prints: requests made, answered 200, failed after the client's own retries
 * (sent and not answered, or answered other than 200), refused at connect once the server stopped
 * listening (never sent: a load balancer sends those elsewhere), retries, resets seen.
 */
export interface Tally {
  requests: number;
  ok: number;
  failures: number;
  refused: number;
  retries: number;
  resets: number;
  errors: string[];
}

export type Mode = 'idle' | 'limit' | 'close';

export interface Scenario {
  name: string;
  mode: Mode;
  options: AppOptions;
  workers: number;
  /** Idle: the gaps (ms) before each request after the first; limit: requests per worker; close: the slow handler's ms. */
  arg: (jitter: () => number) => string;
  /** Requests the client must report. */
  requests: number;
}

const SHORT_GAPS = [300, 700, 1_100, 1_400, 1_600, 1_900];
const LONG_GAPS = [600, 1_400, 2_600, 3_300, 3_900];
const WORKERS = 4;

export const SCENARIOS: readonly Scenario[] = [
  {
    // keepAliveTimeout 1.5 s with a 250 ms guard: the rule advertises timeout=1. Gaps straddle the
    // advertised second, the enforced 1.5 s and HttpClient's 2 s stale check.
    name: 'idle 1.5 s (timeout=1)',
    mode: 'idle',
    options: { keepAliveTimeout: 1_500, idleReapGuard: 250 },
    workers: WORKERS,
    arg: (jitter) => SHORT_GAPS.map((g) => g + jitter()).join(','),
    requests: WORKERS * (SHORT_GAPS.length + 1),
  },
  {
    // keepAliveTimeout 3.5 s advertising timeout=3 (the most the rule allows with a 250 ms guard):
    // long enough for undici, which keeps a connection for the hint minus 2 s, to reuse one.
    name: 'idle 3.5 s (timeout=3)',
    mode: 'idle',
    options: { keepAliveTimeout: 3_500, idleReapGuard: 250, keepAliveAdvertisedTimeout: 3 },
    workers: WORKERS,
    arg: (jitter) => LONG_GAPS.map((g) => g + jitter()).join(','),
    requests: WORKERS * (LONG_GAPS.length + 1),
  },
  {
    name: 'request limit (5 per connection)',
    mode: 'limit',
    options: { maxRequestsPerSocket: 5 },
    workers: WORKERS,
    arg: () => '25',
    requests: WORKERS * 25,
  },
  {
    // Warm a pool of 4, then 2 slow requests in flight when close() starts and 2 more sent 200 ms
    // later on pooled idle connections, within the shutdown's reuse guard (1 s).
    name: 'close() with requests in flight',
    mode: 'close',
    options: {},
    workers: WORKERS,
    arg: () => '800',
    requests: WORKERS * 2,
  },
];

export interface Outcome {
  tally: Tally;
  accepted: number;
  reused: number;
  serverResets: number;
  closeResult: CloseResult | null;
  advertised: string | undefined;
}

/** Starts the scenario's server, runs the client command against it, and returns both sides' counts. */
export async function runScenario(scenario: Scenario, command: (mode: Mode, url: string, workers: number, arg: string) => [string, string[]],
  timeoutMs = 60_000): Promise<Outcome> {
  const app = createServer(scenario.options);
  let slowStarted = 0;
  let closing: Promise<CloseResult> | null = null;
  app.get('/', () => 'ok');
  app.get('/warm', async () => {
    await sleep(100);
    return 'warm';
  });
  app.get('/slow', async (req) => {
    // Once every slow request is in flight, the graceful close starts.
    if (++slowStarted === Math.ceil(scenario.workers / 2)) setImmediate(() => (closing = app.close({ timeout: 5_000 })));
    await sleep(Number(req.query.get('ms') ?? 0));
    return 'slow';
  });
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${port}`;
  const advertised = await probeKeepAlive(port);
  const jitter = (): number => Math.round((Math.random() * 2 - 1) * 100);
  const [cmd, args] = command(scenario.mode, url, scenario.workers, scenario.arg(jitter));
  const run = await runProcess(cmd, args, timeoutMs);
  const closeResult = closing !== null ? await closing : null;
  const stats = app.stats();
  if (closing === null) await app.close({ timeout: 1_000 });
  let tally: Tally;
  try {
    tally = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as Tally;
  } catch {
    throw new Error(`${cmd} printed no result (exit ${run.code}): ${run.stderr.slice(-2000)}${run.stdout.slice(-500)}`);
  }
  return {
    tally,
    accepted: stats.connections.accepted - 1, // less the probe's
    reused: stats.requests.reused,
    serverResets: stats.closes['client-reset'] + stats.linger.reset,
    closeResult,
    advertised,
  };
}

/** The scenario's Keep-Alive header, read with one plain request (not counted in the client's tally). */
function probeKeepAlive(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end('GET / HTTP/1.1\r\nHost: probe\r\nConnection: keep-alive\r\n\r\n'));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(/\r\nKeep-Alive: ([^\r]*)/i.exec(text)?.[1] ?? undefined);
      }
    });
    socket.on('error', () => resolve(undefined));
  });
}

export function runProcess(cmd: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024, env }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A source file of test/pooled-clients, from the compiled test's location. */
export function source(name: string): string {
  return fileURLToPath(new URL(`../../../test/pooled-clients/${name}`, import.meta.url));
}

/**
 * A client that is not installed: under CI (which installs them through scripts/install-real-clients.sh)
 * the test fails saying what is missing; on a developer's machine it says the same and is skipped.
 */
export function missing(t: Test, what: string): void {
  const message = `${what} is not installed: run scripts/install-real-clients.sh (as root) to install it`;
  if (process.env.CI) t.fail(message);
  else t.skip(message, () => {});
}

/**
 * Runs every scenario with one client and checks the promises of issue 13: no resets anywhere; no
 * failure at the request limit or across close(); for a client that honours `Keep-Alive: timeout`,
 * no failure and no retry at the idle boundary either. Each row is printed for the README's table.
 */
export async function checkClient(t: Test, client: string, honoursTimeout: boolean,
  command: (mode: Mode, url: string, workers: number, arg: string) => [string, string[]]): Promise<void> {
  for (const scenario of SCENARIOS) {
    await t.test(`${client}: ${scenario.name}`, async (t) => {
      const outcome = await runScenario(scenario, command);
      const { tally } = outcome;
      t.comment(`| ${client} | ${scenario.name} | ${tally.requests} | ${tally.failures} | ${tally.refused} | ${tally.retries} | ${tally.resets} | ${outcome.accepted} | ${outcome.advertised ?? '-'} |`);
      if (tally.errors.length > 0) t.comment(`errors: ${tally.errors.join(' / ')}`);
      t.equal(tally.requests, scenario.requests, 'every request of the scenario was made');
      t.equal(tally.resets, 0, 'no reset seen by the client');
      t.equal(outcome.serverResets, 0, 'no reset seen by the server');
      if (scenario.mode !== 'idle' || honoursTimeout) t.equal(tally.failures, 0, 'no failed request');
      if (scenario.mode !== 'close') t.equal(tally.refused, 0, 'no connection refused while listening');
      if (scenario.mode === 'limit' || (scenario.mode === 'idle' && honoursTimeout)) t.equal(tally.ok, tally.requests, 'every request answered 200');
      if (scenario.mode === 'idle' && honoursTimeout) t.equal(tally.retries, 0, 'no retry: the hint let the connection go before the server closed it');
      if (scenario.mode === 'limit') t.ok(outcome.accepted >= scenario.requests / 5, `${outcome.accepted} connections for ${scenario.requests} requests at 5 per connection`);
      if (scenario.mode === 'close') {
        t.ok(outcome.closeResult !== null, 'close() ran while requests were in flight');
        t.equal(outcome.closeResult?.forced, 0, 'nothing was forced at the deadline');
        // The warm-up and the slow requests in flight when close() started are all answered; a
        // request sent later is answered on a pooled connection or, on a new one, refused at connect.
        t.ok(tally.ok >= scenario.workers + scenario.workers / 2, `${tally.ok} answered, the ${scenario.workers / 2} in flight among them`);
        t.equal(tally.ok + tally.refused, tally.requests, 'every other request refused at connect, none lost');
      }
      if (scenario.mode === 'idle') t.match(outcome.advertised ?? '', /^timeout=[1-9]\d*, max=\d+$/, 'a whole second, never 0');
    });
  }
}
