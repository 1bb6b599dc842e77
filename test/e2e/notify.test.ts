/**
 * End-to-end notifications: the demo server process with SMTP pointed at a loopback inbox, in
 * Chromium. A guest ticks "Notify me" and gets the confirmation email, whose page's button
 * confirms; the owner chooses their emails on /admin ("Email me"), which stick after a reload.
 * Pages are checked with axe.
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
import { startSmtpInbox, type SmtpInbox } from '../support/smtp-inbox.js';

const DEMO = 'Demo sign-in (development only)';
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let browser: Browser;
let server: ServerProcess;
let smtp: SmtpInbox;
let home: string;
before(async () => {
  smtp = await startSmtpInbox();
  browser = await chromium.launch({ executablePath: requireChromium(), args: chromiumArgs, headless: true });
  server = await startServerProcess({
    demo: true,
    env: { BLOGTALK_SMTP_URL: smtp.url, BLOGTALK_MAIL_FROM: 'Comments <comments@example.org>' },
  });
  home = `http://localhost:${server.port}/`;
});
after(async () => {
  await browser?.close();
  await server?.dispose();
  await smtp?.close();
});

async function open(url: string): Promise<Page> {
  const context = await browser.newContext({ bypassCSP: true }); // only so that axe can be injected
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

/** axe violations on the page, or in one element of it (shadow roots included). */
async function axe(page: Page, selector?: string): Promise<string[]> {
  await page.addScriptTag({ path: axeSource });
  const result = (await page.evaluate(selector ? `axe.run(document.querySelector(${JSON.stringify(selector)}))` : 'axe.run(document)')) as { violations: { id: string; help: string }[] };
  return result.violations.map((v) => `${v.id}: ${v.help}`);
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 50) {
    assert.ok(waited < 10_000, `timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('email notifications in the browser', () => {
  it('a guest ticks "Notify me", gets the confirmation email, and confirms with its page\'s button', async () => {
    const guest = await open(home);
    const box = guest.getByRole('checkbox', { name: 'Notify me of follow-up comments by email.' });
    await box.waitFor();
    assert.deepEqual(await axe(guest, 'comment-thread'), [], 'the thread (the demo page around it is not ours)');
    await guest.getByLabel(/^Name/).fill('Nora Notify');
    await guest.getByLabel(/^Email/).fill('nora@example.org');
    await guest.getByRole('textbox', { name: /^Comment/ }).fill('Tell me when someone answers.');
    await box.check();
    await guest.getByRole('button', { name: 'Post Comment' }).click();
    await guest.getByText('Your comment was posted.').first().waitFor();

    await until(() => smtp.inbox.some((mail) => mail.to === 'nora@example.org'), 'the confirmation email');
    const mail = smtp.inbox.find((m) => m.to === 'nora@example.org')!;
    const link = /https?:\/\/\S+\/api\/v1\/subscriptions\/confirm\/[A-Za-z0-9._-]+/.exec(mail.plain ?? '')?.[0];
    assert.ok(link, mail.plain ?? '');
    const page = await open(link.replace('127.0.0.1', 'localhost'));
    assert.deepEqual(await axe(page), []);
    await page.getByRole('button', { name: 'Yes, email me replies' }).click();
    await page.getByRole('heading', { name: 'Done' }).waitFor();
  });

  it('an owner chooses a daily digest and no held-comment emails on /admin, and the choice sticks', async () => {
    const owner = await open(home);
    const [popup] = await Promise.all([owner.waitForEvent('popup'), owner.getByRole('button', { name: `Log in with ${DEMO}` }).click()]);
    await popup.getByRole('button', { name: 'Continue as Dev Reader' }).click();
    await owner.getByText(`You are commenting using your ${DEMO} account.`).waitFor();
    const cli = fileURLToPath(new URL('../../server/cli.js', import.meta.url));
    const printed = await promisify(execFile)(process.execPath, [cli, 'owner-link', 'demo'], { env: { ...process.env, DATA_DIR: server.dataDir } });
    const code = /#blogtalk-owner-setup=([A-Za-z0-9_-]+)/.exec(printed.stdout)?.[1];
    assert.ok(code, printed.stdout);
    await owner.goto(`${home}admin#blogtalk-owner-setup=${code}`);
    await owner.getByRole('heading', { name: 'Email me' }).waitFor();
    assert.equal(await owner.getByRole('radio', { name: 'Each new comment' }).isChecked(), true, 'the default');
    assert.equal(await owner.getByRole('checkbox', { name: 'Each comment held for moderation' }).isChecked(), true);

    await owner.getByRole('radio', { name: 'A daily digest' }).check();
    await owner.getByRole('checkbox', { name: 'Each comment held for moderation' }).uncheck();
    await owner.getByRole('button', { name: 'Save email settings' }).click();
    await owner.getByRole('status').filter({ hasText: 'Email settings saved.' }).waitFor();
    assert.deepEqual(await axe(owner), []);

    await owner.reload();
    await owner.getByRole('heading', { name: 'Email me' }).waitFor();
    await owner.getByRole('radio', { name: 'A daily digest' }).and(owner.locator(':checked')).waitFor();
    assert.equal(await owner.getByRole('checkbox', { name: 'Each comment held for moderation' }).isChecked(), false);
  });
});
