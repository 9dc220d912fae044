// The bench's Hono app on @hono/node-server (node:http underneath), its own defaults.

import { serve } from '@hono/node-server';
import { honoApp } from './hono-app.js';
import { port } from './routes.js';

const server = serve({ fetch: honoApp().fetch, port: port(), hostname: '127.0.0.1' }, () => console.log('ready'));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
