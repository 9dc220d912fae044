// fastify serving the benchmark routes.

import Fastify from 'fastify';
import { BIG, HELLO, port, ROUTE_COUNT, tlsFiles } from './routes.js';

const tls = tlsFiles();
const app = Fastify({ logger: false, keepAliveTimeout: 65_000, ...(tls === undefined ? {} : { https: tls }) });
app.get('/', async (_req, reply) => reply.type('text/plain; charset=utf-8').send(HELLO));
app.get('/64k', async (_req, reply) => reply.type('application/octet-stream').send(BIG));
app.post('/echo', async (req) => req.body);
for (let i = 0; i < ROUTE_COUNT; i++) app.get<{ Params: { id: string } }>(`/r${i}/:id`, async (req) => ({ route: i, id: req.params.id }));
await app.listen({ port: port(), host: '127.0.0.1', backlog: 4096 });
console.log('ready');
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
