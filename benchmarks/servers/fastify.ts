// fastify serving the benchmark routes.

import Fastify from 'fastify';
import { BIG, COMPRESSIBLE, HELLO, port, ROUTE_COUNT, tlsFiles } from './routes.js';

const tls = tlsFiles();
const app = Fastify({ logger: false, keepAliveTimeout: 65_000, ...(tls === undefined ? {} : { https: tls }) });
// FASTIFY_COMPRESS=1: @fastify/compress, gzip only, as linger's compression case runs it. Loaded by
// a specifier in a variable: the server needs none of its types.
if (process.env.FASTIFY_COMPRESS === '1') {
  const specifier = '@fastify/compress';
  const compress = (await import(specifier)) as { default: Parameters<typeof app.register>[0] };
  await app.register(compress.default, { encodings: ['gzip'], threshold: 1024 });
}
app.get('/compressible', async (_req, reply) => reply.type('application/json').send(COMPRESSIBLE));
app.get('/', async (_req, reply) => reply.type('text/plain; charset=utf-8').send(HELLO));
app.get('/64k', async (_req, reply) => reply.type('application/octet-stream').send(BIG));
app.post('/echo', async (req) => req.body);
for (let i = 0; i < ROUTE_COUNT; i++) app.get<{ Params: { id: string } }>(`/r${i}/:id`, async (req) => ({ route: i, id: req.params.id }));
await app.listen({ port: port(), host: '127.0.0.1', backlog: 4096 });
console.log('ready');
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
