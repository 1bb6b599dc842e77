/**
 * End-to-end sign-in: the demo server process (`npm start`) with its local development OpenID
 * Connect provider, the real widget bundle in Chromium, driven with playwright-core — the popup,
 * the provider's page, the hand-off by postMessage, the session cookie across a reload, log out,
 * the redirect flow when popups are blocked, and messages that must be ignored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../support/chromium.mjs';
import { startServerProcess, type ServerProcess } from '../support/processes.js';
import { startSmtpInbox, type SmtpInbox } from '../support/smtp-inbox.js';

const DEMO = 'Demo sign-in (development only)';
const LOG_IN = `Log in with ${DEMO}`;
const SIGNED_IN = `You are commenting using your ${DEMO} account.`;
/** The thread's picker, as a page expression (these tests compile without DOM types). */
const PICKER = "document.querySelector('comment-thread').shadowRoot.querySelector('login-picker')";

let browser: Browser;
let server: ServerProcess;
/** A real SMTP server on loopback: the demo server sends its sign-in links here. */
let smtp: SmtpInbox | undefined;
/** The demo page as the newcomer opens it: its public URL (http://localhost:PORT), where the provider returns. */
let home: string;

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

/** A fresh browser profile on the demo page; uncaught errors and console errors are collected. */
async function openDemo(
  options: { blockPopups?: boolean } = {},
): Promise<{ page: Page; problems: string[]; redeems: string[]; nonces: string[] }> {
  const context = await browser.newContext();
  const nonces: string[] = [];
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/v1/auth/start/')) nonces.push(url.searchParams.get('nonce') ?? '');
  });
  // A popup blocker: window.open gives null, as browsers do when they block one.
  if (options.blockPopups) await context.addInitScript('window.open = () => null;');
  const page = await context.newPage();
  const problems: string[] = [];
  const redeems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('request', (request) => {
    if (request.url().endsWith('/api/v1/auth/redeem')) redeems.push(request.postData() ?? '');
  });
  await page.goto(home);
  await page.getByText('Leave a Reply').waitFor();
  return { page, problems, redeems, nonces };
}

/** On the development provider's page: the one button that signs in as the dev account. */
async function consent(page: Page): Promise<void> {
  await page.getByRole('heading', { name: DEMO }).waitFor();
  await page.getByRole('button', { name: 'Continue as Dev Reader' }).click();
}

