// Slow clients against the engine's timers: slowloris heads, bodies trickling slower than the body
// timeout, and bodies fast enough per byte but too slow as a whole. Each ends in a 408 and a close.

import t from 'tap';
import { RawClient, sleep } from '../helpers/raw-client.js';
import { drained, startEngine } from '../helpers/servers.js';

// Upper bounds are liveness bounds on a loaded shared machine (timeout + sweeper tick + slack),
// not timing claims; lower bounds show the timer did not fire early.
const SLACK = 3000;

/** Writes `text` one byte every `everyMs` until the server ends the connection or the text runs out. */
function trickle(client: RawClient, text: string, everyMs: number): () => void {
  let i = 0;
  const timer = setInterval(() => {
    if (client.ended || client.closed || client.error !== null || i >= text.length) {
      clearInterval(timer);
      return;
    }
    client.write(text[i++]!);
  }, everyMs);
  return () => clearInterval(timer);
}

t.test('slowloris: 50 heads arriving a byte every 40 ms all get 408 at headersTimeout; a normal client is served meanwhile', async (t) => {
  const headersTimeout = 400;
  const { server, port } = await startEngine(t, { headersTimeout }, (_req, res) => res.end('ok'));
  // A head that would take 4 s at this pace: only the timer can end it.
  const head = `GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ${'s'.repeat(100)}\r\n\r\n`;
  const clients = await Promise.all(Array.from({ length: 50 }, () => RawClient.connect(port)));
  const started = Date.now();
  const stops = clients.map((c) => trickle(c, head, 40));
  t.teardown(() => stops.forEach((stop) => stop()));

  const normal = await RawClient.connect(port);
  normal.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal((await normal.response()).status, 200, 'a well-behaved client is served during the attack');

  const results = await Promise.all(clients.map(async (c) => {
    const res = await c.response(headersTimeout + SLACK);
    const end = await c.waitEnd(SLACK);
    return { status: res.status, connection: res.headers.connection, end, elapsed: Date.now() - started };
  }));
  t.same(new Set(results.map((r) => r.status)), new Set([408]), 'every slow head got 408');
  t.same(new Set(results.map((r) => r.connection)), new Set(['close']), 'with Connection: close');
  t.same(new Set(results.map((r) => r.end)), new Set(['eof']), 'then a clean EOF');
  const latest = Math.max(...results.map((r) => r.elapsed));
  const earliest = Math.min(...results.map((r) => r.elapsed));
  t.ok(earliest >= headersTimeout - headersTimeout / 8 - 20, `not before the timeout (earliest ${earliest} ms)`);
  t.ok(latest <= headersTimeout + SLACK, `all closed within the bound (latest ${latest} ms)`);
  normal.destroy();
  for (const c of clients) c.destroy();
  t.ok(await drained(server), 'no connection left open');
  t.equal(server.stats().closes['headers-timeout'], 50);
});

t.test('slow POST: a body trickling slower than bodyTimeout gets 408; the handler sees the timeout error', async (t) => {
  const bodyTimeout = 250;
  let handlerError = null as { code?: string } | null;
  const { server, port } = await startEngine(t, { bodyTimeout }, (req, res) => {
    req.buffer().then((body) => res.end(`got ${body.length}`), (err: { code?: string }) => {
      handlerError = err;
    });
  });
  t.teardown(() => server.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  client.write('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n');
  const started = Date.now();
  // One byte every 2 x bodyTimeout: each gap alone is over the limit.
  const stop = trickle(client, 'b'.repeat(100), bodyTimeout * 2);
  t.teardown(stop);
  const res = await client.response(bodyTimeout * 2 + SLACK);
  const elapsed = Date.now() - started;
  stop();
  t.equal(res.status, 408);
  t.equal(res.headers.connection, 'close');
  t.equal(await client.waitEnd(SLACK), 'eof');
  t.ok(elapsed >= bodyTimeout - bodyTimeout / 8 - 20 && elapsed <= bodyTimeout * 2 + SLACK, `408 after ${elapsed} ms`);
  t.equal(handlerError?.code, 'ERR_BODY_TIMEOUT', 'the handler reading the body got the timeout error');
  client.destroy();
  t.ok(await drained(server));
  t.equal(server.stats().closes['body-timeout'], 1);
});

t.test('a body fast enough per chunk but too slow as a whole gets 408 at requestTimeout', async (t) => {
  const requestTimeout = 600;
  const { server, port } = await startEngine(t, { bodyTimeout: 300, requestTimeout }, (req, res) => {
    req.buffer().then((body) => res.end(`got ${body.length}`), () => {});
  });
  t.teardown(() => server.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  const started = Date.now();
  client.write('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10000\r\n\r\n');
  // A byte every 30 ms never trips the 300 ms body timer; 10 000 of them would take 5 minutes.
  const stop = trickle(client, 'b'.repeat(10_000), 30);
  t.teardown(stop);
  const res = await client.response(requestTimeout + SLACK);
  const elapsed = Date.now() - started;
  stop();
  t.equal(res.status, 408);
  t.equal(await client.waitEnd(SLACK), 'eof');
  t.ok(elapsed >= requestTimeout - requestTimeout / 8 - 20, `not before requestTimeout (${elapsed} ms)`);
  client.destroy();
  t.ok(await drained(server));
  t.equal(server.stats().closes['request-timeout'], 1);
  t.equal(server.stats().closes['body-timeout'], 0, 'the per-chunk timer never fired');
});

t.test('a slow head on a keep-alive connection does not reset the timer by trickling between requests', async (t) => {
  const headersTimeout = 300;
  const { server, port } = await startEngine(t, { headersTimeout, keepAliveTimeout: 5000 }, (_req, res) => res.end('ok'));
  const client = await RawClient.connect(port);
  client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal((await client.response()).status, 200);
  // Idle well below keepAliveTimeout, then a second head that trickles: timed from its first byte.
  await sleep(100);
  const started = Date.now();
  const stop = trickle(client, `GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`, 25);
  t.teardown(stop);
  const res = await client.response(headersTimeout + SLACK);
  stop();
  t.equal(res.status, 408);
  t.ok(Date.now() - started <= headersTimeout + SLACK);
  t.equal(await client.waitEnd(SLACK), 'eof');
  client.destroy();
  t.ok(await drained(server));
});
