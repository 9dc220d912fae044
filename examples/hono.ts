// A Hono app on linger through the fetch adapter: Hono's routing and helpers, linger's connection
// lifecycle underneath.

import { Hono } from 'hono';
import { streamText } from 'hono/streaming';
import { isMain, serveExample } from './serve-example.js';
import { createFetchServer, type ServerOptions } from '../lib/index.js';

export function buildHonoApp(): Hono {
  const app = new Hono();
  app.get('/', (c) => c.text('Hello from Hono on linger!'));
  app.get('/books/:id', (c) => c.json({ id: c.req.param('id'), title: `Book ${c.req.param('id')}` }));
  app.post('/books', async (c) => {
    const book = await c.req.json<{ title?: unknown }>().catch(() => null);
    if (book === null || typeof book.title !== 'string') return c.json({ error: 'title is required' }, 400);
    return c.json({ id: 1, title: book.title }, 201);
  });
  app.get('/countdown', (c) => streamText(c, async (stream) => {
    for (let i = 3; i > 0; i--) {
      await stream.writeln(String(i));
      await stream.sleep(100);
    }
    await stream.writeln('liftoff');
  }));
  return app;
}

export function buildHonoServer(options?: ServerOptions) {
  return createFetchServer({ ...options, fetch: buildHonoApp() });
}

if (isMain(import.meta.url)) await serveExample(buildHonoServer(), 'Hono on linger');
