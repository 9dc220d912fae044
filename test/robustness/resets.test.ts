// Clients that reset (RST) at every stage: inside a head, inside a body, inside a large streamed
// response, and while the server lingers. None may crash the process or leak a connection; the
// handler learns through its request's signal and a body read that rejects.

import t from 'tap';
import { eventually, get, RawClient, sleep } from '../helpers/raw-client.js';
import { drained, startEngine } from '../helpers/servers.js';

const uncaught: unknown[] = [];
process.on('uncaughtException', (err) => uncaught.push(err));
process.on('unhandledRejection', (err) => uncaught.push(err));
t.teardown(() => {
  // Listed here so a failure names what escaped.
  if (uncaught.length > 0) console.error(uncaught);
});

// Node 20 on Linux sends a FIN instead of an RST when resetAndDestroy() follows a write in the same
// tick (and sometimes under many concurrent sockets): the tests wait this long after their last write.
const RESET_AFTER_WRITE = 5;

t.test('RST in the middle of a request head', async (t) => {
  let handled = 0;
  const { server, port } = await startEngine(t, {}, (_req, res) => {
    handled++;
    res.end('ok');
  });
  t.teardown(() => server.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  client.write('GET /partial HTTP/1.1\r\nHost: a\r\nX-Half: ab');
  t.ok(await eventually(() => server.stats().connections.active === 1), 'the server is inside the head');
  client.socket.resetAndDestroy();
  t.ok(await drained(server), 'connection gone');
  t.equal(server.stats().closes['client-reset'], 1);
  t.equal(handled, 0);
  t.same(uncaught, []);
});

t.test('RST in the middle of a request body: the handler\'s read rejects and its signal aborts', async (t) => {
  let readError = null as { code?: string } | null;
  let signalReason = null as { code?: string } | null;
  const { server, port } = await startEngine(t, {}, (req, res) => {
    req.signal.addEventListener('abort', () => {
      signalReason = req.signal.reason as { code?: string };
    });
    req.buffer().then((b) => res.end(`got ${b.length}`), (err: { code?: string }) => {
      readError = err;
    });
  });
  t.teardown(() => server.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  client.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(20_000)}`);
  await sleep(50);
  client.socket.resetAndDestroy();
  t.ok(await drained(server));
  t.equal(server.stats().closes['client-reset'], 1);
  t.ok(await eventually(() => readError !== null && signalReason !== null));
  t.equal(readError?.code, 'ERR_CLIENT_GONE', 'the body read rejected');
  t.equal(signalReason?.code, 'ERR_CLIENT_GONE', 'the signal aborted with the reason');
  t.same(uncaught, []);
});

t.test('RST in the middle of a 64 MiB streamed response: the handler stops, nothing leaks', async (t) => {
  const chunk = Buffer.alloc(65_536, 'z');
  const total = 1024; // chunks: 64 MiB
  let written = 0;
  let stopped = false;
  const { server, port } = await startEngine(t, {}, (req, res) => {
    void (async () => {
      while (written < total && !req.signal.aborted) {
        written++;
        if (!res.write(chunk)) await res.drained();
      }
      if (!req.signal.aborted) res.end();
      stopped = true;
    })();
  });
  t.teardown(() => server.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  client.write(get('/big'));
  let received = 0;
  await new Promise<void>((resolve) => {
    client.socket.on('data', (c: Buffer) => {
      received += c.length;
      if (received > 1_048_576) resolve();
    });
  });
  client.socket.resetAndDestroy();
  t.ok(await drained(server), 'connection gone');
  t.ok(await eventually(() => stopped), 'the handler loop ended');
  t.ok(written < total, `the handler stopped early (${written} of ${total} chunks)`);
  t.equal(server.stats().closes['client-reset'] + server.stats().closes['write-error'], 1);
  t.same(uncaught, []);
});

t.test('RST while the server lingers after its close', async (t) => {
  const { server, port } = await startEngine(t, { maxRequestsPerSocket: 1, linger: { silence: 10_000, total: 20_000 } }, (_req, res) => res.end('ok'));
  // Keep our side open after the server's FIN and keep talking, so the server stays in its linger.
  const client = await RawClient.connect(port, { allowHalfOpen: true });
  client.write(get('/') + get('/after-the-limit'));
  t.equal((await client.response()).status, 200);
  t.equal(await client.waitEnd(), 'eof', 'the server half-closed');
  client.write(get('/still-talking'));
  t.ok(await eventually(() => server.stats().connections.lingering === 1), 'the server is lingering');
  await sleep(RESET_AFTER_WRITE);
  client.socket.resetAndDestroy();
  t.ok(await drained(server), 'the lingering connection is gone at the reset, not at the linger timer');
  t.same(server.stats().linger, { 'peer-eof': 0, silence: 0, total: 0, 'byte-cap': 0, reset: 1 }, 'counted as a linger ended by reset');
  t.same(uncaught, []);
});

t.test('200 clients resetting at random points of a POST, while a healthy client is served', async (t) => {
  const { server, port } = await startEngine(t, {}, (req, res) => {
    if (req.method === 'GET') {
      res.end('ok');
      return;
    }
    req.buffer().then((b) => res.end(`got ${b.length}`), () => {});
  });
  t.teardown(() => server.close({ timeout: 500 }));
  const healthy = await RawClient.connect(port);
  const body = 'q'.repeat(4000);
  const request = `POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  const resets = Array.from({ length: 200 }, async () => {
    const c = await RawClient.connect(port);
    // Cut anywhere from the request line to the last body byte, then reset.
    c.write(request.slice(0, 1 + random(request.length - 1)));
    await sleep(RESET_AFTER_WRITE + random(20));
    c.socket.resetAndDestroy();
  });
  for (let i = 0; i < 20; i++) {
    healthy.write(get(`/h/${i}`));
    t.equal((await healthy.response()).status, 200);
  }
  await Promise.all(resets);
  healthy.destroy();
  t.ok(await drained(server), 'every connection closed');
  t.equal(server.stats().connections.accepted, 201);
  // Under this concurrency Node turns some resetAndDestroy() calls into a FIN: either way, each counted once.
  const closes = server.stats().closes;
  t.equal(closes['client-reset'] + closes['client-close'], 201, 'each connection counted once as a client-side close');
  t.same(uncaught, []);
});
