// At maxConnections the longest-idle keep-alive connection is closed (lingering) to admit a new one
// before anything is refused: which one is chosen, that busy and just-used ones never are, that a
// request already received on a chosen one is still answered, and the bound this keeps.

import t from 'tap';
import { fakeApp, settle, type FakeSocket } from '../helpers/fake-socket.js';
import { eventually, get, RawClient, sleep } from '../helpers/raw-client.js';
import { startApp } from '../helpers/servers.js';
import type { App } from '../../lib/index.js';

function closes(app: App, reason: string): number {
  return (app.stats().closes as Record<string, number>)[reason] ?? 0;
}

async function served(socket: FakeSocket, path = '/'): Promise<string | undefined> {
  socket.send(get(path));
  await settle();
  return socket.responses()[0]?.headers.connection;
}

t.test('the longest-idle connection is closed to admit a new one; the others are untouched', async (t) => {
  const { app, clock, connect } = fakeApp({ maxConnections: 3, idleReapGuard: 1_000 }, (app) => app.get('/', () => 'hi'));
  const a = connect();
  t.equal(await served(a), 'keep-alive');
  await clock.advance(100);
  const b = connect();
  t.equal(await served(b), 'keep-alive');
  await clock.advance(100);
  const c = connect();
  t.equal(await served(c), 'keep-alive');
  await clock.advance(1_500);

  const d = connect();
  await settle();
  t.ok(a.ended, 'a, idle longest, got its FIN');
  t.notOk(b.ended || c.ended, 'b and c stay open');
  t.equal(await served(d), 'keep-alive', 'd was admitted and is served');
  t.equal(app.stats().connections.reclaiming, 1, 'a lingers, no longer counted against the limit');
  a.peerEnd();
  await settle();
  t.ok(a.destroyed, 'the pool saw the FIN and closed: a clean end');
  t.equal(app.stats().linger['peer-eof'], 1);

  const e = connect();
  await settle();
  t.ok(b.ended, 'next in idleness: b');
  t.notOk(c.ended || d.ended);
  t.equal(await served(e), 'keep-alive');
  t.equal(closes(app, 'idle-reclaimed'), 1, 'a counted once its close ended');
  b.peerEnd();
  await settle();
  t.equal(closes(app, 'idle-reclaimed'), 2);
  t.equal(app.stats().connections.rejected, 0, 'nobody refused');
  t.equal(closes(app, 'max-connections'), 0);
});

t.test('busy connections and those idle less than idleReapGuard are never chosen: then a 503', async (t) => {
  let release = (): void => {};
  const { app, clock, connect } = fakeApp({ maxConnections: 2, idleReapGuard: 1_000 }, (app) => {
    app.get('/slow', () => new Promise<string>((resolve) => (release = () => resolve('slow'))));
    app.get('/', () => 'hi');
  });
  const busy = connect();
  busy.send(get('/slow'));
  const idle = connect();
  t.equal(await served(idle), 'keep-alive');
  await clock.advance(500);

  const early = connect();
  await settle();
  t.equal(early.responses()[0]?.status, 503, 'the idle one is within its guard: refused');
  t.notOk(idle.ended, 'and left alone');

  await clock.advance(5_000); // the busy one has been waiting for its handler all along
  const late = connect();
  await settle();
  t.ok(idle.ended, 'past the guard the idle one is reclaimed');
  t.notOk(busy.ended, 'the busy one never is, however long it has been open');
  t.equal(await served(late), 'keep-alive');
  release();
  await settle();
  const [slow] = busy.responses();
  t.equal(slow?.body.toString(), 'slow', 'the busy request completes');
  t.equal(slow?.headers.connection, 'keep-alive');

  await clock.advance(2_000); // both remaining connections are now idle past the guard, so is the lingering one
  t.equal(app.stats().connections.reclaiming, 1, 'the reclaimed one still lingers (its peer has not closed)');
});

