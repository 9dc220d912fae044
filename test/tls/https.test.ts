// HTTPS over the same engine, driven by real peers (curl, openssl s_client, undici, the ws client)
// with a CA made at test time: the lifecycle promises hold over TLS, close_notify goes out with the
// FIN, and TLS failures are counted by their own close reasons without reaching a handler.

import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { Agent, fetch as undiciFetch } from 'undici';
import { WebSocket } from 'ws';
import { serve, type App } from '../../lib/index.js';
import { get, RawClient, sleep, eventually } from '../helpers/raw-client.js';
import { drained, startApp } from '../helpers/servers.js';
import { createTestCa } from '../helpers/test-ca.js';

const run = promisify(execFile);
const ca = createTestCa();
t.teardown(() => ca.remove());
const server = ca.issue('server', 'server');
const renewed = ca.issue('server-renewed', 'server');
const client = ca.issue('client', 'client');
const otherCa = createTestCa('stranger');
t.teardown(() => otherCa.remove());
const stranger = otherCa.issue('stranger', 'client');

const TLS = { key: server.key, cert: server.cert };
const BODY = Buffer.alloc(64 * 1024, 'x');

function routes(app: App): void {
  app.get('/', (req) => ({ secure: req.secure, protocol: req.protocol }));
  app.get('/big/:n', () => BODY);
  app.get('/who', (req) => ({ cn: req.clientCertificate?.subject ?? null, authorized: req.clientAuthorized }));
}

/** The CN of the certificate a fresh connection is shown. */
function servedCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: ca.ca }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(String(cn));
    });
    socket.once('error', reject);
  });
}

t.test('curl --cacert: two requests on one TLS connection, ALPN http/1.1, req.secure', async (t) => {
  const { app, port } = await startApp(t, { tls: TLS }, routes);
  const url = `https://localhost:${port}/`;
  const { stdout, stderr } = await run('curl', ['-sS', '-v', '--cacert', ca.caFile, url, url], { timeout: 10_000 });
  t.equal(stdout, '{"secure":true,"protocol":"https"}{"secure":true,"protocol":"https"}', 'both answers say https');
  t.match(stderr, /ALPN: server accepted http\/1\.1/, 'ALPN chose http/1.1');
  t.match(stderr, /Re-using existing connection/, 'the second request reused the connection');
  t.equal(app.stats().connections.accepted, 1, 'one TCP connection');
  t.equal(app.stats().requests.reused, 1);
});

t.test('openssl s_client: Connection: close is answered, then close_notify and EOF', async (t) => {
  const { app, port } = await startApp(t, { tls: TLS }, routes);
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', ca.caFile,
    '-verify_return_error', '-ign_eof', '-msg'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stdin.write(get('/', 'Connection: close\r\n'));
  const exited = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill();
      resolve(null);
    }, 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  t.equal(exited, 0, 's_client saw the server close and exited cleanly');
  t.match(out, /Verify return code: 0 \(ok\)/, 'the chain verified against the test CA');
  t.match(out, /HTTP\/1\.1 200 OK[\s\S]*Connection: close[\s\S]*\{"secure":true,"protocol":"https"\}/, 'the whole response arrived');
  t.match(out, /<<< TLS 1\.3, Alert \[length 0002\], warning close_notify/, 'the server sent close_notify');
  t.ok(await drained(app), 'the connection is gone');
  t.equal(app.stats().closes['client-connection-close'], 1, 'closed for the request\'s Connection: close');
  t.equal(app.stats().linger['peer-eof'], 1, 'the linger ended on the peer\'s EOF');
});

t.test('undici with a custom CA, and serve({ fetch, tls }) sees an https URL', async (t) => {
  const fetchServer = await serve({ port: 0, tls: TLS, fetch: (req: Request) => new Response(`${req.url} ${new URL(req.url).protocol}`) });
  t.teardown(() => fetchServer.close({ timeout: 500 }));
  const port = fetchServer.address()!.port;
  const agent = new Agent({ connect: { ca: ca.ca } });
  t.teardown(() => agent.close());
  for (let i = 0; i < 3; i++) {
    const res = await undiciFetch(`https://localhost:${port}/a/b?c=${i}`, { dispatcher: agent });
    t.equal(await res.text(), `https://localhost:${port}/a/b?c=${i} https:`);
  }
  t.equal(fetchServer.stats().requests.total, 3);
  t.ok(fetchServer.stats().requests.reused >= 1, 'undici reused a TLS connection');
});

