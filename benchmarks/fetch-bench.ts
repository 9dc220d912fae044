// Micro-benchmark of the fetch path without syscalls: the bench's Hono app on linger's serve() and
// the same routes on the native API, each connection fed by a socket stand-in that copies what is
// written into memory. CPU µs per request (best and median of ROUNDS), one request per read and 16
// pipelined, and the bytes each request allocates (heap-sampling.ts).
// Env: BATCHES (20000), ROUNDS (5), CASES (comma-separated: fetch-hello, fetch-json, hono-hello,
// hono-json, native-hello, native-json).

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { createServer, createFetchServer } from '../lib/index.js';
import { bytesAllocated } from './heap-sampling.js';
import { bareFetch } from './servers/fetch-app.js';
import { honoApp, HONO_PARAMS_PATH } from './servers/hono-app.js';
import { HELLO } from './servers/routes.js';

const BATCHES = Number(process.env.BATCHES ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);

/** Just enough of net.Socket for a Connection; writes are copied into a scratch buffer and counted. */
class NullSocket extends EventEmitter {
  bytesOut = 0;
  writes = 0;
  writableLength = 0;
  remoteAddress = '127.0.0.1';
  remotePort = 40000;
  private scratch = Buffer.allocUnsafe(1 << 20);
  write(data: string | Buffer, encoding?: BufferEncoding): boolean {
    this.writes++;
    if (typeof data === 'string') this.bytesOut += this.scratch.write(data, 0, encoding ?? 'utf8');
    else this.bytesOut += data.copy(this.scratch, 0);
    return true;
  }
  setNoDelay(): this { return this; }
  cork(): void {}
  uncork(): void {}
  pause(): this { return this; }
  resume(): this { return this; }
  end(): this { return this; }
  destroy(): this { return this; }
}

type Accepting = { accept(socket: Socket): void; close(options: { timeout: number }): Promise<unknown> };

/** Feeds batches of `depth` requests, yielding to the event loop after each so promise work completes. */
async function rate(server: Accepting, path: string, depth: number): Promise<{ best: number; median: number }> {
  const socket = new NullSocket();
  server.accept(socket as unknown as Socket);
  const batch = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n`.repeat(depth));
  const perRound = Math.max(1, Math.floor(BATCHES / depth));
  const results: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < perRound; i++) {
      socket.emit('data', batch);
      // Every 64 batches let microtasks and immediates run, as a real event loop would between reads.
      if ((i & 63) === 63) await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setImmediate(resolve));
    const used = process.cpuUsage(before);
    if (round > 0) results.push((used.user + used.system) / (perRound * depth));
  }
  if (socket.bytesOut === 0) throw new Error('no response was written');
  results.sort((a, b) => a - b);
  // Interference from other work on the machine only ever adds time: the best round is the cost.
  return { best: results[0]!, median: results[results.length >> 1]! };
}

/** Bytes allocated per request (garbage included) with 16 pipelined requests per read, after a warm-up. */
async function allocatedPerRequest(server: Accepting, path: string): Promise<number> {
  const socket = new NullSocket();
  server.accept(socket as unknown as Socket);
  const depth = 16;
  const batch = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n`.repeat(depth));
  const feed = async (batches: number) => {
    for (let i = 0; i < batches; i++) {
      socket.emit('data', batch);
      if ((i & 63) === 63) await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setImmediate(resolve));
  };
  await feed(5_000);
  const batches = 10_000;
  return (await bytesAllocated(() => feed(batches))) / (batches * depth);
}

const fetchOptions = { maxRequestsPerSocket: 0, keepAliveTimeout: 3_600_000, logErrors: false } as const;
const cases: Record<string, () => { server: Accepting; path: string }> = {
  // The adapter alone: the same routes as a bare fetch handler (servers/fetch-app.ts).
  'fetch-hello': () => ({ server: createFetchServer({ ...fetchOptions, fetch: bareFetch }), path: '/' }),
  'fetch-json': () => ({ server: createFetchServer({ ...fetchOptions, fetch: bareFetch }), path: HONO_PARAMS_PATH }),
  'hono-hello': () => ({ server: createFetchServer({ ...fetchOptions, fetch: honoApp() }), path: '/' }),
  'hono-json': () => ({ server: createFetchServer({ ...fetchOptions, fetch: honoApp() }), path: HONO_PARAMS_PATH }),
  'native-hello': () => {
    const app = createServer({ maxRequestsPerSocket: 0, keepAliveTimeout: 3_600_000 });
    app.get('/', () => HELLO);
    return { server: app, path: '/' };
  },
  'native-json': () => {
    const app = createServer({ maxRequestsPerSocket: 0, keepAliveTimeout: 3_600_000 });
    app.get('/users/:id', (req) => ({ id: req.params.id, name: 'linger' }));
    return { server: app, path: HONO_PARAMS_PATH };
  },
};

const selected = process.env.CASES ? process.env.CASES.split(',') : Object.keys(cases);
for (const name of selected) {
  const make = cases[name];
  if (make === undefined) throw new Error(`unknown case ${name}`);
  const { server, path } = make();
  const one = await rate(server, path, 1);
  const piped = await rate(server, path, 16);
  const bytes = await allocatedPerRequest(server, path);
  void server.close({ timeout: 0 });
  console.log(`${name}: one per read ${one.best.toFixed(3)} µs/request (median ${one.median.toFixed(3)}), 16 pipelined ${piped.best.toFixed(3)} µs/request (median ${piped.median.toFixed(3)}); ${bytes.toFixed(0)} bytes allocated per request`);
}
