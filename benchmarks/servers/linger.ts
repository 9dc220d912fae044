// linger serving the benchmark routes.

import { createServer } from '../../lib/index.js';
import { BIG, HELLO, port, ROUTE_COUNT } from './routes.js';

const app = createServer();
app.get('/', () => HELLO);
app.get('/64k', () => BIG);
app.post('/echo', async (req) => req.json());
for (let i = 0; i < ROUTE_COUNT; i++) app.get(`/r${i}/:id`, (req) => ({ route: i, id: req.params.id }));
await app.listen({ port: port(), host: '127.0.0.1', backlog: 4096 });
console.log('ready');
process.once('SIGTERM', () => void app.close({ timeout: 1000 }).then(() => process.exit(0)));