t.test('the ws client over wss:// through the same upgrade path', async (t) => {
  const { port } = await startApp(t, { tls: TLS }, (app) => {
    app.ws('/echo', (socket, req) => socket.on('message', (data) => socket.send(`${req.protocol}:${String(data)}`)));
  });
  const ws = new WebSocket(`wss://localhost:${port}/echo`, { ca: ca.ca });
  const reply = await new Promise<string>((resolve, reject) => {
    ws.once('open', () => ws.send('hi'));
    ws.once('message', (data) => resolve(String(data)));
    ws.once('error', reject);
  });
  t.equal(reply, 'https:hi');
  ws.close();
});

interface RoundResult {
  statuses: number[];
  lastConnection: string | undefined;
  end: 'eof' | 'reset' | 'timeout';
  bodiesComplete: boolean;
}

async function limitRound(port: number): Promise<RoundResult> {
  const c = await RawClient.connectTls(port, { ca: ca.ca }, { paused: true, allowHalfOpen: true });
  let text = '';
  for (let i = 1; i <= 20; i++) text += get(`/big/${i}`);
  c.write(text);
  await sleep(200);
  c.resume();
  const statuses: number[] = [];
  let lastConnection: string | undefined;
  let bodiesComplete = true;
  for (;;) {
    try {
      const res = await c.response(5000);
      statuses.push(res.status);
      lastConnection = res.headers.connection;
      if (!res.body.equals(BODY)) bodiesComplete = false;
    } catch {
      break;
    }
  }
  const end = await c.waitEnd(5000);
  c.end();
  c.destroy();
  return { statuses, lastConnection, end, bodiesComplete };
}

t.test('over TLS: 20 pipelined, limit 5, late reader gets exactly 5 responses, then close_notify and EOF, 50 of 50 rounds', async (t) => {
  const { app, port } = await startApp(t, { tls: TLS, maxRequestsPerSocket: 5 }, routes);
  const results: RoundResult[] = [];
  for (let i = 0; i < 50; i += 5) results.push(...(await Promise.all(Array.from({ length: 5 }, () => limitRound(port)))));
  const good = results.filter((r) => r.statuses.length === 5 && r.statuses.every((s) => s === 200) && r.lastConnection === 'close'
    && r.end === 'eof' && r.bodiesComplete);
  t.equal(good.length, 50, `clean rounds: ${JSON.stringify(results.find((r) => !good.includes(r)))}`);
  t.ok(await drained(app), 'every connection closed');
  t.equal(app.stats().closes['max-requests'], 50);
  t.equal(app.stats().linger.reset, 0, 'no lingering close ended in a reset');
});

t.test('a client that never finishes its handshake is gone by the handshake timeout, counted, no handler runs', async (t) => {
  let handled = 0;
  const { app, port } = await startApp(t, { tls: TLS, handshakeTimeout: 200 }, (app) => app.get('/', () => String(++handled)));
  const silent = await RawClient.connect(port);
  // A ClientHello cut short: the handshake started and never completes.
  const partial = await RawClient.connect(port);
  partial.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
  t.equal(app.stats().connections.handshaking, 2, 'both wait in the handshake');
  t.not(await silent.waitEnd(3000), 'timeout', 'the silent client was closed');
  t.not(await partial.waitEnd(3000), 'timeout', 'the half handshake was closed');
  t.ok(await drained(app));
  t.equal(app.stats().closes['tls-handshake-timeout'], 2);
  t.equal(handled, 0);
});

t.test('plain HTTP to the HTTPS port is a failed handshake, counted, no handler runs', async (t) => {
  let handled = 0;
  const { app, port } = await startApp(t, { tls: TLS }, (app) => app.get('/', () => String(++handled)));
  const c = await RawClient.connect(port);
  c.write(get('/'));
  t.not(await c.waitEnd(3000), 'timeout', 'the server closed it');
  t.ok(await drained(app));
  t.equal(app.stats().closes['tls-handshake-failed'], 1);
  t.equal(app.stats().requests.total, 0);
  t.equal(handled, 0);
});

