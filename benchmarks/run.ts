// `npm run bench`: linger against node:http, fastify and the raw-socket ceiling, and a Hono app on
// linger's serve() against @hono/node-server and linger's native API, in one run. Servers
// pinned to core 0, wrk to core 1, a warm-up per server, rounds interleaved, medians as ratios.
// Writes benchmarks/RESULTS.md, benchmarks/results.svg and benchmarks/results.json.
// Env: ROUNDS (3), DURATION seconds per round (4), WARMUP seconds (2), CASES (comma-separated names).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { renderChart } from './chart.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = Number(process.env.DURATION ?? 4);
const WARMUP = Number(process.env.WARMUP ?? 2);
const built = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const source = (p: string) => fileURLToPath(new URL(`../../benchmarks/${p}`, import.meta.url));

interface Case {
  id: string;
  title: string;
  path: string;
  connections: number;
  pipeline?: number;
  close?: boolean;
  post?: boolean;
  ceiling: 'hello' | '64k' | 'json' | 'router';
  /** Target from the issue: linger / ceiling at least this. */
  target?: number;
  /** Extra request headers (wrk -H). */
  headers?: readonly string[];
  /** Also measure linger with its default connection policy (a new connection every 1,000 requests). */
  defaults?: boolean;
}

const CASES: Case[] = [
  { id: 'c50', title: 'keep-alive, 50 connections', path: '/', connections: 50, ceiling: 'hello', target: 0.9, defaults: true },
  { id: 'c1000', title: 'keep-alive, 1000 connections', path: '/', connections: 1000, ceiling: 'hello' },
  { id: 'pipeline16', title: 'pipelined, depth 16', path: '/', connections: 50, pipeline: 16, ceiling: 'hello', target: 0.6, defaults: true },
  { id: 'close', title: 'connection per request', path: '/', connections: 50, close: true, ceiling: 'hello', target: 0.95 },
  { id: '64k', title: '64 KiB response', path: '/64k', connections: 50, ceiling: '64k' },
  { id: 'json', title: 'JSON POST echo', path: '/echo', connections: 50, post: true, ceiling: 'json' },
  { id: 'router', title: 'router, 50 routes with params', path: '/r37/12345', connections: 50, ceiling: 'router' },
];

/**
 * The Hono cases: one Hono app (servers/hono-app.ts) on linger's serve() and on @hono/node-server,
 * and the same routes on linger's native API. Targets from issue 12, as ratios in one run.
 */
const HONO_CASES: Case[] = [
  { id: 'hono-hello-c50', title: 'Hono hello, keep-alive 50 connections', path: '/', connections: 50, ceiling: 'hello' },
  { id: 'hono-hello-p16', title: 'Hono hello, pipelined depth 16', path: '/', connections: 50, pipeline: 16, ceiling: 'hello' },
  { id: 'hono-json-c50', title: 'Hono route with params, JSON, keep-alive 50 connections', path: '/users/12345', connections: 50, ceiling: 'router' },
  { id: 'hono-json-p16', title: 'Hono route with params, JSON, pipelined depth 16', path: '/users/12345', connections: 50, pipeline: 16, ceiling: 'router' },
];
const HONO_SERVERS = [
  { name: 'hono on linger', script: built('./servers/hono-linger.js'), env: {} },
  { name: 'hono on node-server', script: built('./servers/hono-node.js'), env: {} },
  { name: 'linger native', script: built('./servers/linger.js'), env: {} },
  // The same routes as a bare fetch handler on serve(): the adapter's cost without Hono's.
  { name: 'bare fetch on linger', script: built('./servers/fetch-linger.js'), env: {} },
  // What no server on Node's net module can go past: the bound on any ratio to node-server.
  { name: 'ceiling', script: built('./servers/ceiling.js'), env: {} },
] as const;
type HonoServerName = (typeof HONO_SERVERS)[number]['name'];
/** Hono on linger over Hono on @hono/node-server: at least 2x keep-alive, 5x pipelined; over native: 0.75x. */
const HONO_TARGETS = { keepAlive: 2, pipelined: 5, native: 0.75 };

