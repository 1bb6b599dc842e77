/**
 * The owner's moderation API: owner only, same origin only, CSRF token on every change, GETs
 * that change nothing; the queue with filters and paging; single and bulk actions; settings.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { CommentPage } from '../../src/data/api-types.js';
import { buildApp } from '../../server/app.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';

const blog = 'https://owned.example';
/** The server's own origin as `inject` reaches it (the moderation page's origin). */
const self = 'http://localhost:80';
let n = 0;
const newPost = () => `${blog}/p/${++n}/`;

describe('the moderation API (/api/v1/admin)', () => {
  let app: FastifyInstance;
  let store: Store;
  let dir: string;
  let owner: { cookie: string; csrf: string };
  let reader: { cookie: string; csrf: string };

  async function signIn(name: string, asOwner: boolean): Promise<{ cookie: string; csrf: string }> {
    const now = new Date();
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: `${name}-${++n}`, name, picture: null, website: null, email: null },
      `u-${name}-${n}`,
      now,
    );
    if (asOwner) await store.setSiteOwner('owned', user.id, true);
    const id = randomToken();
    await store.createSession(hashToken(id), { userId: user.id, provider: 'test', created: now, expires: new Date(now.getTime() + 3_600_000) });
    const cookie = `blogtalk_session=${id}`;
    const session = await app.inject({ url: '/api/v1/admin/session', headers: { cookie } });
    return { cookie, csrf: (session.json() as { csrfToken: string }).csrfToken };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-admin-'));
    store = await openStore({ dataDir: dir });
    app = await buildApp({
      store,
      secret: 's',
      sites: [
        { id: 'owned', name: 'Owned', origin: blog, allowedOrigins: [blog] },
        { id: 'else', name: 'Elsewhere', origin: 'https://else.example', allowedOrigins: ['https://else.example'] },
      ],
      limits: { writesPerMinute: 1e6 },
    });
    owner = await signIn('Olive', true);
    reader = await signIn('Rita', false);
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const admin = (who: { cookie: string; csrf: string } | null, options: InjectOptions & { body?: unknown; csrf?: string | null; origin?: string | null }) => {
    const { body, csrf, origin, ...rest } = options;
    const headers: Record<string, string> = { ...(rest.headers as Record<string, string> | undefined) };
    if (who) headers.cookie = who.cookie;
    if (origin !== null) headers.origin = origin ?? self;
    if (csrf !== null && (csrf ?? who?.csrf)) headers['x-csrf-token'] = (csrf ?? who?.csrf)!;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return app.inject({ ...rest, headers, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
  };

  async function held(post: string, body: string): Promise<string> {
    await store.putModerationSettings('owned', post, { policy: 'hold-all', maxLinks: null, closed: false });
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: { 'content-type': 'application/json', origin: blog, 'idempotency-key': `adm-${process.pid}-${++n}` },
      payload: JSON.stringify({ post, body, author: { name: 'Guest', email: 'guest@example.org' } }),
    });
    assert.equal(res.json().status, 'pending');
    return res.json().id as string;
  }
  const thread = async (post: string) =>
    (await app.inject({ url: `/api/v1/comments?post=${encodeURIComponent(post)}`, headers: { origin: blog } })).json() as CommentPage;
  const queue = async (query: string, who = owner) =>
    admin(who, { url: `/api/v1/admin/comments?site=owned${query}`, csrf: null });

  it('tells who is signed in and which sites they own; nobody gets no token', async () => {
    const mine = await admin(owner, { url: '/api/v1/admin/session' });
    assert.deepEqual(mine.json().sites, [{ id: 'owned', name: 'Owned', origin: blog }]);
    assert.match(mine.json().csrfToken, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(mine.headers['access-control-allow-origin'], undefined);
    assert.equal(mine.headers['cache-control'], 'no-store');
    assert.deepEqual((await admin(reader, { url: '/api/v1/admin/session' })).json().sites, []);
    assert.deepEqual((await admin(null, { url: '/api/v1/admin/session' })).json(), { user: null, sites: [] });
  });

  it('lists held comments to owners only: 401 signed out, 403 not_owner for a reader or another site', async () => {
    const post = newPost();
    const id = await held(post, 'Queue me');
    const res = await queue('');
    assert.equal(res.statusCode, 200);
    assert.ok((res.json().comments as { id: string }[]).some((c) => c.id === id));
    assert.equal((await admin(null, { url: '/api/v1/admin/comments?site=owned' })).statusCode, 401);
    const notOwner = await queue('', reader);
    assert.equal(notOwner.statusCode, 403);
    assert.equal(notOwner.json().error.code, 'not_owner');
    assert.equal(notOwner.json().error.message, 'You are not an owner of this site.');
    assert.equal((await admin(owner, { url: '/api/v1/admin/comments?site=else', csrf: null })).statusCode, 403);
  });

  it('refuses a page of another origin, even one the site allows, for reads and changes', async () => {
    const read = await admin(owner, { url: '/api/v1/admin/comments?site=owned', origin: blog });
    assert.equal(read.statusCode, 403);
    assert.equal(read.json().error.code, 'cross_origin');
    assert.equal(read.headers['access-control-allow-origin'], undefined);
    const id = await held(newPost(), 'Cross-site approve?');
    const write = await admin(owner, { method: 'POST', url: '/api/v1/admin/comments/actions', origin: blog, body: { site: 'owned', action: 'approve', ids: [id] } });
    assert.equal(write.statusCode, 403);
    const fetchSite = await admin(owner, {
      method: 'POST',
      url: '/api/v1/admin/comments/actions',
      headers: { 'sec-fetch-site': 'same-site' },
      body: { site: 'owned', action: 'approve', ids: [id] },
    });
    assert.equal(fetchSite.statusCode, 403);
    const noOrigin = await admin(owner, { method: 'POST', url: '/api/v1/admin/comments/actions', origin: null, body: { site: 'owned', action: 'approve', ids: [id] } });
    assert.equal(noOrigin.statusCode, 403);
    assert.equal((await store.getComment('owned', id))?.status, 'pending');
  });

  it('refuses a change without the CSRF token, with a wrong one, or with another session’s', async () => {
    const id = await held(newPost(), 'CSRF me');
    const body = { site: 'owned', action: 'approve', ids: [id] };
    for (const csrf of [null, 'x'.repeat(43), reader.csrf]) {
      const res = await admin(owner, { method: 'POST', url: '/api/v1/admin/comments/actions', body, csrf });
      assert.equal(res.statusCode, 403, String(csrf));
      assert.equal(res.json().error.code, 'csrf_invalid');
    }
    assert.equal((await store.getComment('owned', id))?.status, 'pending');
  });

  it('changes nothing on GET, whatever the query says', async () => {
    const id = await held(newPost(), 'GET me');
    const res = await admin(owner, { url: `/api/v1/admin/comments/actions?site=owned&action=approve&ids=${id}` });
    assert.equal(res.statusCode, 404);
    const settings = await admin(owner, { url: '/api/v1/admin/settings?site=owned&policy=hold-all&closed=true' });
    assert.equal(settings.json().site.policy, null);
    assert.equal((await store.getComment('owned', id))?.status, 'pending');
    assert.deepEqual(await store.moderationSettings('owned', null), { policy: null, maxLinks: null, closed: false });
  });

  it('approves one held comment into the thread', async () => {
    const post = newPost();
    const id = await held(post, 'Approve me');
    const res = await admin(owner, { method: 'POST', url: '/api/v1/admin/comments/actions', body: { site: 'owned', action: 'approve', ids: [id] } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { results: [{ id, ok: true, status: 'published' }] });
    assert.deepEqual((await thread(post)).comments.map((c) => c.body), ['Approve me']);
  });

  it('acts on many at once: spam keeps them out of sight, reject removes, unknown ids say so', async () => {
    const post = newPost();
    const a = await held(post, 'Spam one');
    const b = await held(post, 'Spam two');
    const c = await held(post, 'Reject me');
    const spam = await admin(owner, { method: 'POST', url: '/api/v1/admin/comments/actions', body: { site: 'owned', action: 'spam', ids: [a, b, 'no-such-comment'] } });
    assert.deepEqual(spam.json().results, [
      { id: a, ok: true, status: 'spam' },
      { id: b, ok: true, status: 'spam' },
      { id: 'no-such-comment', ok: false },
    ]);
    const spamQueue = (await queue(`&status=spam&post=${encodeURIComponent(post)}`)).json().comments as { id: string }[];
    assert.deepEqual(spamQueue.map((x) => x.id).sort(), [a, b].sort());
    const reject = await admin(owner, { method: 'POST', url: '/api/v1/admin/comments/actions', body: { site: 'owned', action: 'reject', ids: [c] } });
    assert.deepEqual(reject.json().results, [{ id: c, ok: true, outcome: 'removed' }]);
    assert.equal(await store.getComment('owned', c), null);
    assert.equal((await thread(post)).total, 0);
    const del = await admin(owner, { method: 'POST', url: '/api/v1/admin/comments/actions', body: { site: 'owned', action: 'delete', ids: [a] } });
    assert.deepEqual(del.json().results, [{ id: a, ok: true, outcome: 'removed' }]);
  });

  it('filters the queue by post and text, and pages it', async () => {
    const post = newPost();
    const ids = [await held(post, 'alpha one'), await held(post, 'beta two'), await held(post, 'alpha three')];
    const byText = (await queue(`&post=${encodeURIComponent(post)}&q=ALPHA`)).json().comments as { id: string }[];
    assert.deepEqual(byText.map((x) => x.id), [ids[2], ids[0]]);
    const first = (await queue(`&post=${encodeURIComponent(post)}&limit=2`)).json() as { comments: { id: string }[]; next: number };
    assert.deepEqual(first.comments.map((x) => x.id), [ids[2], ids[1]]);
    const second = (await queue(`&post=${encodeURIComponent(post)}&limit=2&before=${first.next}`)).json() as { comments: { id: string }[]; next: null };
    assert.deepEqual(second.comments.map((x) => x.id), [ids[0]]);
    assert.equal(second.next, null);
    assert.equal((await queue('&post=https://else.example/x')).statusCode, 400);
  });

  it('sets the site policy and closes and opens a post', async () => {
    const post = newPost();
    const setSite = await admin(owner, { method: 'POST', url: '/api/v1/admin/settings', body: { site: 'owned', policy: 'hold-first-time', maxLinks: 4 } });
    assert.deepEqual(setSite.json(), { policy: 'hold-first-time', maxLinks: 4, closed: false });
    const close = await admin(owner, { method: 'POST', url: '/api/v1/admin/settings', body: { site: 'owned', post, closed: true } });
    assert.deepEqual(close.json(), { policy: null, maxLinks: null, closed: true });
    const read = (await admin(owner, { url: `/api/v1/admin/settings?site=owned&post=${encodeURIComponent(post)}` })).json();
    assert.deepEqual(read.effective, { policy: 'hold-first-time', maxLinks: 4, closed: true });
    assert.equal((await thread(post)).closed, true);
    await admin(owner, { method: 'POST', url: '/api/v1/admin/settings', body: { site: 'owned', post, closed: false } });
    assert.equal((await thread(post)).closed, undefined);
    const bad = await admin(owner, { method: 'POST', url: '/api/v1/admin/settings', body: { site: 'owned', policy: 'anything' } });
    assert.equal(bad.statusCode, 400);
    await admin(owner, { method: 'POST', url: '/api/v1/admin/settings', body: { site: 'owned', policy: null, maxLinks: null } });
  });
});

describe('the /admin page', () => {
  it('is served under a strict CSP with its own script, which is not part of the widget bundle', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'blogtalk-admin-page-'));
    const store = await openStore({ dataDir: dir });
    const app = await buildApp({ store, secret: 's', distDir: resolve('dist') });
    try {
      const page = await app.inject('/admin');
      assert.equal(page.statusCode, 200);
      assert.match(page.headers['content-type'] as string, /^text\/html/);
      const csp = page.headers['content-security-policy'] as string;
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /require-trusted-types-for 'script'/);
      assert.doesNotMatch(csp, /unsafe/);
      assert.match(page.body, /<script src="\/admin\.js" defer><\/script>/);
      assert.match(page.body, /<blogtalk-moderation>/);
      const script = await app.inject('/admin.js');
      assert.equal(script.statusCode, 200);
      assert.match(script.body, /blogtalk-moderation/);
      const widget = await app.inject('/blogtalk.js');
      assert.doesNotMatch(widget.body, /blogtalk-moderation|\/api\/v1\/admin/);
    } finally {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
