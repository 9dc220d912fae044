// HTTPS in a real browser: headless Chromium (Debian's, driven by playwright-core) loads a page from a
// linger app over TLS, fetches JSON and echoes over wss://, trusting only the throwaway certificate
// made at test time; without that trust the same page must fail with a certificate error.

import { createHash, X509Certificate } from 'node:crypto';
import { access } from 'node:fs/promises';
import t, { type Test } from 'tap';
import { chromium, type Browser } from 'playwright-core';
import type { App } from '../../lib/index.js';
import { eventually } from '../helpers/raw-client.js';
import { drained, startApp } from '../helpers/servers.js';
import { createTestCa } from '../helpers/test-ca.js';

/** The page's DOM, as far as the predicates below use it (they run in the browser). */
declare const document: { getElementById(id: string): { textContent: string | null } | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const installed = await access(CHROMIUM).then(() => true, () => false);
const needsChromium = installed || process.env.CI ? {} : { skip: `${CHROMIUM} not installed: apt-get install chromium` };

const ca = createTestCa();
t.teardown(() => ca.remove());
const server = ca.issue('server', 'server');
// A second certificate from the same CA: its key pinned in place of the server's must not help.
const sibling = ca.issue('sibling', 'server');

/**
 * What --ignore-certificate-errors-spki-list takes: base64 SHA-256 of the DER SubjectPublicKeyInfo.
 * Chromium accepts a chain that fails verification only when one of its keys has a listed hash, so
 * the browser trusts this one key and nothing else (no blanket --ignore-certificate-errors).
 */
function spkiHash(pem: Buffer): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

// A closed network: no background fetches, no QUIC, no sandbox as root in CI.
const BASE_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

async function launch(t: Test, extraArgs: string[]): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_ARGS, ...extraArgs], timeout: 20_000 });
  t.teardown(() => browser.close());
  return browser;
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>linger over TLS</title>
<p id="json">pending</p>
<p id="ws">pending</p>
<p id="ws-closed">pending</p>
<script>
  const show = (id, text) => { document.getElementById(id).textContent = text; };
  fetch('/data').then((r) => r.json()).then((body) => show('json', JSON.stringify(body)), (e) => show('json', 'error ' + e));
  const ws = new WebSocket('wss://' + location.host + '/echo');
  ws.onopen = () => ws.send('ping');
  ws.onmessage = (event) => { show('ws', String(event.data)); ws.close(1000, 'done'); };
  ws.onerror = () => show('ws', 'error');
  ws.onclose = (event) => show('ws-closed', String(event.code));
</script>
`;

/** The app under test; `seen` records req.secure for every request and WebSocket upgrade it handled. */
async function startHttpsApp(t: Test): Promise<{ app: App; port: number; seen: { path: string; secure: boolean }[] }> {
  const seen: { path: string; secure: boolean }[] = [];
  const { app, port } = await startApp(t, { tls: { key: server.key, cert: server.cert } }, (app) => {
    app.onRequest((req) => {
      seen.push({ path: req.path, secure: req.secure });
    });
    app.get('/', (_req, res) => {
      res.type('text/html; charset=utf-8');
      return PAGE;
    });
    app.get('/data', (req) => ({ secure: req.secure, protocol: req.protocol, answer: 42 }));
    app.ws('/echo', (socket, req) => {
      seen.push({ path: `ws ${req.path}`, secure: req.secure });
      socket.on('message', (data) => socket.send(`${req.protocol}:${String(data)}`));
    });
  });
  return { app, port, seen };
}

const nonZero = (counts: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== 0));

t.test('Chromium trusting only the server key: the page, its JSON fetch and a wss:// echo, all over TLS', needsChromium, async (t) => {
  const { app, port, seen } = await startHttpsApp(t);
  const browser = await launch(t, [`--ignore-certificate-errors-spki-list=${spkiHash(server.cert)}`]);
  const page = await browser.newPage();
  const response = await page.goto(`https://127.0.0.1:${port}/`, { timeout: 10_000 });
  t.equal(response?.status(), 200, 'the page loaded over https');
  const security = await response?.securityDetails();
  t.equal(security?.issuer, 'linger test CA', 'the certificate shown is the one the test CA issued');
  t.match(security?.protocol ?? '', /^TLS 1\.[23]$/, `negotiated ${security?.protocol}`);

  await page.waitForFunction(() => document.getElementById('ws-closed')?.textContent !== 'pending', undefined, { timeout: 10_000 });
  t.same(JSON.parse((await page.textContent('#json')) ?? 'null'), { secure: true, protocol: 'https', answer: 42 }, 'the fetch got the JSON over https');
  t.equal(await page.textContent('#ws'), 'https:ping', 'the WebSocket echo came back over wss');
  t.equal(await page.textContent('#ws-closed'), '1000', 'the WebSocket closed normally');

  const paths = seen.map((s) => s.path);
  t.ok(paths.includes('/') && paths.includes('/data') && paths.includes('ws /echo'), `handled: ${paths.join(', ')}`);
  t.ok(seen.every((s) => s.secure), 'every request and the upgrade saw req.secure');
  t.equal(app.stats().connections.upgrades, 1, 'one WebSocket upgrade');

  // The browser's sockets end with the browser: the server must see each one go, none of them a TLS failure.
  await browser.close();
  t.ok(await drained(app), 'every connection closed once the browser was gone');
  const closes = app.stats().closes;
  t.equal(closes['tls-handshake-failed'], 0, 'no failed handshake');
  t.equal(closes['tls-handshake-timeout'], 0, 'no unfinished handshake');
  t.equal(closes['client-reset'], 0, 'no connection reset');
  t.ok(app.stats().connections.accepted >= 1, `TLS connections accepted: ${app.stats().connections.accepted}, closes ${JSON.stringify(nonZero(closes))}`);
});

t.test('Chromium without the trust, or trusting another key, refuses the certificate and reaches no handler', needsChromium, async (t) => {
  const cases: [string, string[]][] = [
    ['no SPKI flag', []],
    ['another certificate\'s key pinned', [`--ignore-certificate-errors-spki-list=${spkiHash(sibling.cert)}`]],
  ];
  for (const [name, args] of cases) {
    await t.test(name, async (t) => {
      const { app, port, seen } = await startHttpsApp(t);
      const browser = await launch(t, args);
      const page = await browser.newPage();
      const failure = await page.goto(`https://127.0.0.1:${port}/`, { timeout: 10_000 }).then(() => null, (err: Error) => err.message);
      t.match(failure, /net::ERR_CERT_AUTHORITY_INVALID/, 'the navigation failed on the unknown issuer');
      t.same(seen, [], 'no handler ran');
      t.equal(app.stats().requests.total, 0, 'no request was read');
      // Chromium aborts during the handshake (TLS alert), which the server counts as a failed handshake.
      t.ok(await eventually(() => app.stats().closes['tls-handshake-failed'] >= 1, 5000),
        `counted as tls-handshake-failed: ${JSON.stringify(nonZero(app.stats().closes))}`);
      await browser.close();
      t.ok(await drained(app), 'nothing left open');
    });
  }
});
