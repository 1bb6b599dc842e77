/**
 * End-to-end: a reblog across two blogtalk server processes, each with its own SQLite data
 * folder, all on loopback. Server 1 serves the comments of the World Peace Forum (a blog on its
 * own loopback origin, whose post advertises server 1's Webmention endpoint); server 2 runs in
 * demo mode, where the development account owns "The Dev Reader's blog". The reader signs in on
 * server 2 and, following the link a blogtalk server gives for a blog elsewhere (the blog's page
 * with `#blogtalk-reblog=<post>`), reblogs the Forum's post with the Reblog dialog that opens
 * there; server 2 makes the reblog page
 * and sends a Webmention; server 1 fetches the page (allowed to reach loopback only by the
 * test-only switch), verifies its `u-repost-of` and shows "Dev Reader Says: Reblogged this on
 * The Dev Reader's blog." in the post's `<comment-thread>` in Chromium. Undo on server 2
 * announces again; the page is then 410 Gone and server 1 removes the response. On server 2's
 * demo page, likes are live: a like on one page changes the count on another.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../support/chromium.mjs';
import { freePort, startServerProcess, type ServerProcess } from '../support/processes.js';

const LOG_IN = 'Log in with Demo sign-in (development only)';
const BLOG = "The Dev Reader's blog";
const LOOPBACK = { BLOGTALK_OUTBOUND_ALLOW_LOOPBACK: '1' };

/** The Forum's post: the widget from server 1, and server 1's Webmention endpoint (header and HTML). */
async function startBlog(port: number, server: string): Promise<Server> {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Kerry and Lavrov</title>
<link rel="webmention" href="${server}/webmention">
<script src="${server}/blogtalk.js" data-server="${server}" defer></script></head>
<body><h1>Kerry and Lavrov</h1><p>The talks.</p>
<comment-thread post="http://localhost:${port}/2016/09/kerry-lavrov/"></comment-thread></body></html>`;
  const blog = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', link: `<${server}/webmention>; rel="webmention"` });
    res.end(html);
  });
  await new Promise<void>((done) => blog.listen(port, 'localhost', done));
  return blog;
}

/** Server 1's responses to the post, as its API lists them. */
async function responses(server: ServerProcess, post: string): Promise<{ kind: string; author: { name: string } }[]> {
  const res = await fetch(`${server.url}/api/v1/comments?post=${encodeURIComponent(post)}`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { comments: { kind: string; author: { name: string } }[] }).comments;
}

/** Waits (bounded) until server 1's thread has `count` responses: verification is asynchronous. */
async function untilResponses(server: ServerProcess, post: string, count: number): Promise<void> {
  for (let waited = 0; (await responses(server, post)).length !== count; waited += 100) {
    assert.ok(waited < 15_000, `server 1 never had ${count} responses:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a reblog across two server processes', () => {
  let browser: Browser;
  let one: ServerProcess;
  let two: ServerProcess;
  let blog: Server;
  let post: string;

  before(async () => {
    const blogPort = await freePort();
    const blogOrigin = `http://localhost:${blogPort}`;
    post = `${blogOrigin}/2016/09/kerry-lavrov/`;
    [one, two] = await Promise.all([
      startServerProcess({
        env: { ...LOOPBACK, NODE_ENV: 'test', BLOGTALK_SITE_ORIGIN: blogOrigin, BLOGTALK_SITE_NAME: 'World Peace Forum', BLOGTALK_SITE_ID: 'forum' },
      }),
      startServerProcess({ demo: true, env: LOOPBACK }),
    ]);
    blog = await startBlog(blogPort, one.url);
    browser = await chromium.launch({ executablePath: requireChromium(), args: chromiumArgs, headless: true });
  });
  after(async () => {
    await browser?.close();
    blog?.closeAllConnections(); // keep-alive connections would hold close() up
    await new Promise((done) => (blog ? blog.close(done) : done(undefined)));
    await Promise.all([one?.dispose(), two?.dispose()]);
  });

  it('server 2 announces the reblog by Webmention, server 1 verifies it and shows it; Undo removes it there too', async () => {
    assert.match(one.output() + two.output(), /BLOGTALK_OUTBOUND_ALLOW_LOOPBACK=1/, 'the switch is announced at start');
    const problems: string[] = [];
    const watch = (page: Page) => page.on('pageerror', (error) => problems.push(error.message));

    // On server 2 (its demo page), the reader signs in and points the Reblog button at the Forum's post.
    const reader = await (await browser.newContext()).newPage();
    watch(reader);
    await reader.goto(`http://localhost:${two.port}/`);
    await reader.getByText('Leave a Reply').waitFor();
    await reader.getByRole('button', { name: /^Reblog/ }).click();
    const dialog = reader.getByRole('dialog', { name: 'Reblog this post' });
    const [popup] = await Promise.all([reader.waitForEvent('popup'), dialog.getByRole('button', { name: LOG_IN }).click()]);
    await popup.getByRole('button', { name: 'Continue as Dev Reader' }).click();
    if (!popup.isClosed()) await popup.waitForEvent('close');
    await dialog.getByRole('radio', { name: BLOG }).waitFor();
    await reader.keyboard.press('Escape');
    // The link the Forum's server gives for a blog that uses server 2: the blog's page with
    // #blogtalk-reblog=<post>, where the widget (from server 2) opens the dialog for the Forum's post.
    await reader.goto('about:blank');
    await reader.goto(`http://localhost:${two.port}/#blogtalk-reblog=${encodeURIComponent(post)}`);
    await dialog.getByRole('radio', { name: BLOG }).waitFor();
    assert.equal(await reader.evaluate('location.hash'), '', 'the link leaves the address bar');
    // Typing the address of a blog that uses another blogtalk server (the Forum's page loads the widget from server 1) says so.
    await dialog.getByRole('textbox', { name: /address/ }).fill(new URL(post).origin + '/');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await dialog.getByRole('alert').filter({ hasText: `uses another blogtalk server (${one.url})` }).waitFor();
    assert.equal(await dialog.getByRole('alert').getByRole('link', { name: one.url }).getAttribute('href'), `${one.url}/`);
    await dialog.getByRole('textbox', { name: /address/ }).fill('');
    await dialog.getByRole('radio', { name: BLOG }).check();
    await dialog.getByRole('textbox', { name: 'Commentary (optional)' }).fill('Worth reading.');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await reader.getByRole('status').filter({ hasText: `Reblogged on ${BLOG}` }).waitFor();

    // Server 1 verifies the Webmention; the Forum's post shows the reblog.
    await untilResponses(one, post, 1);
    const forum = await (await browser.newContext()).newPage();
    watch(forum);
    await forum.goto(post);
    const thread = forum.locator('comment-thread');
    await thread.getByText(`Reblogged this on ${BLOG}.`).waitFor();
    await thread.getByText('Dev Reader Says:').waitFor();
    await thread.getByText('Worth reading.').waitFor();
    const [made] = await responses(one, post);
    assert.equal(made!.kind, 'reblog');
    const link = await thread.getByRole('link', { name: BLOG }).getAttribute('href');
    assert.match(link ?? '', new RegExp(`^http://localhost:${two.port}/reblogs/demo-reader/[\\w-]+$`));

    // Undo on server 2: announced again, the page is gone, and server 1 removes the response.
    await reader.getByRole('button', { name: 'Undo' }).click();
    await reader.getByRole('status').filter({ hasText: `Reblogged on ${BLOG}` }).waitFor({ state: 'detached' });
    assert.equal((await fetch(link!)).status, 410);
    await untilResponses(one, post, 0);
    await forum.reload();
    await thread.getByText('No responses yet').waitFor();
    assert.equal(await thread.getByText(`Reblogged this on ${BLOG}.`).count(), 0);
    assert.deepEqual(problems, []);
  });

  it('likes are live: a like on one page updates "N bloggers like this" and a response\'s count on another within moments', async () => {
    const home = `http://localhost:${two.port}/`;
    const problems: string[] = [];
    const [liker, watcher] = [await (await browser.newContext()).newPage(), await (await browser.newContext()).newPage()];
    for (const page of [liker, watcher]) {
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(home);
    }
    const watched = watcher.locator('comment-thread');
    await watched.getByText('2 bloggers like this:').waitFor();

    const thread = liker.locator('comment-thread');
    const [popup] = await Promise.all([liker.waitForEvent('popup'), thread.getByRole('button', { name: LOG_IN }).click()]);
    await popup.getByRole('button', { name: 'Continue as Dev Reader' }).click();
    await thread.getByText('You are commenting using your Demo sign-in (development only) account.').waitFor();
    const likes = thread.locator('[part="likes"]');
    await likes.getByRole('button', { name: 'Like' }).click();
    await thread.getByText('3 bloggers like this:').waitFor();
    // The other page (not reloaded) follows, with the new liker's avatar named.
    await watched.getByText('3 bloggers like this:').waitFor();
    await watched.locator('[part="likes"]').getByTitle('Dev Reader').waitFor();

    // A response's Like count too; and an unlike takes both back.
    await thread.locator('[part="comment"]').first().getByRole('button', { name: 'Like' }).click();
    await watched.locator('[part="comment"]').first().getByRole('button', { name: 'Like 1' }).waitFor();
    await likes.getByRole('button', { name: 'Like' }).click();
    await watched.getByText('2 bloggers like this:').waitFor();
    assert.equal(await watched.locator('[part="likes"]').getByTitle('Dev Reader').count(), 0);
    assert.deepEqual(problems, []);
  });

  it('a production server refuses to start with the loopback switch on', async () => {
    await assert.rejects(
      startServerProcess({ env: { ...LOOPBACK, NODE_ENV: 'production' } }),
      /BLOGTALK_OUTBOUND_ALLOW_LOOPBACK=1 is for tests only/,
    );
  });
});
