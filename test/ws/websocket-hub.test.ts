// WebSocket routes over real sockets with the `ws` client: echo, binary, large and oversized messages,
// params and headers in the handler, rejected upgrades as HTTP errors, pipelined upgrades, ping
// timeouts, rooms, stats, and the 1001 close of a graceful shutdown.

import { once } from 'node:events';
import t from 'tap';
import { WebSocket } from 'ws';
import { createServer, type App } from '../../lib/index.js';
import { get, RawClient, sleep, eventually } from '../helpers/raw-client.js';
import { startApp } from '../helpers/servers.js';


interface Message {
  data: Buffer;
  isBinary: boolean;
}

const inboxes = new WeakMap<WebSocket, { queue: Message[]; wake: (() => void) | null }>();

/** Opens a client whose messages are queued from the start: the first one may arrive with the 101. */
function open(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const inbox: { queue: Message[]; wake: (() => void) | null } = { queue: [], wake: null };
    inboxes.set(ws, inbox);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      inbox.queue.push({ data, isBinary });
      inbox.wake?.();
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function nextMessage(ws: WebSocket): Promise<Message> {
  const inbox = inboxes.get(ws)!;
  while (inbox.queue.length === 0) await new Promise<void>((resolve) => (inbox.wake = resolve));
  return inbox.queue.shift()!;
}

function echo(app: App): void {
  app.ws('/echo', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  }, { maxPayload: 8 * 1024 * 1024 });
}

t.test('echo: text, binary and an 8 MiB message; oversized messages close with 1009', async (t) => {
  const { app, port } = await startApp(t, {}, echo);
  const ws = await open(`ws://127.0.0.1:${port}/echo`);
  ws.send('hello');
  const text = await nextMessage(ws);
  t.equal(text.data.toString(), 'hello');
  t.equal(text.isBinary, false);
  ws.send(Buffer.from([0, 1, 2, 255]));
  const binary = await nextMessage(ws);
  t.same([...binary.data], [0, 1, 2, 255]);
  t.equal(binary.isBinary, true);
  const big = Buffer.alloc(8 * 1024 * 1024 - 1, 7);
  ws.send(big);
  t.ok((await nextMessage(ws)).data.equals(big), 'large message echoed intact');
  const closed = once(ws, 'close');
  ws.send(Buffer.alloc(8 * 1024 * 1024 + 1));
  const [code] = (await closed) as [number];
  t.equal(code, 1009, 'message too big');
});

t.test('the handler sees params and headers; stats count upgraded sockets', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    app.ws('/rooms/:room', (socket, req) => {
      socket.send(JSON.stringify({ room: req.params.room, token: req.header('x-token') }));
    });
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const ws = await open(`ws://127.0.0.1:${port}/rooms/blue`, { headers: { 'X-Token': 'abc' } });
  t.same(JSON.parse((await nextMessage(ws)).data.toString()), { room: 'blue', token: 'abc' });
  const stats = app.stats();
  t.equal(stats.connections.upgraded, 1);
  t.equal(stats.connections.upgrades, 1);
  t.equal(stats.connections.open, 0, 'an upgraded socket is no longer an HTTP connection');
  ws.close();
  await eventually(() => app.stats().connections.upgraded === 0);
  t.equal(app.stats().connections.upgraded, 0);
});

t.test('rejected upgrades are HTTP errors, never a hang', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    echo(app);
    app.ws('/private', () => {}, { verify: (req) => (req.header('authorization') === 'Bearer ok' ? true : { status: 401, message: 'who are you' }) });
    app.ws('/forbidden', () => {}, { verify: async () => false });
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const upgrade = (path: string, extra: string, method = 'GET') =>
    `${method} ${path} HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${extra}\r\n`;
  const key = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
  const v13 = 'Sec-WebSocket-Version: 13\r\n';
  const cases: Array<[string, string, number]> = [
    ['unknown path', upgrade('/nope', key + v13), 404],
    ['wrong method', upgrade('/echo', key + v13, 'POST'), 405],
    ['no Upgrade at all', get('/echo'), 426],
    ['bad key', upgrade('/echo', 'Sec-WebSocket-Key: short\r\n' + v13), 400],
    ['missing key', upgrade('/echo', v13), 400],
    ['bad version', upgrade('/echo', key + 'Sec-WebSocket-Version: 8\r\n'), 426],
    ['verify says 401', upgrade('/private', key + v13), 401],
    ['verify says false', upgrade('/forbidden', key + v13), 403],
  ];
  for (const [name, request, status] of cases) {
    const client = await RawClient.connect(port);
    client.write(request);
    const res = await client.response(3000);
    t.equal(res.status, status, name);
    if (status === 426 && name === 'bad version') t.equal(res.headers['sec-websocket-version'], '13', 'says which version');
    // A plain GET is not an upgrade attempt: its connection stays usable. A refused upgrade closes.
    if (name === 'no Upgrade at all') t.equal(res.headers.connection, 'keep-alive', `${name}: connection kept`);
    else t.not(await client.waitEnd(3000), 'timeout', `${name}: the connection ends`);
    client.destroy();
  }
  const ok = await open(`ws://127.0.0.1:${port}/private`, { headers: { Authorization: 'Bearer ok' } });
  t.equal(ok.readyState, WebSocket.OPEN, 'verify accepts');
  ok.close();
});

