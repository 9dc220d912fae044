// The server side of benchmarks/idle-connections: a linger app that reports its own memory after a GC.

import { createServer } from '../lib/index.js';

const app = createServer({ maxConnections: 0 });
app.get('/', () => 'ok');
app.get('/memory', () => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, open: app.stats().connections.open };
});
await app.listen({ port: Number(process.env.PORT ?? 3201), host: '127.0.0.1', backlog: 4096 });
console.log('ready');
process.once('SIGTERM', () => void app.close({ timeout: 2000 }).then(() => process.exit(0)));
