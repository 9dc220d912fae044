// Apache HttpClient 4.5 with a keep-alive strategy that ignores Keep-Alive: timeout (keeps
// connections indefinitely), as many configurations do: only its 2 s stale check and its retry
// handler stand between a connection linger closed and a failure. Then the same client with the
// settings the README gives for it (setValidateAfterInactivity and evictIdleConnections well below
// linger's keepAliveTimeout minus idleReapGuard), which must see no retry at all.

import t from 'tap';
import { checkClient } from './harness.js';
import { buildProbe } from './httpclient-build.js';

t.test('Apache HttpClient 4.5, hint ignored', async (t) => {
  const probe = await buildProbe(t);
  if (probe === null) return;
  await checkClient(t, 'HttpClient, hint ignored', false, probe('ignore'));
  // 500 ms: below the shortest scenario's 1.5 s - 250 ms with room for the evictor's own period.
  await checkClient(t, 'HttpClient, hint ignored, validate/evict 500 ms', true, probe('ignore', 500));
});
