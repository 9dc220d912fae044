// Opens N idle keep-alive connections (default 10 000; each has served one request) to a linger server
// in a child process, then reports its JS heap and RSS per connection and the CPU it burns while they
// sit idle: the deadline sweep is the only timer work, so idle CPU should stay near zero.
// MODE=timeout instead checks the idle timeout keeps its schedule at that scale: with KEEPALIVE_MS
// (default 5000), every connection must be closed by the server within timeout + one sweeper tick +
// SLACK_MS (default 1000) of going idle; it reports the spread of the close times and fails otherwise.
// Env: CONNECTIONS (10000), IDLE_SECONDS (10), MODE (memory | timeout). Needs `ulimit -n` above
// CONNECTIONS: benchmarks/idle-connections.sh raises it.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const COUNT = Number(process.env.CONNECTIONS ?? 10_000);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 10);
const MODE = process.env.MODE ?? 'memory';
const KEEPALIVE_MS = Number(process.env.KEEPALIVE_MS ?? 5000);
const SLACK_MS = Number(process.env.SLACK_MS ?? 1000);
const PORT = 3201;

interface Memory {
  heapUsed: number;
  rss: number;
  open: number;
  idleTimeouts: number;
  tickMs: number;
}

function get(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: PORT, host: '127.0.0.1' }, () => s.end(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let data = '';
    s.on('data', (c) => (data += c));
    s.on('end', () => resolve(data.slice(data.indexOf('\r\n\r\n') + 4)));
    s.on('error', reject);
  });
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 Hz)
}

interface Idle {
  socket: net.Socket;
  /** When the response arrived: the server's idle clock starts about then. */
  idleAt: number;
  /** When the server's FIN arrived; 0 while open. */
  closedAt: number;
}

function openIdle(): Promise<Idle> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: PORT, host: '127.0.0.1' }, () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const idle: Idle = { socket: s, idleAt: 0, closedAt: 0 };
    s.once('data', () => {
      idle.idleAt = performance.now();
      resolve(idle);
    });
    s.on('end', () => {
      idle.closedAt = performance.now();
    });
    s.once('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

const server = spawn(process.execPath, ['--expose-gc', fileURLToPath(new URL('./idle-server.js', import.meta.url))], {
  env: { ...process.env, PORT: String(PORT), ...(MODE === 'timeout' ? { KEEPALIVE_MS: String(KEEPALIVE_MS) } : {}) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const idles: Idle[] = [];
let failed = false;
try {
  await new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()));
  const before = JSON.parse(await get('/memory')) as Memory;
  for (let i = 0; i < COUNT; i += 500) {
    const batch = await Promise.all(Array.from({ length: Math.min(500, COUNT - i) }, openIdle));
    idles.push(...batch);
  }
  const after = JSON.parse(await get('/memory')) as Memory;
  const perConnHeap = (after.heapUsed - before.heapUsed) / COUNT;
  const perConnRss = (after.rss - before.rss) / COUNT;
  console.log(`${after.open} idle keep-alive connections`);
  console.log(`JS heap per connection: ${(perConnHeap / 1024).toFixed(2)} KiB; RSS per connection: ${(perConnRss / 1024).toFixed(2)} KiB`);
  if (MODE === 'timeout') {
    const bound = KEEPALIVE_MS + after.tickMs + SLACK_MS;
    // Bounded wait: the last connection went idle at most `bound` ago by the time this ends.
    const waitUntil = performance.now() + bound + 2000;
    while (performance.now() < waitUntil && idles.some((c) => c.closedAt === 0)) await new Promise((r) => setTimeout(r, 100));
    const open = idles.filter((c) => c.closedAt === 0).length;
    const lifetimes = idles.filter((c) => c.closedAt > 0).map((c) => c.closedAt - c.idleAt).sort((a, b) => a - b);
    const end = JSON.parse(await get('/memory')) as Memory;
    const late = lifetimes.filter((ms) => ms > bound).length;
    const early = lifetimes.filter((ms) => ms < KEEPALIVE_MS - after.tickMs).length;
    console.log(`keepAliveTimeout ${KEEPALIVE_MS} ms, sweeper tick ${after.tickMs} ms, bound ${bound} ms`);
    console.log(`idle time before the server's FIN: min ${lifetimes[0]?.toFixed(0)} p50 ${percentile(lifetimes, 50).toFixed(0)} p99 ${percentile(lifetimes, 99).toFixed(0)} max ${lifetimes.at(-1)?.toFixed(0)} ms; spread ${((lifetimes.at(-1) ?? 0) - (lifetimes[0] ?? 0)).toFixed(0)} ms`);
    console.log(`still open: ${open}; closed late: ${late}; closed early: ${early}; server idle-timeout closes: ${end.idleTimeouts}, server open: ${end.open}`);
    failed = open > 0 || late > 0 || early > 0 || end.idleTimeouts !== COUNT;
    console.log(JSON.stringify({
      mode: 'timeout', connections: COUNT, heapPerConnection: perConnHeap, rssPerConnection: perConnRss, keepAliveTimeout: KEEPALIVE_MS,
      tickMs: after.tickMs, boundMs: bound, minMs: lifetimes[0], p50Ms: percentile(lifetimes, 50), p99Ms: percentile(lifetimes, 99),
      maxMs: lifetimes.at(-1), stillOpen: open, late, early, serverIdleTimeoutCloses: end.idleTimeouts, ok: !failed,
    }));
  } else {
    const ticks0 = cpuTicks(server.pid!);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const ticks1 = cpuTicks(server.pid!);
    const cpuPercent = ((ticks1 - ticks0) / 100 / IDLE_SECONDS) * 100;
    console.log(`server CPU while idle for ${IDLE_SECONDS}s: ${cpuPercent.toFixed(2)} % of one core`);
    console.log(JSON.stringify({ connections: after.open, heapPerConnection: perConnHeap, rssPerConnection: perConnRss, idleCpuPercent: cpuPercent }));
  }
} finally {
  for (const c of idles) c.socket.destroy();
  server.kill('SIGTERM');
}
if (failed) process.exitCode = 1;