t.test('mutual TLS required: a client with a certificate of the CA is served, without one or with a stranger\'s it is refused', async (t) => {
  let handled = 0;
  const { app, port } = await startApp(t, { tls: { ...TLS, ca: ca.ca, requestCert: true } }, (app) => {
    app.get('/who', (req) => {
      handled++;
      return { cn: req.clientCertificate?.subject ?? null, authorized: req.clientAuthorized };
    });
  });
  const agent = new Agent({ connect: { ca: ca.ca, key: client.key, cert: client.cert } });
  t.teardown(() => agent.close());
  const res = await undiciFetch(`https://localhost:${port}/who`, { dispatcher: agent });
  t.same(await res.json(), { cn: 'CN=client', authorized: true }, 'the handler sees the client certificate');

  const { stdout: noCert, stderr: noCertErr } = await run('curl', ['-sS', '--cacert', ca.caFile, `https://localhost:${port}/who`], { timeout: 10_000 })
    .catch((err: { stdout: string; stderr: string }) => err);
  t.equal(noCert, '', 'no answer without a certificate');
  t.match(noCertErr, /alert|certificate required|SSL/i, `curl reports the refusal: ${noCertErr}`);

  const { stdout: wrong } = await run('curl', ['-sS', '--cacert', ca.caFile, '--cert', stranger.certFile, '--key', stranger.keyFile,
    `https://localhost:${port}/who`], { timeout: 10_000 }).catch((err: { stdout: string }) => err);
  t.equal(wrong, '', 'no answer with a certificate from another CA');
  t.ok(await eventually(() => app.stats().closes['tls-client-cert-refused'] === 2), `both refusals counted: ${JSON.stringify(app.stats().closes)}`);
  t.equal(handled, 1, 'only the authorized client reached the handler');
});

t.test('mutual TLS per route: requestCert without rejectUnauthorized, the route refuses a client without a certificate', async (t) => {
  const { port } = await startApp(t, { tls: { ...TLS, ca: ca.ca, requestCert: true, rejectUnauthorized: false } }, (app) => {
    app.get('/public', () => 'open');
    app.get('/admin', (req, res) => (req.clientAuthorized ? `hello ${req.clientCertificate!.subject}` : res.status(403).send('client certificate required')));
  });
  const anonymous = new Agent({ connect: { ca: ca.ca } });
  const known = new Agent({ connect: { ca: ca.ca, key: client.key, cert: client.cert } });
  t.teardown(() => Promise.all([anonymous.close(), known.close()]));
  const pub = await undiciFetch(`https://localhost:${port}/public`, { dispatcher: anonymous });
  t.equal(await pub.text(), 'open');
  const refused = await undiciFetch(`https://localhost:${port}/admin`, { dispatcher: anonymous });
  t.equal(refused.status, 403);
  await refused.text();
  const admitted = await undiciFetch(`https://localhost:${port}/admin`, { dispatcher: known });
  t.equal(await admitted.text(), 'hello CN=client');
});

t.test('SNICallback: a known name gets its context, an unknown one is refused and counted', async (t) => {
  const contexts = new Map([['localhost', tls.createSecureContext({ key: renewed.key, cert: renewed.cert })]]);
  const { app, port } = await startApp(t, {
    tls: { ...TLS, SNICallback: (name, cb) => (contexts.has(name) ? cb(null, contexts.get(name)) : cb(new Error(`unknown server name ${name}`))) },
  }, routes);
  t.equal(await servedCommonName(port), 'server-renewed', 'the SNI context answered for localhost');
  const refused = await new Promise<string>((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'elsewhere.test', ca: ca.ca }, () => resolve('connected'));
    s.once('error', (err) => resolve(err.message));
  });
  t.not(refused, 'connected', `the unknown name was refused: ${refused}`);
  t.ok(await eventually(() => app.stats().closes['tls-unknown-server-name'] === 1), JSON.stringify(app.stats().closes));
});

