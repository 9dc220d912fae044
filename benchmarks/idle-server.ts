// The server side of benchmarks/idle-connections: a linger app that reports its own memory after a GC.
// KEEPALIVE_MS sets keepAliveTimeout (default: the library default) for the time-out schedule mode.

import { createServer } from '../lib/index.js';

const keepAlive = process.env.KEEPALIVE_MS === undefined ? undefined : Number(process.env.KEEPALIVE_MS);
const app = createServer({ maxConnections: 0, ...(keepAlive === undefined ? {} : { keepAliveTimeout: keepAlive }) });
app.get('/', () => 'ok');
app.get('/memory', () => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const stats = app.stats();
  return { heapUsed: m.heapUsed, rss: m.rss, open: stats.connections.open, idleTimeouts: stats.closes['idle-timeout'], tickMs: app.sweeper.tickMs };
});
await app.listen({ port: Number(process.env.PORT ?? 3201), host: '127.0.0.1', backlog: 4096 });
console.log('ready');
process.once('SIGTERM', () => void app.close({ timeout: 2000 }).then(() => process.exit(0)));
