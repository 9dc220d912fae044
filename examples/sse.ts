// Server-sent events: a page that subscribes with EventSource, and a stream that sends the time
// every second, resumes after Last-Event-ID, respects backpressure and stops when the client leaves.

import { isMain, serveExample } from './serve-example.js';
import { createServer, type AppOptions } from '../lib/index.js';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>linger SSE</title>
<h1>Server time</h1>
<ol id="events"></ol>
<script>
  const list = document.getElementById('events');
  const source = new EventSource('/events');
  source.addEventListener('tick', (event) => {
    const item = document.createElement('li');
    item.textContent = event.lastEventId + ': ' + event.data;
    list.append(item);
  });
</script>
`;

export function buildSseApp(options?: AppOptions & { intervalMs?: number; limit?: number }) {
  const app = createServer(options);
  const intervalMs = options?.intervalMs ?? 1000;
  const limit = options?.limit ?? Infinity;

  app.get('/', (_req, res) => res.type('text/html; charset=utf-8').send(PAGE));
  app.get('/events', async (req, res) => {
    // An EventSource reconnects with the last id it saw (HTML Living Standard 9.2): continue after it.
    const lastId = Number(req.header('last-event-id') ?? 0);
    let id = Number.isInteger(lastId) && lastId >= 0 ? lastId : 0;
    res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    // The reconnection delay the browser should use; sent once, before the first event.
    if (!res.write(`retry: ${Math.max(intervalMs, 1000)}\n\n`)) await res.drained();
    // The stream ends when the client leaves or when the server starts shutting down: an endless
    // response would otherwise hold close() until its deadline.
    const signal = AbortSignal.any([req.signal, app.shutdownSignal]);
    for (let sent = 0; sent < limit && !signal.aborted; sent++) {
      id++;
      if (!res.write(`id: ${id}\nevent: tick\ndata: ${new Date().toISOString()}\n\n`)) await res.drained();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
    // Ended even after an abort: a client that only half-closed still gets a complete response.
    if (!res.finished) res.end();
  });
  return app;
}

if (isMain(import.meta.url)) await serveExample(buildSseApp(), 'linger SSE');
