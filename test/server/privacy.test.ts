/**
 * A commenter's own data over HTTP: signed-in export/erase (session cookie), and the guest's
 * emailed single-use link against a real SMTP server on loopback (`smtp-server`).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import { startSmtpInbox, type Mail, type SmtpInbox } from '../support/smtp-inbox.js';
import { openSse } from '../support/sse-client.js';

const blog = 'https://blog.example.org';
const PUBLIC_URL = 'https://comments.example.test';
let counter = 0;
const newPost = () => `${blog}/2016/09/privacy-${process.pid}-${++counter}/`;
const json = { 'content-type': 'application/json' };

/** Waits until `check` holds: the email is sent after the 202. */
async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    assert.ok(waited < 5000, 'timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('privacy: export and erase one’s own data', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;
  let smtp: SmtpInbox;
  let inbox: Mail[];
  let smtpUrl: string;
  let clock = Date.now();

  async function makeApp(s: Store): Promise<FastifyInstance> {
    return buildApp({
      store: s,
      secret: 'secret',
      now: () => new Date(clock),
      sites: [{ id: 'blog', name: 'The Blog', origin: blog, allowedOrigins: [blog] }],
      limits: { signInsPerMinute: 100_000, writesPerMinute: 100_000 },
      auth: { publicUrl: PUBLIC_URL, email: { smtpUrl, from: 'comments@blog.example.org' } },
    });
  }

  before(async () => {
    smtp = await startSmtpInbox();
    ({ inbox, url: smtpUrl } = smtp);
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-privacy-'));
    store = await openStore({ dataDir: dir });
    app = await makeApp(store);
  });
  after(async () => {
    await app.close();
    await smtp.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A signed-in user and their session cookie. */
  async function signIn(name: string, email: string): Promise<{ id: string; cookie: string }> {
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: `${name}-${++counter}`, name, picture: null, website: null, email },
      `u-${name}-${counter}`,
      new Date(clock),
    );
    const session = randomToken();
    await store.createSession(hashToken(session), {
      userId: user.id,
      provider: 'demo',
      created: new Date(clock),
      expires: new Date(clock + 3600_000),
    });
    return { id: user.id, cookie: `blogtalk_session=${session}` };
  }

  async function comment(post: string, body: string, who: { cookie: string } | { name: string; email: string }, parentId?: string) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: { ...json, origin: blog, 'idempotency-key': `comment-${process.pid}-${++counter}`, ...('cookie' in who ? { cookie: who.cookie } : {}) },
      payload: {
        post,
        body,
        ...(parentId ? { parent: parentId } : {}),
        ...('cookie' in who ? {} : { author: { name: who.name, email: who.email } }),
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string };
  }

  const me = (action: 'export' | 'erase', cookie: string | null, body: object = {}, origin: string | null = blog) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/me/${action}`,
      headers: { ...json, ...(origin ? { origin } : {}), ...(cookie ? { cookie } : {}) },
      payload: { site: blog, ...body },
    });

  const thread = (post: string) => app.inject({ url: `/api/v1/comments?post=${encodeURIComponent(post)}`, headers: { origin: blog } });

  it("downloads a signed-in reader's data: their comments and likes, nobody else's, never an email of another", async () => {
    const post = newPost();
    const ada = await signIn('ada', 'ada@example.org');
    const mine = await comment(post, 'Ada was here', ada);
    await comment(post, 'Guest reply', { name: 'Gus', email: 'gus@example.org' }, mine.id);
    const liked = await app.inject({
      method: 'POST',
      url: '/api/v1/likes',
      headers: { ...json, origin: blog, cookie: ada.cookie },
      payload: { post, liked: true },
    });
    assert.equal(liked.statusCode, 200, liked.body);

    const res = await me('export', ada.cookie);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-disposition']), /^attachment; filename="blogtalk-personal-data\.json"$/);
    assert.equal(res.headers['access-control-allow-origin'], blog);
    const doc = res.json() as {
      format: string;
      account: { id: string; email: string };
      comments: Array<{ id: string; body: string; post: { url: string } }>;
      likes: Array<{ post: string }>;
      sessions: Array<{ created: string }>;
    };
    assert.equal(doc.format, 'blogtalk-personal-data');
    assert.equal(doc.account.id, ada.id);
    assert.equal(doc.account.email, 'ada@example.org');
    assert.deepEqual(doc.comments.map((c) => [c.id, c.body, c.post.url]), [[mine.id, 'Ada was here', post]]);
    assert.deepEqual(doc.likes.map((l) => l.post), [post]);
    assert.equal(doc.sessions.length, 1);
    assert.ok(!res.body.includes('gus@example.org') && !res.body.includes('Guest reply'), 'nothing of another author');
    assert.ok(!res.body.includes(ada.cookie.split('=')[1]!) && !res.body.includes(hashToken(ada.cookie.split('=')[1]!)));
  });

  it('refuses the signed-in routes without a session, without an Origin, or from a page the site does not allow', async () => {
    const ada = await signIn('ada', 'ada@example.org');
    assert.equal((await me('export', null)).statusCode, 401);
    assert.equal((await me('export', 'blogtalk_session=' + randomToken())).statusCode, 401);
    assert.equal((await me('export', ada.cookie, {}, null)).statusCode, 403);
    assert.equal((await me('export', ada.cookie, {}, 'https://evil.example')).statusCode, 403);
    assert.equal((await me('erase', ada.cookie, { confirm: true }, 'https://evil.example')).statusCode, 403);
    const form = await app.inject({
      method: 'POST',
      url: '/api/v1/me/erase',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: blog, cookie: ada.cookie },
      payload: `site=${encodeURIComponent(blog)}&confirm=true`,
    });
    assert.equal(form.statusCode, 415, 'a plain form cannot erase');
    assert.ok(await store.getUser(ada.id), 'nothing erased');
  });

  it('erases a signed-in reader only with confirm: true, signs them out, and the cached thread is rebuilt', async () => {
    const post = newPost();
    const ada = await signIn('ada', 'ada@example.org');
    const lone = await comment(post, 'Lone words', ada);
    const answered = await comment(post, 'Answered words', ada);
    const reply = await comment(post, 'A reply', { name: 'Gus', email: 'gus@example.org' }, answered.id);
    const before = await thread(post);
    assert.equal(before.json().total, 3);

    assert.equal((await me('erase', ada.cookie)).statusCode, 400, 'confirm is required');
    assert.equal((await me('erase', ada.cookie, { confirm: false })).statusCode, 400);
    const res = await me('erase', ada.cookie, { confirm: true });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { erased: { removed: 1, emptied: 1, likes: 0, sessions: 1, user: true } });
    assert.match(String(res.headers['set-cookie']), /^blogtalk_session=;.*Max-Age=0/);
    assert.equal((await me('export', ada.cookie)).statusCode, 401, 'signed out');

    const afterwards = await thread(post);
    assert.notEqual(afterwards.headers.etag, before.headers.etag);
    const page = afterwards.json() as { total: number; comments: Array<{ id: string; body: string; deleted?: boolean }> };
    assert.equal(page.total, 2);
    assert.deepEqual(
      page.comments.map((c) => [c.id, c.body, c.deleted ?? false]),
      [
        [answered.id, 'This comment was deleted.', true],
        [reply.id, 'A reply', false],
      ],
    );
    assert.ok(!page.comments.some((c) => c.id === lone.id));
  });

  it('leaves the live stream consistent: no event for an erasure, and a replay shows the comment emptied', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1/events?site=${encodeURIComponent(blog)}`;
    const post = newPost();
    const ada = await signIn('ada', 'ada@example.org');
    const live = await openSse(url, { origin: blog });
    try {
      const secret = `Ada's words ${counter}`;
      const hers = await comment(post, secret, ada);
      const seen = await live.waitFor((e) => e.event === 'comment' && JSON.parse(e.data).id === hers.id);
      await comment(post, 'Gus answers', { name: 'Gus', email: 'gus@example.org' }, hers.id);
      assert.equal((await me('erase', ada.cookie, { confirm: true })).statusCode, 200);
      const after = await comment(post, 'Gus again', { name: 'Gus', email: 'gus@example.org' });
      await live.waitFor((e) => e.event === 'comment' && JSON.parse(e.data).id === after.id);
      const since = live.events.slice(live.events.indexOf(seen) + 1);
      assert.equal(since.filter((e) => e.event === 'comment').length, 2, 'the two new comments, nothing for the erasure');
      assert.ok(!since.some((e) => e.data.includes(secret)));

      // A reader who missed it all and reconnects gets the comment as it is now: emptied.
      const again = await openSse(url, { origin: blog, 'last-event-id': String(Number(seen.id) - 1) });
      try {
        const replayed = await again.waitFor((e) => e.event === 'comment' && JSON.parse(e.data).id === hers.id);
        assert.deepEqual([JSON.parse(replayed.data).body, JSON.parse(replayed.data).deleted], ['This comment was deleted.', true]);
        await again.waitFor((e) => e.event === 'comment' && JSON.parse(e.data).id === after.id);
        assert.ok(!again.events.some((e) => e.data.includes(secret) || e.data.includes('ada@example.org')));
      } finally {
        again.close();
      }
    } finally {
      live.close();
    }
  });

  /** Asks for a guest link and returns it (after the email arrives). */
  async function guestLink(email: string, action: 'export' | 'erase'): Promise<string> {
    const count = inbox.length;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/privacy/request',
      headers: { ...json, origin: blog },
      payload: { site: blog, email, action },
    });
    assert.equal(res.statusCode, 202, res.body);
    await until(() => inbox.length > count);
    const mail = inbox.at(-1)!;
    assert.equal(mail.to, email.toLowerCase());
    const link = new RegExp(`${PUBLIC_URL}/privacy/[A-Za-z0-9_-]+\\?action=${action}`).exec(mail.text)?.[0];
    assert.ok(link, mail.text);
    return link.slice(PUBLIC_URL.length);
  }

  const confirm = (path: string, action: string, headers: Record<string, string> = { origin: PUBLIC_URL }) => {
    const code = /\/privacy\/([^?]+)/.exec(path)![1]!;
    return app.inject({
      method: 'POST',
      url: path.split('?')[0]!,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: new URLSearchParams({ code, action }).toString(),
    });
  };

  it("emails a guest a link that downloads their comments once, after a plain confirmation page", async () => {
    const post = newPost();
    const email = `Gwen-${++counter}@Example.org`;
    const mine = await comment(post, 'Gwen speaks', { name: 'Gwen', email });
    await comment(post, 'Someone else', { name: 'Sam', email: 'sam@example.org' });
    const path = await guestLink(email, 'export');

    const page = await app.inject(path);
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'.*form-action 'self'/);
    assert.ok(!page.body.includes('<script'), 'no script');
    assert.match(page.body, /<form method="post">/);
    assert.match(page.body, /Download my comments/);

    const res = await confirm(path, 'export');
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-disposition']), /^attachment/);
    const doc = res.json() as { comments: Array<{ id: string; authorEmail: string }>; account: null };
    assert.deepEqual(doc.comments.map((c) => c.id), [mine.id]);
    assert.equal(doc.comments[0]!.authorEmail, email);
    assert.equal(doc.account, null);
    assert.ok(!res.body.includes('sam@example.org'));

    const again = await confirm(path, 'export');
    assert.equal(again.statusCode, 410, 'the link works once');
  });

  it('erases a guest by the link; the thread keeps others’ replies', async () => {
    const post = newPost();
    const email = `erin-${++counter}@example.org`;
    const lone = await comment(post, 'Erin alone', { name: 'Erin', email });
    const answered = await comment(post, 'Erin answered', { name: 'Erin', email });
    await comment(post, 'Reply to Erin', { name: 'Sam', email: 'sam@example.org' }, answered.id);
    const path = await guestLink(email, 'erase');
    assert.match((await app.inject(path)).body, /Erase my comments/);
    const res = await confirm(path, 'erase');
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.body, /1 removed; 1 kept/);
    const page = (await thread(post)).json() as { total: number; comments: Array<{ id: string; body: string }> };
    assert.equal(page.total, 2);
    assert.deepEqual(page.comments.map((c) => c.body), ['This comment was deleted.', 'Reply to Erin']);
    assert.equal(await store.getComment('blog', lone.id), null);
    assert.equal((await store.getComment('blog', answered.id))?.authorEmail, null);
  });

  it('refuses a confirmation posted from another origin or site, and the link still works afterwards', async () => {
    const email = `olga-${++counter}@example.org`;
    await comment(newPost(), 'Olga', { name: 'Olga', email });
    const path = await guestLink(email, 'export');
    const evil = await confirm(path, 'export', { origin: 'https://evil.example' });
    assert.equal(evil.statusCode, 403);
    assert.match(String(evil.headers['content-type']), /^text\/html/);
    assert.equal((await confirm(path, 'export', { origin: 'null' })).statusCode, 403);
    assert.equal((await confirm(path, 'export', { 'sec-fetch-site': 'cross-site' })).statusCode, 403);
    assert.equal((await confirm(path, 'export')).statusCode, 200, 'not used up by the refused posts');
  });

  it('refuses a link after 15 minutes (injected clock) and one whose action was changed', async () => {
    const email = `tim-${++counter}@example.org`;
    const mine = await comment(newPost(), 'Tim', { name: 'Tim', email });
    const late = await guestLink(email, 'erase');
    clock += 15 * 60_000 + 1000;
    const res = await confirm(late, 'erase');
    assert.equal(res.statusCode, 410);
    assert.match(res.body, /no longer works/);
    assert.ok(await store.getComment('blog', mine.id), 'nothing erased');

    const exportLink = await guestLink(email, 'export');
    assert.equal((await confirm(exportLink, 'erase')).statusCode, 410, 'an export link cannot erase');
    assert.ok(await store.getComment('blog', mine.id));
    assert.equal((await app.inject('/privacy/not-a-code!')).statusCode, 410);
  });

  it('answers the same for an address with no comments and sends it nothing (no enumeration), and mails one link a minute', async () => {
    // An app of its own: closing it waits for every email it was going to send.
    const own = await mkdtemp(join(tmpdir(), 'blogtalk-privacy-enum-'));
    const otherStore = await openStore({ dataDir: own });
    const other = await makeApp(otherStore);
    try {
      const known = `kim-${++counter}@example.org`;
      const unknown = `nobody-${counter}@example.org`;
      const res = await other.inject({
        method: 'POST',
        url: '/api/v1/comments',
        headers: { ...json, origin: blog, 'idempotency-key': `comment-${process.pid}-${++counter}` },
        payload: { post: newPost(), body: 'Kim', author: { name: 'Kim', email: known } },
      });
      assert.equal(res.statusCode, 201);
      const ask = (email: string) =>
        other.inject({
          method: 'POST',
          url: '/api/v1/privacy/request',
          headers: { ...json, origin: blog },
          payload: { site: blog, email, action: 'erase' },
        });
      const count = inbox.length;
      const [a, b, again] = [await ask(unknown), await ask(known), await ask(known)];
      assert.equal(a.statusCode, 202);
      assert.equal(b.statusCode, a.statusCode);
      assert.equal(b.body, a.body);
      assert.equal(again.body, a.body);
      await other.close();
      // Nothing to the unknown address, and one email (not two) within a minute to the known one.
      assert.deepEqual(inbox.slice(count).map((m) => m.to), [known]);
    } finally {
      await other.close();
      await rm(own, { recursive: true, force: true });
    }
  });
});
