// Close paths that once broke the lifecycle promises, each driven over real loopback sockets: a slow
// but steady reader cut by sendTimeout, refused sockets outliving every bound, an early idle close
// while output drained, a request dropped by an idle close decided during a blocked event loop, and
// close reasons that named the wrong cause.

import net from 'node:net';
import t, { type Test } from 'tap';
import { createServer, type App } from '../../lib/index.js';
import { eventually, get, RawClient, sleep } from '../helpers/raw-client.js';
import { startApp } from '../helpers/servers.js';


/**
 * A client that reads at a steady pace: paused, it pulls what its stream buffer holds every
 * `everyMs`, so the kernel's window, not the client, decides how fast the server may write.
 */
class SteadyReader {
  readonly socket: net.Socket;
  received: Buffer[] = [];
  bytes = 0;
  ended = false;
  error: Error | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(port: number, chunk: number, everyMs: number) {
    this.socket = new net.Socket({ readableHighWaterMark: chunk, allowHalfOpen: false } as net.SocketConstructorOpts);
    this.socket.on('end', () => (this.ended = true));
    this.socket.on('error', (err) => (this.error = err));
    this.socket.connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.timer = setInterval(() => {
      const data = this.socket.read() as Buffer | null;
      if (data !== null) {
        this.received.push(data);
        this.bytes += data.length;
      }
    }, everyMs);
  }

