/**
 * End-to-end: live updates across two server processes sharing one PostgreSQL schema, with the
 * real bundle in Chromium. The page reaches instance B through a loopback front (a switchable
 * TCP proxy); comments are posted through instance A. B is killed (SIGKILL), the front moves to
 * A, and the page reconnects with Last-Event-ID and shows what was posted meanwhile — once.
 * Skipped (and reported so) without TEST_DATABASE_URL.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../support/chromium.mjs';
import { dropTestSchema, skipWithoutPostgres, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';
import { freePort, startServerProcess, type ServerProcess } from '../support/processes.js';
import { startSwitchProxy, type SwitchProxy } from '../support/switch-proxy.js';

/** A blog on its own origin embedding the widget from `server` (the front). */
async function startBlog(port: number, server: string): Promise<Server> {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Live across instances</title>
<script src="${server}/blogtalk.js" data-server="${server}" defer></script></head>
<body><h1>Live across instances</h1><comment-thread post="http://localhost:${port}/post/"></comment-thread></body></html>`;
  const blog = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((done) => blog.listen(port, 'localhost', done));
  return blog;
}

/**
 * Records the page's EventSources, so the test knows when the stream is open or down (what a
 * reader cannot see, and the test must not race).
 */
const recordSources = `(() => {
  const Native = window.EventSource;
  window.__sources = [];
  window.EventSource = class extends Native {
    constructor(...args) { super(...args); window.__sources.push(this); }
  };
})();`;
const streamState = (page: Page) =>
  page.evaluate('window.__sources.length ? window.__sources[window.__sources.length - 1].readyState : -1');
async function streamIs(page: Page, state: 'open' | 'not open'): Promise<void> {
  for (let waited = 0; ((await streamState(page)) === 1) !== (state === 'open'); waited += 50) {
    assert.ok(waited < 15_000, `the live stream never became ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('live updates across two server processes', () => {
  const schema = testSchemaName();
  let browser: Browser;
  let a: ServerProcess;
  let b: ServerProcess;
  let front: SwitchProxy;
  let blog: Server;
  let blogOrigin: string;

  // Skipped per test, not per suite, so that the skip shows in the runner's count.
  before(async () => {
    if (skipWithoutPostgres) return;
    const blogPort = await freePort();
    blogOrigin = `http://localhost:${blogPort}`;
    const env = {
      DATABASE_URL: testDatabaseUrl!,
      BLOGTALK_PG_SCHEMA: schema,
      BLOGTALK_SECRET: 'live-e2e-secret',
      BLOGTALK_SITE_ORIGIN: blogOrigin,
      BLOGTALK_WRITES_PER_MINUTE: '100000',
    };
    [a, b] = await Promise.all([startServerProcess({ env }), startServerProcess({ env })]);
    front = await startSwitchProxy(b.port);
    blog = await startBlog(blogPort, front.url);
    browser = await chromium.launch({ executablePath: requireChromium(), args: chromiumArgs, headless: true });
  });
  after(async () => {
    await browser?.close();
    await front?.close();
    await new Promise((done) => (blog ? blog.close(done) : done(undefined)));
    await Promise.all([a?.dispose(), b?.dispose()]);
    await dropTestSchema(schema);
  });

  /** Posts a comment through instance A, as another reader's browser would. */
  async function postThroughA(body: string): Promise<void> {
    const res = await fetch(`${a.url}/api/v1/comments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `e2e-live-${crypto.randomUUID()}`, origin: blogOrigin },
      body: JSON.stringify({ post: `${blogOrigin}/post/`, author: { name: 'Other Reader', email: 'other@example.org' }, body }),
    });
    assert.equal(res.status, 201, await res.text());
  }

  it('shows a comment posted through A live on a page connected to B; after B dies, reconnects to A and catches up once', { skip: skipWithoutPostgres }, async () => {
    const page = await (await browser.newContext()).newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    await page.addInitScript(recordSources);
    await page.goto(`${blogOrigin}/post/`);
    await page.getByText('No responses yet').waitFor();
    await streamIs(page, 'open');

    const first = `Posted through A ${Date.now()}`;
    await postThroughA(first);
    await page.getByRole('button', { name: 'Show 1 new response' }).click();
    await page.getByText(first).waitFor();

    front.point(null);
    await b.stop('SIGKILL');
    await streamIs(page, 'not open');
    const second = `Posted through A while the page was cut off ${Date.now()}`;
    await postThroughA(second);
    front.point(a.port);

    await page.getByRole('button', { name: 'Show 1 new response' }).click({ timeout: 30_000 });
    await page.getByText(second).waitFor();
    assert.equal(await page.getByText(first).count(), 1);
    assert.equal(await page.getByText(second).count(), 1);
    await page.getByText('2 Responses', { exact: false }).waitFor();
    assert.equal(await streamState(page), 1, 'connected again');
    assert.deepEqual(problems, []);
  });
});
