// Opens N idle keep-alive connections (default 10 000; each has served one request) to a linger server
// in a child process, then reports its JS heap and RSS per connection and the CPU it burns while they
// sit idle: the deadline sweep is the only timer work, so idle CPU should stay near zero.
// Env: CONNECTIONS (10000), IDLE_SECONDS (10). Needs `ulimit -n` above CONNECTIONS.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const COUNT = Number(process.env.CONNECTIONS ?? 10_000);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 10);
const PORT = 3201;

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

function openIdle(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: PORT, host: '127.0.0.1' }, () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.once('data', () => resolve(s));
    s.once('error', reject);
  });
}

const server = spawn(process.execPath, ['--expose-gc', fileURLToPath(new URL('./idle-server.js', import.meta.url))], {
  env: { ...process.env, PORT: String(PORT) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const sockets: net.Socket[] = [];
try {
  await new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()));
  const before = JSON.parse(await get('/memory')) as { heapUsed: number; rss: number };
  for (let i = 0; i < COUNT; i += 500) {
    const batch = await Promise.all(Array.from({ length: Math.min(500, COUNT - i) }, openIdle));
    sockets.push(...batch);
  }
  const after = JSON.parse(await get('/memory')) as { heapUsed: number; rss: number; open: number };
  const ticks0 = cpuTicks(server.pid!);
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const ticks1 = cpuTicks(server.pid!);
  const perConnHeap = (after.heapUsed - before.heapUsed) / COUNT;
  const perConnRss = (after.rss - before.rss) / COUNT;
  const cpuPercent = ((ticks1 - ticks0) / 100 / IDLE_SECONDS) * 100;
  console.log(`${after.open} idle keep-alive connections`);
  console.log(`JS heap per connection: ${(perConnHeap / 1024).toFixed(2)} KiB; RSS per connection: ${(perConnRss / 1024).toFixed(2)} KiB`);
  console.log(`server CPU while idle for ${IDLE_SECONDS}s: ${cpuPercent.toFixed(2)} % of one core`);
  console.log(JSON.stringify({ connections: after.open, heapPerConnection: perConnHeap, rssPerConnection: perConnRss, idleCpuPercent: cpuPercent }));
} finally {
  for (const s of sockets) s.destroy();
  server.kill('SIGTERM');
}
