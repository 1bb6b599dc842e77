/**
 * A newcomer on the demo (`npm start`) reblogs the demo post: the Reblog button's dialog asks
 * them to sign in (the local development provider, in a popup), then offers the second demo
 * blog that the development account owns; after Confirm the post's thread says so, and the
 * reblog page is plain HTML that links back to the post.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../support/chromium.mjs';
import { startServerProcess, type ServerProcess } from '../support/processes.js';

const LOG_IN = 'Log in with Demo sign-in (development only)';
const BLOG = "The Dev Reader's blog";
const POST = 'https://demo.blogtalk.example/2016/09/22/kerry-lavrov-try-to-work-out-next-moves-on-syria-conflict/';

let browser: Browser;
let server: ServerProcess;

before(async () => {
  browser = await chromium.launch({ executablePath: requireChromium(), args: chromiumArgs, headless: true });
  server = await startServerProcess({ demo: true });
});
after(async () => {
  await browser?.close();
  await server?.dispose();
});

describe('reblogging the demo post', () => {
  it('signs in inside the dialog, reblogs on the second demo blog, and the thread shows it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`http://localhost:${server.port}/`);
    await page.getByText('Leave a Reply').waitFor();

    await page.getByRole('button', { name: /^Reblog 1$/ }).click(); // the seed response counts
    const dialog = page.getByRole('dialog', { name: 'Reblog this post' });
    await dialog.getByText('Sign in to reblog this on your blog.').waitFor();
    const [popup] = await Promise.all([page.waitForEvent('popup'), dialog.getByRole('button', { name: LOG_IN }).click()]);
    await popup.getByRole('button', { name: 'Continue as Dev Reader' }).click();
    if (!popup.isClosed()) await popup.waitForEvent('close'); // it may be gone already

    const choice = dialog.getByRole('radio', { name: BLOG });
    await choice.waitFor();
    assert.equal(await choice.isChecked(), true);
    await dialog.getByRole('textbox', { name: 'Commentary (optional)' }).fill('Worth reading <twice>.');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').filter({ hasText: `Reblogged on ${BLOG}` }).waitFor();
    const reblogUrl = await page.getByRole('link', { name: BLOG }).getAttribute('href');
    assert.match(reblogUrl ?? '', /\/reblogs\/demo-reader\/[\w-]+$/);

    await page.reload();
    await page.getByText(`Reblogged this on ${BLOG}.`).waitFor();
    await page.getByRole('button', { name: /^Reblog 2$/ }).waitFor();

    const reblogPage = await context.newPage();
    const response = await reblogPage.goto(reblogUrl!);
    assert.match(response!.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    await reblogPage.getByText('Worth reading <twice>.').waitFor();
    const original = reblogPage.locator('.u-repost-of a');
    assert.equal(await original.getAttribute('href'), POST);
    assert.equal(await reblogPage.locator('script').count(), 0);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
