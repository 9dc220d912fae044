// The connection's lifecycle driven step by step over a fake socket and a fake clock: every timer
// fires for its own cause and at its own time, every close carries its reason and linger outcome,
// and nothing here depends on how fast the machine is.

import t from 'tap';
import { fakeApp, settle } from '../helpers/fake-socket.js';
import { get } from '../helpers/raw-client.js';
import type { App } from '../../lib/index.js';

function closes(app: App, reason: string): number {
  return (app.stats().closes as Record<string, number>)[reason] ?? 0;
}

t.test('keep-alive counts down; the last allowed response closes, the FIN follows, the peer EOF ends the linger', async (t) => {
  const { app, connect } = fakeApp({ maxRequestsPerSocket: 3 }, (app) => app.get('/', () => 'hi'));
  const socket = connect();
  socket.send(get('/').repeat(3));
  await settle();
  const seen = socket.responses().map((r) => [r.headers.connection, r.headers['keep-alive']]);
  t.same(seen, [['keep-alive', 'timeout=60, max=2'], ['keep-alive', 'timeout=60, max=1'], ['close', undefined]]);
  t.equal(socket.writes.length, 1, 'three pipelined responses, one write');
  t.ok(socket.ended, 'FIN after the last response');
  t.equal(app.stats().connections.lingering, 1, 'lingering: reading until the peer closes');
  socket.peerEnd();
  await settle();
  t.ok(socket.destroyed);
  t.equal(closes(app, 'max-requests'), 1);
  t.equal(app.stats().linger['peer-eof'], 1);
});

t.test('the idle timeout fires for its own cause, never before keepAliveTimeout', async (t) => {
  const keepAliveTimeout = 5_000;
  const { app, clock, connect } = fakeApp({ keepAliveTimeout }, (app) => app.get('/', () => 'hi'));
  const socket = connect();
  socket.send(get('/'));
  await settle();
  t.equal(socket.responses().length, 1);
  await clock.advance(keepAliveTimeout - 1);
  t.notOk(socket.ended, 'still open 1 ms before the timeout');
  await clock.advance(app.sweeper.tickMs + 1);
  t.ok(socket.ended, 'FIN once the idle timeout (plus one tick of clock granularity) has passed');
  socket.peerEnd();
  await settle();
  t.equal(closes(app, 'idle-timeout'), 1);
});

t.test('an idle close decided this turn is called off by input read in the same turn', async (t) => {
  const { app, clock, connect } = fakeApp({ keepAliveTimeout: 1_000 }, (app) => app.get('/', () => 'hi'));
  const socket = connect();
  socket.send(get('/'));
  await settle();
  socket.responses();
  // The sweeper decides the idle close (timers phase); the request is read before the check phase.
  clock.now += 2_000;
  app.sweeper.runDue();
  socket.send(get('/'));
  await settle();
  const [res] = socket.responses();
  t.equal(res?.body.toString(), 'hi', 'the request that arrived is answered');
  t.equal(res?.headers.connection, 'keep-alive', 'and the connection is kept: it was not idle after all');
  t.notOk(socket.ended);
  t.equal(closes(app, 'idle-timeout'), 0);
});

t.test('a send timeout is not an idle timeout: draining output with progress keeps the connection', async (t) => {
  const { app, clock, connect } = fakeApp({ sendTimeout: 1_000, keepAliveTimeout: 10_000 }, (app) => {
    app.get('/big', () => Buffer.alloc(256 * 1024, 'b'));
    app.get('/', () => 'again');
  });
  const socket = connect();
  socket.accepting = false; // the peer reads slowly: the kernel takes output only when the test says
  socket.send(get('/big'));
  await settle();
  for (let i = 0; i < 8; i++) {
    await clock.advance(900);
    socket.drain(16 * 1024); // progress within every send timeout, never all of it
  }
  t.notOk(socket.destroyed, 'not destroyed: the peer kept reading');
  t.notOk(socket.ended, 'not closed as idle while the response drains');
  socket.drain();
  await settle();
  socket.send(get('/'));
  await settle();
  const bodies = socket.responses().map((r) => r.body.length);
  t.same(bodies, [256 * 1024, 5], 'the big body whole, then the next request on the same connection');
  t.equal(closes(app, 'idle-timeout') + closes(app, 'send-timeout'), 0);
});

t.test('a send timeout without progress destroys the connection as send-timeout', async (t) => {
  const { app, clock, connect } = fakeApp({ sendTimeout: 1_000 }, (app) => app.get('/big', () => Buffer.alloc(256 * 1024, 'b')));
  const socket = connect();
  socket.accepting = false;
  socket.send(get('/big'));
  await settle();
  await clock.advance(999);
  t.notOk(socket.destroyed, 'not before the send timeout');
  await clock.advance(app.sweeper.tickMs + 2);
  await settle();
  t.ok(socket.destroyed);
  t.equal(closes(app, 'send-timeout'), 1);
});

t.test('a large whole body leaves in slices, the next only once the socket drained', async (t) => {
  const { connect } = fakeApp({}, (app) => app.get('/big', () => Buffer.alloc(300 * 1024, 'x')));
  const socket = connect();
  socket.accepting = false;
  socket.send(get('/big'));
  await settle();
  const first = socket.writes.length;
  t.ok(socket.writableLength <= 128 * 1024, `at most a head and one slice handed to the socket (${socket.writableLength} bytes)`);
  for (let i = 0; i < 10 && socket.writableLength > 0; i++) {
    socket.accepting = false;
    socket.drain();
    await settle();
  }
  socket.drain();
  t.ok(socket.writes.length > first, 'the rest followed drain by drain');
  t.equal(socket.responses()[0]?.body.length, 300 * 1024, 'all of it, in order');
});

