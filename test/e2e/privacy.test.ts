/**
 * "Your data" in <login-picker>, end to end: the demo server process with its local development
 * provider, the real widget bundle in Chromium (playwright-core). A signed-in reader downloads
 * the JSON document of their data, then erases it after an inline confirmation and is signed out.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../support/chromium.mjs';
import { startServerProcess, type ServerProcess } from '../support/processes.js';
import { startSmtpInbox, type SmtpInbox } from '../support/smtp-inbox.js';

const DEMO = 'Demo sign-in (development only)';
const SIGNED_IN = `You are commenting using your ${DEMO} account.`;
const PICKER = "document.querySelector('comment-thread').shadowRoot.querySelector('login-picker')";

let browser: Browser;
let server: ServerProcess;
let home: string;
/** A real SMTP server on loopback: the demo server sends guests' links here. */
let smtp: SmtpInbox | undefined;

before(async () => {
  browser = await chromium.launch({ executablePath: requireChromium(), args: chromiumArgs, headless: true });
  smtp = await startSmtpInbox();
  server = await startServerProcess({
    demo: true,
    env: {
      BLOGTALK_SMTP_URL: smtp.url,
      BLOGTALK_MAIL_FROM: 'comments@demo.example',
    },
  });
  home = `http://localhost:${server.port}/`;
});
after(async () => {
  await browser?.close();
  await server?.dispose();
  await smtp?.close();
});

/** Waits for the next email and returns the privacy link in it. */
async function nextLink(count: number): Promise<string> {
  for (let waited = 0; smtp!.inbox.length <= count; waited += 50) {
    assert.ok(waited < 10_000, 'no email came');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const link = /http:\/\/[^\s]+\/privacy\/[A-Za-z0-9_-]+\?action=(export|erase)/.exec(smtp!.inbox.at(-1)!.text)?.[0];
  assert.ok(link, smtp!.inbox.at(-1)?.text);
  return link;
}

async function signedInPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(home);
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: `Log in with ${DEMO}` }).click()]);
  await popup.getByRole('button', { name: 'Continue as Dev Reader' }).click();
  await page.getByText(SIGNED_IN).waitFor();
  return { page, problems };
}

/** axe-core on the thread (shadow roots included): the rule ids that fail. */
async function axeViolations(page: Page): Promise<string[]> {
  const source = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  return (await page.evaluate(
    "axe.run(document.querySelector('comment-thread'), { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => v.id))",
  )) as string[];
}

describe('Your data (signed in)', () => {
  it('downloads the reader’s data as a JSON file, then erases it after a confirmation and signs out', async () => {
    const { page, problems } = await signedInPage();
    const text = `Remark to erase ${Date.now()}`;
    await page.getByRole('textbox', { name: /^Comment/ }).fill(text);
    await page.getByRole('button', { name: 'Post Comment' }).click();
    await page.locator('[part~="comment"]').filter({ hasText: text }).waitFor();

    await page.getByText('Your data:').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    assert.equal(download.suggestedFilename(), 'blogtalk-personal-data.json');
    const doc = JSON.parse(await readFile((await download.path())!, 'utf8')) as {
      format: string;
      account: { name: string };
      comments: Array<{ body: string }>;
    };
    assert.equal(doc.format, 'blogtalk-personal-data');
    assert.equal(doc.account.name, 'Dev Reader');
    assert.ok(doc.comments.some((c) => c.body === text));

    // Erase asks first, in place, with focus on the safe answer; Keep changes nothing.
    const erase = page.getByRole('button', { name: 'Erase', exact: true });
    await erase.click();
    const question = page.getByRole('group', { name: /Erase your comments, likes and account\?/ });
    await question.waitFor();
    assert.equal(await erase.getAttribute('aria-expanded'), 'true');
    assert.equal(await page.evaluate(`${PICKER}.shadowRoot.activeElement?.textContent`), 'Keep');
    assert.deepEqual(await axeViolations(page), []);
    await page.keyboard.press('Enter'); // Keep
    await question.waitFor({ state: 'detached' });
    await page.getByText(SIGNED_IN).waitFor();

    await page.evaluate("window.logouts = 0; document.addEventListener('logout', () => logouts++)");
    await erase.click();
    await question.getByRole('button', { name: 'Erase everything' }).click();
    await page.getByRole('status').filter({ hasText: 'Your data is erased and you are signed out.' }).waitFor();
    await page.getByRole('button', { name: `Log in with ${DEMO}` }).waitFor();
    assert.equal(await page.getByText(SIGNED_IN).count(), 0);
    assert.equal(await page.evaluate('logouts'), 1);
    assert.deepEqual(await axeViolations(page), []);

    await page.reload();
    // The thread has loaded (the demo post's seed response is shown) before looking for the comment.
    await page.locator('[part~="comment"]').first().waitFor();
    await page.getByRole('button', { name: `Log in with ${DEMO}` }).waitFor();
    assert.equal(await page.getByText(SIGNED_IN).count(), 0, 'the session is gone');
    assert.equal(await page.getByText(text).count(), 0, 'the comment is gone');
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});

describe('Your data by email (guests)', () => {
  it('asks for a link from the picker, downloads on the confirmation page, then erases the same way', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    await page.goto(home);
    const email = `guest-${Date.now()}@example.org`;
    const text = `Guest remark ${Date.now()}`;
    await page.getByLabel(/^Name/).fill('Gwen');
    await page.getByLabel(/^Email/).fill(email);
    await page.getByRole('textbox', { name: /^Comment/ }).fill(text);
    await page.getByRole('button', { name: 'Post Comment' }).click();
    await page.locator('[part~="comment"]').filter({ hasText: text }).waitFor();

    const ask = async (action: 'Download' | 'Erase') => {
      const count = smtp!.inbox.length;
      await page.getByRole('button', { name: 'Your data by email' }).click();
      await page.getByRole('textbox', { name: 'Your email address' }).fill(email);
      if (action === 'Download') assert.deepEqual(await axeViolations(page), []);
      await page.getByRole('button', { name: action, exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'If comments were written here with that address' }).waitFor();
      return nextLink(count);
    };

    const exportLink = await ask('Download');
    const confirmation = await context.newPage();
    await confirmation.goto(exportLink);
    await confirmation.getByRole('heading', { name: 'Download your comments' }).waitFor();
    const [download] = await Promise.all([
      confirmation.waitForEvent('download'),
      confirmation.getByRole('button', { name: 'Download my comments' }).click(),
    ]);
    const doc = JSON.parse(await readFile((await download.path())!, 'utf8')) as { comments: Array<{ body: string; authorEmail: string }> };
    assert.deepEqual(doc.comments.map((c) => [c.body, c.authorEmail]), [[text, email]]);

    const eraseLink = await ask('Erase');
    await confirmation.goto(eraseLink);
    await confirmation.getByRole('button', { name: 'Erase my comments' }).click();
    await confirmation.getByRole('heading', { name: 'Your comments are erased' }).waitFor();
    await confirmation.getByText('1 removed').waitFor();

    await page.reload();
    await page.locator('[part~="comment"]').first().waitFor();
    assert.equal(await page.getByText(text).count(), 0, 'the comment is gone');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
