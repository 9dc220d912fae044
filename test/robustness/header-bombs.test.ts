// Oversized request heads: too many header lines and too large a head answer 431, too long a
// request-target 414 (RFC 9110 15.5.15, RFC 6585 5), each read by the client before a clean close,
// with the connection's input bounded however much the client keeps sending.

import t from 'tap';
import { get, RawClient } from '../helpers/raw-client.js';
import { drained, startEngine } from '../helpers/servers.js';

async function bomb(port: number, request: string): Promise<{ status: number; connection: string | undefined; end: string }> {
  const client = await RawClient.connect(port);
  client.write(request);
  const res = await client.response();
  const end = await client.waitEnd();
  client.destroy();
  return { status: res.status, connection: res.headers.connection, end };
}

t.test('too many headers and too large a head get 431, too long a URI 414; a bystander is served', async (t) => {
  let handled = 0;
  const { server, port } = await startEngine(t, { maxHeaderCount: 50, maxHeaderSize: 8192, maxUriLength: 2048 }, (_req, res) => {
    handled++;
    res.end('ok');
  });
  t.teardown(() => server.close({ timeout: 500 }));
  const bystander = await RawClient.connect(port);

  let many = '';
  for (let i = 0; i < 51; i++) many += `X-H${i}: v\r\n`;
  t.same(await bomb(port, get('/', many)), { status: 431, connection: 'close', end: 'eof' }, '51 header lines');
  t.same(await bomb(port, get('/', `X-Big: ${'b'.repeat(9000)}\r\n`)), { status: 431, connection: 'close', end: 'eof' }, 'one 9000-byte header');
  t.same(await bomb(port, get(`/${'u'.repeat(3000)}`)), { status: 414, connection: 'close', end: 'eof' }, 'a 3000-byte URI');

  // At the limits exactly: served.
  let fifty = '';
  for (let i = 0; i < 49; i++) fifty += `X-H${i}: v\r\n`; // plus Host: 50 lines
  const ok = await RawClient.connect(port);
  ok.write(get('/', fifty));
  t.equal((await ok.response()).status, 200, '50 header lines are allowed');
  ok.destroy();

  bystander.write(get('/'));
  t.equal((await bystander.response()).status, 200, 'a bystander is unaffected');
  bystander.destroy();
  t.equal(handled, 2, 'no oversized request reached the handler');
  t.ok(await drained(server));
  t.equal(server.stats().protocolErrors, 3);
});

t.test('an endless head streamed at the server: 431 after maxHeaderSize, the rest discarded up to the linger cap', async (t) => {
  const { server, port } = await startEngine(t, { maxHeaderSize: 8192, linger: { maxDiscardBytes: 65_536 } }, (_req, res) => res.end('ok'));
  const client = await RawClient.connect(port, { allowHalfOpen: true });
  client.write('GET / HTTP/1.1\r\nHost: a\r\n');
  const line = `X-Junk: ${'j'.repeat(1000)}\r\n`;
  // 4 MiB of header lines, written with backpressure; the server must not take them all in.
  let sent = 0;
  const pump = async (): Promise<void> => {
    while (sent < 4 * 1024 * 1024 && !client.closed && client.error === null) {
      sent += line.length;
      if (!client.socket.write(line)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            client.socket.off('drain', done);
            client.socket.off('close', done);
            resolve();
          };
          client.socket.once('drain', done);
          client.socket.once('close', done);
        });
      }
    }
  };
  const pumping = pump();
  const res = await client.response();
  t.equal(res.status, 431);
  t.equal(res.headers.connection, 'close');
  await pumping;
  t.ok(sent < 4 * 1024 * 1024, `the server ended the connection after ${sent} bytes of an endless head`);
  client.destroy();
  t.ok(await drained(server));
  const stats = server.stats();
  t.ok(stats.lingerDiscardedBytes <= 65_536 + 65_536, `discarded ${stats.lingerDiscardedBytes} bytes, bounded by the cap plus one read`);
  t.equal(stats.linger['byte-cap'], 1, 'the linger byte cap ended it');
});
