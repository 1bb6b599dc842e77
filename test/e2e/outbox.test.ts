/**
 * End-to-end: the offline outbox with the real server process and the real bundle in Chromium —
 * a comment written offline survives a reload while still offline and is posted once when the
 * connection comes back; two pages of one origin flushing at once post it once.
 * "Offline" is the comment API failing at the network (`route.abort`); the page and the bundle
 * still load, as they would from a cache.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { CommentPage } from '../../src/data/api-types.js';
import { chromiumArgs, requireChromium } from '../support/chromium.mjs';
import { startServerProcess, type ServerProcess } from '../support/processes.js';

const WAITING = 'Waiting for connection — will send automatically';
const API = '**/api/v1/comments**';

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

/** Uncaught errors fail the test; console errors from the failing network are expected. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

const offline = (page: Page) => page.route(API, (route) => route.abort('internetdisconnected'));
async function online(page: Page): Promise<void> {
  await page.unroute(API);
  await page.evaluate("dispatchEvent(new Event('online'))");
}

async function write(page: Page, text: string): Promise<void> {
  await page.getByLabel(/^Name/).fill('Train Reader');
  await page.getByLabel(/^Email/).fill('train@example.org');
  await page.getByRole('textbox', { name: /^Comment/ }).fill(text);
  await page.getByRole('button', { name: 'Post Comment' }).click();
}

/** The demo post's comments on the server, as their bodies. */
async function stored(): Promise<string[]> {
  const post = await (await fetch(`${server.url}/`)).text();
  const url = /post="([^"]+)"/.exec(post)?.[1];
  assert.ok(url, 'the demo page names its post');
  const page = (await (await fetch(`${server.url}/api/v1/comments?post=${encodeURIComponent(url)}`)).json()) as CommentPage;
  return page.comments.map((comment) => comment.body);
}

/** Shown once, and no longer waiting or sending. */
async function postedOnce(page: Page, text: string): Promise<void> {
  await page.getByText(text).waitFor();
  await page.getByText(WAITING).waitFor({ state: 'detached' });
  await page.getByText('Sending…').waitFor({ state: 'detached' });
  assert.equal(await page.getByText(text).count(), 1);
}

describe('the offline outbox, end to end (npm start)', () => {
  let context: BrowserContext;
  before(async () => {
    context = await browser.newContext();
  });
  after(async () => {
    await context?.close();
  });

  it('keeps a comment written offline through a reload while still offline, and posts it once when back online', async () => {
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(`${server.url}/`);
    await page.getByText('Leave a Reply').waitFor();
    await offline(page);
    const text = `Written on a train ${Date.now()}`;
    await write(page, text);
    await page.getByText(WAITING).waitFor();
    await page.waitForTimeout(100); // let the draft's removal reach IndexedDB

    await page.reload();
    await page.getByText(text).waitFor();
    await page.getByText(WAITING).waitFor();
    assert.equal((await stored()).filter((body) => body === text).length, 0);

    await online(page);
    await postedOnce(page, text);
    assert.equal((await stored()).filter((body) => body === text).length, 1);
    await page.reload();
    await page.getByText(text).waitFor();
    assert.equal(await page.getByText(text).count(), 1);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('posts once when two pages of the same origin flush at once, and both show it posted', async () => {
    const first = await context.newPage();
    const problems = [...watch(first)];
    await offline(first);
    await first.goto(`${server.url}/`);
    await first.getByText('Leave a Reply').waitFor();
    const text = `From two tabs ${Date.now()}`;
    await write(first, text);
    await first.getByText(WAITING).waitFor();

    const second = await context.newPage();
    problems.push(...watch(second));
    await offline(second);
    await second.goto(`${server.url}/`);
    await second.getByText(text).waitFor();

    await Promise.all([online(first), online(second)]);
    await Promise.all([postedOnce(first, text), postedOnce(second, text)]);
    assert.equal((await stored()).filter((body) => body === text).length, 1);
    assert.deepEqual(problems, []);
    await first.close();
    await second.close();
  });
});
