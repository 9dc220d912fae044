// SIGTERM to the primary of a 2-worker `linger serve` cluster while 20 keep-alive clients keep
// requests in flight: every response that arrives is complete, no connection sees ECONNRESET, and
// the primary exits 0 well within the shutdown deadline.

import http from 'node:http';
import t from 'tap';
import { freePort, sleep, startCli } from './helpers.js';

const CLIENTS = 20;
const SHUTDOWN_TIMEOUT_MS = 8000;
// The fixture's body: 4096 x then "pid N\n".
const BODY = /^x{4096}pid \d+\n$/;

interface Tally {
  sent: number;
  complete: number;
  incomplete: number;
  reset: number;
  refused: number;
  other: string[];
  closeHeaders: number;
}

function request(agent: http.Agent, port: number, path: string, tally: Tally): Promise<'ok' | 'stop'> {
  return new Promise((resolve) => {
    tally.sent++;
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => {});
      res.on('close', () => {
        const body = Buffer.concat(chunks).toString('latin1');
        const length = Number(res.headers['content-length']);
        if (res.complete && res.statusCode === 200 && BODY.test(body) && body.length === length) tally.complete++;
        else tally.incomplete++;
        if (res.headers.connection === 'close') tally.closeHeaders++;
        resolve(res.complete ? 'ok' : 'stop');
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // After the listener is gone a new connection is refused: the end of the service, not a failure.
      if (err.code === 'ECONNREFUSED') tally.refused++;
      else if (err.code === 'ECONNRESET') tally.reset++;
      else tally.other.push(`${err.code ?? ''} ${err.message}`);
      tally.sent--;
      resolve('stop');
    });
  });
}

t.test('SIGTERM under keep-alive load: complete responses only, no resets, exit 0 in time', async (t) => {
  const port = await freePort();
  const cli = startCli(['--workers', '2', '--port', String(port), '--host', '127.0.0.1', '--shutdown-timeout', String(SHUTDOWN_TIMEOUT_MS)]);
  t.teardown(() => cli.kill('SIGKILL'));
  await cli.waitFor(/ready: /, 15_000);

  const tally: Tally = { sent: 0, complete: 0, incomplete: 0, reset: 0, refused: 0, other: [], closeHeaders: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  t.teardown(() => agent.destroy());
  const deadline = Date.now() + 15_000;
  const clients = Array.from({ length: CLIENTS }, async (_, i) => {
    for (let n = 0; Date.now() < deadline && n < 100_000; n++) {
      // Handlers that take 10-150 ms keep requests in flight at the moment the signal lands.
      const path = (n + i) % 3 === 0 ? '/' : `/slow?ms=${10 + ((n * 37 + i * 11) % 140)}`;
      if ((await request(agent, port, path, tally)) === 'stop') return;
    }
  });
  await sleep(1500);
  const sentBeforeSignal = tally.sent;
  const signalledAt = Date.now();
  const stopMark = cli.output().length;
  cli.kill('SIGTERM');
  const exit = await cli.exited;
  await Promise.all(clients);
  const exitMs = exit.at - signalledAt;
  const stopped = /stopped: (\d+) connections closed gracefully, (\d+) forced, (\d+) workers failed/.exec(cli.output().slice(stopMark));

  t.ok(sentBeforeSignal > 100, `${sentBeforeSignal} requests before the signal`);
  t.equal(exit.code, 0, 'the primary exits 0: nothing was forced');
  t.ok(exitMs < SHUTDOWN_TIMEOUT_MS, `exited ${exitMs} ms after SIGTERM, within the ${SHUTDOWN_TIMEOUT_MS} ms deadline`);
  t.equal(tally.incomplete, 0, 'every response received was complete');
  t.equal(tally.reset, 0, 'no connection saw ECONNRESET');
  t.same(tally.other, [], 'no other client errors');
  t.equal(tally.complete, tally.sent, 'every request sent got its complete response');
  t.ok(tally.closeHeaders > 0, 'in-flight responses announced the close with Connection: close');
  t.ok(stopped !== null && stopped[2] === '0' && stopped[3] === '0', `stop summary: ${stopped?.[0]}`);
  t.comment(`SIGTERM under load: requests=${tally.sent} complete=${tally.complete} incomplete=${tally.incomplete} ` +
    `ECONNRESET=${tally.reset} refusedAfterStop=${tally.refused} connectionClose=${tally.closeHeaders} ` +
    `closedGracefully=${stopped?.[1]} forced=${stopped?.[2]} exit=${exit.code} in ${exitMs} ms`);
});
