/**
 * The owner-tools half of the `Store` contract: blocks, pinned threads (first on the newest page,
 * in no other page, cursors unchanged), commenters' addresses (kept, shown to the export, erased,
 * forgotten after each site's retention), and the spam settings. SQLite always, PostgreSQL when
 * TEST_DATABASE_URL is set (in a schema of its own, dropped afterwards).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../server/store/index.js';
import type { NewComment, Store, StoredComment } from '../../server/store/store.js';
import { dropTestSchema, skipWithoutPostgres, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const NOW = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
const DAY = 86_400_000;
const later = (ms: number) => new Date(NOW.getTime() + ms);
let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}`;

async function freshSite(store: Store): Promise<{ siteId: string; postUrl: string }> {
  const siteId = unique('site');
  const origin = `https://${siteId}.example.org`;
  await store.putSite({ id: siteId, name: siteId, origin, allowedOrigins: [origin] });
  return { siteId, postUrl: `${origin}/post` };
}

function comment(siteId: string, postUrl: string, fields: Partial<NewComment> = {}): NewComment {
  const id = fields.id ?? unique('c');
  return {
    siteId, postUrl, postTitle: 'A post', id, requestHash: `h-${id}`, parentId: null, kind: 'comment', status: 'published',
    authorName: 'Ann', authorEmail: 'ann@example.org', authorWebsite: null, avatar: 'aa', body: `Body of ${id}`,
    reblogBlogName: null, reblogUrl: null, created: later(++counter * 1000), ...fields,
  };
}

async function create(store: Store, input: NewComment): Promise<StoredComment> {
  const result = await store.createComment(input, 5);
  assert.ok(result.ok);
  return result.comment;
}

function ownerToolsContract(name: string, makeStore: () => Promise<Store>, skip: string | false, cleanup: () => Promise<void>) {
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

    test('adds a block once, finds it by exact key on its own site only, lists newest first, removes it', async () => {
      const { siteId } = await freshSite(store);
      const other = await freshSite(store);
      assert.equal(await store.addBlock({ siteId, kind: 'email', value: 'spam@example.org', label: null, created: NOW }), true);
      assert.equal(await store.addBlock({ siteId, kind: 'email', value: 'spam@example.org', label: null, created: later(1) }), false);
      assert.equal(await store.addBlock({ siteId, kind: 'address', value: '203.0.113.0/24', label: null, created: later(2) }), true);
      assert.equal(await store.addBlock({ siteId, kind: 'user', value: 'u-1', label: 'Mallory', created: later(3) }), true);
      assert.deepEqual(
        (await store.listBlocks(siteId, 10)).map((b) => [b.kind, b.value, b.label, b.created.getTime()]),
        [
          ['user', 'u-1', 'Mallory', later(3).getTime()],
          ['address', '203.0.113.0/24', null, later(2).getTime()],
          ['email', 'spam@example.org', null, NOW.getTime()],
        ],
      );
      assert.equal(await store.isBlocked(siteId, [{ kind: 'email', value: 'spam@example.org' }]), true);
      assert.equal(await store.isBlocked(siteId, [{ kind: 'email', value: 'ok@example.org' }, { kind: 'address', value: '203.0.113.0/24' }]), true);
      assert.equal(await store.isBlocked(siteId, [{ kind: 'address', value: 'spam@example.org' }]), false, 'the kind is part of the key');
      assert.equal(await store.isBlocked(siteId, [{ kind: 'user', value: 'u-2' }]), false);
      assert.equal(await store.isBlocked(siteId, []), false);
      assert.equal(await store.isBlocked(other.siteId, [{ kind: 'user', value: 'u-1' }]), false);
      assert.equal(await store.removeBlock(siteId, 'user', 'u-1'), true);
      assert.equal(await store.removeBlock(siteId, 'user', 'u-1'), false);
      assert.equal(await store.isBlocked(siteId, [{ kind: 'user', value: 'u-1' }]), false);
      assert.equal((await store.listBlocks(siteId, 1)).length, 1);
    });

    test('puts pinned threads first on the newest page only; cursors page through the rest, each thread once', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const made: StoredComment[] = [];
      for (let i = 0; i < 7; i++) made.push(await create(store, comment(siteId, postUrl, { body: `t${i}` })));
      const reply = await create(store, comment(siteId, postUrl, { parentId: made[1]!.id, body: 'reply to t1' }));
      const before = await store.threadStamp(siteId, postUrl);
      const pinned = await store.setPinned(siteId, made[1]!.id, true, 5, later(DAY));
      assert.ok(typeof pinned === 'object' && pinned.pinned === true);
      assert.ok((await store.threadStamp(siteId, postUrl)).version > before.version, 'a new version for cached pages');
      await store.setPinned(siteId, made[4]!.id, true, 5, later(DAY + 1));

      const seen: string[] = [];
      let page = await store.listThreads({ siteId, postUrl, pageSize: 2 });
      assert.deepEqual(page.comments.map((c) => c.body), ['t1', 'reply to t1', 't4', 't5', 't6']);
      assert.deepEqual(page.comments.map((c) => c.pinned ?? false), [true, false, true, false, false]);
      assert.equal(page.total, 8);
      seen.push(...page.comments.map((c) => c.body));
      while (page.older) {
        page = await store.listThreads({ siteId, postUrl, pageSize: 2, before: page.older });
        assert.ok(page.comments.every((c) => !c.pinned));
        seen.push(...page.comments.map((c) => c.body));
      }
      assert.deepEqual(seen, ['t1', 'reply to t1', 't4', 't5', 't6', 't2', 't3', 't0']);

      // Unpinned, it goes back to its place by date.
      await store.setPinned(siteId, made[4]!.id, false, 5, later(DAY + 2));
      page = await store.listThreads({ siteId, postUrl, pageSize: 3 });
      assert.deepEqual(page.comments.map((c) => c.body), ['t1', 'reply to t1', 't4', 't5', 't6']);
      assert.equal((await store.getComment(siteId, made[4]!.id))?.pinned, undefined);
      assert.equal((await store.getComment(siteId, reply.id))?.pinned, undefined);
    });

    test('pins only published top-level comments, at most the given number per post', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const top = await create(store, comment(siteId, postUrl));
      const reply = await create(store, comment(siteId, postUrl, { parentId: top.id }));
      const held = await create(store, comment(siteId, postUrl, { status: 'pending' }));
      assert.equal(await store.setPinned(siteId, reply.id, true, 2, NOW), 'not_top_level');
      assert.equal(await store.setPinned(siteId, held.id, true, 2, NOW), 'not_found');
      assert.equal(await store.setPinned(siteId, 'nope', true, 2, NOW), 'not_found');
      const second = await create(store, comment(siteId, postUrl));
      const third = await create(store, comment(siteId, postUrl));
      assert.equal(typeof (await store.setPinned(siteId, top.id, true, 2, NOW)), 'object');
      assert.equal(typeof (await store.setPinned(siteId, second.id, true, 2, NOW)), 'object');
      assert.equal(await store.setPinned(siteId, third.id, true, 2, NOW), 'too_many');
      assert.equal(typeof (await store.setPinned(siteId, second.id, true, 2, NOW)), 'object', 'pinning again is no new pin');
    });

    test("keeps a comment's address, gives it to the author's export, and erases it with the author", async () => {
      const { siteId, postUrl } = await freshSite(store);
      const stored = await create(store, comment(siteId, postUrl, { authorIp: '198.51.100.7', authorEmail: 'ip@example.org' }));
      assert.equal(stored.authorIp, '198.51.100.7');
      assert.equal((await store.getComment(siteId, stored.id))?.authorIp, '198.51.100.7');
      const without = await create(store, comment(siteId, postUrl, { authorIp: null }));
      assert.equal('authorIp' in without, false);
      assert.deepEqual(await store.getComment(siteId, without.id), without);
      const data = await store.exportAuthor({ siteId, email: 'ip@example.org' });
      assert.deepEqual(data.comments.map((c) => c.authorIp), ['198.51.100.7']);
      // Emptied (it has a reply): the address goes with the rest.
      await create(store, comment(siteId, postUrl, { parentId: stored.id, authorEmail: 'other@example.org' }));
      await store.eraseAuthor({ siteId, email: 'ip@example.org' }, NOW);
      const emptied = await store.getComment(siteId, stored.id);
      assert.equal(emptied?.deleted, true);
      assert.equal(emptied?.authorIp, undefined);
    });

    test("forgets addresses after each site's retention (default, own, 0), counted", async () => {
      const a = await freshSite(store); // default: 30 days
      const b = await freshSite(store); // 7 days
      const c = await freshSite(store); // 0: none kept
      await store.putSpamSettings(b.siteId, { ipRetentionDays: 7, akismetKey: null, akismetBlog: null });
      await store.putSpamSettings(c.siteId, { ipRetentionDays: 0, akismetKey: null, akismetBlog: null });
      const at = (siteId: string, postUrl: string, created: Date) => create(store, comment(siteId, postUrl, { authorIp: '2001:db8::1', created }));
      const a1 = await at(a.siteId, a.postUrl, NOW);
      const b1 = await at(b.siteId, b.postUrl, NOW);
      const c1 = await at(c.siteId, c.postUrl, NOW);
      const ip = async (siteId: string, id: string) => (await store.getComment(siteId, id))?.authorIp ?? null;

      assert.ok((await store.purgeAddresses(later(DAY), 30)) >= 1);
      assert.deepEqual([await ip(a.siteId, a1.id), await ip(b.siteId, b1.id), await ip(c.siteId, c1.id)], ['2001:db8::1', '2001:db8::1', null]);
      await store.purgeAddresses(later(8 * DAY), 30);
      assert.deepEqual([await ip(a.siteId, a1.id), await ip(b.siteId, b1.id)], ['2001:db8::1', null]);
      await store.purgeAddresses(later(30 * DAY - 1), 30);
      assert.equal(await ip(a.siteId, a1.id), '2001:db8::1');
      await store.purgeAddresses(later(30 * DAY), 30);
      assert.equal(await ip(a.siteId, a1.id), null);
      assert.equal((await store.getComment(a.siteId, a1.id))?.body, a1.body, 'only the address goes');
    });

    test('stores spam settings beside the moderation settings without disturbing them', async () => {
      const { siteId } = await freshSite(store);
      assert.deepEqual(await store.spamSettings(siteId), { ipRetentionDays: null, akismetKey: null, akismetBlog: null });
      await store.putModerationSettings(siteId, null, { policy: 'hold-all', maxLinks: 4, closed: false });
      await store.putSpamSettings(siteId, { ipRetentionDays: 3, akismetKey: 'abc123def456', akismetBlog: 'https://blog.example' });
      assert.deepEqual(await store.moderationSettings(siteId, null), { policy: 'hold-all', maxLinks: 4, closed: false });
      await store.putModerationSettings(siteId, null, { policy: 'publish', maxLinks: null, closed: false });
      assert.deepEqual(await store.spamSettings(siteId), { ipRetentionDays: 3, akismetKey: 'abc123def456', akismetBlog: 'https://blog.example' });
    });
  });
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'blogtalk-owner-tools-'));
ownerToolsContract('SQLite store: owner tools', () => openStore({ file: join(sqliteDir, 'tools.db') }), false, async () =>
  rmSync(sqliteDir, { recursive: true, force: true }),
);

const schema = testSchemaName();
ownerToolsContract(
  'PostgreSQL store: owner tools',
  () => openStore({ databaseUrl: testDatabaseUrl, pgSchema: schema }),
  skipWithoutPostgres,
  () => dropTestSchema(schema),
);
