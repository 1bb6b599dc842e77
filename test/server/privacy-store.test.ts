/**
 * The privacy half of the `Store` contract (export and erase one author's data): SQLite always,
 * PostgreSQL when TEST_DATABASE_URL is set (in a schema of its own, dropped afterwards).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../server/store/index.js';
import type { NewComment, Store, StoredComment, UserProfile } from '../../server/store/store.js';
import { dropTestSchema, skipWithoutPostgres, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const NOW = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
const later = (ms: number) => new Date(NOW.getTime() + ms);
let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}`;

function profile(fields: Partial<UserProfile> = {}): UserProfile {
  return { issuer: 'https://idp.example', subject: unique('sub'), name: 'Ada', picture: null, website: null, email: 'ada@example.org', ...fields };
}

async function freshSite(store: Store): Promise<{ siteId: string; postUrl: string; origin: string }> {
  const siteId = unique('site');
  const origin = `https://${siteId}.example.org`;
  await store.putSite({ id: siteId, name: siteId, origin, allowedOrigins: [origin] });
  return { siteId, postUrl: `${origin}/post`, origin };
}

function comment(siteId: string, postUrl: string, fields: Partial<NewComment> = {}): NewComment {
  const id = fields.id ?? unique('c');
  return {
    siteId, postUrl, postTitle: 'A post', id, requestHash: `h-${id}`, parentId: null, kind: 'comment', status: 'published',
    authorName: 'Ann', authorEmail: 'ann@example.org', authorWebsite: null, avatar: 'aa', body: `Body of ${id}`,
    reblogBlogName: null, reblogUrl: null, created: later(++counter), ...fields,
  };
}

async function create(store: Store, input: NewComment): Promise<StoredComment> {
  const result = await store.createComment(input, 5);
  assert.ok(result.ok);
  return result.comment;
}

const like = (siteId: string, postUrl: string, userId: string, commentId: string | null = null) => ({
  siteId, postUrl, commentId, likerKey: `user:${userId}`, name: 'x', avatar: 'aa', picture: null, website: null, created: NOW,
});

function privacyContract(name: string, makeStore: () => Promise<Store>, skip: string | false, cleanup: () => Promise<void>) {
  describe(name, () => {
    let store: Store;
    const test = (title: string, body: () => Promise<void>) => it(title, { skip }, body);
    before(async () => {
      if (!skip) store = await makeStore();
    });
    after(async () => {
      if (skip) return;
      await store.close();
      await cleanup();
    });

    test("exports a guest's comments on one site by email, in any case, and nobody else's", async () => {
      const a = await freshSite(store);
      const b = await freshSite(store);
      const user = await store.upsertUser(profile({ email: 'ann@example.org' }), unique('u'), NOW);
      const mine = await create(store, comment(a.siteId, a.postUrl, { authorEmail: 'Ann@Example.org' }));
      const reply = await create(store, comment(a.siteId, a.postUrl, { parentId: mine.id, authorEmail: 'ann@example.org', body: 'me again' }));
      await create(store, comment(a.siteId, a.postUrl, { authorName: 'Bob', authorEmail: 'bob@example.org', parentId: mine.id }));
      await create(store, comment(b.siteId, b.postUrl, { authorEmail: 'ann@example.org' })); // another site
      // A signed-in user's comment with the same address is not the guest's: no linking by email.
      await create(store, comment(a.siteId, a.postUrl, { authorEmail: 'ann@example.org', userId: user.id }));

      const data = await store.exportAuthor({ siteId: a.siteId, email: 'ANN@example.ORG' });
      assert.deepEqual(data.comments.map((c) => c.id), [mine.id, reply.id]);
      assert.equal(data.comments[0]!.postUrl, a.postUrl);
      assert.equal(data.comments[0]!.postTitle, 'A post');
      assert.equal(data.comments[1]!.body, 'me again');
      assert.equal(data.user, null);
      assert.deepEqual(data.sessions, []);
      assert.deepEqual(data.likes, []);
      assert.ok(!JSON.stringify(data).includes('bob@example.org'));
      assert.deepEqual((await store.exportAuthor({ siteId: a.siteId, email: 'nobody@example.org' })).comments, []);
    });

    test("exports a signed-in user's profile, comments on every site, likes and session dates, never another's", async () => {
      const a = await freshSite(store);
      const b = await freshSite(store);
      const user = await store.upsertUser(profile({ name: 'Ada', email: 'ada@example.org' }), unique('u'), NOW);
      const other = await store.upsertUser(profile({ name: 'Eve', email: 'eve@example.org' }), unique('u'), NOW);
      const onA = await create(store, comment(a.siteId, a.postUrl, { userId: user.id, authorEmail: 'ada@example.org' }));
      const onB = await create(store, comment(b.siteId, b.postUrl, { userId: user.id, authorEmail: 'ada@example.org' }));
      await create(store, comment(a.siteId, a.postUrl, { userId: other.id, authorEmail: 'eve@example.org' }));
      await store.setLike(like(a.siteId, a.postUrl, user.id), true, 5);
      await store.setLike(like(a.siteId, a.postUrl, user.id, onA.id), true, 5);
      await store.setLike(like(b.siteId, b.postUrl, other.id), true, 5);
      const sessionHash = unique('session-hash');
      await store.createSession(sessionHash, { userId: user.id, provider: 'demo', created: NOW, expires: later(3600_000) });
      await store.createSession(unique('s'), { userId: other.id, provider: 'demo', created: NOW, expires: later(3600_000) });

      const data = await store.exportAuthor({ userId: user.id });
      assert.equal(data.user?.id, user.id);
      assert.equal(data.user?.name, 'Ada');
      assert.deepEqual(data.comments.map((c) => c.id), [onA.id, onB.id]);
      assert.deepEqual(
        data.likes.map((l) => [l.siteId, l.postUrl, l.commentId]).sort(),
        [[a.siteId, a.postUrl, null], [a.siteId, a.postUrl, onA.id]].sort(),
      );
      assert.deepEqual(data.sessions, [{ provider: 'demo', created: NOW, expires: later(3600_000), revoked: null }]);
      const json = JSON.stringify(data);
      assert.ok(!json.includes(sessionHash), 'no session hash');
      assert.ok(!json.includes('eve@example.org') && !json.includes(other.id), 'nothing of another user');
    });

    test('erases a guest: comments without replies removed, with replies emptied, the thread stamp moves', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const lone = await create(store, comment(siteId, postUrl));
      const answered = await create(store, comment(siteId, postUrl, { authorWebsite: 'https://ann.example' }));
      const bob = await create(store, comment(siteId, postUrl, { authorName: 'Bob', authorEmail: 'bob@example.org', parentId: answered.id }));
      const own = await create(store, comment(siteId, postUrl, { parentId: lone.id })); // her reply to herself
      const before = await store.threadStamp(siteId, postUrl);
      assert.equal(before.total, 4);

      const result = await store.eraseAuthor({ siteId, email: 'ANN@example.org' }, later(60_000));
      assert.deepEqual(result, { removed: 2, emptied: 1, likes: 0, sessions: 0, user: false });
      assert.equal(await store.getComment(siteId, lone.id), null);
      assert.equal(await store.getComment(siteId, own.id), null);
      const kept = await store.getComment(siteId, answered.id);
      assert.equal(kept?.deleted, true);
      assert.equal(kept?.body, '');
      assert.equal(kept?.authorName, '');
      assert.equal(kept?.authorEmail, null);
      assert.equal(kept?.authorWebsite, null);
      assert.equal((await store.getComment(siteId, bob.id))?.authorEmail, 'bob@example.org');
      const after = await store.threadStamp(siteId, postUrl);
      assert.equal(after.total, 2);
      assert.ok(after.version > before.version);
      assert.deepEqual((await store.exportAuthor({ siteId, email: 'ann@example.org' })).comments, []);
    });

    test('erasing moves the version even when only an emptied comment remains and the total is unchanged', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const answered = await create(store, comment(siteId, postUrl));
      await create(store, comment(siteId, postUrl, { authorEmail: 'bob@example.org', parentId: answered.id }));
      const before = await store.threadStamp(siteId, postUrl);
      await store.eraseAuthor({ siteId, email: 'ann@example.org' }, later(60_000));
      const after = await store.threadStamp(siteId, postUrl);
      assert.equal(after.total, before.total);
      assert.ok(after.version > before.version);
      const page = await store.listThreads({ siteId, postUrl, pageSize: 10 });
      assert.equal(page.comments.length, 2);
      assert.equal(page.comments[0]!.deleted, true);
    });

    test("erases a signed-in user: comments, likes, sessions, ownership and the account; others' data stays", async () => {
      const a = await freshSite(store);
      const b = await freshSite(store);
      const user = await store.upsertUser(profile(), unique('u'), NOW);
      const other = await store.upsertUser(profile({ name: 'Eve', email: 'eve@example.org' }), unique('u'), NOW);
      const answered = await create(store, comment(a.siteId, a.postUrl, { userId: user.id, authorEmail: 'ada@example.org' }));
      const eve = await create(store, comment(a.siteId, a.postUrl, { userId: other.id, parentId: answered.id }));
      const onB = await create(store, comment(b.siteId, b.postUrl, { userId: user.id }));
      await store.setLike(like(a.siteId, a.postUrl, user.id), true, 5);
      await store.setLike(like(a.siteId, a.postUrl, other.id), true, 5);
      await store.setLike(like(b.siteId, b.postUrl, other.id, onB.id), true, 5); // a like of her comment
      const session = unique('s');
      await store.createSession(session, { userId: user.id, provider: 'demo', created: NOW, expires: later(3600_000) });
      const otherSession = unique('s');
      await store.createSession(otherSession, { userId: other.id, provider: 'demo', created: NOW, expires: later(3600_000) });
      await store.setSiteOwner(a.siteId, user.id, true);
      // Their reblog of b's post on blog a, with its "Reblogged this on" response on b's thread.
      const reblog = {
        id: unique('r'), siteId: a.siteId, postUrl: b.postUrl, title: null, excerpt: null, commentary: 'Worth reading',
        userId: user.id, authorName: 'Ada', authorUrl: null, created: NOW, responseSiteId: null, responseId: null,
      };
      const response = comment(b.siteId, b.postUrl, { userId: user.id, kind: 'reblog', reblogBlogName: 'A', reblogUrl: 'https://a.example/r' });
      assert.ok((await store.createReblog(reblog, response)).ok);
      assert.deepEqual((await store.exportAuthor({ userId: user.id })).reblogs.map((r) => r.commentary), ['Worth reading']);
      const stampA = await store.threadStamp(a.siteId, a.postUrl);

      const result = await store.eraseAuthor({ userId: user.id }, later(1000));
      assert.deepEqual(result, { removed: 2, emptied: 1, likes: 1, sessions: 1, user: true });
      assert.deepEqual(await store.listReblogs(a.siteId, 10), [], 'the reblog record is gone');
      assert.equal(await store.getComment(b.siteId, response.id), null, 'and its response');
      assert.equal(await store.getUser(user.id), null);
      assert.equal(await store.getSession(session, later(2000)), null);
      assert.notEqual(await store.getSession(otherSession, later(2000)), null);
      assert.equal(await store.isSiteOwner(a.siteId, user.id), false);
      assert.equal(await store.getComment(b.siteId, onB.id), null);
      const kept = await store.getComment(a.siteId, answered.id);
      assert.equal(kept?.deleted, true);
      assert.equal(kept?.userId, undefined);
      assert.equal((await store.getComment(a.siteId, eve.id))?.userId, other.id);
      const likes = await store.likes(a.siteId, a.postUrl, null, `user:${user.id}`, 5);
      assert.deepEqual([likes.count, likes.liked], [1, false]);
      assert.equal((await store.likes(b.siteId, b.postUrl, onB.id, null, 5)).count, 0);
      assert.ok((await store.threadStamp(a.siteId, a.postUrl)).version > stampA.version);
      const data = await store.exportAuthor({ userId: user.id });
      assert.deepEqual(data, { user: null, sessions: [], comments: [], likes: [], reblogs: [], reports: [] });
      assert.deepEqual(await store.eraseAuthor({ userId: user.id }, later(2000)), {
        removed: 0, emptied: 0, likes: 0, sessions: 0, user: false,
      });
    });

    test('keeps privacy link codes (single use, with their purpose)', async () => {
      const hash = unique('code');
      await store.putOneTimeCode({
        hash, purpose: 'privacy', siteId: null, userId: null, origin: null, nonce: null, data: '{"a":1}', expires: later(900_000),
      });
      assert.equal(await store.consumeOneTimeCode(hash, 'email', NOW), null, 'another purpose');
      await store.putOneTimeCode({
        hash, purpose: 'privacy', siteId: null, userId: null, origin: null, nonce: null, data: '{"a":1}', expires: later(900_000),
      });
      assert.equal((await store.consumeOneTimeCode(hash, 'privacy', NOW))?.data, '{"a":1}');
      assert.equal(await store.consumeOneTimeCode(hash, 'privacy', NOW), null);
    });
  });
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'blogtalk-privacy-store-'));
privacyContract('SQLite store: privacy', () => openStore({ file: join(sqliteDir, 'privacy.db') }), false, async () =>
  rmSync(sqliteDir, { recursive: true, force: true }),
);

const schema = testSchemaName();
privacyContract(
  'PostgreSQL store: privacy',
  () => openStore({ databaseUrl: testDatabaseUrl, pgSchema: schema }),
  skipWithoutPostgres,
  () => dropTestSchema(schema),
);

describe('PostgreSQL: rate-limit counters (keyed by client address)', () => {
  const pgSchema = testSchemaName();
  let store: Store;
  before(async () => {
    if (!skipWithoutPostgres) store = await openStore({ databaseUrl: testDatabaseUrl, pgSchema });
  });
  after(async () => {
    if (skipWithoutPostgres) return;
    await store.close();
    await dropTestSchema(pgSchema);
  });

  it('are gone a day after their window started, at the next purge', { skip: skipWithoutPostgres }, async () => {
    const counter = store.sharedHitCounter()!;
    await counter.hit('203.0.113.7', 60_000);
    await counter.hit('203.0.113.8', 60_000);
    const client = new pg.Client({ connectionString: testDatabaseUrl });
    await client.connect();
    try {
      await client.query(`UPDATE ${pgSchema}.rate_limits SET window_start = now() - interval '25 hours' WHERE key = '203.0.113.7'`);
      await store.purgeExpiredAuth(new Date());
      const { rows } = await client.query<{ key: string }>(`SELECT key FROM ${pgSchema}.rate_limits ORDER BY key`);
      assert.deepEqual(rows.map((r) => r.key), ['203.0.113.8']);
    } finally {
      await client.end();
    }
  });
});
