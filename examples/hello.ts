// The quick-start service: `npm start` serves it on 127.0.0.1:3000 (PORT and HOST override).

import { createServer } from '../lib/index.js';

export function buildHelloApp(options?: Parameters<typeof createServer>[0]) {
  const app = createServer(options);
  app.get('/', () => 'Hello, World!');
  app.get('/users/:id', (req) => ({ id: req.params.id }));
  app.post('/echo', async (req, res) => res.send(await req.buffer(1_048_576)));
  app.get('/stats', () => app.stats());
  return app;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const app = buildHelloApp();
  const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
  console.log(`linger hello listening on http://${address.address}:${address.port}`);
  const stop = async (): Promise<void> => {
    const result = await app.close({ timeout: 10_000 });
    console.log(`closed: ${result.closedGracefully} gracefully, ${result.forced} forced`);
    // Profilers and process managers wait for the exit; nothing is left to finish once close() resolved.
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
