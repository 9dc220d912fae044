// Starts an app on an ephemeral loopback port for one test, closed when the test ends.

import { createServer, type App, type AppOptions } from '../../lib/index.js';

export async function startApp(t: { teardown(fn: () => unknown): void }, setup: (app: App) => void, options: AppOptions = {}): Promise<number> {
  const app = createServer(options);
  setup(app);
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close({ timeout: 500 }));
  return port;
}
