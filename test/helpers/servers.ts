// The one way tests start a server: an app or a bare engine on an ephemeral loopback port, closed
// when the test ends, and a bounded wait for its connection registry to drain (how a leak shows).

import { createServer, type App, type AppOptions } from '../../lib/index.js';
import { Server, type Dispatch } from '../../lib/server.js';
import type { ServerOptions } from '../../lib/connection/options.js';
import { eventually } from './raw-client.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** The default stderr error log is off unless a test asks for it: tests that fail on purpose stay quiet. */
export async function startApp(t: Teardown, options: AppOptions, setup: (app: App) => void): Promise<{ app: App; port: number }> {
  const app = createServer({ logErrors: false, ...options });
  setup(app);
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close({ timeout: 500 }));
  return { app, port };
}

/** An app served in process through app.inject(): no port, no socket; closed when the test ends. */
export function injectApp(t: Teardown, options: AppOptions, setup: (app: App) => void): App {
  const app = createServer({ logErrors: false, ...options });
  setup(app);
  t.teardown(() => app.close({ timeout: 500 }));
  return app;
}

/** The engine without the app layer: the dispatcher gets the raw request and response. */
export async function startEngine(t: Teardown, options: ServerOptions, dispatch: Dispatch): Promise<{ server: Server; port: number }> {
  const server = new Server(options, dispatch);
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => server.close({ timeout: 500 }));
  return { server, port };
}

/** True once no connection is left open (bounded wait: 5 s). */
export function drained(server: Server, timeoutMs = 5000): Promise<boolean> {
  return eventually(() => server.stats().connections.open === 0, timeoutMs);
}
