// Soak test: N minutes (default 5, --minutes) of mixed load against one linger server process:
// keep-alive, pipelined, connection-per-request, uploads and aborts (clients destroying or resetting
// mid-request and mid-response). Reports requests served, client errors by kind, the server's RSS and
// heap (after GC) every 10 s with a linear trend in bytes/minute, and its leftover handles and
// connections once the load stops, which must both be zero (exit code 1 otherwise).
// Flags: --minutes M, --workers W (32).

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RawClient, sleep } from '../test/helpers/raw-client.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, workers: { type: 'string', default: '32' } } });
const MINUTES = Number(values.minutes);
const WORKERS = Number(values.workers);
const SAMPLE_MS = 10_000;

interface Sample {
  t: number;
  rss: number;
  heapUsed: number;
  stats: { requests: { total: number }; connections: { open: number }; closes: Record<string, number> };
}

const child: ChildProcess = fork(fileURLToPath(new URL('./soak-server.js', import.meta.url)), [], {
  execArgv: ['--expose-gc'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});

function ask<T>(type: string, reply = type): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (msg: { type: string }): void => {
      if (msg.type !== reply) return;
      child.off('message', onMessage);
      resolve(msg as T);
    };
    child.on('message', onMessage);
    if (type !== '') child.send({ type });
  });
}

const { port } = await ask<{ port: number }>('', 'ready');
const done = { 'keep-alive': 0, pipelined: 0, 'connection-per-request': 0, upload: 0, abort: 0 };
const errors: Record<string, number> = {};
function fail(kind: string, err: unknown): void {
  const code = (err as { code?: string }).code ?? (err as Error).message?.split(/[;:]/)[0] ?? String(err);
  const key = `${kind}: ${code}`;
  errors[key] = (errors[key] ?? 0) + 1;
}