describe('signing in on the demo page (local development provider)', () => {
  it('offers the development provider as an icon button labelled "Log in with …", beside the guest form', async () => {
    const { page, problems } = await openDemo();
    await page.getByText('Fill in your details below or click an icon to log in:').waitFor();
    const button = page.getByRole('button', { name: LOG_IN });
    await button.waitFor();
    assert.equal(await button.getAttribute('part'), 'provider-button');
    assert.equal(await button.locator('img').getAttribute('alt'), '');
    await page.getByLabel(/^Name/).waitFor();
    // Keyboard: reachable with Tab from the comment box, with a visible focus ring.
    await page.getByRole('textbox', { name: /^Comment/ }).focus();
    const focused = `${PICKER}.shadowRoot.querySelector('[part~=provider-button]:focus-visible')`;
    for (let i = 0; i < 5 && !(await page.evaluate(`!!${focused}`)); i++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(`getComputedStyle(${focused}).outlineStyle`), 'solid');
    // Enter on it starts signing in, as a click does.
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.keyboard.press('Enter')]);
    await popup.getByRole('heading', { name: DEMO }).waitFor();
    await popup.close();
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('signs in through the popup, stays signed in after a reload, and logs out back to the picker', async () => {
    const { page, problems, redeems } = await openDemo();
    await page.evaluate("window.logins = []; document.addEventListener('login', (event) => logins.push(event.detail))");

    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: LOG_IN }).click()]);
    await page.getByRole('status').filter({ hasText: `Connecting to ${DEMO}…` }).waitFor();
    await consent(popup);
    if (!popup.isClosed()) await popup.waitForEvent('close'); // it may be gone already

    await page.getByText(SIGNED_IN).waitFor();
    await page.getByText('Dev Reader').first().waitFor();
    assert.equal(await page.getByRole('button', { name: LOG_IN }).count(), 0);
    assert.equal(await page.getByLabel(/^Name/).count(), 0, 'no guest form while signed in');
    assert.equal(redeems.length, 1);
    const logins = (await page.evaluate('logins')) as { name: string; provider: string }[];
    assert.equal(logins.length, 1);
    assert.equal(logins[0]!.name, 'Dev Reader');
    assert.equal(logins[0]!.provider, 'demo');
    // The session is an HttpOnly cookie: nothing readable by the page.
    assert.equal(await page.evaluate('document.cookie'), '');
    assert.equal(await page.evaluate(`${PICKER}.user?.name`), 'Dev Reader');

    await page.reload();
    await page.getByText(SIGNED_IN).waitFor();

    await page.getByRole('button', { name: 'Log Out' }).click();
    await page.getByRole('button', { name: LOG_IN }).waitFor();
    await page.getByLabel(/^Name/).waitFor();
    await page.reload();
    await page.getByRole('button', { name: LOG_IN }).waitFor();
    assert.equal(await page.getByText(SIGNED_IN).count(), 0, 'the server session has ended');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('posts a comment as the signed-in reader, shown under their name once after a reload', async () => {
    const { page, problems } = await openDemo();
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: LOG_IN }).click()]);
    await consent(popup);
    if (!popup.isClosed()) await popup.waitForEvent('close'); // it may be gone already
    await page.getByText(SIGNED_IN).waitFor();

    const text = `Signed-in remark ${Date.now()}`;
    await page.getByRole('textbox', { name: /^Comment/ }).fill(text);
    await page.getByRole('button', { name: 'Post Comment' }).click();
    const posted = page.locator('[part~="comment"]').filter({ hasText: text });
    await posted.waitFor();
    await posted.getByText('Dev Reader').waitFor();
    await page.reload();
    await page.getByText(text).waitFor();
    assert.equal(await page.getByText(text).count(), 1);
    assert.equal(await page.locator('[part~="comment"]').filter({ hasText: text }).getByText('Dev Reader').count(), 1);
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('Change goes back to the picker while keeping the account until another sign-in', async () => {
    const { page, problems } = await openDemo();
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: LOG_IN }).click()]);
    await consent(popup);
    await page.getByText(SIGNED_IN).waitFor();
    await page.getByRole('button', { name: 'Change' }).click();
    await page.getByRole('button', { name: LOG_IN }).waitFor();
    await page.getByLabel(/^Name/).waitFor();
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('falls back to a full-page round trip when the popup is blocked, and comes back to the post signed in', async () => {
    const { page, problems, redeems } = await openDemo({ blockPopups: true });
    await page.getByRole('button', { name: LOG_IN }).click();
    await consent(page);
    await page.waitForURL((url) => url.href.startsWith(home));
    await page.getByText(SIGNED_IN).waitFor();
    assert.equal(redeems.length, 1);
    assert.equal(new URL(page.url()).hash, '', 'the one-time code is taken out of the address');
    assert.equal(new URL(page.url()).href, home);
    await page.reload();
    await page.getByText(SIGNED_IN).waitFor();
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('emails a sign-in link that brings this browser back to the post signed in, once', async () => {
    const { page, problems, redeems } = await openDemo();
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByLabel('Your email address').fill('reader@example.org');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('status').filter({ hasText: 'Check your email' }).waitFor();
    const deadline = Date.now() + 5000;
    let mail: string | undefined;
    while (!(mail = smtp!.inbox.find((m) => m.text.includes('reader@example.org'))?.text) && Date.now() < deadline) await page.waitForTimeout(100);
    const link = /http:\/\/localhost:\d+\/api\/v1\/auth\/email\/verify\?code=[A-Za-z0-9_-]+/.exec(mail ?? '')?.[0];
    assert.ok(link, mail);
    await page.goto(link);
    await page.waitForURL(home);
    await page.getByText('You are commenting using your Email account.').waitFor();
    assert.equal(redeems.length, 1);
    assert.deepEqual(problems, []);
    // The link is single use (its page answers 400).
    await page.goto(link);
    await page.getByText(/expired or was already used/).waitFor();
    await page.context().close();
  });

  it('ignores hand-off messages from another window or another origin, even with the right nonce', async () => {
    const { page, problems, redeems, nonces } = await openDemo();
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: LOG_IN }).click()]);
    await popup.getByRole('heading', { name: DEMO }).waitFor();
    // The widget's nonce, as it went out in the start URL: the forger gets the best case.
    assert.equal(nonces.length, 1);
    const message = { type: 'blogtalk-login', code: 'A'.repeat(43), nonce: nonces[0] };
    assert.match(message.nonce!, /^[A-Za-z0-9_-]{16,128}$/);
    // 1. From the page itself: the server's origin (the demo page is served there), but not the popup window.
    await page.evaluate(`window.postMessage(${JSON.stringify(message)}, '*')`);
    // 2. From the popup window, but while it shows the provider: another origin than the server's.
    await popup.evaluate(`window.opener.postMessage(${JSON.stringify(message)}, '*')`);
    // 3. A wrong nonce from the right window and origin cannot be tried here without a real code; the
    //    server-side suite covers it (nonce_mismatch).
    await page.waitForTimeout(800);
    assert.deepEqual(redeems, [], 'no forged code was redeemed');
    assert.equal(await page.getByText(SIGNED_IN).count(), 0);
    await page.getByRole('status').filter({ hasText: `Connecting to ${DEMO}…` }).waitFor();
    // Closing the popup ends the wait: the picker is back, nothing signed in.
    await popup.close();
    await page.getByText(`Connecting to ${DEMO}…`).waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: LOG_IN }).waitFor();
    assert.equal(await page.getByText(SIGNED_IN).count(), 0);
    // A popup closed without a message may have been cut off by COOP: the widget tries once with
    // the secret its nonce is the hash of (refused here: nobody signed in), never the forged code.
    assert.equal(redeems.length, 1);
    assert.notEqual((JSON.parse(redeems[0]!) as { code: string }).code, message.code);
    assert.deepEqual(problems.filter((p) => !/status of 400/.test(p)), []);
    await page.context().close();
  });
});