t.test('a request already received on a chosen connection is answered, with Connection: close', async (t) => {
  const { app, clock, connect } = fakeApp({ maxConnections: 1, idleReapGuard: 1_000 }, (app) => app.get('/', () => 'hi'));
  const old = connect();
  t.equal(await served(old), 'keep-alive');
  await clock.advance(2_000);
  // The reclaim is decided on accept; the old connection's next request is read in the same turn,
  // before the poll-phase close.
  const fresh = connect();
  old.send(get('/'));
  await settle();
  const [res] = old.responses();
  t.equal(res?.status, 200, 'answered');
  t.equal(res?.headers.connection, 'close', 'and told the connection closes');
  t.ok(old.ended, 'then the FIN');
  t.equal(await served(fresh), 'keep-alive', 'the new connection was admitted');
  old.peerEnd();
  await settle();
  t.equal(closes(app, 'idle-reclaimed'), 1);
  t.equal(app.stats().connections.open, 1);
});

t.test('at most maxConnections reclaimed ones linger at once: past that, a 503', async (t) => {
  const { app, clock, connect } = fakeApp({ maxConnections: 1, idleReapGuard: 1_000, linger: { silence: 60_000, total: 60_000 } },
    (app) => app.get('/', () => 'hi'));
  const first = connect();
  t.equal(await served(first), 'keep-alive');
  await clock.advance(2_000);
  const second = connect();
  await settle();
  t.ok(first.ended, 'first reclaimed');
  t.equal(await served(second), 'keep-alive');
  await clock.advance(2_000);
  const third = connect();
  await settle();
  t.equal(third.responses()[0]?.status, 503, 'first still lingers: no second reclaim, so at most 2 x maxConnections sockets');
  t.notOk(second.ended);
  first.peerEnd();
  await settle();
  const fourth = connect();
  await settle();
  t.ok(second.ended, 'once the first is gone, the next reclaim is allowed');
  t.equal(await served(fourth), 'keep-alive');
  t.equal(app.stats().connections.rejected, 1);
});

t.test('a connection that never sent a byte is idle since accept and can be reclaimed too', async (t) => {
  const { app, clock, connect } = fakeApp({ maxConnections: 1, idleReapGuard: 1_000 }, (app) => app.get('/', () => 'hi'));
  const silent = connect();
  await clock.advance(1_500);
  const next = connect();
  await settle();
  t.ok(silent.ended, 'a preconnected socket that never spoke is closed first');
  t.equal(await served(next), 'keep-alive');
  silent.peerEnd();
  await settle();
  t.equal(closes(app, 'idle-reclaimed'), 1);
  t.equal(closes(app, 'first-byte-timeout'), 0);
});

t.test('real sockets: 8 idle pooled connections make room for 8 new ones, oldest first, each with a clean EOF', async (t) => {
  const { app, port } = await startApp(t, { maxConnections: 8, idleReapGuard: 100 }, (app) => app.get('/:id', (req) => `hi ${req.params.id}`));
  const pooled: RawClient[] = [];
  for (let i = 0; i < 8; i++) {
    const client = await RawClient.connect(port);
    client.write(get(`/old${i}`));
    t.equal((await client.response()).body.toString(), `hi old${i}`);
    pooled.push(client);
    await sleep(20); // distinct idle times: old0 is the longest idle
  }
  await sleep(300); // past the guard for all of them
  const ends: number[] = [];
  const endings = pooled.map((client, i) => client.waitEnd(5_000).then((end) => {
    ends.push(i);
    return end;
  }));
  const fresh: RawClient[] = [];
  for (let i = 0; i < 8; i++) {
    const client = await RawClient.connect(port);
    client.write(get(`/new${i}`));
    const res = await client.response();
    t.equal(res.status, 200, `new${i} admitted`);
    t.equal(res.body.toString(), `hi new${i}`);
    fresh.push(client);
    // The reclaimed one's FIN is out before the next new connection arrives.
    t.ok(await eventually(() => ends.length === i + 1, 2_000), `old${i} closed`);
  }
  t.same(ends, [0, 1, 2, 3, 4, 5, 6, 7], 'closed in order of idleness');
  t.same(new Set(await Promise.all(endings)), new Set(['eof']), 'each with a clean EOF, no reset');
  for (const client of pooled) client.destroy();
  t.ok(await eventually(() => closes(app, 'idle-reclaimed') === 8), 'counted under idle-reclaimed');
  const stats = app.stats();
  t.equal(stats.connections.rejected, 0, 'nothing refused');
  t.equal(stats.requests.total, 16, 'every request served');
  for (const client of fresh) client.destroy();
});
