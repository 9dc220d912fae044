// Strict options everywhere: unknown keys (with the nearest known key for a typo), non-integers,
// negatives and wrong types are ERR_INVALID_OPTION naming the key, for every entry point that
// takes options; listen() after close() says the server is closed.

import t, { type Test } from 'tap';
import {
  createFetchServer, createServer, gracefulShutdown, runCluster, serve, Server, UsageError,
} from '../lib/index.js';

/** The UsageError `fn` throws (or the rejection of what it returns), else null. */
async function caught(fn: () => unknown): Promise<UsageError | null> {
  try {
    await fn();
  } catch (err) {
    return err instanceof UsageError ? err : null;
  }
  return null;
}

async function refuses(t: Test, fn: () => unknown, message: RegExp, what: string): Promise<void> {
  const err = await caught(fn);
  t.equal(err?.code, 'ERR_INVALID_OPTION', `${what}: ERR_INVALID_OPTION`);
  t.match(err?.message ?? '', message, `${what}: ${err?.message ?? 'nothing thrown'}`);
}

const fetch = (): Response => new Response('x');

t.test('createServer: a typo is refused with the nearest option, an unrelated key without a guess', async (t) => {
  await refuses(t, () => createServer({ keepAliveTimout: 5000 } as never), /unknown option keepAliveTimout \(did you mean keepAliveTimeout\?\)/, 'typo');
  await refuses(t, () => createServer({ maxconnections: 5 } as never), /did you mean maxConnections\?/, 'case');
  await refuses(t, () => createServer({ bodylimit: 5 } as never), /did you mean bodyLimit\?/, 'an app option');
  await refuses(t, () => createServer({ logErorrs: false } as never), /did you mean logErrors\?/, 'swapped letters');
  await refuses(t, () => createServer({ port: 3000 } as never), /^unknown option port$/, 'no near option');
  await refuses(t, () => createServer({ linger: { silense: 5 } } as never), /unknown option linger\.silense \(did you mean linger\.silence\?\)/, 'nested');
  await refuses(t, () => createServer({ webSocket: { pingIntreval: 5 } } as never), /unknown option webSocket\.pingIntreval \(did you mean webSocket\.pingInterval\?\)/, 'webSocket');
});

t.test('createServer: non-integers, negatives, out-of-range and wrong types name the option', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ maxConnections: 1.5 }, /option maxConnections must be an integer >= 0, got 1\.5/],
    [{ keepAliveTimeout: -1 }, /option keepAliveTimeout must be an integer >= 1, got -1/],
    [{ headersTimeout: '20000' }, /option headersTimeout must be an integer >= 1, got "20000"/],
    [{ handlerTimeout: Number.NaN }, /option handlerTimeout/],
    [{ requestTimeout: Infinity }, /option requestTimeout/],
    [{ shutdownTimeout: 2 ** 31 }, /option shutdownTimeout must be an integer from 0 to 2147483647/],
    [{ linger: { total: 0.5 } }, /option linger\.total must be an integer/],
    [{ linger: 5 }, /option linger must be an object/],
    [{ linger: null }, /option linger must be an object/],
    [{ webSocket: { pingInterval: -5 } }, /option webSocket\.pingInterval must be an integer from 0 to 2147483647, got -5/],
    [{ webSocket: { pingInterval: '30s' } }, /option webSocket\.pingInterval must be an integer/],
    [{ webSocket: 'on' }, /option webSocket must be an object/],
    [{ bodyLimit: 1.5 }, /option bodyLimit must be an integer >= 0 or Infinity/],
    [{ logErrors: 'stderr' }, /option logErrors must be a boolean or a function/],
  ];
  for (const [options, message] of cases) {
    await refuses(t, () => createServer(options as never), message, JSON.stringify(options));
  }
  await refuses(t, () => createServer([] as never), /options must be an object, got an array/, 'an array');
  t.equal(createServer({ bodyLimit: Infinity, keepAliveTimeout: 5000, handlerTimeout: 0 }).config.keepAliveTimeout, 5000, 'valid options pass');
  t.equal(createServer({ keepAliveTimeout: undefined }).config.keepAliveTimeout, 65_000, 'undefined means the default');
});

