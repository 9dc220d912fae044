// A flood of connections beyond maxConnections: each extra one gets a readable 503 and a clean
// close, never a hang or a reset, while the connections already admitted keep being served.

import t from 'tap';
import { eventually, get, RawClient } from '../helpers/raw-client.js';
import { drained, startEngine } from '../helpers/servers.js';

t.test('300 connections over maxConnections=10: each refused with 503 and EOF; the 10 admitted keep working', async (t) => {
  // The admitted connections sit idle between their requests: a guard longer than the flood keeps
  // them from being reclaimed to make room (test/connection/idle-reclaim covers that), so every
  // extra connection here is refused however slowly the machine runs the flood.
  const { server, port } = await startEngine(t, { maxConnections: 10, idleReapGuard: 10_000 }, (req, res) => res.end(`ok ${req.url}`));
  const admitted = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(port)));
  t.ok(await eventually(() => server.stats().connections.open === 10), 'ten admitted');
  for (const [i, c] of admitted.entries()) c.write(get(`/before/${i}`));
  const before = await Promise.all(admitted.map((c) => c.response()));
  t.same(before.map((r) => r.status), Array(10).fill(200), 'served before the flood');

  const flood = Promise.all(Array.from({ length: 300 }, async () => {
    const c = await RawClient.connect(port);
    try {
      const res = await c.response();
      return { status: res.status, connection: res.headers.connection, end: await c.waitEnd() };
    } finally {
      c.destroy();
    }
  }));
  // Requests on the admitted connections while the flood is being refused.
  for (const [i, c] of admitted.entries()) c.write(get(`/during/${i}`));
  const during = await Promise.all(admitted.map((c) => c.response()));
  const refused = await flood;
  t.same(during.map((r) => r.body.toString()), admitted.map((_c, i) => `ok /during/${i}`), 'served during the flood');
  t.same(new Set(refused.map((r) => r.status)), new Set([503]), 'every extra connection read a 503');
  t.same(new Set(refused.map((r) => r.connection)), new Set(['close']));
  t.same(new Set(refused.map((r) => r.end)), new Set(['eof']), 'and a clean EOF, not a reset');
  t.equal(server.stats().connections.rejected, 300);
  // A refused socket is counted as closed once its lingering close ends (the clients closed theirs).
  t.ok(await eventually(() => server.stats().closes['max-connections'] === 300), 'every refusal counted as closed');
  t.ok(await eventually(() => server.stats().connections.open === 10), 'refused sockets leave the registry');
  t.equal(server.stats().connections.refusing, 0);

  for (const [i, c] of admitted.entries()) c.write(get(`/after/${i}`));
  const after = await Promise.all(admitted.map((c) => c.response()));
  t.same(after.map((r) => r.status), Array(10).fill(200), 'served after the flood');

  // A freed slot admits the next connection.
  admitted[0]!.destroy();
  t.ok(await eventually(() => server.stats().connections.open === 9));
  const next = await RawClient.connect(port);
  next.write(get('/next'));
  t.equal((await next.response()).body.toString(), 'ok /next');
  next.destroy();
  for (const c of admitted) c.destroy();
  t.ok(await drained(server));
});