t.test('first-byte, headers and body timeouts each close with their own reason', async (t) => {
  const { app, clock, connect } = fakeApp({ firstByteTimeout: 1_000, headersTimeout: 2_000, bodyTimeout: 3_000 }, (app) => {
    app.post('/', async (req) => (await req.buffer()).length);
  });
  const silent = connect();
  const slowHead = connect();
  slowHead.send('GET / HTTP/1.1\r\nHo');
  const slowBody = connect();
  slowBody.send('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc');
  await settle();
  await clock.advance(1_200);
  t.ok(silent.ended, 'the silent socket is closed at the first-byte timeout');
  t.notOk(slowHead.ended);
  await clock.advance(1_000);
  t.equal(slowHead.responses()[0]?.status, 408, 'the incomplete head gets 408 at the headers timeout');
  t.notOk(slowBody.ended);
  await clock.advance(1_000);
  t.equal(slowBody.responses()[0]?.status, 408, 'the stalled body gets 408 at the body timeout');
  for (const s of [silent, slowHead, slowBody]) s.peerEnd();
  await settle();
  t.same([closes(app, 'first-byte-timeout'), closes(app, 'headers-timeout'), closes(app, 'body-timeout')], [1, 1, 1]);
});

t.test('lingering ends by silence, by total, or by the byte cap, each counted', async (t) => {
  const { app, clock, connect } = fakeApp({ linger: { silence: 1_000, total: 3_000, maxDiscardBytes: 100 } }, (app) => app.get('/', () => 'bye'));
  const open = (): ReturnType<typeof connect> => {
    const s = connect();
    s.send(get('/', 'Connection: close\r\n'));
    return s;
  };
  const silent = open();
  const chatty = open();
  const flooding = open();
  await settle();
  t.ok(silent.ended && chatty.ended && flooding.ended, 'each answered and sent its FIN');
  flooding.send(Buffer.alloc(200, 'x'));
  await settle();
  t.ok(flooding.destroyed, 'over the byte cap: destroyed at once');
  for (let i = 0; i < 4; i++) {
    await clock.advance(800);
    if (!chatty.destroyed) chatty.send('x'); // keeps the silence timer from firing
  }
  t.ok(silent.destroyed, 'silent: destroyed after the silence timeout');
  t.ok(chatty.destroyed, 'chatty: destroyed at the total');
  await settle();
  t.same(app.stats().linger, { 'peer-eof': 0, silence: 1, total: 1, 'byte-cap': 1, reset: 0 });
  t.equal(closes(app, 'client-connection-close'), 3);
});

t.test('a route timeout is the handler timeout: 503 in the handler\'s place, measured from the end of the body', async (t) => {
  const { app, clock, connect } = fakeApp({}, (app) => {
    app.post('/slow', { timeout: 1_000 }, () => new Promise<never>(() => {}));
  });
  const socket = connect();
  socket.send('POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab');
  await settle();
  await clock.advance(5_000); // an upload taking longer than the handler timeout is not cut by it
  t.equal(socket.responses().length, 0, 'no answer while the body is still arriving');
  socket.send('cd');
  await settle();
  await clock.advance(900);
  t.equal(socket.responses().length, 0, 'not before the timeout, counted from the end of the body');
  await clock.advance(app.sweeper.tickMs + 200);
  const [res] = socket.responses();
  t.equal(res?.status, 503);
  t.equal(res?.headers.connection, 'close');
  socket.peerEnd();
  await settle();
  t.equal(closes(app, 'handler-timeout'), 1);
});

t.test('request trailers reach the handler once the body is complete', async (t) => {
  let seen: unknown = null;
  const { connect } = fakeApp({}, (app) => {
    app.post('/t', async (req) => {
      const body = await req.text();
      seen = { body, trailers: req.trailers, raw: req.rawTrailers };
      return 'ok';
    });
  });
  const socket = connect();
  socket.send('POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 42\r\nX-Checksum: 43\r\n\r\n');
  await settle();
  t.equal(socket.responses()[0]?.status, 200);
  t.same(seen, { body: 'abc', trailers: { 'x-checksum': '42, 43' }, raw: ['X-Checksum', '42', 'X-Checksum', '43'] });
});

t.test('a refused socket lingers within its short total, counted in stats while it does', async (t) => {
  const { app, clock, connect } = fakeApp({ maxConnections: 1, linger: { total: 10_000, shutdownTotal: 2_000, silence: 5_000 } }, () => {});
  const held = connect();
  const refused = connect();
  await settle();
  t.equal(refused.responses()[0]?.status, 503);
  t.equal(app.stats().connections.refusing, 1);
  for (let i = 0; i < 3; i++) {
    await clock.advance(600);
    refused.send('x'); // trickling input never extends the total
  }
  t.notOk(refused.destroyed, 'still lingering within its total');
  await clock.advance(600);
  await settle();
  t.ok(refused.destroyed, 'gone by the shorter linger total, counted from accept');
  t.equal(app.stats().connections.refusing, 0);
  t.equal(closes(app, 'max-connections'), 1);
  t.notOk(held.destroyed, 'the admitted connection is untouched');
});
