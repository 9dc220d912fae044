// Python's urllib3 (Debian python3-urllib3, run with Debian's /usr/bin/python3, not a pyenv one)
// through the pooled-client scenarios. It ignores Keep-Alive: it checks a pooled connection for a
// FIN before reusing it, and retries (Retry(3)) a request that fails on a connection closed meanwhile.

import t from 'tap';
import { checkClient, missing, runProcess, source } from './harness.js';

const PYTHON = '/usr/bin/python3';

t.test('urllib3', async (t) => {
  const probe = await runProcess(PYTHON, ['-c', 'import urllib3; print(urllib3.__version__)'], 10_000);
  if (probe.code !== 0) return missing(t, 'urllib3 for /usr/bin/python3 (Debian python3-urllib3)');
  t.comment(`urllib3 ${probe.stdout.trim()}`);
  await checkClient(t, 'urllib3', false, (mode, url, workers, arg) => [PYTHON, [source('urllib3_client.py'), mode, url, String(workers), arg]]);
});
