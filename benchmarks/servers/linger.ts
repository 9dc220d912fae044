// linger serving the benchmark routes. Every server in the comparison keeps a connection for as many
// requests as the client sends (node:http's and fastify's default; the ceiling cannot do otherwise), so
// linger runs with maxRequestsPerSocket: 0 here; LINGER_DEFAULTS=1 runs it with its defaults instead
// (a new connection after 1,000 requests), which the harness reports beside it.

import pino from 'pino';
import { createServer, type AppOptions } from '../../lib/index.js';
import { BIG, COMPRESSIBLE, HELLO, port, ROUTE_COUNT, tlsFiles } from './routes.js';

const tls = tlsFiles();
const options: AppOptions = { ...(process.env.LINGER_DEFAULTS === '1' ? {} : { maxRequestsPerSocket: 0 }), ...(tls === undefined ? {} : { tls }) };
// LINGER_LOGGER=1: request logging with pino as production runs it (asynchronous, buffered writes), to /dev/null.
if (process.env.LINGER_LOGGER === '1') options.logger = pino(pino.destination({ dest: '/dev/null', minLength: 4096, sync: false }));
const app = createServer(options);
if (process.env.LINGER_COMPRESS === '1') app.compress({ encodings: ['gzip'], cacheBytes: 0 });
app.get('/compressible', (_req, res) => res.type('application/json').send(COMPRESSIBLE));
app.get('/', () => HELLO);
app.get('/64k', () => BIG);
app.post('/echo', async (req) => req.json());
for (let i = 0; i < ROUTE_COUNT; i++) app.get(`/r${i}/:id`, (req) => ({ route: i, id: req.params.id }));
// The routes of servers/hono-app.ts, on the native API: the Hono cases' baseline.
app.get('/users/:id', (req) => ({ id: req.params.id, name: 'linger' }));
await app.listen({ port: port(), host: '127.0.0.1', backlog: 4096 });
console.log('ready');
process.once('SIGTERM', () => void app.close({ timeout: 1000 }).then(() => process.exit(0)));
