// How long one hostile request head can stall everyone else: a linger server in a child process
// gets each worst case of test/helpers/hostile-heads.ts on one connection while a prober on another
// connection sends pings one after another; reported are the hostile request's own time and the
// prober's worst latency during it, against the prober's latency on an idle server (same run).
// Env: LIMIT (head size, default 16384), CASES (comma-separated name prefixes), TRIALS (3),
// MAX_WAIT_S (per hostile request, default 900). Run pinned:
//   flock /tmp/linger-bench.lock taskset -c 0 node dist/benchmarks/hostile-headers.js
// (the server child pins itself to core 1).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../lib/index.js';
import { hostileApp, hostileCases, writeHostileRoot } from '../test/helpers/hostile-heads.js';
import { get, RawClient } from '../test/helpers/raw-client.js';

const LIMIT = Number(process.env.LIMIT ?? 16_384);
const TRIALS = Number(process.env.TRIALS ?? 3);
const MAX_WAIT_MS = Number(process.env.MAX_WAIT_S ?? 900) * 1000;
const FILTER = (process.env.CASES ?? '').split(',').filter((s) => s.length > 0);

async function serve(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'linger-hostile-'));
  writeHostileRoot(root);
  const app = createServer({ headersTimeout: MAX_WAIT_MS, requestTimeout: MAX_WAIT_MS });
  hostileApp(app, root);
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  process.send!({ port });
  process.on('disconnect', () => {
    rmSync(root, { recursive: true, force: true });
    process.exit(0);
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Pings one after another until `done()`; returns every latency in ms. */
async function probe(prober: RawClient, done: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  while (!done()) {
    const t0 = performance.now();
    prober.write(get('/ping'));
    await prober.response(MAX_WAIT_MS);
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn('taskset', ['-c', '1', process.execPath, self, '--serve'], {
    env: { ...process.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const prober = await RawClient.connect(port);
  const idle = await probe(prober, ((n) => () => n-- <= 0)(200));
  console.log(`head limit ${LIMIT} B; prober on an idle server: median ${median(idle).toFixed(3)} ms, max ${Math.max(...idle).toFixed(3)} ms`);
  console.log('case | hostile request ms (median of trials) | prober max latency ms (worst trial) | prober pings during it');
  for (const c of hostileCases(LIMIT)) {
    if (FILTER.length > 0 && !FILTER.some((f) => c.name.startsWith(f))) continue;
    const own: number[] = [];
    let worst = 0;
    let pings = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const hostile = await RawClient.connect(port);
      let finished = false;
      const t0 = performance.now();
      hostile.write(c.request);
      const answered = hostile.response(MAX_WAIT_MS).then((res) => {
        finished = true;
        if (res.status !== c.status) throw new Error(`${c.name}: status ${res.status}, expected ${c.status}`);
      });
      const latencies = await probe(prober, () => finished);
      await answered;
      own.push(performance.now() - t0);
      worst = Math.max(worst, ...latencies, 0);
      pings += latencies.length;
      hostile.destroy();
    }
    console.log(`${c.name} | ${median(own).toFixed(2)} | ${worst.toFixed(2)} | ${pings}`);
  }
  prober.destroy();
  child.disconnect();
}

if (process.argv.includes('--serve')) await serve();
else await main();
