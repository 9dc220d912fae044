// Request logging with a real pino instance: request ids (incoming or generated, echoed), req.log
// bound to the id, one line per finished request, non-routine connection closes at warn. Through
// inject and over a real socket.

import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { createServer, HttpError, JsonLineLogger, type App } from '../../lib/index.js';
import { injectApp, startApp } from '../helpers/servers.js';
import { eventually, get, RawClient } from '../helpers/raw-client.js';

function capture(): { logger: pino.Logger; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

function routes(app: App): void {
  app.get('/hello/:name', (req) => {
    req.log.info({ name: req.params.name }, 'greeting');
    return `hello ${req.params.name}`;
  });
  app.get('/fail', () => {
    throw new HttpError(409, 'ERR_CONFLICT', 'conflict');
  });
}

const completed = (lines: Array<Record<string, any>>) => lines.filter((l) => l.msg === 'request completed');

t.test('request ids: generated and echoed, or taken from X-Request-Id when safe; req.log carries it; one line per request', async (t) => {
  const { logger, lines } = capture();
  const app = injectApp(t, { logger }, routes);
  const res = await app.inject({ url: '/hello/ada' });
  const id = res.headers['x-request-id'] as string;
  t.match(id, /^[0-9a-f]{8}-[0-9a-z]+$/, 'a generated id, echoed');
  await eventually(() => completed(lines).length === 1);
  const greeting = lines.find((l) => l.msg === 'greeting')!;
  t.equal(greeting.reqId, id, 'req.log is bound to the request id');
  t.equal(greeting.name, 'ada');
  const done = completed(lines)[0]!;
  t.match(done, { level: 30, reqId: id, method: 'GET', url: '/hello/ada', statusCode: 200, bytes: 9, requestOnConnection: 1, remoteAddress: '127.0.0.1' });
  t.ok(typeof done.durationMs === 'number' && done.durationMs >= 0);
  const traced = await app.inject({ url: '/hello/bo', headers: { 'x-request-id': 'trace-abc-123' } });
  t.equal(traced.headers['x-request-id'], 'trace-abc-123', 'an incoming id is kept and echoed');
  const unsafe = await app.inject({ url: '/hello/bo', headers: { 'x-request-id': 'x'.repeat(129) } });
  t.not(unsafe.headers['x-request-id'], 'x'.repeat(129), 'an id too long to log is replaced');
  const failed = await app.inject({ url: '/fail', headers: { 'x-request-id': 'err-1' } });
  t.equal(failed.statusCode, 409);
  t.equal(failed.headers['x-request-id'], 'err-1', 'error answers echo the id too');
  const missing = await app.inject({ url: '/nowhere' });
  t.equal(missing.statusCode, 404);
  await eventually(() => completed(lines).length === 5);
  t.same(completed(lines).map((l) => [l.reqId === undefined ? null : typeof l.reqId, l.statusCode]), [
    ['string', 200], ['string', 200], ['string', 200], ['string', 409], ['string', 404],
  ], 'one line per finished request, 404s and errors included');
  t.equal(completed(lines)[1]!.reqId, 'trace-abc-123');
});

t.test('over a real socket: the request number on its connection, a custom id header, parse errors logged at warn', async (t) => {
  const { logger, lines } = capture();
  const { port } = await startApp(t, { logger, requestIdHeader: 'X-Correlation-Id' }, routes);
  const client = await RawClient.connect(port);
  client.write(get('/hello/a', 'X-Correlation-Id: c-1\r\n'));
  const first = await client.response();
  t.equal(first.headers['x-correlation-id'], 'c-1');
  client.write(get('/hello/b'));
  await client.response();
  await eventually(() => completed(lines).length === 2);
  t.same(completed(lines).map((l) => l.requestOnConnection), [1, 2], 'which request this was on its connection');
  client.write('GET /hello/c HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n');
  t.equal((await client.response()).status, 400);
  t.ok(await eventually(() => lines.some((l) => l.msg === 'connection closed')), 'the close is logged');
  const closed = lines.find((l) => l.msg === 'connection closed')!;
  t.match(closed, { level: 40, reason: 'parse-error', requests: 2 });
  const routine = await RawClient.connect(port);
  routine.write(get('/hello/d'));
  await routine.response();
  routine.destroy();
  t.ok(await eventually(() => lines.filter((l) => l.msg === 'connection closed').length === 2));
  t.equal(lines.filter((l) => l.msg === 'connection closed')[1]!.level, 20, 'a client leaving is routine: debug');
});

t.test('without a logger: no header echoed, req.log silent, req.id still available; misuse is typed', async (t) => {
  const app = injectApp(t, {}, (app) => {
    app.get('/', (req) => {
      req.log.info({ ignored: true }, 'nowhere');
      return req.id;
    });
  });
  const res = await app.inject({ url: '/', headers: { 'x-request-id': 'abc' } });
  t.notOk(res.headers['x-request-id']);
  t.match(res.text(), /^[0-9a-f]{8}-/, 'without logging the incoming header is not trusted');
  t.throws(() => createServer({ logger: {} as never }), { code: 'ERR_INVALID_OPTION' });
  t.throws(() => createServer({ logger: true, requestIdHeader: 'bad header' }), { code: 'ERR_INVALID_OPTION' });
  const written: string[] = [];
  const minimal = new JsonLineLogger('', (line) => written.push(line)).child({ app: 'x' });
  minimal.info({ a: 1 }, 'hi "there"');
  minimal.debug({ b: 2 }, 'dropped');
  const entry = JSON.parse(written[0]!);
  t.match(entry, { level: 30, app: 'x', a: 1, msg: 'hi "there"' });
  t.equal(written.length, 1, 'the default logger skips debug');
});
