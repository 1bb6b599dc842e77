/**
 * The notifications store contract (`NotifyStore`), on SQLite and, with TEST_DATABASE_URL, on
 * PostgreSQL: double opt-in subscriptions (single use, expiring), owners' choices, the digest's
 * comments, and subscriptions in a reader's export and erasure.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../server/store/index.js';
import type { NewComment, Store } from '../../server/store/store.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const schema = testSchemaName();
after(() => dropTestSchema(schema));
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000);
let n = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++n}`;

for (const [name, skip, open] of [
  ['SQLite', false, (dir: string) => openStore({ dataDir: dir })],
  ['PostgreSQL', testDatabaseUrl ? false : 'TEST_DATABASE_URL not set', () => openStore({ databaseUrl: testDatabaseUrl!, pgSchema: schema })],
] as const) describe(`notify store contract (${name})`, { skip }, () => {
  let store: Store;
  let dir: string;
  let siteId: string;
  const post = () => `https://${siteId}.example/p/1`;

  function comment(fields: Partial<NewComment> = {}): NewComment {
    const id = fields.id ?? unique('c');
    return {
      siteId, postUrl: post(), postTitle: 'A post', id, requestHash: `h-${id}`, parentId: null, kind: 'comment',
      status: 'published', authorName: 'Ann', authorEmail: 'ann@example.org', authorWebsite: null, avatar: 'ab',
      body: 'Hello', reblogBlogName: null, reblogUrl: null, created: at(0), ...fields,
    };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-notify-store-'));
    store = await open(dir);
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  it('registers a site', async () => {
    siteId = unique('site');
    await store.putSite({ id: siteId, name: 'Blog', origin: `https://${siteId}.example`, allowedOrigins: [] });
  });

  it('activates a subscription once, by its unexpired confirmation hash only', async () => {
    const id = unique('sub');
    await store.createSubscription({
      id, siteId, commentId: 'c1', email: 'Ann@Example.org', userId: null, confirmHash: `hash-${id}`, confirmExpires: at(60), created: at(0),
    });
    assert.equal((await store.getSubscription(id))!.active, false);
    assert.deepEqual(await store.replySubscriptions(siteId, 'c1'), [], 'not before it is confirmed');
    assert.equal(await store.confirmSubscription('some-other-hash', at(1)), null);
    const confirmed = await store.confirmSubscription(`hash-${id}`, at(1));
    assert.deepEqual(confirmed, { id, siteId, commentId: 'c1', email: 'Ann@Example.org', userId: null, active: true, created: at(0) });
    assert.equal(await store.confirmSubscription(`hash-${id}`, at(2)), null, 'single use');
    assert.deepEqual((await store.replySubscriptions(siteId, 'c1')).map((s) => s.id), [id]);
    assert.equal(await store.deleteSubscription(id), true);
    assert.equal(await store.deleteSubscription(id), false);
    assert.deepEqual(await store.replySubscriptions(siteId, 'c1'), []);
  });

  it('refuses an expired confirmation, and purges unconfirmed subscriptions when they expire', async () => {
    const id = unique('sub');
    await store.createSubscription({
      id, siteId, commentId: 'c2', email: 'bo@example.org', userId: null, confirmHash: `hash-${id}`, confirmExpires: at(60), created: at(0),
    });
    assert.equal(await store.confirmSubscription(`hash-${id}`, at(60)), null);
    await store.purgeSubscriptions(at(59));
    assert.ok(await store.getSubscription(id));
    await store.purgeSubscriptions(at(61));
    assert.equal(await store.getSubscription(id), null);
  });

  it("keeps an owner's mail choices per site, with defaults until set, and lists a site's owners", async () => {
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: unique('o'), name: 'Olga', picture: null, website: null, email: 'olga@example.org' },
      unique('u'),
      at(0),
    );
    await store.setSiteOwner(siteId, user.id, true);
    assert.deepEqual(await store.ownerMailSettings(siteId, user.id), { comments: 'each', held: true });
    await store.putOwnerMailSettings(siteId, user.id, { comments: 'digest', held: false });
    assert.deepEqual(await store.ownerMailSettings(siteId, user.id), { comments: 'digest', held: false });
    await store.putOwnerMailSettings(siteId, user.id, { comments: 'off', held: true });
    assert.deepEqual(await store.ownerMailSettings(siteId, user.id), { comments: 'off', held: true });
    assert.deepEqual((await store.siteOwners(siteId)).map((u) => [u.id, u.email]), [[user.id, 'olga@example.org']]);
  });

  it("gives the digest a day's published comments, oldest first", async () => {
    const early = comment({ created: at(-10) });
    const first = comment({ created: at(10) });
    const held = comment({ created: at(20), status: 'pending' });
    const spam = comment({ created: at(25), status: 'spam' });
    const second = comment({ created: at(30) });
    const late = comment({ created: at(100) });
    for (const c of [early, first, held, spam, second, late]) assert.ok((await store.createComment(c, 3)).ok);
    const day = await store.publishedBetween(siteId, at(0), at(100), 50);
    assert.deepEqual(day.map((c) => c.id), [first.id, second.id]);
    assert.deepEqual((await store.publishedBetween(siteId, at(0), at(100), 1)).map((c) => c.id), [first.id]);
  });

  it("includes a guest's subscriptions on the site in their export, and erases them with their comments", async () => {
    const mine = unique('sub');
    const others = unique('sub');
    await store.createSubscription({
      id: mine, siteId, commentId: 'c9', email: 'Guest@Example.org', userId: null, confirmHash: `h-${mine}`, confirmExpires: at(60), created: at(0),
    });
    await store.createSubscription({
      id: others, siteId, commentId: 'c9', email: 'other@example.org', userId: null, confirmHash: `h-${others}`, confirmExpires: at(60), created: at(0),
    });
    const data = await store.exportAuthor({ siteId, email: 'guest@example.org' });
    assert.deepEqual(data.subscriptions, [{ siteId, commentId: 'c9', email: 'Guest@Example.org', active: false, created: at(0) }]);
    await store.eraseAuthor({ siteId, email: 'guest@example.org' }, at(5));
    assert.equal(await store.getSubscription(mine), null);
    assert.ok(await store.getSubscription(others));
  });

  it("includes a signed-in reader's subscriptions in their export, and erases them with the account", async () => {
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: unique('r'), name: 'Rita', picture: null, website: null, email: 'rita@example.org' },
      unique('u'),
      at(0),
    );
    const id = unique('sub');
    await store.createSubscription({
      id, siteId, commentId: 'c10', email: 'rita@example.org', userId: user.id, confirmHash: `h-${id}`, confirmExpires: at(60), created: at(0),
    });
    await store.confirmSubscription(`h-${id}`, at(1));
    const data = await store.exportAuthor({ userId: user.id });
    assert.deepEqual(data.subscriptions, [{ siteId, commentId: 'c10', email: 'rita@example.org', active: true, created: at(0) }]);
    await store.eraseAuthor({ userId: user.id }, at(5));
    assert.equal(await store.getSubscription(id), null);
  });
});
