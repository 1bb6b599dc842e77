/**
 * Reblogging on an address that is not a blog on this server: the server looks at the blog's
 * page (through the guarded outbound fetch) and says what the reader can do — their blog uses
 * another blogtalk server (its page loads the widget from there, or links `rel="blogtalk"`), or
 * it does not; either way, how to repost from their own blog by Webmention. Blog pages on loopback.
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
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import type { GuardedFetchOptions } from '../../server/http/guarded-fetch.js';
import { openStore } from '../../server/store/index.js';

const blogA = 'https://peace.example';
const post = `${blogA}/2016/09/kerry-lavrov/`;
const pages: Record<string, string> = {
  '/widget': '<!doctype html><title>Nadia</title><script src="https://cdn.other.example/blogtalk.js" data-server="https://talk.other.example" defer></script>',
  '/script': '<!doctype html><title>Ola</title><script src="https://comments.other.example/x/blogtalk.esm.js" type="module"></script>',
  '/linked': '<!doctype html><title>Pim</title><link rel="blogtalk" href="https://linked.other.example/comments/">',
  '/self': '<!doctype html><title>Here</title><script src="https://comments.example/blogtalk.js" defer></script>',
  '/plain': '<!doctype html><title>Quinn</title><p>No comments here.</p>',
};
let blogs: Server;
let origin: string;
before(async () => {
  blogs = createServer((req, res) => {
    const page = pages[req.url ?? ''];
    res.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page ?? 'not here');
  });
  await new Promise<void>((done) => blogs.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(blogs.address() as AddressInfo).port}`;
});
after(() => blogs.close());

async function started(outbound: GuardedFetchOptions) {
  const dir = await mkdtemp(join(tmpdir(), 'blogtalk-reblogs-elsewhere-'));
  const store = await openStore({ dataDir: dir });
  const app = await buildApp({
    store,
    secret: 's',
    sites: [{ id: 'peace', name: 'World Peace Forum', origin: blogA, allowedOrigins: [blogA] }],
    limits: { writesPerMinute: 1e6 },
    auth: { publicUrl: 'https://comments.example' },
    outbound,
  });
  const now = new Date();
  const user = await store.upsertUser({ issuer: 'https://idp.example', subject: 'nadia', name: 'Nadia', picture: null, website: null, email: null }, 'u-nadia', now);
  const session = randomToken();
  await store.createSession(hashToken(session), { userId: user.id, provider: 'test', created: now, expires: new Date(now.getTime() + 3_600_000) });
  const reblog = async (target: string) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/reblogs',
      headers: { 'content-type': 'application/json', origin: blogA, cookie: `blogtalk_session=${session}` },
      payload: JSON.stringify({ post, target }),
    });
    assert.equal(res.statusCode, 404);
    return res.json().error as { code: string; message: string };
  };
  return { app, dir, reblog };
}

describe('reblogging on a blog that is not on this server', () => {
  let app: FastifyInstance;
  let dir: string;
  let reblog: (target: string) => Promise<{ code: string; message: string }>;
  before(async () => ({ app, dir, reblog } = await started({ allowLoopback: true, allowHttp: true })));
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('names the other blogtalk server its page uses: data-server, the script\'s origin, or rel="blogtalk"', async () => {
    for (const [path, server] of [
      ['/widget', 'https://talk.other.example'],
      ['/script', 'https://comments.other.example'],
      ['/linked', 'https://linked.other.example'],
    ] as const) {
      const error = await reblog(`${origin}${path}`);
      assert.equal(error.code, 'blog_elsewhere', path);
      assert.ok(error.message.includes(`uses another blogtalk server (${server})`), error.message);
      // Its own page, where the widget from its server opens the Reblog dialog for the post.
      assert.ok(error.message.includes(`${origin}${path}#blogtalk-reblog=${encodeURIComponent(post)} opens the Reblog dialog there`), error.message);
      assert.ok(error.message.includes(`links to ${post} with class="u-repost-of"`), error.message);
    }
  });

  it('otherwise explains how to repost by Webmention, naming where this post\'s site receives them', async () => {
    for (const path of ['/plain', '/self', '/missing']) {
      const error = await reblog(`${origin}${path}`);
      assert.equal(error.code, 'unknown_blog', path);
      assert.match(error.message, /^There is no blog at http:\/\/127\.0\.0\.1:\d+\/\w+ on this server\. To repost from your own blog/);
      assert.ok(error.message.endsWith("This post's site receives them at https://comments.example/webmention."), error.message);
    }
  });
});

describe('looking at a blog address on a private network', () => {
  it('is refused by the guarded fetch (an injected resolver), and only the Webmention advice is given', async () => {
    const resolved: string[] = [];
    const { app, dir, reblog } = await started({
      allowHttp: true,
      resolve: async (hostname) => {
        resolved.push(hostname);
        return [{ address: '10.1.2.3', family: 4 }];
      },
    });
    try {
      const error = await reblog('http://intranet.evil.example/widget');
      assert.equal(error.code, 'unknown_blog');
      assert.deepEqual(resolved, ['intranet.evil.example']);
    } finally {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
