/**
 * Receiving Webmentions: a source page on loopback that reposts or replies to a post shows up
 * in its thread; forged or unreachable sources show nothing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import type { GuardedFetchOptions } from '../../server/http/guarded-fetch.js';
import { openStore } from '../../server/store/index.js';

const blog = 'https://peace.example';
const target = `${blog}/2016/09/kerry-lavrov/`;
const pages = new Map<string, string>();
let sourceServer: Server;
let origin: string;

before(async () => {
  sourceServer = createServer((req, res) => {
    const page = pages.get(req.url ?? '');
    if (req.url === '/redirect') {
      res.writeHead(302, { location: 'http://intranet.evil.example/page' });
      res.end();
      return;
    }
    if (req.url === '/huge') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<a class="u-repost-of" href="${target}">x</a>${'x'.repeat(2 * 1024 * 1024)}`);
      return;
    }
    res.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page ?? 'not here');
  });
  await new Promise<void>((done) => sourceServer.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(sourceServer.address() as AddressInfo).port}`;
});
after(() => sourceServer.close());

const reblogPage = (t: string) => `<!doctype html><html><body>
  <header class="h-card"><a class="p-name u-url" href="/">World Peace Forum</a></header>
  <article class="h-entry">
    <a class="p-author h-card" href="https://daveyone1.example/">daveyone1</a>
    Reblogged <a class="u-repost-of" href="${t}">Kerry, Lavrov</a>
    <div class="e-content"><p>Worth reading.</p></div>
    <a class="u-url" href="/reblog/1">permalink</a>
  </article></body></html>`;

async function makeApp(outbound: GuardedFetchOptions): Promise<{ app: FastifyInstance; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'blogtalk-wm-'));
  const store = await openStore({ dataDir: dir });
  const app = await buildApp({
    store,
    secret: 's',
    sites: [{ id: 'peace', name: 'Peace', origin: blog, allowedOrigins: [blog] }],
    limits: { writesPerMinute: 1e6 },
    outbound,
  });
  return { app, dir };
}

describe('receiving Webmentions', () => {
  let app: FastifyInstance;
  let dir: string;
  before(async () => ({ app, dir } = await makeApp({ allowLoopback: true, allowHttp: true, maxBytes: 256 * 1024 })));
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const send = (source: string, t = target, type = 'application/x-www-form-urlencoded') =>
    app.inject({
      method: 'POST',
      url: '/webmention',
      headers: { 'content-type': type },
      payload: type.includes('json') ? JSON.stringify({ source, target: t }) : new URLSearchParams({ source, target: t }).toString(),
    });
  const thread = async (post = target) =>
    (await app.inject(`/api/v1/comments?post=${encodeURIComponent(post)}`)).json() as {
      comments: { kind: string; body: string; author: { name: string }; reblog: { blogName: string; url: string } | null }[];
    };

  it('shows a verified repost as a reblog response: "daveyone1 … Reblogged this on World Peace Forum"', async () => {
    pages.set('/reblog/1', reblogPage(target));
    const res = await send(`${origin}/reblog/1`);
    assert.equal(res.statusCode, 202);
    await app.webmentions.settled();
    const { comments } = await thread();
    assert.equal(comments.length, 1);
    assert.equal(comments[0]!.kind, 'reblog');
    assert.equal(comments[0]!.author.name, 'daveyone1');
    assert.deepEqual(comments[0]!.reblog, { blogName: 'World Peace Forum', url: `${origin}/reblog/1` });
    assert.equal(comments[0]!.body, 'Worth reading.');
    // Sent again: still one response.
    await send(`${origin}/reblog/1`);
    await app.webmentions.settled();
    assert.equal((await thread()).comments.length, 1);
  });

  it('shows a reply from another site as a comment', async () => {
    const post = `${blog}/reply-target/`;
    pages.set('/reply', `<div class="h-entry"><a class="p-author h-card" href="https://ann.example/">Ann</a>
      <a class="u-in-reply-to" href="${post}">re</a><p class="e-content">I <b>disagree</b>.</p></div>`);
    await send(`${origin}/reply`, post);
    await app.webmentions.settled();
    const { comments } = await thread(post);
    assert.deepEqual(comments.map((c) => [c.kind, c.author.name, c.body]), [['comment', 'Ann', 'I disagree.']]);
  });

  it('counts a like from another site once', async () => {
    const post = `${blog}/liked/`;
    pages.set('/like', `<div class="h-entry"><a class="p-author h-card" href="https://bea.example/">Bea</a>
      likes <a class="u-like-of" href="${post}">this</a></div>`);
    await send(`${origin}/like`, post);
    await send(`${origin}/like`, post);
    await app.webmentions.settled();
    const likes = (await app.inject(`/api/v1/likes?post=${encodeURIComponent(post)}`)).json() as {
      count: number;
      likers: { name: string }[];
    };
    assert.equal(likes.count, 1);
    assert.deepEqual(likes.likers.map((l) => l.name), ['Bea']);
  });

  for (const [what, path, post] of [
    ['a source that does not link to the target', '/nolink', `${blog}/nolink/`],
    ['an unreachable source', '/missing', `${blog}/missing/`],
    ['a source over the size limit', '/huge', `${blog}/huge/`],
  ] as const) {
    it(`shows nothing for ${what}`, async () => {
      pages.set('/nolink', '<div class="h-entry"><p class="e-content">About something else.</p></div>');
      const res = await send(`${origin}${path}`, post);
      assert.equal(res.statusCode, 202);
      await app.webmentions.settled();
      assert.equal((await thread(post)).comments.length, 0);
    });
  }

  it('takes back a reblog and a like when their source, sent again, no longer links to the post', async () => {
    const post = `${blog}/changed-mind/`;
    pages.set('/changing', reblogPage(post));
    pages.set('/changing-like', `<div class="h-entry"><a class="p-author h-card" href="https://bea.example/">Bea</a>
      likes <a class="u-like-of" href="${post}">this</a></div>`);
    await send(`${origin}/changing`, post);
    await send(`${origin}/changing-like`, post);
    await app.webmentions.settled();
    assert.equal((await thread(post)).comments.length, 1);
    const likes = async () => ((await app.inject(`/api/v1/likes?post=${encodeURIComponent(post)}`)).json() as { count: number }).count;
    assert.equal(await likes(), 1);

    pages.set('/changing', '<article class="h-entry"><p class="e-content">On second thought, no.</p></article>');
    pages.set('/changing-like', '<div class="h-entry"><p>Nothing liked here.</p></div>');
    await send(`${origin}/changing`, post);
    await send(`${origin}/changing-like`, post);
    await app.webmentions.settled();
    assert.equal((await thread(post)).comments.length, 0);
    assert.equal(await likes(), 0);
  });

  it('refuses what is not a Webmention: JSON, bad URLs, same site, unknown target', async () => {
    assert.equal((await send(`${origin}/reblog/1`, target, 'application/json')).statusCode, 415);
    assert.equal((await send('javascript:alert(1)')).json().error.code, 'invalid_source');
    assert.equal((await send(`${blog}/other/`)).json().error.code, 'same_site');
    assert.equal((await send(`${origin}/reblog/1`, 'https://elsewhere.example/p')).json().error.code, 'unknown_target');
  });
});

describe('Webmention sources on private addresses', () => {
  it('are refused after a redirect too (a loopback source redirecting to a name that resolves to a private address)', async () => {
    const resolved: string[] = [];
    const { app, dir } = await makeApp({
      allowHttp: true,
      allowLoopback: true,
      resolve: async (hostname) => {
        resolved.push(hostname);
        return [{ address: '192.168.1.20', family: 4 }];
      },
    });
    try {
      const post = `${blog}/redirected/`;
      pages.set('/page', reblogPage(post)); // what the private address would have served
      const res = await app.inject({
        method: 'POST',
        url: '/webmention',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ source: `${origin}/redirect`, target: post }).toString(),
      });
      assert.equal(res.statusCode, 202);
      await app.webmentions.settled();
      assert.deepEqual(resolved, ['intranet.evil.example']);
      const listed = (await app.inject(`/api/v1/comments?post=${encodeURIComponent(post)}`)).json() as { total: number };
      assert.equal(listed.total, 0);
    } finally {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('are refused before connecting (a name resolving to a private address, proved with an injected resolver)', async () => {
    let resolved = '';
    const { app, dir } = await makeApp({
      allowHttp: true,
      resolve: async (hostname) => {
        resolved = hostname;
        return [{ address: '10.0.0.7', family: 4 }];
      },
    });
    try {
      const post = `${blog}/private/`;
      const res = await app.inject({
        method: 'POST',
        url: '/webmention',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ source: 'http://intranet.evil.example/page', target: post }).toString(),
      });
      assert.equal(res.statusCode, 202);
      await app.webmentions.settled();
      assert.equal(resolved, 'intranet.evil.example');
      const listed = (await app.inject(`/api/v1/comments?post=${encodeURIComponent(post)}`)).json() as { total: number };
      assert.equal(listed.total, 0);
    } finally {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
