// `linger serve --tls-cert F --tls-key F`: workers serve HTTPS from the files, and SIGHUP makes them
// read the files again, without a restart and without a failed request under keep-alive load.

import { spawn } from 'node:child_process';
import { copyFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Agent, fetch as undiciFetch } from 'undici';
import { eventually } from '../helpers/raw-client.js';
import { createTestCa } from '../helpers/test-ca.js';

const CLI = fileURLToPath(new URL('../../bin/linger.js', import.meta.url));
const APP = fileURLToPath(new URL('../fixtures/cluster-app.js', import.meta.url));

const ca = createTestCa();
t.teardown(() => ca.remove());
const first = ca.issue('server', 'server');
const second = ca.issue('server-renewed', 'server');

function servedCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: ca.ca }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(String(cn));
    });
    socket.once('error', reject);
  });
}

/** Replaces a file in one rename, as certificate tools do: a reader never sees half a file. */
function replace(from: string, to: string): void {
  copyFileSync(from, `${to}.new`);
  renameSync(`${to}.new`, to);
}

t.test('SIGHUP reloads --tls-cert/--tls-key under load: nothing fails, new connections see the new certificate', async (t) => {
  const certFile = path.join(ca.dir, 'live.pem');
  const keyFile = path.join(ca.dir, 'live.key');
  replace(first.certFile, certFile);
  replace(first.keyFile, keyFile);
  const child = spawn(process.execPath, [CLI, 'serve', APP, '--workers', '2', '--port', '0', '--tls-cert', certFile, '--tls-key', keyFile],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.ok(await eventually(() => /ready: .*https:\/\/127\.0\.0\.1:(\d+)/.test(out), 15_000), out);
  const port = Number(/ready: .*https:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  t.equal(await servedCommonName(port), 'server');

  const agent = new Agent({ connect: { ca: ca.ca }, connections: 4 });
  t.teardown(() => agent.close());
  let ok = 0;
  let failed = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    for (let i = 0; i < 5000 && !stop; i++) {
      try {
        const res = await undiciFetch(`https://localhost:${port}/`, { dispatcher: agent });
        await res.arrayBuffer();
        if (res.status === 200) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  const load = Promise.all(Array.from({ length: 4 }, worker));
  await eventually(() => ok >= 100, 10_000);
  replace(second.certFile, certFile);
  replace(second.keyFile, keyFile);
  child.kill('SIGHUP');
  t.ok(await eventually(() => (out.match(/reloaded its certificate/g) ?? []).length === 2, 10_000), `both workers reloaded: ${out}`);
  const seen = await servedCommonName(port);
  const before = ok;
  await eventually(() => ok >= before + 100, 10_000);
  stop = true;
  await load;
  t.equal(seen, 'server-renewed', 'a new connection after SIGHUP sees the new certificate');
  t.equal(failed, 0, `no request failed across the reload (${ok} succeeded)`);
  t.notMatch(out, /rolling restart/, 'no restart: the same workers kept serving');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'graceful stop');
});

t.test('CLI: --tls-cert without --tls-key is a usage error', async (t) => {
  const child = spawn(process.execPath, [CLI, 'serve', APP, '--tls-cert', first.certFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => { err += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 2);
  t.match(err, /--tls-cert and --tls-key go together/);
});
