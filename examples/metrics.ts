// Prometheus metrics and structured logs for a linger server: stats() is read at scrape time,
// the diagnostics channels feed counters and pino logs. `node dist/examples/metrics.js`, then
// GET /metrics. Metrics and logs cost nothing on the request path unless subscribed.

import diagnosticsChannel from 'node:diagnostics_channel';
import { pino } from 'pino';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CHANNELS, createServer, gracefulShutdown, type Server } from '../lib/index.js';
import { isMain } from './serve-example.js';

interface RequestEnd { method: string; url: string; statusCode: number }
interface ConnectionClose { reason: string; lingerOutcome: string | null; requests: number; remoteAddress?: string }
interface Shutdown { phase: string; connections: number }

/** Registers linger's metrics for `server` on `registry` and logs lifecycle events with `logger`. Returns an unsubscribe function. */
export function instrument(server: Server, registry: Registry, logger: pino.Logger): () => void {
  // State gauges: read from stats() only when Prometheus scrapes.
  new Gauge({
    name: 'linger_connections',
    help: 'Open connections by phase',
    labelNames: ['phase'],
    registers: [registry],
    collect() {
      const c = server.stats().connections;
      for (const phase of ['idle', 'active', 'closing', 'lingering', 'upgraded'] as const) this.set({ phase }, c[phase]);
    },
  });
  new Gauge({
    name: 'linger_ready',
    help: '1 while listening and not shutting down',
    registers: [registry],
    collect() { this.set(server.ready ? 1 : 0); },
  });
  new Gauge({
    name: 'linger_keepalive_reuse_ratio',
    help: 'Requests that reused a connection / all requests',
    registers: [registry],
    collect() { this.set(server.stats().requests.keepAliveReuseRatio); },
  });
  // Cumulative counts kept by the server: mirrored at scrape time.
  new Counter({
    name: 'linger_resets_avoided_total',
    help: 'Lingering closes during which the peer still sent data: a plain close would have sent RST',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(server.stats().resetsAvoided);
    },
  });
  // Event counters fed by the diagnostics channels.
  const requests = new Counter({ name: 'linger_requests_total', help: 'Responses by method and status', labelNames: ['method', 'status'], registers: [registry] });
  const inFlight = new Gauge({ name: 'linger_requests_in_flight', help: 'Requests dispatched and not yet answered', registers: [registry] });
  const closes = new Counter({ name: 'linger_connection_closes_total', help: 'Closed connections by reason', labelNames: ['reason'], registers: [registry] });

  const onStart = (): void => inFlight.inc();
  const onEnd = (message: unknown): void => {
    const m = message as RequestEnd;
    inFlight.dec();
    requests.inc({ method: m.method, status: String(m.statusCode) });
    logger.debug({ method: m.method, url: m.url, status: m.statusCode }, 'request');
  };
  const onClose = (message: unknown): void => {
    const m = message as ConnectionClose;
    closes.inc({ reason: m.reason });
    // Forced closes and write errors are the ones an operator wants to see; the rest is routine.
    if (m.reason === 'shutdown-forced' || m.reason === 'write-error') logger.warn(m, 'connection closed abnormally');
    else logger.debug(m, 'connection closed');
  };
  const onShutdown = (message: unknown): void => {
    const m = message as Shutdown;
    logger.info({ phase: m.phase, connections: m.connections }, 'shutdown');
  };
  const subscriptions: Array<[string, (message: unknown) => void]> = [
    [CHANNELS.requestStart, onStart],
    [CHANNELS.requestEnd, onEnd],
    [CHANNELS.connectionClose, onClose],
    [CHANNELS.shutdown, onShutdown],
  ];
  for (const [name, fn] of subscriptions) diagnosticsChannel.subscribe(name, fn);
  return () => {
    for (const [name, fn] of subscriptions) diagnosticsChannel.unsubscribe(name, fn);
  };
}

export function buildMetricsApp() {
  const app = createServer();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  instrument(app, registry, logger);
  app.get('/', () => 'hello\n');
  app.get('/healthz', (req, res) => (app.ready ? 'ok\n' : res.status(503).send('shutting down\n')));
  app.get('/metrics', async (req, res) => {
    res.type(registry.contentType);
    return registry.metrics();
  });
  return { app, registry, logger };
}

if (isMain(import.meta.url)) {
  const { app, logger } = buildMetricsApp();
  const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
  logger.info({ address }, 'listening');
  gracefulShutdown(app, { timeout: 10_000, onShutdown: (info) => logger.info(info, 'stopped') });
}
