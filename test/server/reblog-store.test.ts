/**
 * The reblog half of the `Store` contract, on every adapter: once per (blog, post) even when
 * two instances race, the response stored and removed with its reblog, newest first.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../server/store/index.js';
import type { NewComment, Reblog, Store } from '../../server/store/store.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const schema = testSchemaName();
after(() => dropTestSchema(schema));
let n = 0;

for (const [name, skip, open] of [
  ['SQLite', false, (dir: string) => openStore({ file: join(dir, 'reblogs.db') })],
  ['PostgreSQL', testDatabaseUrl ? false : 'TEST_DATABASE_URL not set', () => openStore({ databaseUrl: testDatabaseUrl!, pgSchema: schema })],
] as const) describe(`reblog store contract (${name})`, { skip }, () => {
  let dir: string;
  let store: Store;
  let other: Store;
  let userId: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-reblog-store-'));
    store = await open(dir);
    await store.migrate();
    other = await open(dir);
    await other.migrate();
    await store.putSite({ id: 'a', name: 'Blog A', origin: 'https://a.example', allowedOrigins: [] });
    await store.putSite({ id: 'b', name: 'Blog B', origin: 'https://b.example', allowedOrigins: [] });
    await store.putSite({ id: 'c', name: 'Another C', origin: 'https://c.example', allowedOrigins: [] });
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: `s-${process.pid}`, name: 'Dave', picture: null, website: null, email: null },
      `u-${process.pid}`,
      new Date(),
    );
    userId = user.id;
  });
  after(async () => {
    await Promise.all([store.close(), other.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const reblogOf = (postUrl: string, fields: Partial<Reblog> = {}): Reblog => ({
    id: `r${++n}`,
    siteId: 'b',
    postUrl,
    title: 'Title',
    excerpt: null,
    commentary: '',
    userId,
    authorName: 'Dave',
    authorUrl: null,
    created: new Date(Date.UTC(2016, 8, 9) + n * 1000),
    responseSiteId: null,
    responseId: null,
    ...fields,
  });
  const responseTo = (postUrl: string, id: string): NewComment => ({
    siteId: 'a',
    postUrl,
    postTitle: 'Title',
    id: `rb-${id}`,
    requestHash: `h-${id}`,
    parentId: null,
    kind: 'reblog',
    status: 'published',
    authorName: 'Dave',
    authorEmail: null,
    authorWebsite: null,
    avatar: 'ab',
    body: '',
    reblogBlogName: 'Blog B',
    reblogUrl: `https://comments.example/reblogs/b/${id}`,
    created: new Date(),
  });

  it('stores a reblog with its response once per blog and post, even when two instances race', async () => {
    const post = `https://a.example/p${++n}`;
    const attempts = Array.from({ length: 6 }, (_, i) => {
      const r = reblogOf(post);
      return (i % 2 ? other : store).createReblog(r, responseTo(post, r.id));
    });
    const results = await Promise.all(attempts);
    assert.equal(results.filter((r) => r.ok).length, 1);
    assert.ok(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'already_reblogged'));
    const made = results.find((r) => r.ok)!;
    assert.ok(made.ok);
    assert.equal(made.response?.kind, 'reblog');
    assert.equal(await store.reblogCount('a', post), 1);
    assert.deepEqual(await other.getReblog('b', made.reblog.id), made.reblog);
    const thread = await store.listThreads({ siteId: 'a', postUrl: post, pageSize: 10 });
    assert.deepEqual(thread.comments.map((c) => c.id), [`rb-${made.reblog.id}`]);
  });

  it('deletes a reblog with its response, emptying a response that has replies', async () => {
    const post = `https://a.example/p${++n}`;
    const r = reblogOf(post);
    assert.ok((await store.createReblog(r, responseTo(post, r.id))).ok);
    const { version } = await store.threadStamp('a', post);
    await store.createComment({ ...responseTo(post, 'reply'), id: `reply-${n}`, kind: 'comment', parentId: `rb-${r.id}`, body: 'Thanks' }, 3);
    const removed = await store.deleteReblog('b', r.id, new Date());
    assert.equal(removed?.id, r.id);
    assert.equal(await store.getReblog('b', r.id), null);
    const emptied = await store.getComment('a', `rb-${r.id}`);
    assert.equal(emptied?.deleted, true, 'kept, emptied, for its reply');
    assert.deepEqual([emptied?.kind, emptied?.reblogUrl, emptied?.reblogBlogName], ['comment', null, null], 'no longer a reblog');
    assert.equal(await store.reblogCount('a', post), 0);
    assert.ok((await store.threadStamp('a', post)).version > version);
    assert.equal(await store.deleteReblog('b', r.id, new Date()), null);

    const plain = reblogOf(`https://a.example/p${++n}`);
    await store.createReblog(plain, responseTo(plain.postUrl, plain.id));
    await store.deleteReblog('b', plain.id, new Date());
    assert.equal(await store.getComment('a', `rb-${plain.id}`), null);
  });

  it('lists a blog’s reblogs newest first, and a reblog of a post elsewhere has no response', async () => {
    const first = reblogOf('https://elsewhere.example/one', { siteId: 'c' });
    const second = reblogOf('https://elsewhere.example/two', { siteId: 'c', commentary: 'Yes.' });
    for (const r of [first, second]) {
      const result = await store.createReblog(r, null);
      assert.ok(result.ok && result.response === null);
    }
    assert.deepEqual((await other.listReblogs('c', 10)).map((r) => r.id), [second.id, first.id]);
    assert.equal((await store.listReblogs('c', 1)).length, 1);
  });

  it('finds a blog’s reblog of a post, and no longer once it is undone', async () => {
    const post = `https://a.example/p${++n}`;
    const r = reblogOf(post);
    assert.equal(await store.findReblog('b', post), null);
    assert.ok((await store.createReblog(r, responseTo(post, r.id))).ok);
    assert.equal((await other.findReblog('b', post))?.id, r.id);
    assert.equal(await store.findReblog('c', post), null, 'another blog');
    assert.equal(await store.findReblog('b', `${post}x`), null, 'another post');
    await store.deleteReblog('b', r.id, new Date());
    assert.equal(await other.findReblog('b', post), null);
  });

  it('lists the sites a user owns', async () => {
    await store.setSiteOwner('c', userId, true);
    await store.setSiteOwner('b', userId, true);
    assert.deepEqual((await other.sitesOwnedBy(userId)).map((s) => s.id), ['c', 'b']);
    assert.deepEqual(await store.sitesOwnedBy('nobody'), []);
  });
});
