// The Hono bench cases compare Hono on serve() with a bare fetch handler (benchmarks/servers/
// fetch-app.ts) to separate the adapter's cost from Hono's: that only holds if both send the same bytes.

import t from 'tap';
import { serve } from '../../lib/index.js';
import { honoApp, HONO_PARAMS_PATH } from '../../benchmarks/servers/hono-app.js';
import { bareFetch } from '../../benchmarks/servers/fetch-app.js';
import { get, RawClient } from '../helpers/raw-client.js';

t.test('the bare fetch handler answers the bench paths exactly as the Hono app does', async (t) => {
  const hono = await serve({ fetch: honoApp(), port: 0, hostname: '127.0.0.1' });
  const bare = await serve({ fetch: bareFetch, port: 0, hostname: '127.0.0.1' });
  t.teardown(async () => {
    await hono.close({ timeout: 500 });
    await bare.close({ timeout: 500 });
  });
  const honoClient = await RawClient.connect(hono.address()!.port);
  const bareClient = await RawClient.connect(bare.address()!.port);
  t.teardown(() => {
    honoClient.destroy();
    bareClient.destroy();
  });

  for (const path of ['/', HONO_PARAMS_PATH, '/users/ab?x=1', '/users/1/2', '/nope']) {
    honoClient.write(get(path));
    bareClient.write(get(path));
    const fromHono = await honoClient.response();
    const fromBare = await bareClient.response();
    t.equal(fromBare.status, fromHono.status, `${path}: status`);
    t.equal(fromBare.body.toString(), fromHono.body.toString(), `${path}: body`);
    for (const name of ['content-type', 'content-length']) {
      t.equal(fromBare.headers[name], fromHono.headers[name], `${path}: ${name}`);
    }
  }
});