const SERVERS = [
  { name: 'ceiling', script: built('./servers/ceiling.js'), env: {} },
  // Like the others, without a limit of requests per connection (see servers/linger.ts).
  { name: 'linger', script: built('./servers/linger.js'), env: {} },
  { name: 'node:http', script: built('./servers/node-http.js'), env: {} },
  { name: 'fastify', script: built('./servers/fastify.js'), env: {} },
] as const;
type ServerName = (typeof SERVERS)[number]['name'] | 'linger defaults';
/** Only in the cases marked `defaults`, and only in its own table: the comparison above is like for like. */
const LINGER_DEFAULTS = { name: 'linger defaults', script: built('./servers/linger.js'), env: { LINGER_DEFAULTS: '1' } } as const;

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const pinned = await run('taskset', ['-c', '0', 'true'], 5000).then(() => true, () => false);
// `wrk -v` prints its version and then exits with status 1: read the output either way.
const wrkVersion = await new Promise<string>((resolve) => {
  execFile('wrk', ['-v'], { timeout: 5000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`.split('\n')[0]!.trim() || 'wrk (version unknown)'));
});

function startServer(script: string, port: number, ceilingCase: string, extraEnv: Record<string, string | undefined>): Promise<ChildProcess> {
  const env = { ...process.env, ...extraEnv, PORT: String(port), CASE: ceilingCase, NODE_ENV: 'production' };
  const child = pinned
    ? spawn('taskset', ['-c', '0', process.execPath, script], { env, stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 15_000);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** CPU time (user + system) the process has used, in ms, from /proc; null where /proc is missing. */
function cpuMs(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // Fields 14 and 15 of stat (utime, stime), in clock ticks of 10 ms on Linux.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

interface Measured {
  rps: number;
  requests: number;
}

async function wrk(c: Case, port: number, seconds: number, scheme = 'http'): Promise<Measured> {
  const args = ['-t1', `-c${c.connections}`, `-d${seconds}s`, '--timeout', '5s'];
  if (c.close) args.push('-H', 'Connection: close');
  for (const header of c.headers ?? []) args.push('-H', header);
  if (c.post) args.push('-s', source('post.lua'));
  if (c.pipeline) args.push('-s', source('pipeline.lua'));
  args.push(`${scheme}://127.0.0.1:${port}${c.path}`);
  if (c.pipeline) args.push('--', String(c.pipeline));
  const out = await run(pinned ? 'taskset' : 'wrk', pinned ? ['-c', '1', 'wrk', ...args] : args, (seconds + 30) * 1000);
  if (/Non-2xx/.test(out)) throw new Error(`non-2xx responses in ${c.id}:\n${out}`);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  // Connection-per-request runs see a few read errors from closes racing the next connect; anything else fails.
  if (errors !== null && (Number(errors[1]) > 0 || Number(errors[4]) > 0 || (!c.close && Number(errors[2]) + Number(errors[3]) > 0))) {
    throw new Error(`socket errors in ${c.id} on port ${port}:\n${out}`);
  }
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const n = /(\d+) requests in/.exec(out);
  if (m === null || n === null) throw new Error(`unexpected wrk output:\n${out}`);
  return { rps: Number(m[1]), requests: Number(n[1]) };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Contender {
  name: string;
  script: string;
  env?: Record<string, string | undefined>;
}

interface Measurement<N extends string> {
  rounds: Record<N, number[]>;
  median: Record<N, number>;
  /** Server CPU time per request in µs (median of the rounds): independent of whether wrk or the server was the bottleneck. */
  cpuPerRequest: Record<N, number>;
}

/**
 * Starts every contender on its own port, warms each up (JIT and connection setup stay out of the
 * measurement), then runs ROUNDS interleaved rounds of wrk against each, reading the server's CPU
 * time around every round; the servers are stopped whatever happens.
 */
async function measure<N extends string>(c: Case, contenders: ReadonlyArray<Contender & { name: N }>, scheme = 'http', env: Record<string, string> = {}): Promise<Measurement<N>> {
  const children: ChildProcess[] = [];
  const ports = {} as Record<N, number>;
  const rounds = {} as Record<N, number[]>;
  const cpuRounds = {} as Record<N, number[]>;
  const pids = {} as Record<N, number | undefined>;
  try {
    for (const s of contenders) {
      ports[s.name] = port++;
      rounds[s.name] = [];
      cpuRounds[s.name] = [];
      const child = await startServer(s.script, ports[s.name], c.ceiling, { ...env, ...s.env });
      children.push(child);
      pids[s.name] = child.pid;
      await wrk(c, ports[s.name], WARMUP, scheme);
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const s of contenders) {
        const before = cpuMs(pids[s.name]);
        const measured = await wrk(c, ports[s.name], DURATION, scheme);
        const after = cpuMs(pids[s.name]);
        rounds[s.name].push(measured.rps);
        if (before !== null && after !== null && measured.requests > 0) cpuRounds[s.name].push(((after - before) * 1000) / measured.requests);
      }
    }
  } finally {
    for (const child of children) if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  }
  const med = {} as Record<N, number>;
  const cpu = {} as Record<N, number>;
  for (const s of contenders) {
    med[s.name] = median(rounds[s.name]);
    cpu[s.name] = cpuRounds[s.name].length > 0 ? median(cpuRounds[s.name]) : NaN;
  }
  return { rounds, median: med, cpuPerRequest: cpu };
}

interface CaseResult {
  id: string;
  title: string;
  rounds: Partial<Record<ServerName, number[]>> & Record<(typeof SERVERS)[number]['name'], number[]>;
  median: Partial<Record<ServerName, number>> & Record<(typeof SERVERS)[number]['name'], number>;
  /** Server CPU time per request in µs (median of the rounds): independent of whether wrk or the server was the bottleneck. */
  cpuPerRequest: Partial<Record<ServerName, number>> & Record<(typeof SERVERS)[number]['name'], number>;
  target?: number;
}

const selected = process.env.CASES ? CASES.filter((c) => process.env.CASES!.split(',').includes(c.id)) : CASES;
const results: CaseResult[] = [];
const started = Date.now();
let port = 3300;
for (const c of selected) {
  const servers = c.defaults ? [...SERVERS, LINGER_DEFAULTS] : SERVERS;
  const { rounds, median: med, cpuPerRequest: cpu } = await measure<ServerName>(c, servers);
  results.push({ id: c.id, title: c.title, rounds, median: med, cpuPerRequest: cpu, ...(c.target !== undefined ? { target: c.target } : {}) });
  console.log(`${c.title}: ${servers.map((s) => `${s.name} ${med[s.name].toFixed(0)}`).join(', ')}; linger/ceiling ${(med.linger / med.ceiling).toFixed(2)}, linger/node:http ${(med.linger / med['node:http']).toFixed(2)}`);
}

interface HonoResult {
  id: string;
  title: string;
  pipelined: boolean;
  rounds: Record<HonoServerName, number[]>;
  median: Record<HonoServerName, number>;
  cpuPerRequest: Record<HonoServerName, number>;
}
const honoSelected = process.env.CASES ? HONO_CASES.filter((c) => process.env.CASES!.split(',').includes(c.id)) : HONO_CASES;
const honoResults: HonoResult[] = [];
for (const c of honoSelected) {
  const { rounds, median: med, cpuPerRequest: cpu } = await measure<HonoServerName>(c, HONO_SERVERS);
  honoResults.push({ id: c.id, title: c.title, pipelined: c.pipeline !== undefined, rounds, median: med, cpuPerRequest: cpu });
  console.log(`${c.title}: ${HONO_SERVERS.map((s) => `${s.name} ${med[s.name].toFixed(0)} (${cpu[s.name].toFixed(2)} µs/req)`).join(', ')}; hono linger/node-server ${(med['hono on linger'] / med['hono on node-server']).toFixed(2)}, hono linger/native ${(med['hono on linger'] / med['linger native']).toFixed(2)}, ceiling/node-server ${(med.ceiling / med['hono on node-server']).toFixed(2)}`);
}

/**
 * HTTPS: linger against node:https and fastify's `https` option, the same certificate (EC P-256 from
 * a throwaway CA) and Node's default cipher negotiation for all, wrk as the client. Keep-alive c50
 * measures the record layer; connection-per-request measures a full handshake per request (wrk does
 * not resume sessions), where the handshake dominates and linger must add nothing to it.
 */
const HTTPS_CASES: Case[] = [
  { id: 'https-c50', title: 'HTTPS keep-alive, 50 connections', path: '/', connections: 50, ceiling: 'hello' },
  { id: 'https-close', title: 'HTTPS, a new TLS handshake per request', path: '/', connections: 50, close: true, ceiling: 'hello' },
];
const HTTPS_SERVERS = [
  { name: 'linger', script: built('./servers/linger.js') },
  { name: 'node:https', script: built('./servers/node-http.js') },
  { name: 'fastify https', script: built('./servers/fastify.js') },
] as const;
type HttpsServerName = (typeof HTTPS_SERVERS)[number]['name'];
/** From the issue: linger at least 1.3x node:https with keep-alive, and no slower with a handshake per request. */
const HTTPS_TARGETS: Record<string, number> = { 'https-c50': 1.3, 'https-close': 1.0 };
interface HttpsResult {
  id: string;
  title: string;
  rounds: Record<HttpsServerName, number[]>;
  median: Record<HttpsServerName, number>;
  cpuPerRequest: Record<HttpsServerName, number>;
}
const httpsSelected = process.env.CASES ? HTTPS_CASES.filter((c) => process.env.CASES!.split(',').includes(c.id)) : HTTPS_CASES;
const httpsResults: HttpsResult[] = [];
if (httpsSelected.length > 0) {
  const { createTestCa } = await import('../test/helpers/test-ca.js');
  const ca = createTestCa('linger bench');
  const issued = ca.issue('bench', 'server');
  const tlsEnv = { TLS_CERT: issued.certFile, TLS_KEY: issued.keyFile };
  try {
    for (const c of httpsSelected) {
      const { rounds, median: med, cpuPerRequest: cpu } = await measure<HttpsServerName>(c, HTTPS_SERVERS, 'https', tlsEnv);
      httpsResults.push({ id: c.id, title: c.title, rounds, median: med, cpuPerRequest: cpu });
      console.log(`${c.title}: ${HTTPS_SERVERS.map((s) => `${s.name} ${med[s.name].toFixed(0)} (${cpu[s.name].toFixed(2)} µs/req)`).join(', ')}; linger/node:https ${(med.linger / med['node:https']).toFixed(2)}`);
    }
  } finally {
    ca.remove();
  }
}
/**
 * The service toolkit's costs, each a pair on linger's native API measured in interleaved rounds:
 * request logging on (pino to /dev/null) against off, and a compressed JSON response against the
 * same response uncompressed. Server CPU µs per request is the figure that matters.
 */
interface ToolkitSide { name: string; env: Record<string, string>; script?: string }
interface ToolkitCase extends Case {
  pair: readonly [ToolkitSide, ToolkitSide];
}
const TOOLKIT_CASES: ToolkitCase[] = [
  {
    id: 'logging-c50', title: 'request logging, keep-alive 50 connections', path: '/', connections: 50, ceiling: 'hello',
    pair: [{ name: 'logging off', env: {} }, { name: 'logging on (pino)', env: { LINGER_LOGGER: '1' } }],
  },
  {
    id: 'gzip-c50', title: 'gzip, 12 KiB JSON, keep-alive 50 connections', path: '/compressible', connections: 50, ceiling: 'hello', headers: ['Accept-Encoding: gzip'],
    pair: [{ name: 'uncompressed', env: {} }, { name: 'gzip', env: { LINGER_COMPRESS: '1' } }],
  },
  {
    id: 'gzip-vs-fastify-c50', title: 'gzip, 12 KiB JSON, linger against @fastify/compress', path: '/compressible', connections: 50, ceiling: 'hello', headers: ['Accept-Encoding: gzip'],
    pair: [
      { name: 'fastify + @fastify/compress', env: { FASTIFY_COMPRESS: '1' }, script: built('./servers/fastify.js') },
      { name: 'linger compress()', env: { LINGER_COMPRESS: '1' } },
    ],
  },
];
interface ToolkitResult { id: string; title: string; names: [string, string]; rps: [number, number]; cpu: [number, number] }
const toolkitSelected = process.env.CASES ? TOOLKIT_CASES.filter((c) => process.env.CASES!.split(',').includes(c.id)) : TOOLKIT_CASES;
const toolkitResults: ToolkitResult[] = [];
for (const c of toolkitSelected) {
  const [first, second] = c.pair;
  const m = await measure(c, [
    { name: first.name, script: first.script ?? built('./servers/linger.js'), env: first.env },
    { name: second.name, script: second.script ?? built('./servers/linger.js'), env: second.env },
  ]);
  const result: ToolkitResult = {
    id: c.id,
    title: c.title,
    names: [first.name, second.name],
    rps: [m.median[first.name]!, m.median[second.name]!],
    cpu: [m.cpuPerRequest[first.name]!, m.cpuPerRequest[second.name]!],
  };
  toolkitResults.push(result);
  console.log(`${c.title}: ${result.names[0]} ${result.rps[0].toFixed(0)} (${result.cpu[0].toFixed(2)} µs/req), ${result.names[1]} ${result.rps[1].toFixed(0)} (${result.cpu[1].toFixed(2)} µs/req); throughput ${(result.rps[1] / result.rps[0]).toFixed(2)}x, CPU per request +${(result.cpu[1] - result.cpu[0]).toFixed(2)} µs`);
}
const elapsed = (Date.now() - started) / 1000;

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  kernel: `${os.type()} ${os.release()}`,
  node: process.version,
  wrk: wrkVersion,
  pinned,
};
const ratio = (a: number, b: number) => (a / b).toFixed(2);
let md = `# Benchmark results\n\nMeasured by \`npm run bench\` (benchmarks/run.ts) on ${new Date().toISOString().slice(0, 10)}, in ${elapsed.toFixed(0)} s.\n\n`;
md += `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; ${machine.kernel}; Node ${machine.node}; ${machine.wrk}.\n`;
md += `Servers ${pinned ? 'pinned to core 0 and wrk to core 1 with taskset' : 'not pinned (taskset unavailable)'}; `;
md += `each server warmed up ${WARMUP} s, then ${ROUNDS} rounds of ${DURATION} s interleaved (ceiling, linger, node:http, fastify, repeat); figures are medians in requests/s.\n`;
md += 'The ceiling is a bare `net` server answering every "\\r\\n\\r\\n" with a precomputed response, parsing nothing.\n';
md += 'Every server keeps a connection for as many requests as wrk sends on it (node:http\'s and fastify\'s default; the ceiling cannot do otherwise), so linger runs with `maxRequestsPerSocket: 0`; its default policy, a new connection after 1,000 requests, is measured in its own table below.\n\n';
md += '![linger, node:http and fastify relative to the ceiling](results.svg)\n\n';
md += '| case | ceiling | linger | node:http | fastify | linger / ceiling | linger / node:http | linger / fastify | target |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n';
for (const r of results) {
  const m = r.median;
  // Three decimals beside the verdict: a ratio shown as 0.90 may be 0.897, short of a 0.90 target.
  const target = r.target === undefined ? '' : `≥ ${r.target.toFixed(2)} of ceiling: ${m.linger / m.ceiling >= r.target ? 'met' : '**not met**'} (${(m.linger / m.ceiling).toFixed(3)})`;
  md += `| ${r.title} | ${m.ceiling.toFixed(0)} | ${m.linger.toFixed(0)} | ${m['node:http'].toFixed(0)} | ${m.fastify.toFixed(0)} | ${ratio(m.linger, m.ceiling)} | ${ratio(m.linger, m['node:http'])} | ${ratio(m.linger, m.fastify)} | ${target} |\n`;
}
const withDefaults = results.filter((r) => r.median['linger defaults'] !== undefined);
if (withDefaults.length > 0) {
  md += '\nlinger with its defaults (`maxRequestsPerSocket` 1000, as nginx\'s `keepalive_requests`): every 1,000th response says `Connection: close` and wrk opens a new connection; in the pipelined case the requests wrk had sent behind that response go unanswered and uncounted (1,000 is not a multiple of 16). Measured in the same rounds as the table above:\n\n';
  md += '| case | linger, no limit | linger, defaults | defaults / no limit | defaults / ceiling | defaults / node:http | server CPU µs per request, defaults |\n|---|---:|---:|---:|---:|---:|---:|\n';
  for (const r of withDefaults) {
    const m = r.median;
    const d = m['linger defaults']!;
    md += `| ${r.title} | ${m.linger.toFixed(0)} | ${d.toFixed(0)} | ${ratio(d, m.linger)} | ${ratio(d, m.ceiling)} | ${ratio(d, m['node:http'])} | ${(r.cpuPerRequest['linger defaults'] ?? NaN).toFixed(2)} |\n`;
  }
}
const router = results.find((r) => r.id === 'router');
const hello = results.find((r) => r.id === 'c50');
if (router !== undefined && hello !== undefined) {
  // Cases run minutes apart and the machine drifts: each server is compared with the ceiling of the same case.
  const share = (r: CaseResult, name: (typeof SERVERS)[number]['name']) => r.median[name] / r.median.ceiling;
  md += `\n**Router cost:** with 50 routes and a parameter (and a JSON body), linger reaches ${ratio(share(router, 'linger'), 1)} of the ceiling against ${ratio(share(hello, 'linger'), 1)} for hello: the route costs ${((1 - share(router, 'linger') / share(hello, 'linger')) * 100).toFixed(0)} % of its throughput (node:http ${((1 - share(router, 'node:http') / share(hello, 'node:http')) * 100).toFixed(0)} %, fastify ${((1 - share(router, 'fastify') / share(hello, 'fastify')) * 100).toFixed(0)} %).\n`;
}
md += '\nServer CPU time per request (µs, median of the rounds; lower is better). Throughput can be capped by the single wrk core; this cannot, so "ceiling / linger" is the cost ratio of the server alone:\n\n';
md += '| case | ceiling | linger | node:http | fastify | ceiling / linger |\n|---|---:|---:|---:|---:|---:|\n';
for (const r of results) {
  const c = r.cpuPerRequest;
  md += `| ${r.title} | ${c.ceiling.toFixed(2)} | ${c.linger.toFixed(2)} | ${c['node:http'].toFixed(2)} | ${c.fastify.toFixed(2)} | ${ratio(c.ceiling, c.linger)} |\n`;
}
if (honoResults.length > 0) {
  md += '\n## Hono: linger\'s serve() against @hono/node-server and linger\'s native API\n\n';
  md += 'One Hono app (benchmarks/servers/hono-app.ts: `c.text()` on `/`, `c.json()` with a route parameter on `/users/:id`) on linger\'s `serve({ fetch })` and on `@hono/node-server` (node:http underneath, its defaults), and the same two routes on linger\'s native API, as a bare fetch handler on `serve()` (benchmarks/servers/fetch-app.ts, no framework) and from the ceiling; same rounds, same pinning. ';
  md += `Targets: Hono on linger at least ${HONO_TARGETS.keepAlive}x Hono on @hono/node-server with keep-alive and ${HONO_TARGETS.pipelined}x pipelined, and at least ${HONO_TARGETS.native}x linger native on the same route.\n\n`;
  md += '| case | Hono on linger | Hono on node-server | linger native | bare fetch on linger | ceiling | linger / node-server | target | linger / native | target | ceiling / node-server |\n|---|---:|---:|---:|---:|---:|---:|---|---:|---|---:|\n';
  for (const r of honoResults) {
    const m = r.median;
    const vsNode = m['hono on linger'] / m['hono on node-server'];
    const vsNative = m['hono on linger'] / m['linger native'];
    const nodeTarget = r.pipelined ? HONO_TARGETS.pipelined : HONO_TARGETS.keepAlive;
    md += `| ${r.title} | ${m['hono on linger'].toFixed(0)} | ${m['hono on node-server'].toFixed(0)} | ${m['linger native'].toFixed(0)} | ${m['bare fetch on linger'].toFixed(0)} | ${m.ceiling.toFixed(0)} | ${vsNode.toFixed(2)} | ≥ ${nodeTarget}: ${vsNode >= nodeTarget ? 'met' : '**not met**'} | ${vsNative.toFixed(3)} | ≥ ${HONO_TARGETS.native}: ${vsNative >= HONO_TARGETS.native ? 'met' : '**not met**'} | ${ratio(m.ceiling, m['hono on node-server'])} |\n`;
  }
  md += '\nThe ceiling is the bare `net` server of the first table (it answers without parsing): "ceiling / node-server" is the most any server on Node\'s `net` could reach against Hono on node-server in that case. ';
  md += 'Server CPU µs per request, and where Hono on linger\'s time goes: the adapter\'s own cost is the bare fetch handler over native, Hono\'s own is Hono on linger over the bare handler:\n\n';
  md += '| case | Hono on linger | Hono on node-server | linger native | bare fetch on linger | ceiling | node-server / Hono on linger | native / Hono on linger | adapter (bare fetch − native) | Hono (Hono on linger − bare fetch) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';
  for (const r of honoResults) {
    const c = r.cpuPerRequest;
    md += `| ${r.title} | ${c['hono on linger'].toFixed(2)} | ${c['hono on node-server'].toFixed(2)} | ${c['linger native'].toFixed(2)} | ${c['bare fetch on linger'].toFixed(2)} | ${c.ceiling.toFixed(2)} | ${ratio(c['hono on node-server'], c['hono on linger'])} | ${ratio(c['linger native'], c['hono on linger'])} | ${(c['bare fetch on linger'] - c['linger native']).toFixed(2)} | ${(c['hono on linger'] - c['bare fetch on linger']).toFixed(2)} |\n`;
  }
  md += '\nThroughput ratios carry whatever else the machine was doing during each round; the CPU-time ratios (server CPU per request from /proc) are the cost of the servers alone, whatever capped throughput.\n';
}
if (httpsResults.length > 0) {
  md += '\n## HTTPS: linger against node:https and fastify with `https`\n\n';
  md += 'The same EC P-256 certificate for all three, TLS 1.3 with Node\'s default cipher negotiation, wrk over `https://`; same rounds and pinning as above. ';
  md += 'Connection-per-request sends `Connection: close`, so every request pays a full handshake (wrk does not resume sessions).\n\n';
  md += '| case | linger | node:https | fastify https | linger / node:https | target | linger / fastify | CPU µs/req: linger / node:https / fastify | CPU ratio: node:https / linger |\n|---|---:|---:|---:|---:|---|---:|---|---:|\n';
  for (const r of httpsResults) {
    const m = r.median;
    const c = r.cpuPerRequest;
    const vsNode = m.linger / m['node:https'];
    const target = HTTPS_TARGETS[r.id]!;
    md += `| ${r.title} | ${m.linger.toFixed(0)} | ${m['node:https'].toFixed(0)} | ${m['fastify https'].toFixed(0)} | ${vsNode.toFixed(2)} | ≥ ${target}: ${vsNode >= target ? 'met' : '**not met**'} | ${ratio(m.linger, m['fastify https'])} | ${c.linger.toFixed(2)} / ${c['node:https'].toFixed(2)} / ${c['fastify https'].toFixed(2)} | ${ratio(c['node:https'], c.linger)} |\n`;
  }
}
md += '\nRounds (requests/s), in measurement order:\n\n';
for (const r of results) {
  const names = Object.keys(r.rounds) as ServerName[];
  md += `- ${r.title}: ${names.map((name) => `${name} ${r.rounds[name]!.map((v) => v.toFixed(0)).join(' / ')}`).join('; ')}\n`;
}
for (const r of httpsResults) {
  md += `- ${r.title}: ${HTTPS_SERVERS.map((s) => `${s.name} ${r.rounds[s.name].map((v) => v.toFixed(0)).join(' / ')}`).join('; ')}\n`;
}
for (const r of honoResults) {
  md += `- ${r.title}: ${HONO_SERVERS.map((s) => `${s.name} ${r.rounds[s.name].map((v) => v.toFixed(0)).join(' / ')}`).join('; ')}\n`;
}
if (toolkitResults.length > 0) {
  md += '\n## Service toolkit costs\n\nlinger\'s native API with and without a feature, interleaved rounds, medians; the CPU column is the server\'s time per request:\n\n';
  md += '| case | without | with | with / without (req/s) | server CPU µs per request, without → with |\n|---|---:|---:|---:|---:|\n';
  for (const r of toolkitResults) {
    md += `| ${r.title} | ${r.names[0]}: ${r.rps[0].toFixed(0)} | ${r.names[1]}: ${r.rps[1].toFixed(0)} | ${ratio(r.rps[1], r.rps[0])} | ${r.cpu[0].toFixed(2)} → ${r.cpu[1].toFixed(2)} |\n`;
  }
}
writeFileSync(source('RESULTS.md'), md);
writeFileSync(source('results.svg'), renderChart(results.map((r) => ({ title: r.title, values: SERVERS.map((s) => ({ name: s.name, value: r.median[s.name] })) }))));
writeFileSync(source('results.json'), `${JSON.stringify({ machine, rounds: ROUNDS, duration: DURATION, elapsedSeconds: elapsed, results, hono: honoResults, https: httpsResults, toolkit: toolkitResults }, null, 2)}\n`);
console.log(`wrote benchmarks/RESULTS.md, results.svg, results.json in ${elapsed.toFixed(0)} s`);
