/**
 * Editing one's own comment across real page reloads: the demo server process (`npm start`)
 * with its development sign-in provider, the real bundle in Chromium (playwright-core). A
 * signed-in reader's comments are known by the session's author pseudonym; a guest's by the
 * edit token this browser profile keeps in IndexedDB — and another profile has none.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../support/chromium.mjs';
import { startServerProcess, type ServerProcess } from '../support/processes.js';

const DEMO = 'Demo sign-in (development only)';

let browser: Browser;
let server: ServerProcess;
let home: string;

before(async () => {
  browser = await chromium.launch({ executablePath: requireChromium(), args: chromiumArgs, headless: true });
  server = await startServerProcess({ demo: true });
  home = `http://localhost:${server.port}/`;
});
after(async () => {
  await browser?.close();
  await server?.dispose();
});

async function open(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  await page.goto(home);
  await page.getByText('Leave a Reply').waitFor();
  return { page, problems };
}

const comment = (page: Page, text: string) => page.locator('[part~="comment"]').filter({ hasText: text });

async function write(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: /^Comment/ }).fill(text);
  await page.getByRole('button', { name: 'Post Comment' }).click();
  await comment(page, text).getByRole('button', { name: 'Edit' }).waitFor();
}

async function edit(page: Page, from: string, to: string): Promise<void> {
  await comment(page, from).getByRole('button', { name: 'Edit' }).click();
  const field = page.getByRole('textbox', { name: 'Edit your comment' });
  await field.fill(to);
  await page.getByRole('button', { name: 'Save' }).click();
  await comment(page, to).getByText('(edited)').waitFor();
}

describe('signing in when the provider cuts the popup off (Cross-Origin-Opener-Policy)', () => {
  it('signs in with the secret kept in the page when no message comes back', async () => {
    const context = await browser.newContext();
    // What COOP does to the callback page: no opener to post to (it stays open until closed).
    await context.addInitScript(
      "if (location.pathname.includes('/api/v1/auth/callback/')) Object.defineProperty(window, 'opener', { value: null });",
    );
    const page = await context.newPage();
    const redeems: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/api/v1/auth/redeem')) redeems.push(request.postData() ?? '');
    });
    await page.goto(home);
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: `Log in with ${DEMO}` }).click()]);
    await popup.getByRole('button', { name: 'Continue as Dev Reader' }).click();
    await popup.getByText('Signed in. You can close this window.').waitFor();
    await popup.close();
    await page.getByText(`You are commenting using your ${DEMO} account.`).waitFor();
    assert.equal(redeems.length, 1);
    const body = JSON.parse(redeems[0]!) as { code: string; nonce: string };
    assert.match(body.nonce, /^[0-9a-f]{64}$/, 'the nonce is a SHA-256');
    assert.equal(popup.url().includes(body.code), false, 'the secret was never in a URL');
    await context.close();
  });
});

describe('editing one’s own comment on the demo page', () => {
  it('a signed-in reader edits their comment, and after a reload it is edited and still theirs', async () => {
    const { page, problems } = await open();
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: `Log in with ${DEMO}` }).click()]);
    await popup.getByRole('button', { name: 'Continue as Dev Reader' }).click();
    if (!popup.isClosed()) await popup.waitForEvent('close'); // it may be gone already
    await page.getByText(`You are commenting using your ${DEMO} account.`).waitFor();

    const stamp = Date.now();
    await write(page, `Signed-in first draft ${stamp}`);
    await edit(page, `Signed-in first draft ${stamp}`, `Signed-in final words ${stamp}`);
    await page.reload();
    const mine = comment(page, `Signed-in final words ${stamp}`);
    await mine.getByText('(edited)').waitFor();
    await mine.getByRole('button', { name: 'Edit' }).waitFor();
    assert.equal(await comment(page, 'daveyone1').getByRole('button', { name: 'Edit' }).count(), 0, 'not on others’ comments');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('a guest edits after a reload with the token kept in IndexedDB; another browser profile gets no Edit', async () => {
    const { page, problems } = await open();
    await page.getByLabel(/^Name/).fill('Gus');
    await page.getByLabel(/^Email/).fill('gus@example.org');
    const stamp = Date.now();
    await write(page, `Guest draft ${stamp}`);
    await page.reload();
    await edit(page, `Guest draft ${stamp}`, `Guest words ${stamp}`);

    const other = await open();
    await comment(other.page, `Guest words ${stamp}`).getByText('(edited)').waitFor();
    assert.equal(await comment(other.page, `Guest words ${stamp}`).getByRole('button', { name: 'Edit' }).count(), 0);
    assert.deepEqual([...problems, ...other.problems], []);
    await page.context().close();
    await other.page.context().close();
  });
});
