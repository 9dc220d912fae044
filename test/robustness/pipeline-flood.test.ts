// A client that pipelines thousands of requests and does not read: the server's queued output and
// memory stay under the documented bound, reading stops, and a late reader gets every response in
// order; a reader that never comes is cut off by sendTimeout (nginx send_timeout policy).

import t from 'tap';
import v8 from 'node:v8';
import vm from 'node:vm';
import { eventually, RawClient, sleep } from '../helpers/raw-client.js';
import { drained, startEngine } from '../helpers/servers.js';

const COUNT = 5000;
const BODY = 8 * 1024;

function pipelinedBatch(count: number): string {
  let batch = '';
  for (let i = 0; i < count; i++) batch += `GET /p/${i} HTTP/1.1\r\nHost: a\r\n\r\n`;
  return batch;
}

/** Waits (bounded by 10 s) until `read()` stops changing for 300 ms; returns whether it settled. */
async function settle(read: () => number): Promise<boolean> {
  let last = -1;
  let stableSince = Date.now();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const now = read();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= 300) {
      return true;
    }
    await sleep(20);
  }
  return false;
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Live memory of this process (server and client share it): heap plus Buffer memory, after a full GC. */
async function externalAndHeap(): Promise<number> {
  // Twice with a pause: backing stores of collected Buffers are released by a concurrent sweep.
  gc();
  await sleep(50);
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

t.test(`${COUNT} pipelined requests, reader starts late: bounded output and memory, then every response in order`, async (t) => {
  const maxQueuedOutput = 32_768;
  const maxPipelineDepth = 8;
  let handled = 0;
  const { server, port } = await startEngine(t, { maxQueuedOutput, maxPipelineDepth, sendTimeout: 60_000, maxRequestsPerSocket: COUNT + 1 }, (req, res) => {
    handled++;
    // Each response is a fresh 8 KiB: if nothing bounded them, 5000 of them would be 40 MB.
    const body = Buffer.alloc(BODY, 'x');
    body.write(req.url.padEnd(16, ' '));
    res.end(body);
  });
  t.teardown(() => server.close({ timeout: 500 }));
  const baseline = await externalAndHeap();
  const client = await RawClient.connect(port, { paused: true });
  client.write(pipelinedBatch(COUNT));

  t.ok(await settle(() => handled), `the server stopped reading (handled ${handled} of ${COUNT})`);
  t.ok(handled < COUNT, 'not every request was read while the client did not read');
  const grown = (await externalAndHeap()) - baseline;
  // The documented bound: maxQueuedOutput plus what the requests already in flight add.
  const bound = maxQueuedOutput + maxPipelineDepth * (BODY + 512);
  const peak = server.stats().peakQueuedOutput;
  t.ok(peak <= bound, `peak queued output ${peak} <= ${bound}`);
  // What the kernel buffers on loopback is not ours; the process's own memory is what must not grow
  // with the number of requests (40 MB here).
  t.ok(grown < 4 * 1024 * 1024, `process heap + buffers grew ${(grown / 1048576).toFixed(2)} MiB (< 4 MiB)`);
  t.equal(server.stats().connections.open, 1, 'the connection is kept, not dropped');

  client.resume();
  const responses = await client.responses(COUNT, 10_000);
  const outOfOrder = responses.findIndex((r, i) => r.status !== 200 || r.body.length !== BODY || r.body.subarray(0, 16).toString().trim() !== `/p/${i}`);
  t.equal(outOfOrder, -1, `all ${COUNT} responses arrived complete and in order`);
  t.equal(handled, COUNT);
  t.ok(server.stats().peakQueuedOutput <= bound, `still bounded after the drain (${server.stats().peakQueuedOutput})`);
  client.write('GET /p/after HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal((await client.response()).status, 200, 'the connection is reusable afterwards');
  client.destroy();
  t.ok(await drained(server));
});

t.test('a pipelining client that never reads is destroyed at sendTimeout; other connections are served', async (t) => {
  const sendTimeout = 300;
  let handled = 0;
  const { server, port } = await startEngine(t, { sendTimeout }, (_req, res) => {
    handled++;
    res.end(Buffer.alloc(BODY, 'y'));
  });
  t.teardown(() => server.close({ timeout: 500 }));
  const hog = await RawClient.connect(port, { paused: true });
  hog.write(pipelinedBatch(COUNT));
  const other = await RawClient.connect(port);
  other.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal((await other.response()).status, 200, 'served while the hog is stuck');
  t.ok(await eventually(() => server.stats().closes['send-timeout'] === 1, sendTimeout + 5000), 'closed within the bound');
  t.equal(server.stats().closes['send-timeout'], 1, 'closed by the send timer, as documented');
  t.ok(handled < COUNT, `it stopped reading at ${handled} of ${COUNT}`);
  t.equal(server.stats().connections.open, 1, 'only the healthy connection is left');
  other.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal((await other.response()).status, 200);
  other.destroy();
  hog.destroy();
  t.ok(await drained(server));
});