  /** Resolves once `bytes` have arrived, or the connection ended or failed; bounded by `timeoutMs`. */
  async until(bytes: number, timeoutMs: number): Promise<void> {
    await eventually(() => this.bytes >= bytes || this.ended || this.error !== null || this.socket.destroyed, timeoutMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.socket.destroy();
  }
}

const MIB = 1024 * 1024;

/** Closes counted for `reason` (0 for a reason this server does not know). */
function closes(app: App, reason: string): number {
  return (app.stats().closes as Record<string, number>)[reason] ?? 0;
}

/** Refused sockets still lingering. */
function refusing(app: App): number {
  return (app.stats().connections as unknown as Record<string, number>)['refusing'] ?? -1;
}

t.test('sendTimeout: a slow but steady reader of an 8 MiB whole body receives all of it', async (t) => {
  const body = Buffer.alloc(8 * MIB, 'x');
  const { app, port } = await startApp(t, { sendTimeout: 1_000 }, (app) => app.get('/big', () => body));
  // 16 KiB every 10 ms is about 1.6 MiB/s: each second moves far more than nothing, yet the whole
  // body takes about 5 s, several send timeouts, more than the kernel's buffers hold.
  const reader = new SteadyReader(port, 16 * 1024, 10);
  t.teardown(() => reader.stop());
  reader.socket.write(get('/big'));
  await reader.until(8 * MIB + 100, 30_000);
  const all = Buffer.concat(reader.received);
  const headEnd = all.indexOf('\r\n\r\n');
  t.match(all.subarray(0, headEnd).toString('latin1'), /^HTTP\/1\.1 200 /);
  t.equal(all.length - headEnd - 4, 8 * MIB, 'every byte of the body arrived');
  t.equal(reader.error, null, 'no reset');
  t.equal(closes(app, 'send-timeout'), 0, 'the send timer saw the progress');
});

t.test('sendTimeout still ends a client that stops reading altogether', async (t) => {
  const body = Buffer.alloc(8 * MIB, 'x');
  const { app, port } = await startApp(t, { sendTimeout: 300 }, (app) => app.get('/big', () => body));
  const client = await RawClient.connect(port, { paused: true });
  t.teardown(() => client.destroy());
  client.write(get('/big'));
  t.ok(await eventually(() => closes(app, 'send-timeout') === 1, 10_000), 'destroyed as send-timeout');
});

t.test('an idle timeout does not fire while the last response is still draining to a slow reader', async (t) => {
  const chunk = Buffer.alloc(64 * 1024, 's');
  const { app, port } = await startApp(t, { sendTimeout: 1_000, keepAliveTimeout: 10_000 }, (app) => {
    app.get('/stream', async (_req, res) => {
      // 8 MiB in 64 KiB writes: the response completes long before the client has read it.
      for (let i = 0; i < 128; i++) if (!res.write(chunk)) await res.drained();
      res.end();
    });
    app.get('/again', () => 'again');
  });
  const reader = new SteadyReader(port, 16 * 1024, 10);
  t.teardown(() => reader.stop());
  reader.socket.write(get('/stream'));
  // The chunked body ends with "0\r\n\r\n".
  await eventually(() => reader.bytes > 8 * MIB && Buffer.concat(reader.received).subarray(-5).toString() === '0\r\n\r\n' || reader.ended, 30_000);
  t.equal(reader.ended, false, 'the connection is still open after the slow read');
  reader.received = [];
  reader.bytes = 0;
  reader.socket.write(get('/again'));
  await eventually(() => Buffer.concat(reader.received).toString().endsWith('again') || reader.ended, 5_000);
  t.match(Buffer.concat(reader.received).toString(), /^HTTP\/1\.1 200 [^]*again$/, 'the connection is reused');
  t.equal(closes(app, 'idle-timeout'), 0);
  t.equal(closes(app, 'send-timeout'), 0);
});

t.test('a refused socket that trickles bytes is still closed by the linger bound and shows in stats', async (t) => {
  const { app, port } = await startApp(t, { maxConnections: 1, linger: { total: 600, silence: 5_000 } }, (app) => app.get('/', () => 'hi'));
  // One byte every 100 ms: each resets a per-read timer, never a total one.
  const { refused, timer } = await refusedAndTrickling(t, app, port, 100);
  await eventually(() => refusing(app) === 1, 2_000);
  t.equal(refusing(app), 1, 'the refused socket is visible while it lingers');
  t.ok(await eventually(() => refused.closed, 5_000), 'the server destroyed it (the client never closed its side)');
  clearInterval(timer);
  await eventually(() => refusing(app) === 0);
  t.equal(app.stats().connections.rejected, 1);
  t.equal(closes(app, 'max-connections'), 1);
});

t.test('close() resolves by its deadline even with a refused socket trickling bytes', async (t) => {
  const app = createServer({ maxConnections: 1 });
  app.get('/', () => 'hi');
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  const { refused } = await refusedAndTrickling(t, app, port, 50);
  const closing = app.close({ timeout: 200 });
  const outcome = await Promise.race([closing.then(() => 'resolved'), sleep(3_000).then(() => 'pending')]);
  t.equal(outcome, 'resolved', 'close() kept its deadline');
  t.ok(await eventually(() => refused.closed, 2_000), 'the refused socket is gone');
});

t.test('a request that arrived while the loop was blocked, before the idle deadline, is answered', async (t) => {
  const keepAliveTimeout = 500;
  const { app, port } = await startApp(t, { keepAliveTimeout }, (app) => {
    app.get('/', () => 'hi');
    app.get('/block', () => {
      // Holds the event loop past the other connection's idle deadline.
      const until = Date.now() + keepAliveTimeout;
      while (Date.now() < until);
      return 'blocked';
    });
  });
  const pooled = await RawClient.connect(port);
  const blocker = await RawClient.connect(port);
  t.teardown(() => pooled.destroy());
  t.teardown(() => blocker.destroy());
  pooled.write(get('/'));
  t.equal((await pooled.response()).body.toString(), 'hi');
  const idleFrom = Date.now();
  await sleep(keepAliveTimeout - 300);
  blocker.write(get('/block'));
  // The pooled client reuses its connection before the idle deadline, while the loop is blocked.
  await sleep(Math.max(0, keepAliveTimeout - 50 - (Date.now() - idleFrom)));
  pooled.write(get('/'));
  const res = await pooled.response(5_000);
  t.equal(res.body.toString(), 'hi', 'served, not dropped by the idle close');
  t.equal((await blocker.response()).body.toString(), 'blocked');
  t.equal(closes(app, 'idle-timeout'), 0);
});

t.test('close reasons name their cause', async (t) => {
  t.test('CONNECT is counted as connect-refused, not a parse error', async (t) => {
    const { app, port } = await startApp(t, {}, () => {});
    const client = await RawClient.connect(port);
    client.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    t.equal((await client.response()).status, 501);
    t.equal(await client.waitEnd(), 'eof');
    client.destroy();
    await eventually(() => closes(app, 'connect-refused') === 1);
    t.equal(closes(app, 'connect-refused'), 1);
    t.equal(closes(app, 'parse-error'), 0);
    t.equal(app.stats().protocolErrors, 0, 'a well-formed CONNECT is no protocol error');
  });

  t.test('an HTTP/1.0 keep-alive request answered with a streamed body closes as close-delimited', async (t) => {
    const { app, port } = await startApp(t, {}, (app) => app.get('/s', async (_req, res) => {
      res.write('part');
      res.end();
    }));
    const client = await RawClient.connect(port);
    client.write('GET /s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const res = await client.response();
    t.equal(res.body.toString(), 'part');
    t.equal(res.headers.connection, 'close');
    client.destroy();
    await eventually(() => closes(app, 'close-delimited') === 1);
    t.equal(closes(app, 'close-delimited'), 1);
    t.equal(closes(app, 'client-connection-close'), 0);
  });

  t.test('a route timeout is counted as handler-timeout', async (t) => {
    const { app, port } = await startApp(t, {}, (app) => app.get('/hang', { timeout: 100 }, () => new Promise<never>(() => {})));
    const client = await RawClient.connect(port);
    client.write(get('/hang'));
    t.equal((await client.response()).status, 503);
    client.destroy();
    await eventually(() => closes(app, 'handler-timeout') === 1);
    t.equal(closes(app, 'handler-timeout'), 1);
    t.equal(closes(app, 'response-connection-close'), 0);
  });

  t.test('closeIdleConnections() outside shutdown is counted as server-closed-idle', async (t) => {
    const { app, port } = await startApp(t, {}, (app) => app.get('/', () => 'hi'));
    const client = await RawClient.connect(port);
    client.write(get('/'));
    await client.response();
    await sleep(20);
    t.equal(app.closeIdleConnections(), 1);
    t.equal(await client.waitEnd(), 'eof');
    client.destroy();
    await eventually(() => closes(app, 'server-closed-idle') === 1);
    t.equal(closes(app, 'server-closed-idle'), 1);
    t.equal(closes(app, 'shutdown-idle'), 0);
  });

  t.test('garbage after a last request beyond the discard cap does not cost the response in flight', async (t) => {
    const { app, port } = await startApp(t, { linger: { maxDiscardBytes: 64 * 1024 } }, (app) => app.get('/slow', async () => {
      await sleep(200);
      return 'slow answer';
    }));
    const client = await RawClient.connect(port);
    client.write(get('/slow', 'Connection: close\r\n'));
    // 256 KiB of bytes the server will never parse, while the response is still being computed.
    client.write(Buffer.alloc(256 * 1024, 'g'));
    const res = await client.response(5_000);
    t.equal(res.body.toString(), 'slow answer', 'the response in flight was delivered');
    client.destroy();
    await eventually(() => app.stats().connections.open === 0);
    t.equal(closes(app, 'client-connection-close'), 1, 'closed for the reason the client gave');
  });
});

/** Fills a one-connection server, then opens a second socket that is refused (503) and keeps sending a byte every `everyMs`. */
async function refusedAndTrickling(t: Test, app: App, port: number, everyMs: number): Promise<{ refused: RawClient; timer: NodeJS.Timeout }> {
  const holder = await RawClient.connect(port);
  t.teardown(() => holder.destroy());
  await eventually(() => app.stats().connections.open === 1);
  const refused = await RawClient.connect(port, { allowHalfOpen: true });
  t.teardown(() => refused.destroy());
  t.equal((await refused.response()).status, 503);
  const timer = setInterval(() => {
    if (!refused.closed && !refused.socket.destroyed) refused.socket.write('x');
  }, everyMs);
  t.teardown(() => clearInterval(timer));
  return { refused, timer };
}