t.test('setSecureContext under load: no request fails, open connections keep going, new ones see the new certificate', async (t) => {
  const { app, port } = await startApp(t, { tls: TLS }, routes);
  t.equal(await servedCommonName(port), 'server');
  const agent = new Agent({ connect: { ca: ca.ca }, connections: 8 });
  t.teardown(() => agent.close());
  let ok = 0;
  let failed = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    for (let i = 0; i < 400 && !stop; i++) {
      try {
        const res = await undiciFetch(`https://localhost:${port}/`, { dispatcher: agent });
        if (res.status === 200 && (await res.text()).includes('https')) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  const load = Promise.all(Array.from({ length: 8 }, worker));
  await eventually(() => ok >= 50, 5000);
  app.setSecureContext({ key: renewed.key, cert: renewed.cert });
  const seen = await servedCommonName(port);
  await eventually(() => ok >= 150, 5000);
  stop = true;
  await load;
  t.equal(seen, 'server-renewed', 'a new connection after the reload sees the new certificate');
  t.equal(failed, 0, `no request failed across the reload (${ok} succeeded)`);
  t.ok(ok >= 150);
});

t.test('setSecureContext: a certificate that does not load throws and the old one keeps serving; a plain server refuses it', async (t) => {
  const { app, port } = await startApp(t, { tls: TLS }, routes);
  t.throws(() => app.setSecureContext({ key: server.key, cert: Buffer.from('not a certificate') }), { code: 'ERR_INVALID_TLS_OPTIONS' });
  t.equal(await servedCommonName(port), 'server');
  const { app: plain } = await startApp(t, {}, routes);
  t.throws(() => plain.setSecureContext(TLS), { code: 'ERR_NOT_TLS' });
  t.throws(() => app.setSecureContext({ key: renewed.key, cert: server.cert }), { code: 'ERR_INVALID_TLS_OPTIONS' }, 'a key that does not match the certificate');
  t.equal(await servedCommonName(port), 'server', 'still the old certificate');
  await t.rejects(async () => startApp(t, { tls: { key: renewed.key, cert: server.cert } }, routes), { code: 'ERR_INVALID_TLS_OPTIONS' });
  await t.rejects(async () => startApp(t, { tls: { ca: ca.ca } }, routes), { code: 'ERR_INVALID_OPTION' }, 'no certificate at all');
  await t.rejects(async () => startApp(t, { tls: { ...TLS, handshakeTimeout: 5 } }, routes), { code: 'ERR_INVALID_OPTION' }, 'the handshake timeout is a server option');
});

t.test('over maxConnections a TLS socket gets a bare FIN before any handshake', async (t) => {
  const { app, port } = await startApp(t, { tls: TLS, maxConnections: 1 }, routes);
  const first = await RawClient.connectTls(port, { ca: ca.ca });
  first.write(get('/'));
  t.equal((await first.response()).status, 200);
  await sleep(20);
  const second = await RawClient.connect(port);
  t.equal(await second.waitEnd(3000), 'eof', 'refused with a FIN');
  t.equal(second.unparsed.length, 0, 'no plaintext 503 on a TLS port');
  t.equal(app.stats().connections.rejected, 1);
  first.destroy();
});

t.test('graceful close over TLS: an idle connection gets close_notify and FIN, a busy one its response first', async (t) => {
  const { app, port } = await startApp(t, { tls: TLS, idleReapGuard: 0 }, (app) => {
    app.get('/slow', async () => {
      await sleep(150);
      return 'done';
    });
  });
  const idle = await RawClient.connectTls(port, { ca: ca.ca });
  idle.write(get('/slow'));
  t.equal((await idle.response()).status, 200);
  const busy = await RawClient.connectTls(port, { ca: ca.ca });
  busy.write(get('/slow'));
  await sleep(30);
  const closing = app.close({ timeout: 3000 });
  const res = await busy.response();
  t.equal(res.headers.connection, 'close');
  t.equal(res.body.toString(), 'done');
  t.equal(await busy.waitEnd(), 'eof');
  t.equal(await idle.waitEnd(), 'eof');
  const result = await closing;
  t.same(result, { closedGracefully: 2, forced: 0 });
});

t.test('close() with a handshake still pending: it counts as open, close() waits for it, and destroys it at the deadline as forced', async (t) => {
  const { app, port } = await startApp(t, { tls: TLS, handshakeTimeout: 60_000 }, routes);
  const silent = await RawClient.connect(port);
  t.ok(await eventually(() => app.stats().connections.handshaking === 1), 'the handshake is registered');
  t.equal(app.stats().connections.open, 1);
  const result = await app.close({ timeout: 200 });
  t.same(result, { closedGracefully: 0, forced: 1 });
  t.equal(app.stats().closes['shutdown-forced'], 1);
  t.not(await silent.waitEnd(2000), 'timeout');
});

t.test('over TLS: a client that keeps sending after the limit still gets 5 responses, close_notify and EOF', async (t) => {
  const { app, port } = await startApp(t, { tls: TLS, maxRequestsPerSocket: 5 }, routes);
  for (let round = 0; round < 10; round++) {
    const c = await RawClient.connectTls(port, { ca: ca.ca }, { paused: true, allowHalfOpen: true });
    let text = '';
    for (let i = 1; i <= 20; i++) text += get(`/big/${i}`);
    c.write(text);
    const talking = (async () => {
      for (let i = 0; i < 10 && !c.ended && c.error === null; i++) {
        c.write(get(`/big/late-${i}`));
        await sleep(20);
      }
    })();
    await sleep(200);
    c.resume();
    const statuses: number[] = [];
    for (;;) {
      try {
        const res = await c.response(5000);
        if (!res.body.equals(BODY)) statuses.push(-1);
        else statuses.push(res.status);
      } catch {
        break;
      }
    }
    const end = await c.waitEnd(5000);
    await talking;
    c.end();
    c.destroy();
    t.same({ statuses, end }, { statuses: [200, 200, 200, 200, 200], end: 'eof' }, `round ${round}`);
  }
  t.ok(await drained(app));
  t.equal(app.stats().linger.reset, 0);
});
