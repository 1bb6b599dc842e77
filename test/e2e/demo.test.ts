/**
 * End-to-end: the real server process (as `npm start` / `npm run serve` run it) and the real
 * widget bundle in Chromium, driven with playwright-core — reloads and several origins.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { CommentPage } from '../../src/data/api-types.js';
import { chromiumArgs, requireChromium } from '../support/chromium.mjs';
import { freePort, startServerProcess, type ServerProcess } from '../support/processes.js';

let browser: Browser;
before(async () => {
  browser = await chromium.launch({ executablePath: requireChromium(), args: chromiumArgs, headless: true });
});
after(async () => {
  await browser?.close();
});

/** A page whose uncaught errors and console errors fail the test. */
async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  return { page, problems };
}

async function writeComment(page: Page, name: string, email: string, text: string) {
  await page.getByLabel(/^Name/).fill(name);
  await page.getByLabel(/^Email/).fill(email);
  await page.getByRole('textbox', { name: /^Comment/ }).fill(text);
  await page.getByRole('button', { name: 'Post Comment' }).click();
}

/** A blog on its own origin that embeds the widget from the comment server. */
async function startBlog(port: number, server: string, post: string): Promise<Server> {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hello from the blog</title>
<script src="${server}/blogtalk.js" data-server="${server}" defer></script></head>
<body><h1>Hello from the blog</h1><comment-thread post="${post}"></comment-thread></body></html>`;
  const blog = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((done) => blog.listen(port, 'localhost', done));
  return blog;
}

describe('the demo (npm start)', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({ demo: true });
  });
  after(async () => {
    await server?.dispose();
  });

  it('shows the seed post with its reblog response and a composer, under a strict CSP', async () => {
    const { page, problems } = await openPage();
    const response = await page.goto(`${server.url}/`);
    assert.match(response?.headers()['content-security-policy'] ?? '', /require-trusted-types-for 'script'/);
    await page.getByText('One Response to “Kerry, Lavrov Try To Work Out Next Moves on Syria Conflict”').waitFor();
    await page.getByText('daveyone1').first().waitFor();
    await page.getByText(/Reblogged this on/).waitFor();
    await page.getByRole('link', { name: 'World Peace Forum' }).waitFor();
    await page.getByText('Leave a Reply').waitFor();
    await page.getByRole('button', { name: 'Post Comment' }).waitFor();
    await page.getByText('2 bloggers like this:').waitFor();
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('keeps a comment typed on the demo page: after a reload it shows exactly once', async () => {
    const { page, problems } = await openPage();
    await page.goto(`${server.url}/`);
    const text = `Thoughtful remark ${Date.now()}`;
    await writeComment(page, 'Reader One', 'reader@example.org', text);
    await page.getByText(text).waitFor();
    await page.getByText('2 Responses to “Kerry, Lavrov Try To Work Out Next Moves on Syria Conflict”').waitFor();
    await page.reload();
    await page.getByText('daveyone1').first().waitFor();
    await page.getByText(text).waitFor();
    assert.equal(await page.getByText(text).count(), 1);
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('stops gracefully on SIGTERM', async () => {
    const other = await startServerProcess({ demo: true });
    const code = await other.stop('SIGTERM');
    assert.equal(code, 0, other.output());
    await other.dispose();
  });
});

describe('a blog on another origin (npm run serve)', () => {
  let server: ServerProcess;
  let blog: Server;
  let stranger: Server;
  let blogPort: number;
  let strangerPort: number;
  const post = 'https://blog.e2e.test/2016/09/hello/';

  before(async () => {
    blogPort = await freePort();
    strangerPort = await freePort();
    server = await startServerProcess({
      env: {
        BLOGTALK_SITE_ORIGIN: 'https://blog.e2e.test',
        BLOGTALK_ALLOWED_ORIGINS: `http://localhost:${blogPort}`,
        BLOGTALK_SECRET: 'e2e-secret',
      },
    });
    blog = await startBlog(blogPort, server.url, post);
    stranger = await startBlog(strangerPort, server.url, post);
  });
  after(async () => {
    blog?.close();
    stranger?.close();
    await server?.dispose();
  });

  it('has no demo page or demo site in production mode', async () => {
    assert.equal((await fetch(`${server.url}/`)).status, 404);
    const demo = await fetch(
      `${server.url}/api/v1/comments?post=${encodeURIComponent('https://demo.blogtalk.example/2016/09/22/x/')}`,
    );
    assert.equal(demo.status, 404);
  });

  it('embeds from the comment server with one script tag; a comment posted shows once after a reload', async () => {
    const { page, problems } = await openPage();
    await page.goto(`http://localhost:${blogPort}/`);
    await page.getByText('No responses yet').waitFor();
    const text = `Cross-origin hello ${Date.now()}`;
    await writeComment(page, 'Grace', 'grace@example.org', text);
    await page.getByText(text).waitFor();
    // Shown at once from the outbox; the server has it once the writer is told so. (Reloading
    // before that is the outbox's own test: the comment is sent after the reload, at idle.)
    await page.getByText('Your comment was posted.').waitFor();
    await page.reload();
    await page.getByText(text).waitFor();
    assert.equal(await page.getByText(text).count(), 1);
    assert.deepEqual(problems, []);
    const listed = (await (await fetch(`${server.url}/api/v1/comments?post=${encodeURIComponent(post)}`)).json()) as CommentPage;
    assert.equal(listed.total, 1);
    assert.equal(listed.post.title, 'Hello from the blog');
    await page.context().close();
  });

  it('refuses a page on an origin the site does not allow', async () => {
    const { page } = await openPage();
    await page.goto(`http://localhost:${strangerPort}/`);
    await page.getByRole('button', { name: 'Retry' }).waitFor();
    assert.equal(await page.getByText('No responses yet').count(), 0);
    await page.context().close();
  });
});
