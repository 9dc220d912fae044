// linger serving the benchmark routes. Every server in the comparison keeps a connection for as many
// requests as the client sends (node:http's and fastify's default; the ceiling cannot do otherwise), so
// linger runs with maxRequestsPerSocket: 0 here; LINGER_DEFAULTS=1 runs it with its defaults instead
// (a new connection after 1,000 requests), which the harness reports beside it.

import { createServer } from '../../lib/index.js';
import { BIG, HELLO, port, ROUTE_COUNT, tlsFiles } from './routes.js';

const tls = tlsFiles();
const app = createServer({ ...(process.env.LINGER_DEFAULTS === '1' ? {} : { maxRequestsPerSocket: 0 }), ...(tls === undefined ? {} : { tls }) });
app.get('/', () => HELLO);
app.get('/64k', () => BIG);
app.post('/echo', async (req) => req.json());
for (let i = 0; i < ROUTE_COUNT; i++) app.get(`/r${i}/:id`, (req) => ({ route: i, id: req.params.id }));
// The routes of servers/hono-app.ts, on the native API: the Hono cases' baseline.
app.get('/users/:id', (req) => ({ id: req.params.id, name: 'linger' }));
await app.listen({ port: port(), host: '127.0.0.1', backlog: 4096 });
console.log('ready');
process.once('SIGTERM', () => void app.close({ timeout: 1000 }).then(() => process.exit(0)));
