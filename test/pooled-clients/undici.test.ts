// undici (npm) through the pooled-client scenarios. It honours Keep-Alive: timeout, keeping an idle
// connection for the advertised time minus its keepAliveTimeoutThreshold (2 s), and not at all when
// that leaves nothing.

import t from 'tap';
import { fileURLToPath } from 'node:url';
import { checkClient } from './harness.js';

const CLIENT = fileURLToPath(new URL('./undici-client.js', import.meta.url));

t.test('undici', async (t) => {
  await checkClient(t, 'undici', true, (mode, url, workers, arg) => [process.execPath, [CLIENT, mode, url, String(workers), arg]]);
});
