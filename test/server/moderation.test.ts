/**
 * Moderation policies through the comment API: publish at once (the default), hold first-time
 * authors, hold all, hold comments with too many links, closed posts — held comments answer 201
 * `pending` and stay out of the thread, its total and the live stream. On both stores.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { CommentPage } from '../../src/data/api-types.js';
import { buildApp } from '../../server/app.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import { countLinks } from '../../server/moderation/policy.js';
import { openStore } from '../../server/store/index.js';
import type { CommentEvent, ModerationSettings, Store } from '../../server/store/store.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const blog = 'https://moderated.example';
let n = 0;
const newPost = () => `${blog}/posts/${process.pid}-${++n}/`;
const newKey = () => `mod-${process.pid}-${Date.now()}-${++n}`;

const schema = testSchemaName();
after(() => dropTestSchema(schema));

const settings = (over: Partial<ModerationSettings>): ModerationSettings => ({ policy: null, maxLinks: null, closed: false, ...over });

describe('counting links', () => {
  it('counts http(s) URLs and bare www. names, not plain words', () => {
    assert.equal(countLinks('see https://a.example/x and http://b.example, or www.c.example'), 3);
    assert.equal(countLinks('no links here, just a.b and mailto'), 0);
  });
});

for (const [name, skip, open] of [
  ['SQLite', false, (dir: string) => openStore({ dataDir: dir })],
  ['PostgreSQL', testDatabaseUrl ? false : 'TEST_DATABASE_URL not set', () => openStore({ databaseUrl: testDatabaseUrl!, pgSchema: schema })],
] as const) describe(`moderation policies on ${name}`, { skip }, () => {
  let app: FastifyInstance;
  let store: Store;
  let dir: string;
  const events: CommentEvent[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-moderation-'));
    store = await open(dir);
    app = await buildApp({
      store,
      secret: 's',
      sites: [{ id: 'mod', name: 'Moderated', origin: blog, allowedOrigins: [blog] }],
      limits: { writesPerMinute: 1e6 },
    });
    store.onComment((event) => events.push(event));
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function signedIn(name: string): Promise<{ cookie: string; userId: string }> {
    const now = new Date();
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: `${name}-${++n}`, name, picture: null, website: null, email: null },
      `u-${name}-${n}`,
      now,
    );
    const id = randomToken();
    await store.createSession(hashToken(id), { userId: user.id, provider: 'test', created: now, expires: new Date(now.getTime() + 3_600_000) });
    return { cookie: `blogtalk_session=${id}`, userId: user.id };
  }

  const write = (
    post: string,
    over: { body?: string; email?: string; cookie?: string; key?: string; honeypot?: string; writingMs?: number } = {},
  ) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: {
        'content-type': 'application/json',
        origin: blog,
        'idempotency-key': over.key ?? newKey(),
        ...(over.cookie ? { cookie: over.cookie } : {}),
      },
      payload: JSON.stringify({
        post,
        body: over.body ?? 'A fine post.',
        ...(over.cookie ? {} : { author: { name: 'Ada', email: over.email ?? `ada-${++n}@example.org` } }),
        ...(over.honeypot === undefined ? {} : { honeypot: over.honeypot }),
        ...(over.writingMs === undefined ? {} : { writingMs: over.writingMs }),
      }),
    });
  const thread = async (post: string) =>
    (await app.inject({ url: `/api/v1/comments?post=${encodeURIComponent(post)}`, headers: { origin: blog } })).json() as CommentPage;

  it('publishes at once by default, as before', async () => {
    const post = newPost();
    const res = await write(post);
    assert.equal(res.statusCode, 201);
    assert.equal(res.json().status, 'published');
    assert.equal((await thread(post)).total, 1);
  });

  it('holds every comment of a hold-all post: 201 pending, not in the thread, its total or the live stream', async () => {
    const post = newPost();
    assert.equal((await thread(post)).total, 0); // a cached empty page must not survive the change
    await store.putModerationSettings('mod', post, settings({ policy: 'hold-all' }));
    const before = events.length;
    const res = await write(post, { body: 'Hold me' });
    assert.equal(res.statusCode, 201);
    assert.equal(res.json().status, 'pending');
    const page = await thread(post);
    assert.equal(page.total, 0);
    assert.deepEqual(page.comments, []);
    const announced = events.slice(before).map((e) => e.commentId);
    for (const id of announced) assert.notEqual((await store.getComment('mod', id))?.status, 'published');
    assert.equal((await store.getComment('mod', res.json().id))?.status, 'pending');
  });

  it('the post setting overrides the site default, which applies to every other post', async () => {
    await store.putModerationSettings('mod', null, settings({ policy: 'hold-all' }));
    try {
      const held = newPost();
      assert.equal((await write(held)).json().status, 'pending');
      const open = newPost();
      await store.putModerationSettings('mod', open, settings({ policy: 'publish' }));
      assert.equal((await write(open)).json().status, 'published');
    } finally {
      await store.putModerationSettings('mod', null, settings({}));
    }
  });

  it('holds a first-time guest, then publishes the same email once one of theirs is published', async () => {
    const post = newPost();
    await store.putModerationSettings('mod', post, settings({ policy: 'hold-first-time' }));
    const email = `new-${++n}@example.org`;
    const first = await write(post, { email });
    assert.equal(first.json().status, 'pending');
    assert.equal((await write(post, { email })).json().status, 'pending', 'a held comment does not make one known');
    await store.setCommentStatus('mod', first.json().id, 'published');
    assert.equal((await write(post, { email: email.toUpperCase() })).json().status, 'published');
    assert.equal((await write(post)).json().status, 'pending', 'another email is still new');
  });

  it('holds a first-time signed-in writer by their account, whatever email they have', async () => {
    const post = newPost();
    await store.putModerationSettings('mod', post, settings({ policy: 'hold-first-time' }));
    const { cookie } = await signedIn('Grace');
    const first = await write(post, { cookie });
    assert.equal(first.json().status, 'pending');
    await store.setCommentStatus('mod', first.json().id, 'published');
    assert.equal((await write(post, { cookie })).json().status, 'published');
  });

  it('never holds a site owner', async () => {
    const post = newPost();
    await store.putModerationSettings('mod', post, settings({ policy: 'hold-all' }));
    const { cookie, userId } = await signedIn('Owner');
    await store.setSiteOwner('mod', userId, true);
    assert.equal((await write(post, { cookie })).json().status, 'published');
  });

  it('holds a comment with more links than the limit (default 2), publishes one at the limit', async () => {
    const post = newPost();
    assert.equal((await write(post, { body: 'https://a.example https://b.example' })).json().status, 'published');
    assert.equal((await write(post, { body: 'https://a.example https://b.example https://c.example' })).json().status, 'pending');
    await store.putModerationSettings('mod', post, settings({ maxLinks: 0 }));
    assert.equal((await write(post, { body: 'only https://a.example' })).json().status, 'pending');
  });

  it('refuses comments on a closed post with 403 comments_closed, and the thread says it is closed', async () => {
    const post = newPost();
    const email = `before-${++n}@example.org`;
    assert.equal((await write(post, { key: 'closed-before-1', email })).statusCode, 201);
    assert.equal((await thread(post)).closed, undefined);
    await store.putModerationSettings('mod', post, settings({ closed: true }));
    const res = await write(post);
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'comments_closed');
    assert.equal(res.json().error.message, 'Comments are closed on this post.');
    const page = await thread(post);
    assert.equal(page.closed, true);
    assert.equal(page.total, 1);
    // A retry of a comment sent before the post was closed still gets its first answer.
    const retry = await write(post, { key: 'closed-before-1', email });
    assert.equal(retry.statusCode, 201, retry.body);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    await store.putModerationSettings('mod', post, settings({ closed: false }));
    assert.equal((await write(post)).statusCode, 201);
    assert.equal((await thread(post)).closed, undefined);
  });

  it('approving a held comment puts it in the thread and announces it live', async () => {
    const post = newPost();
    await store.putModerationSettings('mod', post, settings({ policy: 'hold-all' }));
    const held = (await write(post, { body: 'Worth the wait' })).json() as { id: string };
    assert.equal((await thread(post)).total, 0);
    const before = events.length;
    const approved = await store.setCommentStatus('mod', held.id, 'published');
    assert.equal(approved?.status, 'published');
    const page = await thread(post);
    assert.equal(page.total, 1);
    assert.deepEqual(page.comments.map((c) => c.body), ['Worth the wait']);
    await new Promise((resolve) => setTimeout(resolve, 50)); // PostgreSQL: the NOTIFY round trip
    assert.ok(events.slice(before).some((e) => e.commentId === held.id));
  });

  it('keeps spam out of the thread, and lists the queue by status, post and search', async () => {
    const post = newPost();
    await store.putModerationSettings('mod', post, settings({ policy: 'hold-all' }));
    const a = (await write(post, { body: 'Buy 50% off_now' })).json() as { id: string };
    const b = (await write(post, { body: 'An honest question' })).json() as { id: string };
    const spam = await store.setCommentStatus('mod', a.id, 'spam');
    assert.equal(spam?.status, 'spam');
    assert.equal((await thread(post)).total, 0);
    const query = { siteId: 'mod', postUrl: post, search: null, limit: 10, beforeSeq: null };
    assert.deepEqual((await store.listForModeration({ ...query, status: 'spam' })).map((c) => c.id), [a.id]);
    assert.deepEqual((await store.listForModeration({ ...query, status: 'pending' })).map((c) => c.id), [b.id]);
    assert.deepEqual((await store.listForModeration({ ...query, status: null })).map((c) => c.id), [b.id, a.id]);
    // Search is literal: % and _ are not wildcards; case does not matter.
    assert.deepEqual((await store.listForModeration({ ...query, status: null, search: '50% OFF_' })).map((c) => c.id), [a.id]);
    assert.deepEqual((await store.listForModeration({ ...query, status: null, search: '5_%' })).map((c) => c.id), []);
    const newest = await store.listForModeration({ ...query, status: null, limit: 1 });
    assert.deepEqual(newest.map((c) => c.id), [b.id]);
    const next = await store.listForModeration({ ...query, status: null, beforeSeq: newest[0]!.seq });
    assert.deepEqual(next.map((c) => c.id), [a.id]);
  });

  it('keeps a comment whose hidden field was filled in as spam, telling its writer only that it awaits moderation', async () => {
    const post = newPost();
    const res = await write(post, { honeypot: 'http://cheap.example', writingMs: 60_000 });
    assert.equal(res.statusCode, 201);
    assert.equal(res.json().status, 'pending');
    assert.equal((await store.getComment('mod', res.json().id))?.status, 'spam');
    assert.equal((await thread(post)).total, 0);
    assert.equal((await write(post, { honeypot: '', writingMs: 60_000 })).json().status, 'published');
  });

  it('holds a comment written faster than the minimum (3 s by default), not refusing it', async () => {
    const post = newPost();
    const quick = await write(post, { writingMs: 2_999 });
    assert.equal(quick.statusCode, 201);
    assert.equal(quick.json().status, 'pending');
    assert.equal((await store.getComment('mod', quick.json().id))?.status, 'pending');
    assert.equal((await write(post, { writingMs: 3_000 })).json().status, 'published');
    // Other clients (imports, scripts) do not measure it: nothing is held for its absence.
    assert.equal((await write(post)).json().status, 'published');
    const bad = await write(post, { writingMs: -1 });
    assert.equal(bad.statusCode, 400);
  });

  it('does not hold an owner’s quick comment', async () => {
    const { cookie, userId } = await signedIn('Quick owner');
    await store.setSiteOwner('mod', userId, true);
    assert.equal((await write(newPost(), { cookie, writingMs: 10 })).json().status, 'published');
  });

  it('stores and reads settings for the site and for each post', async () => {
    const post = newPost();
    assert.deepEqual(await store.moderationSettings('mod', post), settings({}));
    await store.putModerationSettings('mod', post, { policy: 'hold-first-time', maxLinks: 5, closed: true });
    assert.deepEqual(await store.moderationSettings('mod', post), { policy: 'hold-first-time', maxLinks: 5, closed: true });
    assert.deepEqual(await store.moderationSettings('mod', newPost()), settings({}));
  });
});
