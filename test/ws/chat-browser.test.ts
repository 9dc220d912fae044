// examples/chat in a real browser: headless Chromium (Debian's) driven by playwright-core, two pages
// exchanging messages, then a graceful server close that both pages observe as code 1001.

import { access } from 'node:fs/promises';
import t from 'tap';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildChatApp } from '../../examples/chat.js';

/** The page's DOM, as far as the predicates below use it (they run in the browser). */
declare const document: { getElementById(id: string): { textContent: string | null } | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const installed = await access(CHROMIUM).then(() => true, () => false);

t.test('two browser pages chat through the WebSocket and both see 1001 on graceful close', installed || process.env.CI ? {} : { skip: `${CHROMIUM} not installed: apt-get install chromium` }, async (t) => {
  const app = buildChatApp();
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    // A closed network: no background fetches, no sandbox as root in CI.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(async () => {
    await browser.close();
    await app.close({ timeout: 500 });
  });
  const open = async (name: string): Promise<Page> => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/?name=${name}`);
    await page.waitForFunction((who) => document.getElementById('status')?.textContent === `connected as ${who}`, name, { timeout: 10_000 });
    return page;
  };
  const alice = await open('alice');
  const bob = await open('bob');
  t.equal(app.stats().connections.upgraded, 2, 'two WebSockets open');

  await alice.fill('#text', 'hello bob');
  await alice.click('#send');
  await bob.waitForFunction(() => document.getElementById('log')?.textContent?.includes('alice: hello bob'), undefined, { timeout: 5000 });
  await bob.fill('#text', 'hi alice');
  await bob.press('#text', 'Enter');
  // Each page shows a message when the server's broadcast reaches it, the sender's own included:
  // both pages must have received it before their logs are counted.
  for (const page of [alice, bob]) {
    await page.waitForFunction(() => document.getElementById('log')?.textContent?.includes('bob: hi alice'), undefined, { timeout: 5000 });
  }
  t.equal(await alice.locator('#log p').count(), 2, 'alice sees both messages');
  t.equal(await bob.locator('#log p').count(), 2, 'bob sees both messages');

  const result = await app.close({ timeout: 5000 });
  for (const [name, page] of [['alice', alice], ['bob', bob]] as const) {
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('closed'), undefined, { timeout: 5000 });
    t.equal(await page.textContent('#status'), 'closed 1001', `${name}'s page observed 1001 (going away)`);
  }
  t.equal(result.forced, 0, 'nothing had to be forced');
  t.ok(result.closedGracefully >= 2, `closed gracefully: ${result.closedGracefully}`);
});
