// The Hono app of the "Hono" bench cases, served by linger's serve() and by @hono/node-server;
// servers/linger.ts answers the same routes on linger's native API.

import { Hono } from 'hono';
import { HELLO } from './routes.js';

/** The route with a parameter the "Hono route with params, JSON" case requests. */
export const HONO_PARAMS_PATH = '/users/12345';

export function honoApp(): Hono {
  const app = new Hono();
  app.get('/', (c) => c.text(HELLO));
  app.get('/users/:id', (c) => c.json({ id: c.req.param('id'), name: 'linger' }));
  return app;
}