t.test('an upgrade pipelined behind other requests is handled after their responses, with the bytes that followed it', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    echo(app);
    app.get('/slow', async () => {
      await sleep(50);
      return 'slow first';
    });
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const client = await RawClient.connect(port);
  // A masked text frame "hi" straight after the upgrade request, in the same write.
  const frame = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
  client.write(Buffer.concat([
    Buffer.from(get('/slow') + 'GET /echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'),
    frame,
  ]));
  const first = await client.response();
  t.equal(first.body.toString(), 'slow first', 'the earlier response comes first');
  const switching = await client.response();
  t.equal(switching.status, 101);
  t.equal(switching.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  await eventually(() => client.unparsed.length >= 4);
  t.same([...client.unparsed.subarray(0, 4)], [0x81, 0x02, 'h'.charCodeAt(0), 'i'.charCodeAt(0)], 'the frame sent with the request was echoed');
  client.destroy();
});

t.test('a peer that stops answering pings is terminated', async (t) => {
  // 250 ms leaves a healthy client on a busy CI machine ample time to answer each ping.
  const { app, port } = await startApp(t, { webSocket: { pingInterval: 250 } }, echo);
  const silent = await open(`ws://127.0.0.1:${port}/echo`, { autoPong: false });
  const healthy = await open(`ws://127.0.0.1:${port}/echo`);
  const [code] = (await once(silent, 'close')) as [number];
  t.equal(code, 1006, 'terminated without a closing handshake');
  t.equal(healthy.readyState, WebSocket.OPEN, 'a peer that answers pongs stays');
  healthy.close();
});

t.test('rooms and broadcast', async (t) => {
  const { app, port } = await startApp(t, {}, (app) => {
    app.ws('/room/:name', (socket, req) => {
      app.websockets.join(req.params.name!, socket);
      socket.on('message', (data) => app.websockets.broadcast(req.params.name!, data.toString(), socket));
    });
  });
  t.teardown(() => app.close({ timeout: 500 }));
  const a = await open(`ws://127.0.0.1:${port}/room/x`);
  const b = await open(`ws://127.0.0.1:${port}/room/x`);
  const c = await open(`ws://127.0.0.1:${port}/room/y`);
  a.send('for room x');
  t.equal((await nextMessage(b)).data.toString(), 'for room x');
  await sleep(30);
  t.equal(inboxes.get(c)!.queue.length, 0, 'other rooms hear nothing');
  t.equal(inboxes.get(a)!.queue.length, 0, 'the sender is excepted');
  a.close();
  b.close();
  c.close();
});

t.test('graceful close sends 1001 to every WebSocket and counts them', async (t) => {
  const { app, port } = await startApp(t, {}, echo);
  const a = await open(`ws://127.0.0.1:${port}/echo`);
  const b = await open(`ws://127.0.0.1:${port}/echo`);
  const codes = Promise.all([once(a, 'close'), once(b, 'close')]);
  const result = await app.close({ timeout: 2000 });
  const [[codeA], [codeB]] = (await codes) as [[number], [number]];
  t.equal(codeA, 1001);
  t.equal(codeB, 1001);
  t.same(result, { closedGracefully: 2, forced: 0 });
});

t.test('a WebSocket that ignores the close is terminated at the deadline and counted as forced', async (t) => {
  const { app, port } = await startApp(t, {}, echo);
  const stubborn = await open(`ws://127.0.0.1:${port}/echo`);
  // Take the socket away from the ws client so nobody answers the close frame.
  const raw = (stubborn as unknown as { _socket: import('node:net').Socket })._socket;
  raw.removeAllListeners('data');
  raw.on('data', () => {});
  const result = await app.close({ timeout: 200 });
  t.same(result, { closedGracefully: 0, forced: 1 });
  raw.destroy();
});
