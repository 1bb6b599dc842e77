/**
 * Reblogs across servers: a reblog on server B of a post whose blog uses server A is announced
 * by a Webmention, and A's thread ends up showing "… Reblogged this on …". Two apps and the
 * blog itself, all on loopback.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import { createGuardedFetch, type GuardedFetch } from '../../server/http/guarded-fetch.js';
import { JobRunner } from '../../server/jobs/runner.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import { discoverEndpoint, WebmentionSender } from '../../server/webmention/send.js';

const outbound = { allowLoopback: true, allowHttp: true };
const silent = { info() {}, warn() {}, error() {} } as unknown as FastifyBaseLogger;

/** A loopback HTTP server answering with `handler`; returns it and its origin. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A sender on its own store (a fresh SQLite file, or the one in `dir`) and job runner, retrying after 5 ms. */
async function queued(fetchFn: GuardedFetch, dir?: string) {
  const store = dir ? await openStore({ dataDir: dir }) : await openStore({ file: ':memory:' });
  const sender = new WebmentionSender(fetchFn, silent, store);
  const runner = new JobRunner({ store, handlers: sender.handlers(), backoffMs: () => 5 });
  sender.start(runner);
  const close = async () => {
    await runner.stop();
    await store.close();
  };
  return { sender, store, close };
}

