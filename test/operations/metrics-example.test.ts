// examples/metrics.ts: the Prometheus text reflects requests, closes by reason and readiness, and
// the pino log carries the shutdown phases.

import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { createServer } from '../../lib/index.js';
import { instrument } from '../../examples/metrics.js';
import { get, RawClient } from '../helpers/raw-client.js';

t.test('metrics from stats() and the diagnostics channels, logs from pino', async (t) => {
  const app = createServer({ maxRequestsPerSocket: 2, idleReapGuard: 10 });
  app.get('/', () => 'hi');
  const registry = new Registry();
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const unsubscribe = instrument(app, registry, pino({ level: 'info' }, sink));
  t.teardown(unsubscribe);
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });

  const client = await RawClient.connect(port);
  client.write(get('/') + get('/nope'));
  await client.response();
  await client.response();
  await client.waitEnd();
  client.destroy();
  const idle = await RawClient.connect(port);
  idle.write(get('/'));
  await idle.response();

  const before = await registry.metrics();
  t.match(before, /linger_requests_total\{method="GET",status="200"\} 2/);
  t.match(before, /linger_requests_total\{method="GET",status="404"\} 1/);
  t.match(before, /linger_connection_closes_total\{reason="max-requests"\} 1/);
  t.match(before, /linger_connections\{phase="idle"\} 1/);
  t.match(before, /linger_requests_in_flight 0/);
  t.match(before, /linger_ready 1/);
  t.match(before, /linger_keepalive_reuse_ratio 0\.333/);

  const closing = app.close({ timeout: 1000 });
  t.match(await registry.metrics(), /linger_ready 0/, 'not ready as soon as close() started');
  await closing;
  idle.destroy();
  t.match(lines.filter((l) => l.msg === 'shutdown').map((l) => l.phase), ['start', 'done']);
  t.match(await registry.metrics(), /linger_connection_closes_total\{reason="shutdown-idle"\} 1/);
});
