// The Hono cases' routes as a bare fetch handler on linger's serve() (servers/fetch-app.ts): the
// adapter's cost without Hono's. No limit of requests per connection, as servers/linger.ts.

import { serve } from '../../lib/index.js';
import { bareFetch } from './fetch-app.js';
import { port } from './routes.js';

const server = await serve({ fetch: bareFetch, port: port(), hostname: '127.0.0.1', backlog: 4096, maxRequestsPerSocket: 0 });
console.log('ready');
process.once('SIGTERM', () => void server.close({ timeout: 1000 }).then(() => process.exit(0)));
