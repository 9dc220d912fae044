// Every example started as its npm script starts it (node dist/examples/<name>.js), driven with
// real clients (fetch, curl, a browser for SSE), then stopped with SIGTERM: it must exit 0.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { chromium } from 'playwright-core';

// Runs inside the browser page; only the part of the DOM used here.
declare const document: { querySelectorAll(selector: string): { length: number } };

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = await access(CHROMIUM).then(() => true, () => false);
const haveCurl = await new Promise<boolean>((resolve) => execFile('curl', ['--version'], (err) => resolve(err === null)));

interface Running {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<number | null>;
}

async function startExample(name: string, env: Record<string, string> = {}, args = [`dist/examples/${name}.js`]): Promise<Running> {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 15_000);
    const check = (): void => {
      const m = /on (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => reject(new Error(`${name} exited early: ${output}`)));
  });
  return {
    url,
    child,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function curl(args: string[]): Promise<{ stdout: string; code: number }> {
  return new Promise((resolve) => {
    execFile('curl', ['-s', '--max-time', '10', ...args], (err, stdout) => resolve({ stdout, code: err === null ? 0 : Number((err as { code?: number }).code ?? 1) }));
  });
}

t.test('hello', async (t) => {
  const ex = await startExample('hello');
  t.equal(await (await fetch(`${ex.url}/`)).text(), 'Hello, World!');
  t.same(await (await fetch(`${ex.url}/users/7`)).json(), { id: '7' });
  t.equal(await ex.stop(), 0, 'SIGTERM closes gracefully and exits 0');
  t.match(ex.output(), /closed: \d+ gracefully, 0 forced/);
});

t.test('rest-api: create, read, list by tag, update, validate, delete', async (t) => {
  const ex = await startExample('rest-api');
  const json = { 'content-type': 'application/json' };
  let res = await fetch(`${ex.url}/notes`, { method: 'POST', headers: json, body: JSON.stringify({ title: 'First', body: 'text', tags: ['a'] }) });
  t.equal(res.status, 201);
  t.equal(res.headers.get('location'), '/notes/1');
  const created = await res.json() as { id: number; title: string };
  t.equal(created.title, 'First');
  await fetch(`${ex.url}/notes`, { method: 'POST', headers: json, body: JSON.stringify({ title: 'Second', tags: ['b'] }) });
  t.same((await (await fetch(`${ex.url}/notes?tag=b`)).json() as Array<{ title: string }>).map((n) => n.title), ['Second']);
  t.equal(((await (await fetch(`${ex.url}/notes/1`)).json()) as { body: string }).body, 'text');

  res = await fetch(`${ex.url}/notes`, { method: 'POST', headers: json, body: JSON.stringify({ title: '', extra: 1 }) });
  t.equal(res.status, 422);
  t.same(await res.json(), { error: 'invalid note', problems: ['title: a non-empty string is required', 'extra: unknown field'] });
  res = await fetch(`${ex.url}/notes`, { method: 'POST', headers: json, body: '{"title": "x",' });
  t.equal(res.status, 400, 'malformed JSON is a 400');
  res = await fetch(`${ex.url}/notes/1`, { method: 'PUT', headers: json, body: JSON.stringify({ title: 'Renamed' }) });
  t.equal(((await res.json()) as { title: string }).title, 'Renamed');
  t.equal((await fetch(`${ex.url}/notes/1`, { method: 'DELETE' })).status, 204);
  res = await fetch(`${ex.url}/notes/1`);
  t.equal(res.status, 404);
  t.same(await res.json(), { error: 'note 1 not found' });
  t.equal((await fetch(`${ex.url}/notes/1`, { method: 'PATCH' })).status, 405);
  t.equal(await ex.stop(), 0);
  t.match(ex.output(), /"method":"POST","url":"\/notes","statusCode":201,"durationMs":[\d.]+/, 'the request log has a line per request');
});

t.test('sse: the event stream, resumption with Last-Event-ID, and a browser EventSource', async (t) => {
  const ex = await startExample('sse');
  const controller = new AbortController();
  const res = await fetch(`${ex.url}/events`, { headers: { 'last-event-id': '41' }, signal: controller.signal });
  t.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body!.getReader();
  let text = '';
  const deadline = Date.now() + 5000;
  while (!text.includes('id: 42\n') && Date.now() < deadline) {
    const step = await reader.read();
    if (step.done) break;
    text += Buffer.from(step.value).toString();
  }
  t.match(text, /^retry: 1000\n\nid: 42\nevent: tick\ndata: \d{4}-\d\d-\d\dT/, 'the stream resumes after the last id seen');
  controller.abort();

  if (!haveChromium && !process.env.CI) t.comment(`${CHROMIUM} not installed: the browser check is left out`);
  else {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${ex.url}/`);
      await page.waitForFunction(() => document.querySelectorAll('#events li').length >= 2, undefined, { timeout: 10_000 });
      const items = await page.$$eval('#events li', (lis) => lis.map((li) => li.textContent ?? ''));
      t.match(items[0], /^1: \d{4}-/, 'the browser received the ticks through EventSource');
    } finally {
      await browser.close();
    }
  }
  // A stream still open at shutdown ends through app.shutdownSignal instead of holding close().
  const open = await fetch(`${ex.url}/events`);
  const openReader = open.body!.getReader();
  await openReader.read();
  const code = await ex.stop();
  let rest = '';
  for (let step = await openReader.read(); !step.done; step = await openReader.read()) rest += Buffer.from(step.value).toString();
  t.pass(`the open stream ended cleanly at shutdown (${rest.length} more bytes)`);
  t.equal(code, 0, 'the process exits 0 after the streams ended');
  t.match(ex.output(), /gracefully, 0 forced/, 'a stream whose client left was ended, not left for the deadline');
});

t.test('static: index, stylesheet, 304 revalidation with curl, traversal refused', { skip: haveCurl ? false : 'curl not installed' }, async (t) => {
  const ex = await startExample('static');
  const page = await fetch(`${ex.url}/`);
  t.equal(page.status, 200);
  t.match(await page.text(), /Served by linger/);
  const etag = page.headers.get('etag')!;
  const css = await curl(['-i', `${ex.url}/style.css`]);
  t.match(css.stdout, /Content-Type: text\/css; charset=utf-8/i);
  const revalidated = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', `If-None-Match: ${etag}`, `${ex.url}/`]);
  t.equal(revalidated.stdout, '304');
  const traversal = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '--path-as-is', `${ex.url}/../package.json`]);
  t.equal(traversal.stdout, '404');
  t.equal(await ex.stop(), 0);
});

t.test('hono: routes, JSON, validation and a streamed countdown through the fetch adapter', async (t) => {
  const ex = await startExample('hono');
  t.equal(await (await fetch(`${ex.url}/`)).text(), 'Hello from Hono on linger!');
  t.same(await (await fetch(`${ex.url}/books/9`)).json(), { id: '9', title: 'Book 9' });
  const created = await fetch(`${ex.url}/books`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":"Dune"}' });
  t.equal(created.status, 201);
  t.equal((await fetch(`${ex.url}/books`, { method: 'POST', body: 'nope' })).status, 400);
  const countdown = await fetch(`${ex.url}/countdown`);
  t.equal(countdown.headers.get('transfer-encoding'), 'chunked');
  t.equal(await countdown.text(), '3\n2\n1\nliftoff\n');
  t.equal(await ex.stop(), 0);
});

t.test('cluster-app: two workers through `linger serve`, /healthz, graceful stop of the whole cluster', async (t) => {
  const ex = await startExample('cluster-app', {}, ['dist/bin/linger.js', 'serve', 'dist/examples/cluster-app.js', '--workers', '2', '--port', '0']);
  const pids = new Set<string>();
  // Each request on its own connection, so the kernel's accept balancing can reach both workers.
  for (let i = 0; i < 20 && pids.size < 2; i++) {
    const text = await (await fetch(`${ex.url}/`, { headers: { connection: 'close' } })).text();
    const m = /^hello from worker (\d+)\n$/.exec(text);
    t.ok(m !== null, `a worker answered: ${JSON.stringify(text)}`);
    if (m !== null) pids.add(m[1]!);
  }
  t.ok(pids.size >= 1, `workers seen: ${[...pids].join(', ')}`);
  t.equal(await (await fetch(`${ex.url}/healthz`)).text(), 'ok\n');
  t.equal(await ex.stop(), 0, 'SIGTERM to the primary stops every worker gracefully, exit 0');
  t.match(ex.output(), /stopped: \d+ connections closed gracefully, 0 forced/);
});
