// The bench's Hono app on linger's serve(), without a limit of requests per connection like every
// other server in the comparison (see servers/linger.ts).

import { serve } from '../../lib/index.js';
import { honoApp } from './hono-app.js';
import { port } from './routes.js';

const server = await serve({ fetch: honoApp(), port: port(), hostname: '127.0.0.1', backlog: 4096, maxRequestsPerSocket: 0 });
console.log('ready');
process.once('SIGTERM', () => void server.close({ timeout: 1000 }).then(() => process.exit(0)));