describe('a reblog of a post on another server', () => {
  let blog: { server: Server; origin: string };
  let appA: FastifyInstance;
  let appB: FastifyInstance;
  let storeB: Store;
  let originB: string;
  let dir: string;
  let endpointA = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-reblog-wm-'));
    // The original blog: its posts advertise server A's Webmention endpoint in the HTML.
    blog = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Kerry and Lavrov</title><link rel="webmention" href="${endpointA}"><p>The talks.</p>`);
    });
    appA = await buildApp({
      store: await openStore({ file: join(dir, 'a.db') }),
      secret: 'a',
      sites: [{ id: 'peace', name: 'World Peace Forum', origin: blog.origin, allowedOrigins: [blog.origin] }],
      limits: { writesPerMinute: 1e6 },
      outbound,
    });
    endpointA = `${await appA.listen({ port: 0, host: '127.0.0.1' })}/webmention`;
    storeB = await openStore({ file: join(dir, 'b.db') });
    appB = await buildApp({
      store: storeB,
      secret: 'b',
      sites: [{ id: 'davey', name: "Davey's Blog", origin: 'https://davey.example', allowedOrigins: ['https://davey.example'] }],
      limits: { writesPerMinute: 1e6 },
      outbound,
    });
    originB = await appB.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await Promise.all([appA.close(), appB.close()]);
    blog.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is announced by a Webmention and shows on the original thread as "Reblogged this on"', async () => {
    const now = new Date();
    const user = await storeB.upsertUser(
      { issuer: 'https://idp.example', subject: 'davey', name: 'daveyone1', picture: null, website: null, email: null },
      'u-davey',
      now,
    );
    await storeB.setSiteOwner('davey', user.id, true);
    const session = randomToken();
    await storeB.createSession(hashToken(session), { userId: user.id, provider: 'test', created: now, expires: new Date(now.getTime() + 3_600_000) });

    const post = `${blog.origin}/2016/09/kerry-lavrov/`;
    const res = await fetch(`${originB}/api/v1/reblogs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://davey.example', cookie: `blogtalk_session=${session}` },
      body: JSON.stringify({ post, target: 'davey', commentary: 'Worth reading.', pageTitle: 'Kerry and Lavrov' }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const made = (await res.json()) as { url: string; id: string };
    assert.ok(made.url.startsWith(`${originB}/reblogs/davey/`));

    await appB.announcer.settled();
    await appA.webmentions.settled();
    const thread = (await (await fetch(`${endpointA.replace('/webmention', '')}/api/v1/comments?post=${encodeURIComponent(post)}`)).json()) as {
      comments: { kind: string; author: { name: string }; body: string; reblog: { blogName: string; url: string } | null }[];
    };
    assert.equal(thread.comments.length, 1);
    const [response] = thread.comments;
    assert.equal(response!.kind, 'reblog');
    assert.equal(response!.author.name, 'daveyone1');
    assert.deepEqual(response!.reblog, { blogName: "Davey's Blog", url: made.url });
    assert.equal(response!.body, 'Worth reading.');

    // Undo on B: the page is gone (410), announced again, and A removes the response.
    const { id } = made;
    const undo = await fetch(`${originB}/api/v1/reblogs/undo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://davey.example', cookie: `blogtalk_session=${session}` },
      body: JSON.stringify({ site: 'davey', id }),
    });
    assert.equal(undo.status, 200);
    await appB.announcer.settled();
    await appA.webmentions.settled();
    const after = (await (await fetch(`${endpointA.replace('/webmention', '')}/api/v1/comments?post=${encodeURIComponent(post)}`)).json()) as {
      comments: unknown[];
    };
    assert.deepEqual(after.comments, []);
  });
});

describe('sending a Webmention', () => {
  const fetch = createGuardedFetch(outbound);

  it('finds the endpoint in a Link header first, then in <link> or <a rel=webmention>, relative to the page', async () => {
    const site = await serve((req, res) => {
      if (req.url === '/header') res.setHeader('link', '<https://other.example/x>; rel="other", </wm-header?a=1>; rel="webmention"');
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(req.url === '/anchor' ? '<p><a rel="webmention" href="/wm-anchor">wm</a></p>' : req.url === '/none' ? '<p>no</p>' : '<link rel="webmention" href="wm-link">');
    });
    try {
      assert.equal(await discoverEndpoint(fetch, `${site.origin}/header`), `${site.origin}/wm-header?a=1`);
      assert.equal(await discoverEndpoint(fetch, `${site.origin}/dir/page`), `${site.origin}/dir/wm-link`);
      assert.equal(await discoverEndpoint(fetch, `${site.origin}/anchor`), `${site.origin}/wm-anchor`);
      assert.equal(await discoverEndpoint(fetch, `${site.origin}/none`), null);
    } finally {
      site.server.close();
    }
  });

  it('posts source and target form-encoded, retrying an endpoint that is down for a while', async () => {
    const received: { type: string | undefined; body: string }[] = [];
    let failures = 2;
    const site = await serve((req, res, body) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/html', link: '</webmention>; rel=webmention' });
        return res.end('<p>post</p>');
      }
      if (failures-- > 0) {
        res.writeHead(503);
        return res.end();
      }
      received.push({ type: req.headers['content-type'], body });
      res.writeHead(202);
      res.end();
    });
    try {
      const { sender, close } = await queued(fetch);
      sender.send('https://davey.example/reblogs/davey/1', `${site.origin}/post`);
      await sender.settled();
      await close();
      assert.equal(received.length, 1);
      assert.equal(received[0]!.type, 'application/x-www-form-urlencoded');
      assert.deepEqual(Object.fromEntries(new URLSearchParams(received[0]!.body)), {
        source: 'https://davey.example/reblogs/davey/1',
        target: `${site.origin}/post`,
      });
    } finally {
      site.server.close();
    }
  });

  it('keeps an announcement across a restart: queued by one process, sent by the next', async () => {
    const received: string[] = [];
    const site = await serve((req, res, body) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/html', link: '</webmention>; rel=webmention' });
        return res.end('<p>post</p>');
      }
      received.push(body);
      res.writeHead(202);
      res.end();
    });
    const dir = await mkdtemp(join(tmpdir(), 'blogtalk-wm-'));
    try {
      // The first process queues it and stops before its runner sends anything.
      const first = await openStore({ dataDir: dir });
      const stopped = new WebmentionSender(fetch, silent, first);
      stopped.send('https://davey.example/reblogs/davey/2', `${site.origin}/post`);
      await stopped.settled();
      stopped.stop();
      await first.close();
      assert.deepEqual(received, []);

      const { sender, close } = await queued(fetch, dir);
      await sender.settled();
      await close();
      assert.deepEqual(received.map((body) => new URLSearchParams(body).get('source')), ['https://davey.example/reblogs/davey/2']);
    } finally {
      site.server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to announce to a private address when loopback is not allowed', async () => {
    const hits: string[] = [];
    const site = await serve((req, res) => {
      hits.push(req.url ?? '');
      res.end();
    });
    try {
      const { sender, store, close } = await queued(createGuardedFetch({ allowHttp: true }));
      sender.send('https://davey.example/reblogs/davey/1', `${site.origin}/post`);
      await sender.settled();
      assert.deepEqual(hits, []);
      const [dead] = await store.listJobs('dead', 10);
      assert.equal(dead?.kind, 'webmention', 'tried again, then kept as dead with its error');
      assert.ok(dead.attempts > 1);
      await close();
    } finally {
      site.server.close();
    }
  });
});