function expect(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

const GET = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: soak\r\n${extra}\r\n`;
const UPLOAD = Buffer.alloc(256 * 1024, 'u');

async function keepAlive(): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    for (let i = 0; i < 20; i++) {
      c.write(GET(i % 5 === 4 ? '/slow' : '/hello'));
      const res = await c.response();
      expect(res.status === 200, `status ${res.status}`);
      done['keep-alive']++;
    }
  } finally {
    c.end();
    await c.waitEnd(2000);
    c.destroy();
  }
}

async function pipelined(): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    for (let round = 0; round < 5; round++) {
      c.write(Array.from({ length: 16 }, () => GET('/hello')).join(''));
      const list = await c.responses(16);
      expect(list.every((r) => r.status === 200 && r.body.toString() === 'hello'), 'bad pipelined response');
      done.pipelined += 16;
    }
  } finally {
    c.end();
    await c.waitEnd(2000);
    c.destroy();
  }
}

async function perRequest(): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    c.write(GET('/hello', 'Connection: close\r\n'));
    const res = await c.response();
    expect(res.status === 200 && res.headers.connection === 'close', 'no Connection: close');
    expect((await c.waitEnd()) === 'eof', 'no clean EOF');
    done['connection-per-request']++;
  } finally {
    c.destroy();
  }
}

async function upload(chunked: boolean): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    if (chunked) {
      c.write(`POST /upload HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n`);
      for (let i = 0; i < 4; i++) c.write(Buffer.concat([Buffer.from(`10000\r\n`), UPLOAD.subarray(0, 65_536), Buffer.from('\r\n')]));
      c.write('0\r\n\r\n');
    } else {
      c.write(`POST /upload HTTP/1.1\r\nHost: soak\r\nContent-Length: ${UPLOAD.length}\r\n\r\n`);
      c.write(UPLOAD);
    }
    const res = await c.response();
    expect(res.status === 200 && res.body.toString() === `got ${UPLOAD.length}`, `upload answered ${res.status}`);
    done.upload++;
  } finally {
    c.end();
    await c.waitEnd(2000);
    c.destroy();
  }
}

async function abort(n: number): Promise<void> {
  const c = await RawClient.connect(port);
  const cut = (): void => {
    // Half of them RST, half FIN+close; the server must survive both.
    if (n % 2 === 0) c.socket.resetAndDestroy();
    else c.destroy();
  };
  const stage = n % 3;
  if (stage === 0) {
    c.write('GET /hello HTTP/1.1\r\nHost: so');
  } else if (stage === 1) {
    c.write(`POST /upload HTTP/1.1\r\nHost: soak\r\nContent-Length: ${UPLOAD.length}\r\n\r\n`);
    c.write(UPLOAD.subarray(0, 100_000));
  } else {
    c.write(GET('/stream'));
    await new Promise<void>((resolve) => {
      let got = 0;
      const timer = setTimeout(resolve, 2000);
      c.socket.on('data', (d: Buffer) => {
        got += d.length;
        if (got > 256 * 1024) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }
  await sleep(5); // Node turns a reset right after a write into a FIN
  cut();
  done.abort++;
}

const stopAt = Date.now() + MINUTES * 60_000;
let counter = 0;
async function worker(id: number): Promise<void> {
  while (Date.now() < stopAt) {
    const n = counter++;
    const pick = (n + id) % 10;
    const [kind, run] =
      pick < 3 ? ['keep-alive', keepAlive] as const
      : pick < 5 ? ['pipelined', pipelined] as const
      : pick < 7 ? ['connection-per-request', perRequest] as const
      : pick < 9 ? ['upload', () => upload(n % 2 === 0)] as const
      : ['abort', () => abort(n)] as const;
    try {
      await run();
    } catch (err) {
      fail(kind, err);
    }
  }
}

const started = Date.now();
const samples: Sample[] = [];
const takeSample = async (): Promise<void> => {
  const s = await ask<Omit<Sample, 't'>>('sample');
  samples.push({ t: (Date.now() - started) / 60_000, rss: s.rss, heapUsed: s.heapUsed, stats: s.stats });
  console.log(`${((Date.now() - started) / 1000).toFixed(0)} s: rss ${(s.rss / 1048576).toFixed(1)} MiB, heap ${(s.heapUsed / 1048576).toFixed(2)} MiB, requests ${s.stats.requests.total}, open ${s.stats.connections.open}`);
};
await takeSample();
const sampler = setInterval(() => void takeSample(), SAMPLE_MS);
await Promise.all(Array.from({ length: WORKERS }, (_v, i) => worker(i)));
clearInterval(sampler);
await takeSample();

// Connections end on their own (client EOF, aborts, lingering); wait for them, bounded.
type Final = Sample & { handlesOverBaseline: number; handles: string[]; baselineHandles: string[] };
let final = await ask<Final>('final');
for (let i = 0; i < 100 && (final.stats.connections.open > 0 || final.handlesOverBaseline > 0); i++) {
  await sleep(100);
  final = await ask<Final>('final');
}
const closed = await ask<{ result: { closedGracefully: number; forced: number } }>('close', 'closed');

/** Least-squares slope of y over t (minutes). */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const mt = points.reduce((a, [t]) => a + t, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, y] of points) {
    num += (t - mt) * (y - my);
    den += (t - mt) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
// The first sample is taken before any load: the trend is over the samples under load.
const loaded = samples.slice(1);
const rssTrend = slope(loaded.map((s) => [s.t, s.rss]));
const heapTrend = slope(loaded.map((s) => [s.t, s.heapUsed]));
const seconds = (Date.now() - started) / 1000;
const served = final.stats.requests.total;
const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
const ok = final.stats.connections.open === 0 && final.handlesOverBaseline === 0;
console.log(`\nsoak: ${MINUTES} min, ${WORKERS} workers, ${seconds.toFixed(0)} s`);
console.log(`requests served by the server: ${served} (${(served / seconds).toFixed(0)}/s); client operations: ${JSON.stringify(done)}`);
console.log(`client errors: ${errorCount}${errorCount > 0 ? ` ${JSON.stringify(errors)}` : ''}`);
console.log(`server closes: ${JSON.stringify(Object.fromEntries(Object.entries(final.stats.closes).filter(([, v]) => v > 0)))}`);
console.log(`RSS trend ${(rssTrend / 1024).toFixed(1)} KiB/min, heap trend ${(heapTrend / 1024).toFixed(1)} KiB/min over ${loaded.length} samples under load`);
console.log(`after the load: open connections ${final.stats.connections.open}, active handles over baseline ${final.handlesOverBaseline} (${final.handles.join(', ')} vs ${final.baselineHandles.join(', ')}); close(): ${JSON.stringify(closed.result)}`);
console.log(JSON.stringify({
  minutes: MINUTES, workers: WORKERS, served, operations: done, errors, rssTrendBytesPerMinute: rssTrend, heapTrendBytesPerMinute: heapTrend,
  samples: samples.map((s) => ({ minute: Number(s.t.toFixed(2)), rss: s.rss, heapUsed: s.heapUsed })),
  openAtEnd: final.stats.connections.open, handlesOverBaseline: final.handlesOverBaseline, ok,
}));
if (!ok) process.exitCode = 1;
