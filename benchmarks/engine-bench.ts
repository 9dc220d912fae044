// Micro-benchmark of everything linger does per request except the syscalls: a connection fed
// batches of 16 pipelined requests by a socket stand-in that only copies what is written into
// memory. Requests per second of CPU time (median of ROUNDS) for hello and a 50-route app with params,
// and the bytes each request allocates (V8's sampling heap profiler, collected objects included).

import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { createServer } from '../lib/index.js';
import { bytesAllocated } from './heap-sampling.js';

const BATCHES = Number(process.env.BATCHES ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DEPTH = Number(process.env.DEPTH ?? 16);

/**
 * Just enough of net.Socket for a Connection. A write is copied into a scratch buffer, as a real
 * socket's write encodes a string into bytes (flattening a concatenated one first), and dropped.
 */
class NullSocket extends EventEmitter {
  bytesOut = 0;
  writableLength = 0;
  remoteAddress = '127.0.0.1';
  remotePort = 40000;
  private scratch = Buffer.allocUnsafe(1 << 20);
  write(data: string | Buffer, encoding?: BufferEncoding): boolean {
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

type Setup = (app: ReturnType<typeof createServer>) => void;

function feeder(path: string, setup: Setup): { app: ReturnType<typeof createServer>; socket: NullSocket; batch: Buffer } {
  const app = createServer({ maxRequestsPerSocket: 0, keepAliveTimeout: 3_600_000 });
  setup(app);
  const socket = new NullSocket();
  app.accept(socket as unknown as Socket);
  const batch = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nUser-Agent: bench\r\n\r\n`.repeat(DEPTH));
  return { app, socket, batch };
}

function rate(path: string, setup: Setup): number {
  const { app, socket, batch } = feeder(path, setup);
  const results: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < BATCHES / 10; i++) socket.emit('data', batch);
    const used = process.cpuUsage(before);
    // The first round warms the JIT and is not counted.
    if (round > 0) results.push(((BATCHES / 10) * DEPTH) / ((used.user + used.system) / 1e6));
  }
  if (socket.bytesOut === 0) throw new Error('no response was written');
  void app.close({ timeout: 0 });
  results.sort((a, b) => a - b);
  return results[results.length >> 1]!;
}

/**
 * Bytes allocated per request, garbage included: unlike CPU time it does not move with whatever else
 * the machine runs, so "nothing more allocated per request" is checked exactly (±1 %).
 */
async function allocatedPerRequest(path: string, setup: Setup): Promise<number> {
  const { app, socket, batch } = feeder(path, setup);
  for (let i = 0; i < 20_000; i++) socket.emit('data', batch);
  const batches = 20_000;
  const bytes = await bytesAllocated(() => {
    for (let i = 0; i < batches; i++) socket.emit('data', batch);
  });
  void app.close({ timeout: 0 });
  return bytes / (batches * DEPTH);
}

const helloApp: Setup = (app) => app.get('/', () => 'Hello, World!');
const routerApp: Setup = (app) => {
  for (let i = 0; i < 50; i++) app.get(`/r${i}/:id`, (req) => ({ route: i, id: req.params.id }));
};
const hello = rate('/', helloApp);
const router = rate('/r37/12345', routerApp);
const helloBytes = await allocatedPerRequest('/', helloApp);
const routerBytes = await allocatedPerRequest('/r37/12345', routerApp);
console.log(`engine, pipelined ${DEPTH} deep, no syscalls: hello ${(hello / 1e6).toFixed(2)} M requests/s of CPU (${(1e6 / hello).toFixed(3)} µs each); 50 routes with params ${(router / 1e6).toFixed(2)} M/s (${(1e6 / router).toFixed(3)} µs each)`);
console.log(`allocated per request (garbage included): hello ${helloBytes.toFixed(0)} bytes, 50 routes with params ${routerBytes.toFixed(0)} bytes`);
