// The quick-start service: `npm start` serves it on 127.0.0.1:3000 (PORT and HOST override).

import { isMain, serveExample } from './serve-example.js';
import { createServer } from '../lib/index.js';

export function buildHelloApp(options?: Parameters<typeof createServer>[0]) {
  const app = createServer(options);
  app.get('/', () => 'Hello, World!');
  app.get('/users/:id', (req) => ({ id: req.params.id }));
  app.post('/echo', async (req, res) => res.send(await req.buffer(1_048_576)));
  app.get('/stats', () => app.stats());
  return app;
}

if (isMain(import.meta.url)) await serveExample(buildHelloApp(), 'linger hello');
