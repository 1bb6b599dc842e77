/**
 * The identity half of the `Store` contract (users, sessions, one-time codes, OAuth
 * transactions, owners, edit/delete): SQLite always, PostgreSQL when TEST_DATABASE_URL is set
 * (in a schema of its own, dropped afterwards; reported as skipped otherwise).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../server/store/index.js';
import type { NewComment, OneTimeCode, Store, UserProfile } from '../../server/store/store.js';

const NOW = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
const later = (ms: number) => new Date(NOW.getTime() + ms);
let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}`;

function profile(fields: Partial<UserProfile> = {}): UserProfile {
  return {
    issuer: 'https://idp.example',
    subject: unique('sub'),
    name: 'Ada',
    picture: null,
    website: null,
    email: 'ada@example.org',
    ...fields,
  };
}

function code(fields: Partial<OneTimeCode> = {}): OneTimeCode {
  return {
    hash: unique('hash'),
    purpose: 'handoff',
    siteId: null,
    userId: null,
    origin: 'https://blog.example',
    nonce: 'n1',
    data: null,
    expires: later(60_000),
    ...fields,
  };
}

async function freshPost(store: Store): Promise<{ siteId: string; postUrl: string }> {
  const siteId = unique('site');
  const origin = `https://${siteId}.example.org`;
  await store.putSite({ id: siteId, name: siteId, origin, allowedOrigins: [origin] });
  return { siteId, postUrl: `${origin}/post` };
}

function comment(siteId: string, postUrl: string, fields: Partial<NewComment> = {}): NewComment {
  const id = fields.id ?? unique('c');
  return {
    siteId,
    postUrl,
    postTitle: null,
    id,
    requestHash: `h-${id}`,
    parentId: null,
    kind: 'comment',
    status: 'published',
    authorName: 'Ann',
    authorEmail: 'ann@example.org',
    authorWebsite: null,
    avatar: 'aa',
    body: 'Hello',
    reblogBlogName: null,
    reblogUrl: null,
    created: NOW,
    ...fields,
  };
}

function authContract(name: string, makeStore: () => Promise<Store>, skip: string | false, cleanup?: () => Promise<void>) {
  describe(name, () => {
    let store: Store;
    const opened: Store[] = [];
    const test = (title: string, body: () => Promise<void>) => it(title, { skip }, body);
    before(async () => {
      if (skip) return;
      store = await makeStore();
      opened.push(store);
    });
    after(async () => {
      for (const s of opened) await s.close();
      if (!skip) await cleanup?.();
    });

    test('keeps one user per (issuer, subject), refreshing the profile', async () => {
      const p = profile();
      const first = await store.upsertUser(p, unique('u'), NOW);
      const again = await store.upsertUser({ ...p, name: 'Ada L.' }, unique('u'), later(1000));
      assert.equal(again.id, first.id);
      assert.equal(again.name, 'Ada L.');
      assert.deepEqual(await store.getUser(first.id), again);
      assert.deepEqual(await store.getUserByIdentity(p.issuer, p.subject), again);
    });

    test('never links two identities by their shared email address', async () => {
      const a = await store.upsertUser(profile({ email: 'same@example.org' }), unique('u'), NOW);
      const b = await store.upsertUser(
        profile({ issuer: 'https://other-idp.example', email: 'same@example.org' }),
        unique('u'),
        NOW,
      );
      assert.notEqual(a.id, b.id);
    });

    test('finds a session until it expires or is revoked', async () => {
      const user = await store.upsertUser(profile(), unique('u'), NOW);
      const hash = unique('s');
      await store.createSession(hash, { userId: user.id, provider: 'demo', created: NOW, expires: later(3600_000) });
      assert.deepEqual(await store.getSession(hash, NOW), { userId: user.id, provider: 'demo', created: NOW, expires: later(3600_000) });
      assert.equal(await store.getSession(hash, later(3600_000)), null, 'expired');
      assert.equal(await store.revokeSession(hash, NOW), true);
      assert.equal(await store.getSession(hash, NOW), null, 'revoked');
      assert.equal(await store.revokeSession(hash, NOW), false);
      assert.equal(await store.getSession(unique('nope'), NOW), null);
    });

    test('gives a one-time code to exactly one of many concurrent consumers', async () => {
      const c = code({ data: '{"x":1}' });
      await store.putOneTimeCode(c);
      const results = await Promise.all(Array.from({ length: 8 }, () => store.consumeOneTimeCode(c.hash, 'handoff', NOW)));
      const winners = results.filter((r) => r !== null);
      assert.equal(winners.length, 1);
      assert.deepEqual(winners[0], c);
      assert.equal(await store.consumeOneTimeCode(c.hash, 'handoff', NOW), null, 'a replay fails');
    });

    test('refuses an expired code or one of another purpose, and it is gone afterwards', async () => {
      const expired = code({ expires: later(1000) });
      await store.putOneTimeCode(expired);
      assert.equal(await store.consumeOneTimeCode(expired.hash, 'handoff', later(1000)), null);
      const email = code({ purpose: 'email' });
      await store.putOneTimeCode(email);
      assert.equal(await store.consumeOneTimeCode(email.hash, 'handoff', NOW), null);
      assert.equal(await store.consumeOneTimeCode(email.hash, 'email', NOW), null);
    });

    test('hands out an OAuth transaction once, and not after it expires', async () => {
      const t = {
        stateHash: unique('state'),
        provider: 'demo',
        nonce: 'oidc-nonce',
        codeVerifier: 'verifier',
        siteId: 'site',
        returnOrigin: 'https://blog.example',
        returnUrl: null,
        clientNonce: 'widget-nonce',
        data: null,
        expires: later(600_000),
      };
      await store.putAuthTransaction(t);
      assert.deepEqual(await store.takeAuthTransaction(t.stateHash, NOW), t);
      assert.equal(await store.takeAuthTransaction(t.stateHash, NOW), null);
      const old = { ...t, stateHash: unique('state') };
      await store.putAuthTransaction(old);
      assert.equal(await store.takeAuthTransaction(old.stateHash, later(600_000)), null);
    });

    test('keeps the first client registration per key', async () => {
      const key = unique('mastodon');
      const first = await store.putRegisteredClient({ key, clientId: 'a', clientSecret: 's', created: NOW });
      const second = await store.putRegisteredClient({ key, clientId: 'b', clientSecret: 't', created: NOW });
      assert.equal(first.clientId, 'a');
      assert.equal(second.clientId, 'a');
      assert.equal((await store.getRegisteredClient(key))?.clientId, 'a');
    });

    test('marks and unmarks site owners per site', async () => {
      const { siteId } = await freshPost(store);
      const user = await store.upsertUser(profile(), unique('u'), NOW);
      assert.equal(await store.isSiteOwner(siteId, user.id), false);
      await store.setSiteOwner(siteId, user.id, true);
      await store.setSiteOwner(siteId, user.id, true);
      assert.equal(await store.isSiteOwner(siteId, user.id), true);
      await store.setSiteOwner(siteId, user.id, false);
      assert.equal(await store.isSiteOwner(siteId, user.id), false);
    });

    test("stores a signed-in user's comment with the user, and a guest's edit-token hash", async () => {
      const { siteId, postUrl } = await freshPost(store);
      const user = await store.upsertUser(profile(), unique('u'), NOW);
      const picture = 'https://pictures.example/ada.png';
      const mine = await store.createComment(comment(siteId, postUrl, { userId: user.id, authorPicture: picture }), 3);
      assert.ok(mine.ok);
      assert.equal(mine.comment.userId, user.id);
      assert.equal(mine.comment.authorPicture, picture);
      assert.deepEqual(await store.getComment(siteId, mine.comment.id), mine.comment);
      const guest = await store.createComment(comment(siteId, postUrl, { editTokenHash: 'tokenhash' }), 3);
      assert.ok(guest.ok);
      const authorship = await store.getCommentAuthorship(siteId, guest.comment.id);
      assert.deepEqual(authorship, { userId: null, editTokenHash: 'tokenhash', created: NOW, deleted: false });
      assert.equal(await store.getCommentAuthorship(siteId, 'nope-nope'), null);
    });

    test("edits a comment's body and moves the post's version forward", async () => {
      const { siteId, postUrl } = await freshPost(store);
      const created = await store.createComment(comment(siteId, postUrl), 3);
      assert.ok(created.ok);
      const before = await store.threadStamp(siteId, postUrl);
      const edited = await store.editComment(siteId, created.comment.id, 'Hello, edited', later(1000));
      assert.equal(edited?.body, 'Hello, edited');
      assert.deepEqual(edited?.edited, later(1000));
      const after = await store.threadStamp(siteId, postUrl);
      assert.equal(after.total, before.total);
      assert.ok(after.version > before.version, `${after.version} > ${before.version}`);
      const page = await store.listThreads({ siteId, postUrl, pageSize: 10 });
      assert.equal(page.comments[0]?.body, 'Hello, edited');
      assert.equal(page.version, after.version);
    });

    test('deletes a comment without replies, and empties one with replies so they keep their place', async () => {
      const { siteId, postUrl } = await freshPost(store);
      const lonely = await store.createComment(comment(siteId, postUrl), 3);
      const parent = await store.createComment(comment(siteId, postUrl, { authorWebsite: 'https://ann.example' }), 3);
      assert.ok(lonely.ok && parent.ok);
      const reply = await store.createComment(comment(siteId, postUrl, { parentId: parent.comment.id }), 3);
      assert.ok(reply.ok);
      const v0 = (await store.threadStamp(siteId, postUrl)).version;

      assert.equal(await store.deleteComment(siteId, lonely.comment.id, later(1)), 'removed');
      assert.equal(await store.getComment(siteId, lonely.comment.id), null);
      const v1 = (await store.threadStamp(siteId, postUrl)).version;
      assert.ok(v1 > v0);

      assert.equal(await store.deleteComment(siteId, parent.comment.id, later(2)), 'emptied');
      const emptied = await store.getComment(siteId, parent.comment.id);
      assert.equal(emptied?.deleted, true);
      assert.equal(emptied?.body, '');
      assert.equal(emptied?.authorEmail, null);
      assert.equal(emptied?.authorWebsite, null);
      assert.ok((await store.threadStamp(siteId, postUrl)).version > v1);
      const page = await store.listThreads({ siteId, postUrl, pageSize: 10 });
      assert.deepEqual(page.comments.map((c) => c.id), [parent.comment.id, reply.comment.id]);
      assert.equal(await store.deleteComment(siteId, parent.comment.id, later(3)), null, 'already deleted');
      assert.equal(await store.editComment(siteId, parent.comment.id, 'back', later(3)), null);
    });

    test('purges expired codes, transactions and sessions', async () => {
      const user = await store.upsertUser(profile(), unique('u'), NOW);
      const c = code({ expires: later(10) });
      await store.putOneTimeCode(c);
      const hash = unique('s');
      await store.createSession(hash, { userId: user.id, provider: null, created: NOW, expires: later(10) });
      await store.purgeExpiredAuth(later(10));
      assert.equal(await store.consumeOneTimeCode(c.hash, 'handoff', NOW), null);
      assert.equal(await store.getSession(hash, NOW), null);
    });

    it('consumes a code once across two instances sharing the database', { skip }, async () => {
      const other = await makeStore();
      opened.push(other);
      const c = code();
      await store.putOneTimeCode(c);
      const [a, b] = await Promise.all([
        store.consumeOneTimeCode(c.hash, 'handoff', NOW),
        other.consumeOneTimeCode(c.hash, 'handoff', NOW),
      ]);
      assert.equal([a, b].filter((r) => r !== null).length, 1);
    });
  });
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'blogtalk-auth-store-'));
authContract('SQLite store: identity', () => openStore({ file: join(sqliteDir, 'auth.db') }), false, async () =>
  rmSync(sqliteDir, { recursive: true, force: true }),
);

const databaseUrl = process.env['TEST_DATABASE_URL'];
const schema = `bt_auth_${process.pid}_${randomBytes(4).toString('hex')}`;
authContract(
  'PostgreSQL store: identity',
  () => openStore({ databaseUrl, pgSchema: schema }),
  databaseUrl ? false : 'TEST_DATABASE_URL not set',
  async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await client.end();
    }
  },
);