t.test('route options and WebSocket route options are strict too', async (t) => {
  const app = createServer();
  await refuses(t, () => app.get('/a', { timout: 100 } as never, () => ''), /unknown option timout \(did you mean timeout\?\)/, 'route typo');
  await refuses(t, () => app.get('/b', { timeout: 1.5 }, () => ''), /option route timeout must be an integer >= 0, got 1\.5/, 'route timeout');
  await refuses(t, () => app.get('/c', { bodyLimit: -1 }, () => ''), /option route bodyLimit/, 'route bodyLimit');
  await refuses(t, () => app.get('/d', 'fast' as never, () => ''), /must be an object/, 'route options of a wrong type');
  await refuses(t, () => app.ws('/e', () => {}, { maxPayload: 1.5 }), /option maxPayload must be an integer >= 1/, 'maxPayload');
  await refuses(t, () => app.ws('/f', () => {}, { maxPayLoad: 10 } as never), /did you mean maxPayload\?/, 'ws typo');
  await refuses(t, () => app.ws('/g', () => {}, { verify: true } as never), /option verify must be a function/, 'verify');
  await refuses(t, () => app.ws('/h', () => {}, { perMessageDeflate: 'yes' } as never), /option perMessageDeflate/, 'perMessageDeflate');
});

t.test('serve(), createFetchServer(), listen(), close(), gracefulShutdown() and runCluster() refuse unknown keys and bad values', async (t) => {
  await refuses(t, () => serve({ fetch, prot: 0 } as never), /unknown option prot \(did you mean port\?\)/, 'serve');
  await refuses(t, () => serve({ fetch, port: 0, keepAliveTimout: 1 } as never), /did you mean keepAliveTimeout\?/, 'serve engine option');
  await refuses(t, () => createFetchServer({ fetch, bodyLimt: 10 } as never), /did you mean bodyLimit\?/, 'createFetchServer');
  const server = new Server({}, () => {});
  await refuses(t, () => server.listen({ port: 1.5 }), /option port must be an integer from 0 to 65535/, 'listen port');
  await refuses(t, () => server.listen({ port: 70000 }), /option port must be an integer from 0 to 65535/, 'listen port range');
  await refuses(t, () => server.listen({ port: 0, hots: 'x' } as never), /did you mean host\?/, 'listen typo');
  await refuses(t, () => server.listen({ port: 0, host: '' }), /option host must be a non-empty string/, 'listen host');
  t.equal(server.address(), null, 'nothing listens after refused options');
  await refuses(t, () => server.close({ timeout: -1 }), /option timeout must be an integer/, 'close timeout');
  await refuses(t, () => server.close({ timeot: 5 } as never), /did you mean timeout\?/, 'close typo');
  await refuses(t, () => gracefulShutdown(server, { exit: false, timeuot: 5 } as never), /did you mean timeout\?/, 'gracefulShutdown');
  await refuses(t, () => gracefulShutdown(server, { exit: false, timeout: 0.5 }), /option timeout must be an integer/, 'gracefulShutdown timeout');
  await refuses(t, () => runCluster({ module: 'x.js', worker: 2, signals: false } as never), /did you mean workers\?/, 'runCluster');
  await refuses(t, () => runCluster({ module: 'x.js', backoff: { inital: 5 }, signals: false } as never), /did you mean backoff\.initial\?/, 'runCluster backoff');
});

t.test('listen() after close() is ERR_SERVER_CLOSED, a second listen() ERR_SERVER_ALREADY_LISTENING', async (t) => {
  const app = createServer();
  await app.listen({ port: 0 });
  t.equal((await caught(() => app.listen({ port: 0 })))?.code, 'ERR_SERVER_ALREADY_LISTENING');
  await app.close({ timeout: 100 });
  const err = await caught(() => app.listen({ port: 0 }));
  t.equal(err?.code, 'ERR_SERVER_CLOSED');
  t.match(err?.message ?? '', /closed/);
  const never = createServer();
  await never.close();
  t.equal((await caught(() => never.listen({ port: 0 })))?.code, 'ERR_SERVER_CLOSED', 'closed before it ever listened');
});
