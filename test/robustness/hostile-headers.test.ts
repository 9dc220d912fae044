// Every header and path the app interprets, fed its worst case at the 16 KiB head limit: the server
// answers each one and keeps answering another connection meanwhile (no parser whose cost explodes
// on crafted input, such as a backtracking regular expression, may hold the event loop).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { hostileApp, hostileCases, writeHostileRoot } from '../helpers/hostile-heads.js';
import { get, RawClient } from '../helpers/raw-client.js';
import { startApp } from '../helpers/servers.js';

const root = mkdtempSync(join(tmpdir(), 'linger-hostile-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
writeHostileRoot(root);

/** Hostile requests per case, one after another: enough round trips for a ping to come in between. */
const ROUNDS = 12;

t.test('worst-case heads at the head limit are answered while another connection is served', async (t) => {
  // The default maxHeaderSize (16 KiB) is the limit under test.
  const { port } = await startApp(t, { maxRequestsPerSocket: 10_000 }, (app) => hostileApp(app, root));
  const bystander = await RawClient.connect(port);
  const cases = hostileCases(16_384);
  t.ok(cases.length >= 25, `${cases.length} cases`);
  for (const c of cases) {
    // A catastrophic case never gets past its first request: one synchronous call holds the single
    // thread, nothing can be answered during it, and tap's per-file timeout ends the run.
    const order: string[] = [];
    let pinged: Promise<void> | null = null;
    for (let round = 0; round < ROUNDS; round++) {
      const hostile = await RawClient.connect(port);
      hostile.write(c.request);
      const res = await hostile.response();
      hostile.destroy();
      if (res.status !== c.status || (res.headers.connection === 'close') !== c.closes) {
        t.fail(`${c.name}: ${res.status} (connection: ${res.headers.connection}), expected ${c.status}${c.closes ? ' and close' : ''}`);
        break;
      }
      order.push('hostile');
      if (round === 0) {
        bystander.write(get('/ping'));
        pinged = bystander.response().then((ping) => {
          if (ping.status === 200 && ping.body.toString() === 'pong') order.push('bystander');
        });
      }
    }
    await pinged;
    const bystanderAt = order.indexOf('bystander');
    t.ok(bystanderAt > 0 && bystanderAt < order.length - 1, `${c.name}: the bystander is answered between hostile requests (${bystanderAt} of ${order.length})`);
  }
  bystander.write(get('/ping'));
  t.equal((await bystander.response()).body.toString(), 'pong', 'the bystander connection is intact');
});
