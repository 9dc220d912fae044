// Runs an example app the way the npm scripts do: listen on PORT/HOST (default 127.0.0.1:3000) and
// close gracefully on SIGTERM or SIGINT, then exit.

import type { Server } from '../lib/index.js';

export async function serveExample(app: Server, label: string): Promise<void> {
  const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
  console.log(`${label} on http://${address.address}:${address.port}/`);
  const stop = async (): Promise<void> => {
    const result = await app.close({ timeout: 10_000 });
    console.log(`closed: ${result.closedGracefully} gracefully, ${result.forced} forced`);
    // Profilers and process managers wait for the exit; nothing is left to finish once close() resolved.
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** True when the importing module is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && moduleUrl === new URL(`file://${process.argv[1]}`).href;
}
