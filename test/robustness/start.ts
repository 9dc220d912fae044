// Shared setup of the robustness tests: an engine server (no app layer) on an ephemeral loopback
// port, and a wait for its connection registry to drain, which is how a leak would show.

import { Server, type Dispatch } from '../../lib/server.js';
import type { ServerOptions } from '../../lib/connection/options.js';
import { eventually } from '../helpers/raw-client.js';

export async function startEngine(options: ServerOptions, dispatch: Dispatch): Promise<{ server: Server; port: number }> {
  const server = new Server(options, dispatch);
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, port };
}

/** True once no connection is left open (bounded wait: 5 s). */
export function drained(server: Server, timeoutMs = 5000): Promise<boolean> {
  return eventually(() => server.stats().connections.open === 0, timeoutMs);
}
