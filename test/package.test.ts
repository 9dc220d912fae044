// The published package: packed from a clean copy of the sources (prepack builds dist), installed
// with npm into a fresh project, then used as users would: import, require, the TypeScript types
// (ESM and CommonJS, Locals augmented, no skipLibCheck) and the linger command.

import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const modules = realpathSync(path.join(repoRoot, 'node_modules'));
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };

function run(command: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: 60_000, env: { ...process.env, npm_config_update_notifier: 'false' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const ESM_APP = `
import { createServer, HttpError } from '${pkg.name}';
const app = createServer({ logErrors: false });
app.group('/hi', (hi) => hi.get('/:name', (req) => ({ hi: req.params.name, via: 'import', httpError: typeof HttpError })));
const { port } = await app.listen({ port: 0 });
const res = await fetch('http://127.0.0.1:' + port + '/hi/ada');
console.log(JSON.stringify(await res.json()));
await app.close({ timeout: 100 });
`;

const CJS_APP = `
const { createServer } = require('${pkg.name}');
const app = createServer({ logErrors: false });
app.get('/hi/:name', (req) => ({ hi: req.params.name, via: 'require' }));
app.listen({ port: 0 }).then(async ({ port }) => {
  const res = await fetch('http://127.0.0.1:' + port + '/hi/bob');
  console.log(JSON.stringify(await res.json()));
  await app.close({ timeout: 100 });
});
`;

const TS_ESM = `
import { createServer, type Locals } from '${pkg.name}';
declare module '${pkg.name}' {
  interface Locals { user?: { id: number } }
}
const app = createServer({ keepAliveTimeout: 65_000 });
app.onRequest((req) => { req.locals.user = { id: 1 }; });
app.group('/api/:v', (api) => api.get('/users/:id', (req) => ({ v: req.params.v, id: req.params.id, user: req.locals.user?.id.toFixed() })));
app.ws('/chat/:room', (socket, req) => socket.send(req.params.room));
app.get('/n', () => 42);
const locals: Locals = {};
void locals;
`;

const TS_CJS = `
import linger = require('${pkg.name}');
const app = linger.createServer();
app.get('/x/:id', (req) => req.params.id);
`;

t.test('packed, installed into a fresh project, it runs with import and require and its types check', async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'linger-package-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const src = path.join(work, 'src');
  const tarballs = path.join(work, 'tarballs');
  const project = path.join(work, 'project');
  for (const dir of [src, tarballs, project]) mkdirSync(dir);

  // A clean copy without dist: the tarball can only contain what prepack built.
  for (const entry of ['package.json', 'tsconfig.json', 'README.md', 'lib', 'bin']) cpSync(path.join(repoRoot, entry), path.join(src, entry), { recursive: true });
  symlinkSync(modules, path.join(src, 'node_modules'));
  const packed = await run('npm', ['pack', '--pack-destination', tarballs], src);
  t.equal(packed.code, 0, packed.code === 0 ? 'npm pack (prepack builds dist)' : packed.stderr.slice(-1000));
  const tarball = `${pkg.name}-${pkg.version}.tgz`;
  t.ok(readdirSync(tarballs).includes(tarball), 'the tarball exists');

  // The dependencies come from the local copies, packed too, so the install needs no network.
  for (const dependency of ['ws', '@types/ws', '@types/node', 'undici-types']) {
    const r = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', tarballs, path.join(modules, dependency)], work);
    t.equal(r.code, 0, `packed ${dependency}`);
  }
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const all = readdirSync(tarballs).map((name) => path.join(tarballs, name));
  const installed = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', ...all], project);
  t.equal(installed.code, 0, installed.code === 0 ? 'npm install --offline into a fresh project' : installed.stderr.slice(-1000));
  const manifest = JSON.parse(readFileSync(path.join(project, 'node_modules', pkg.name, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  t.ok(manifest.dependencies['@types/ws'], '@types/ws is a dependency: the published types import ws');
  const shipped = readdirSync(path.join(project, 'node_modules', pkg.name, 'dist'));
  t.same(shipped.sort(), ['bin', 'lib'], 'only the library and the command are published');
  const declarations = readFileSync(path.join(project, 'node_modules', pkg.name, 'dist', 'lib', 'app', 'response.d.ts'), 'utf8');
  t.notMatch(declarations, /_sendHooks|_hooks/, 'internals are stripped from the published types');

  writeFileSync(path.join(project, 'esm.mjs'), ESM_APP);
  writeFileSync(path.join(project, 'cjs.cjs'), CJS_APP);
  const esm = await run(process.execPath, ['esm.mjs'], project);
  t.equal(esm.code, 0, esm.stderr);
  t.same(JSON.parse(esm.stdout), { hi: 'ada', via: 'import', httpError: 'function' });
  const cjs = await run(process.execPath, ['cjs.cjs'], project);
  t.equal(cjs.code, 0, cjs.stderr);
  t.same(JSON.parse(cjs.stdout), { hi: 'bob', via: 'require' }, 'require() loads the ES module (Node 20.19+, 22.12+)');

  writeFileSync(path.join(project, 'consumer.mts'), TS_ESM);
  writeFileSync(path.join(project, 'consumer.cts'), TS_CJS);
  const tsc = await run(process.execPath, [path.join(modules, 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext',
    '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--skipLibCheck', 'false', 'consumer.mts', 'consumer.cts'], project);
  t.equal(tsc.code, 0, tsc.code === 0 ? 'the types check for ESM and CommonJS consumers, without skipLibCheck' : tsc.stdout);

  const help = await run(process.execPath, [path.join(project, 'node_modules', '.bin', 'linger'), '--help'], project);
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage: linger serve/, 'the linger command is installed');
});
