// The server side of benchmarks/soak: one linger app in its own process, answering the soak's mixed
// routes and reporting memory, stats and its count of active handles over IPC.

import net from 'node:net';
import { createServer } from '../lib/index.js';

const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});
const app = createServer({ keepAliveTimeout: 5000, maxConnections: 0 });
const chunk = Buffer.alloc(65_536, 's');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

app.get('/hello', () => 'hello');
app.get('/slow', async () => {
  await sleep(20);
  return 'slow';
});
app.post('/upload', async (req) => `got ${(await req.buffer(8 * 1024 * 1024)).length}`);
// 4 MiB streamed with backpressure; stops when the client goes away.
app.get('/stream', (req, res) => {
  void (async () => {
    res.setHeader('Content-Type', 'application/octet-stream');
    for (let i = 0; i < 64 && !req.signal.aborted; i++) {
      if (!res.write(chunk)) await res.drained();
    }
    if (!req.signal.aborted) res.end();
  })();
});

const { port } = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1', backlog: 4096 });
const handles = (): string[] => (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().map(describe);
function describe(h: object): string {
  if (!(h instanceof net.Socket)) return h.constructor.name;
  if (h.remotePort === undefined) return `Socket(fd=${(h as unknown as { _handle?: { fd?: number } })._handle?.fd}, isStdio=${String((h as unknown as { _isStdio?: boolean })._isStdio)})`;
  const owner = Object.getOwnPropertySymbols(h).map((sym) => `${String(sym)}=${typeof (h as unknown as Record<symbol, unknown>)[sym]}`).join(' ');
  return `Socket(${h.readyState}, destroyed=${h.destroyed}, pending=${h.writableLength}, ended=${h.writableEnded}, readable=${h.readableEnded}, paused=${h.isPaused()}, ${owner})`;
}
const active = (): number => handles().length;
let baselineHandles = 0;
let baselineNames: string[] = [];

function memory(): { rss: number; heapUsed: number } {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'sample') {
    process.send!({ type: 'sample', ...memory(), stats: app.stats() });
  } else if (msg.type === 'final') {
    process.send!({ type: 'final', ...memory(), stats: app.stats(), handlesOverBaseline: active() - baselineHandles, handles: handles(), baselineHandles: baselineNames });
  } else if (msg.type === 'close') {
    void app.close({ timeout: 2000 }).then((result) => {
      process.send!({ type: 'closed', result });
      process.disconnect();
    });
  }
});
// Baseline once the listener and the IPC channel (ref'd by the message listener) are up, and the
// stdio streams, which Node creates on first use (a warning would add fd 2 mid-run).
void process.stdout;
void process.stderr;
gc();
baselineHandles = active();
baselineNames = handles();
process.send!({ type: 'ready', port });
