// Go's net/http Transport (Debian golang-go, standard library only, built offline at test time)
// through the pooled-client scenarios. It ignores Keep-Alive: its idle connections are watched by a
// background read, and a request that fails on a reused connection is retried if idempotent.

import t from 'tap';
import { join } from 'node:path';
import { checkClient, missing, runProcess, source, tempDir } from './harness.js';

t.test('Go net/http', async (t) => {
  const dir = tempDir(t, 'linger-go-');
  const binary = join(dir, 'go-client');
  // No module, no network: GOPROXY=off and a private build cache in the temp dir.
  const env = { ...process.env, GOCACHE: join(dir, 'cache'), GOPATH: join(dir, 'gopath'), GOPROXY: 'off', GOFLAGS: '', GO111MODULE: 'on' };
  const version = await runProcess('go', ['version'], 10_000, env);
  if (version.code !== 0) return missing(t, 'go (Debian golang-go)');
  const build = await runProcess('go', ['build', '-o', binary, source('go-client.go')], 120_000, env);
  t.equal(build.code, 0, `go build: ${build.stderr}`);
  if (build.code !== 0) return;
  t.comment(version.stdout.trim());
  await checkClient(t, 'Go net/http', false, (mode, url, workers, arg) => [binary, [mode, url, String(workers), arg]]);
});
