/**
 * End-to-end moderation: the demo server process, an owner made with the CLI's setup link,
 * the `/admin` page in Chromium. The owner holds every comment, a guest's comment waits
 * ("Your comment is awaiting moderation."), shows in the queue, is approved there, and then
 * appears in the thread on the blog page. The page is checked with axe in each state. The owner
 * also pins, edits and blocks from there: a pinned comment leads the blog's thread with a
 * "Pinned" label, and a blocked address is refused until it is unblocked.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../support/chromium.mjs';
import { startServerProcess, type ServerProcess } from '../support/processes.js';

const DEMO = 'Demo sign-in (development only)';
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

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

async function open(url: string): Promise<{ page: Page; problems: string[] }> {
  // bypassCSP only so that the test can inject axe; the page's own code runs under its policy.
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
  });
  await page.goto(url);
  return { page, problems };
}

/** axe violations on the page (shadow roots included). */
async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axeSource });
  const result = (await page.evaluate('axe.run(document)')) as { violations: { id: string; help: string }[] };
  return result.violations.map((v) => `${v.id}: ${v.help}`);
}

describe('moderating on /admin', () => {
  it('an owner holds comments, sees a guest’s held comment in the queue, approves it, and the thread shows it', async () => {
    // The owner signs in on the blog page (the demo blog is served by the comment server).
    const { page: owner, problems } = await open(home);
    const [popup] = await Promise.all([owner.waitForEvent('popup'), owner.getByRole('button', { name: `Log in with ${DEMO}` }).click()]);
    await popup.getByRole('button', { name: 'Continue as Dev Reader' }).click();
    await owner.getByText(`You are commenting using your ${DEMO} account.`).waitFor();

    // Not yet an owner: the page says so.
    await owner.goto(`${server.url.replace('127.0.0.1', 'localhost')}/admin?site=demo`);
    await owner.getByText('You are not an owner of this site.').waitFor();
    assert.equal(owner.url(), `${home}admin?site=demo`);
    // The blog they do own (the demo's second blog) is offered instead.
    assert.deepEqual(await owner.getByRole('combobox', { name: 'Blog' }).locator('option').allTextContents(), ["The Dev Reader's blog"]);
    assert.deepEqual(await axe(owner), []);

    // Made an owner the way the CLI does: `owner-link demo`, opened while signed in.
    const cli = fileURLToPath(new URL('../../server/cli.js', import.meta.url));
    const printed = await promisify(execFile)(process.execPath, [cli, 'owner-link', 'demo'], { env: { ...process.env, DATA_DIR: server.dataDir } });
    const code = /#blogtalk-owner-setup=([A-Za-z0-9_-]+)/.exec(printed.stdout)?.[1];
    assert.ok(code, printed.stdout);
    await owner.goto(`${home}admin#blogtalk-owner-setup=${code}`);
    await owner.getByText('You are now an owner of demo.').waitFor();
    await owner.getByRole('heading', { name: 'Moderation: blogtalk demo blog' }).waitFor();
    assert.equal(await owner.evaluate('location.hash'), '', 'the code leaves the address bar');
    await owner.getByText('No comments here.').waitFor();

    // Hold every comment on the site.
    await owner.getByLabel('Policy').selectOption({ label: 'Hold every comment' });
    await owner.getByRole('button', { name: 'Save settings' }).click();
    await owner.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();

    // A guest writes; the comment waits, shown to them alone.
    const { page: guest } = await open(home);
    await guest.getByLabel(/^Name/).fill('Gina Guest');
    await guest.getByLabel(/^Email/).fill('gina@example.org');
    await guest.getByRole('textbox', { name: /^Comment/ }).fill('Held until the owner looks.');
    await guest.getByRole('button', { name: 'Post Comment' }).click();
    await guest.getByText('Your comment is awaiting moderation.').first().waitFor();
    const { page: other } = await open(home);
    await other.getByText('Leave a Reply').waitFor();
    assert.equal(await other.getByText('Held until the owner looks.').count(), 0, 'no one else sees it');

    // The queue shows it; Approve, by keyboard.
    await owner.getByRole('button', { name: 'Filter' }).click();
    const cell = owner.getByRole('cell', { name: 'Held until the owner looks.' });
    await cell.waitFor();
    assert.deepEqual(await axe(owner), []);
    await owner.getByRole('button', { name: 'Approve comment by Gina Guest' }).focus();
    await owner.keyboard.press('Enter');
    await owner.getByRole('status').filter({ hasText: 'Approved 1 comment.' }).waitFor();
    await owner.getByText('No comments here.').waitFor();

    // On the blog page, for everyone.
    await other.reload();
    await other.getByText('Held until the owner looks.').waitFor();
    await other.getByText('Gina Guest').first().waitFor();
    assert.deepEqual(problems, []);
  });

  it('selects several comments and acts on them at once', async () => {
    const { page: owner } = await open(home);
    // Still signed in? A fresh context is not: sign in again (the owner is already made).
    const [popup] = await Promise.all([owner.waitForEvent('popup'), owner.getByRole('button', { name: `Log in with ${DEMO}` }).click()]);
    await popup.getByRole('button', { name: 'Continue as Dev Reader' }).click();
    await owner.getByText(`You are commenting using your ${DEMO} account.`).waitFor();
    const { page: guest } = await open(home);
    for (const text of ['Buy now one', 'Buy now two']) {
      await guest.getByLabel(/^Name/).fill('Spammer');
      await guest.getByLabel(/^Email/).fill('spam@example.org');
      await guest.getByRole('textbox', { name: /^Comment/ }).fill(text);
      await guest.getByRole('button', { name: 'Post Comment' }).click();
      await guest.getByText(text).waitFor();
    }
    await owner.goto(`${home}admin?site=demo`);
    await owner.getByRole('cell', { name: 'Buy now two' }).waitFor();
    await owner.getByRole('checkbox', { name: 'Select all' }).check();
    await owner.getByText('2 selected').waitFor();
    await owner.getByRole('button', { name: 'Spam selected' }).click();
    await owner.getByRole('status').filter({ hasText: 'Marked as spam: 2 comments.' }).waitFor();
    await owner.getByLabel('Status').selectOption({ label: 'Spam' });
    await owner.getByRole('button', { name: 'Filter' }).click();
    await owner.getByRole('cell', { name: 'Buy now one' }).waitFor();
    assert.equal(await owner.getByRole('cell', { name: /^Buy now/ }).count(), 2);
    assert.deepEqual(await axe(owner), []);
  });

  it('closes a post from /admin: the blog page says "Comments are closed." instead of the form, until opened again', async () => {
    // Dev Reader was made an owner in the first test; a fresh browser context signs in again.
    const { page: owner, problems } = await open(home);
    const [popup] = await Promise.all([owner.waitForEvent('popup'), owner.getByRole('button', { name: `Log in with ${DEMO}` }).click()]);
    await popup.getByRole('button', { name: 'Continue as Dev Reader' }).click();
    await owner.getByText(`You are commenting using your ${DEMO} account.`).waitFor();
    const post = (await owner.evaluate("document.querySelector('comment-thread').getAttribute('post')")) as string;
    await owner.goto(`${home}admin?site=demo`);
    await owner.getByLabel('Post address').fill(post);
    await owner.getByRole('button', { name: 'Filter' }).click();
    await owner.getByText('Comments on this post are open.').waitFor();
    await owner.getByRole('button', { name: 'Close comments on this post' }).click();
    await owner.getByRole('status').filter({ hasText: 'Comments on this post are closed.' }).waitFor();

    const { page: reader } = await open(home);
    await reader.getByText('Comments are closed.').waitFor();
    assert.equal(await reader.getByRole('button', { name: 'Post Comment' }).count(), 0);
    assert.equal(await reader.getByText('Leave a Reply').count(), 0);

    await owner.getByRole('button', { name: 'Open comments on this post' }).click();
    await owner.getByRole('status').filter({ hasText: 'Comments on this post are open.' }).waitFor();
    await reader.reload();
    await reader.getByText('Leave a Reply').waitFor();
    assert.equal(await reader.getByText('Comments are closed.').count(), 0);
    assert.deepEqual(problems, []);
  });

  it('a reader reports a comment on the blog page; the owner sees the count and the reason under "Reported" and dismisses it', async () => {
    const { page: reader, problems } = await open(home);
    const first = reader
      .locator('article')
      .filter({ has: reader.getByRole('button', { name: 'Report' }), hasNotText: 'Reblogged this on' })
      .first();
    const reported = reader.locator(`article#${await first.getAttribute('id')}`);
    const words = (await reported.locator('[part~="comment-body"]').innerText()).trim();
    await reported.getByRole('button', { name: 'Report' }).click();
    await reader.getByLabel('What is wrong with it? (optional)').fill('Off-topic advertising');
    await reader.getByRole('button', { name: 'Send' }).click();
    await reported.getByRole('status').filter({ hasText: 'Thanks — the blog owner will review it.' }).waitFor();

    const { page: owner } = await open(home);
    const [popup] = await Promise.all([owner.waitForEvent('popup'), owner.getByRole('button', { name: `Log in with ${DEMO}` }).click()]);
    await popup.getByRole('button', { name: 'Continue as Dev Reader' }).click();
    await owner.getByText(`You are commenting using your ${DEMO} account.`).waitFor();
    await owner.goto(`${home}admin?site=demo`);
    await owner.getByLabel('Status').selectOption({ label: 'Reported' });
    await owner.getByRole('button', { name: 'Filter' }).click();
    const row = owner.getByRole('row').filter({ hasText: words.split('\n')[0]! });
    await row.getByText('1 report', { exact: true }).waitFor();
    await row.getByRole('listitem').filter({ hasText: 'Off-topic advertising' }).waitFor();
    assert.equal(await owner.getByRole('row').count(), 2, 'the header and the one reported comment');
    assert.deepEqual(await axe(owner), []);
    await row.getByRole('button', { name: /^Dismiss reports comment by / }).click();
    await owner.getByRole('status').filter({ hasText: 'Dismissed the reports of 1 comment.' }).waitFor();
    await owner.getByText('No comments here.').waitFor();
    assert.deepEqual(problems, []);
  });

  it('pins and edits a comment, blocks an address (after confirming) and unblocks it, all from /admin', async () => {
    const { page: owner, problems } = await open(home);
    const [popup] = await Promise.all([owner.waitForEvent('popup'), owner.getByRole('button', { name: `Log in with ${DEMO}` }).click()]);
    await popup.getByRole('button', { name: 'Continue as Dev Reader' }).click();
    await owner.getByText(`You are commenting using your ${DEMO} account.`).waitFor();

    // A guest writes one comment worth pinning (held: the first test holds every comment).
    const { page: guest } = await open(home);
    await guest.getByLabel(/^Name/).fill('Pia Pinned');
    await guest.getByLabel(/^Email/).fill('pia@example.org');
    await guest.getByRole('textbox', { name: /^Comment/ }).fill('Worth reading frist.');
    await guest.getByRole('button', { name: 'Post Comment' }).click();
    await guest.getByText('Your comment is awaiting moderation.').first().waitFor();

    await owner.goto(`${home}admin?site=demo`);
    await owner.getByRole('button', { name: 'Approve comment by Pia Pinned' }).click();
    await owner.getByRole('status').filter({ hasText: 'Approved 1 comment.' }).waitFor();
    await owner.getByLabel('Status').selectOption({ label: 'Published' });
    await owner.getByRole('button', { name: 'Filter' }).click();
    const row = owner.getByRole('row').filter({ hasText: 'Pia Pinned' });
    await row.getByText(/^Address: /).waitFor();

    // Pin it, by keyboard.
    await row.getByRole('button', { name: 'Pin comment by Pia Pinned' }).focus();
    await owner.keyboard.press('Enter');
    await owner.getByRole('status').filter({ hasText: 'Pinned the comment by Pia Pinned.' }).waitFor();
    await row.getByRole('button', { name: 'Unpin comment by Pia Pinned' }).waitFor();

    // Fix its typo.
    await row.getByRole('button', { name: 'Edit comment by Pia Pinned' }).click();
    const text = owner.getByRole('textbox', { name: 'Edit the text of the comment by Pia Pinned' });
    await text.fill('Worth reading first.');
    await owner.getByRole('button', { name: 'Save', exact: true }).click();
    await owner.getByRole('status').filter({ hasText: 'Saved the comment by Pia Pinned.' }).waitFor();
    await owner.getByRole('cell', { name: /^Worth reading first\./ }).waitFor();

    // On the blog page, for everyone: first in the thread, marked "Pinned", with the new text.
    const { page: reader } = await open(home);
    const first = reader.locator('article[part~="comment"]').first();
    await first.getByText('Worth reading first.').waitFor();
    await first.getByText('Pinned', { exact: true }).waitFor();
    assert.equal(await reader.getByText('Worth reading frist.').count(), 0);
    // One thread a page (and the pinned one): it stays first when an older page is loaded above the newest.
    await reader.evaluate("document.querySelector('comment-thread').setAttribute('page-size', '1')");
    const articles = reader.locator('article[part~="comment"]');
    await reader.getByRole('button', { name: 'Older comments' }).waitFor();
    const before = await articles.count();
    await reader.getByRole('button', { name: 'Older comments' }).click();
    await reader.waitForFunction(`document.querySelector('comment-thread').shadowRoot.querySelectorAll('article').length > ${before}`);
    await first.getByText('Pinned', { exact: true }).waitFor();
    await first.getByText('Worth reading first.').waitFor();

    // Block the guest's address: asked first, then refused on the blog page.
    const address = ((await row.getByText(/^Address: /).innerText()).replace('Address: ', '')).trim();
    await row.getByRole('button', { name: 'Block address of Pia Pinned' }).click();
    const confirm = owner.getByRole('group', { name: 'Confirm' });
    await confirm.getByText(`Block the address ${address}? New comments from it will be refused.`).waitFor();
    assert.deepEqual(await axe(owner), []);
    await confirm.getByRole('button', { name: 'Block' }).click();
    await owner.getByRole('status').filter({ hasText: `Blocked the address ${address}.` }).waitFor();

    await guest.getByRole('textbox', { name: /^Comment/ }).fill('Me again.');
    await guest.getByRole('button', { name: 'Post Comment' }).click();
    await guest.getByText('Couldn’t post: You cannot comment on this site.').waitFor();

    // Unblocked from the list; the guest's kept comment goes on Retry.
    await owner.getByText('Blocked authors, emails and addresses (1)').click();
    await owner.getByRole('button', { name: `Unblock ${address}` }).click();
    await owner.getByRole('status').filter({ hasText: `Unblocked ${address}.` }).waitFor();
    await owner.getByText('Nobody is blocked.').waitFor();
    await guest.getByRole('button', { name: 'Retry' }).click();
    await guest.getByText('Your comment is awaiting moderation.').first().waitFor();
    assert.deepEqual(await axe(owner), []);
    assert.deepEqual(problems, []);
  });
});
