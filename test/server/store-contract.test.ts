/**
 * One contract for every `Store` adapter: SQLite always, PostgreSQL when TEST_DATABASE_URL is
 * set (in a schema of its own, dropped afterwards; reported as skipped otherwise).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../server/store/index.js';
import type { CommentKind } from '../../src/data/api-types.js';
import {
  InvalidCursorError,
  type CommentEvent,
  type NewComment,
  type Store,
  type StoredComment,
  type ThreadPage,
} from '../../server/store/store.js';

const MAX_DEPTH = 3;
const BASE_TIME = Date.UTC(2016, 8, 9, 12, 0, 0);

let counter = 0;
/** A name no other test (nor run) uses. */
function unique(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

/** A valid new comment; every field can be overridden. */
function newComment(siteId: string, postUrl: string, fields: Partial<NewComment> = {}): NewComment {
  const id = fields.id ?? unique('c');
  return {
    siteId,
    postUrl,
    postTitle: 'Kerry and Lavrov',
    id,
    requestHash: `hash-of-${id}`,
    parentId: null,
    kind: 'comment',
    status: 'published',
    authorName: 'Ann',
    authorEmail: 'ann@example.org',
    authorWebsite: null,
    avatar: '5f3a9c',
    body: 'Hello',
    reblogBlogName: null,
    reblogUrl: null,
    created: new Date(BASE_TIME + counter * 1000),
    ...fields,
  };
}

/** Registers a fresh site and names a post on it. */
async function freshSite(store: Store): Promise<{ siteId: string; postUrl: string }> {
  const siteId = unique('site');
  const origin = `https://${siteId}.example.org`;
  await store.putSite({ id: siteId, name: `Blog ${siteId}`, origin, allowedOrigins: [origin] });
  return { siteId, postUrl: `${origin}/2016/09/kerry-lavrov` };
}

/** Stores a comment that must succeed and returns it. */
async function create(store: Store, input: NewComment): Promise<StoredComment> {
  const result = await store.createComment(input, MAX_DEPTH);
  assert.ok(result.ok, `createComment failed: ${JSON.stringify(result)}`);
  return result.comment;
}

/** Waits (up to 5 s) until `check` holds: notifications from PostgreSQL arrive asynchronously. */
async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    assert.ok(waited < 5000, 'timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A post's newest page, large enough to hold every thread a test makes. */
function newestPage(store: Store, siteId: string, postUrl: string): Promise<ThreadPage> {
  return store.listThreads({ siteId, postUrl, pageSize: 1000 });
}

/** Ids on a post's newest page, in page order. */
async function listedIds(store: Store, siteId: string, postUrl: string): Promise<string[]> {
  return (await newestPage(store, siteId, postUrl)).comments.map((c) => c.id);
}

/**
 * The behaviour every adapter must show. `makeStore` opens (and migrates) a new store
 * instance on the same database each time it is called.
 */
function storeContract(
  name: string,
  makeStore: () => Promise<Store>,
  options: { skip?: string | false; cleanup?: () => Promise<void> } = {},
): void {
  // Skipped per test rather than per suite, so the skips show in the runner's skip count.
  const skip = options.skip ?? false;
  describe(name, () => {
    const opened: Store[] = [];
    let store: Store;
    const test = (title: string, body: () => Promise<void>) => it(title, { skip }, body);
    const open = async (): Promise<Store> => {
      const instance = await makeStore();
      opened.push(instance);
      return instance;
    };

    before(async () => {
      if (!skip) store = await open();
    });

    after(async () => {
      for (const instance of opened) await instance.close();
      if (!skip) await options.cleanup?.();
    });

    test('announces each new comment once, after it is stored, and not its replays', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const heard: CommentEvent[] = [];
      const stop = store.onComment((event) => {
        if (event.siteId === siteId) heard.push(event);
      });
      await new Promise((resolve) => setTimeout(resolve, 200)); // PostgreSQL: let LISTEN start
      try {
        const first = newComment(siteId, postUrl);
        const stored = await create(store, first);
        await until(() => heard.length === 1);
        assert.deepEqual(heard, [{ siteId, commentId: stored.id, seq: stored.seq }]);
        assert.ok(await store.getComment(siteId, heard[0]!.commentId), 'announced before it could be read');
        await create(store, first); // a replay
        assert.equal((await store.createComment({ ...first, requestHash: 'other' }, MAX_DEPTH)).ok, false);
        const second = await create(store, newComment(siteId, postUrl));
        await until(() => heard.length >= 2);
        assert.deepEqual(heard.map((e) => e.commentId), [stored.id, second.id]);
      } finally {
        stop();
      }
      await create(store, newComment(siteId, postUrl));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(heard.length, 2, 'heard after unsubscribing');
    });

    test('migrating again is harmless and keeps the data', async () => {
      const { siteId, postUrl } = await freshSite(store);
      await create(store, newComment(siteId, postUrl));
      await store.migrate();
      await store.migrate();
      assert.equal((await newestPage(store, siteId, postUrl)).total, 1);
    });

    test('round-trips a site through putSite, getSite, getSiteByOrigin and listSites', async () => {
      const id = unique('site');
      const site = {
        id,
        name: 'World Peace Forum',
        origin: `https://${id}.example.org`,
        allowedOrigins: [`https://${id}.example.org`, 'http://localhost:8080'],
      };
      await store.putSite(site);
      assert.deepEqual(await store.getSite(id), site);
      assert.deepEqual(await store.getSiteByOrigin(site.origin), site);
      assert.deepEqual((await store.listSites()).filter((s) => s.id === id), [site]);

      const replaced = {
        ...site,
        name: 'Renamed',
        origin: `https://www.${id}.example.org`,
        allowedOrigins: [],
      };
      await store.putSite(replaced);
      assert.deepEqual(await store.getSite(id), replaced);
      assert.deepEqual(await store.getSiteByOrigin(replaced.origin), replaced);
      assert.equal(await store.getSiteByOrigin(site.origin), null);
      assert.deepEqual((await store.listSites()).filter((s) => s.id === id), [replaced]);
    });

    test('returns null for an unknown site, origin, post or comment', async () => {
      const { siteId, postUrl } = await freshSite(store);
      assert.equal(await store.getSite(unique('nosite')), null);
      assert.equal(await store.getSiteByOrigin('https://nowhere.example.org'), null);
      assert.equal(await store.getPost(siteId, postUrl), null);
      assert.equal(await store.getComment(siteId, 'no-such-comment'), null);
    });

    test('creates the post with its title on the first comment and never overwrites the title', async () => {
      const { siteId, postUrl } = await freshSite(store);
      assert.equal(await store.getPost(siteId, postUrl), null);

      const title = 'Kerry–Lavrov: “ceasefire” 😀';
      const first = await create(store, newComment(siteId, postUrl, { postTitle: title }));
      const post = await store.getPost(siteId, postUrl);
      assert.ok(post);
      assert.ok(Number.isInteger(post.id));
      assert.deepEqual(post, {
        id: post.id,
        siteId,
        url: postUrl,
        title,
        created: first.created,
      });

      await create(store, newComment(siteId, postUrl, { postTitle: 'Another title' }));
      assert.deepEqual(await store.getPost(siteId, postUrl), post);
      assert.deepEqual((await newestPage(store, siteId, postUrl)).post, post);
    });

    test('stores every field byte for byte, whatever the script', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const input = newComment(siteId, postUrl, {
        kind: 'reblog',
        authorName: 'Zoë 王 محمد 😀',
        authorEmail: 'zoë+test@example.org',
        authorWebsite: 'https://zoë.example.org/ä?q=1&r=2#frag',
        avatar: '0123456789abcdef0123456789abcdef',
        body: [
          'Reblogged 😀𝄞 — “quoted”',
          'مرحبا بالعالم\r',
          '日本語のテキストと한국어',
          '',
          '\ttabbed \'single\' "double" \\ back\u00a0nbsp, zwj family 👩‍👩‍👧',
        ].join('\n'),
        reblogBlogName: 'World Peace Forum 🌍',
        reblogUrl: 'https://wpf.example.org/2016/09/reblog?x=ü',
        created: new Date(Date.UTC(2016, 8, 9, 12, 34, 56, 789)),
      });
      const result = await store.createComment(input, MAX_DEPTH);
      assert.ok(result.ok);
      assert.equal(result.replayed, false);
      assert.ok(Number.isSafeInteger(result.comment.seq) && result.comment.seq > 0);
      const expected: StoredComment = {
        id: input.id,
        siteId,
        postUrl,
        parentId: null,
        depth: 0,
        kind: 'reblog',
        status: 'published',
        authorName: input.authorName,
        authorEmail: input.authorEmail,
        authorWebsite: input.authorWebsite,
        avatar: input.avatar,
        body: input.body,
        created: input.created,
        reblogBlogName: input.reblogBlogName,
        reblogUrl: input.reblogUrl,
        seq: result.comment.seq,
      };
      assert.deepEqual(result.comment, expected);
      const stored = await store.getComment(siteId, input.id);
      assert.deepEqual(stored, expected);
      assert.deepEqual(Buffer.from(stored?.body ?? ''), Buffer.from(input.body));
      assert.deepEqual((await newestPage(store, siteId, postUrl)).comments, [expected]);
    });

    test('answers a replay (same id and hash) with the first comment, replayed, and no second row', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const input = newComment(siteId, postUrl);
      const first = await create(store, input);
      const later = new Date(BASE_TIME + 999_999);
      const again = await store.createComment({ ...input, created: later }, MAX_DEPTH);
      assert.deepEqual(again, { ok: true, replayed: true, comment: first });
      const page = await newestPage(store, siteId, postUrl);
      assert.equal(page.total, 1);
      assert.deepEqual(page.comments, [first]);
    });

    test('answers idempotency_mismatch for the same id with another hash, keeping the first', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const input = newComment(siteId, postUrl);
      const first = await create(store, input);
      const changed = { ...input, requestHash: 'another-hash', body: 'Changed' };
      const other = await store.createComment(changed, MAX_DEPTH);
      assert.deepEqual(other, { ok: false, reason: 'idempotency_mismatch' });
      assert.deepEqual(await store.getComment(siteId, input.id), first);
      assert.equal((await newestPage(store, siteId, postUrl)).total, 1);
    });

    test('treats the same id on another site as a separate comment', async () => {
      const a = await freshSite(store);
      const b = await freshSite(store);
      const id = unique('shared');
      const onA = await create(store, newComment(a.siteId, a.postUrl, { id, body: 'on A' }));
      const onB = await store.createComment(newComment(b.siteId, b.postUrl, { id, body: 'on B' }), MAX_DEPTH);
      assert.ok(onB.ok);
      assert.equal(onB.replayed, false);
      assert.notEqual(onB.comment.seq, onA.seq);
      assert.equal((await store.getComment(a.siteId, id))?.body, 'on A');
      assert.equal((await store.getComment(b.siteId, id))?.body, 'on B');
    });

    test('stores all of 50 concurrent comments with distinct ids', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const inputs = Array.from({ length: 50 }, () => newComment(siteId, postUrl));
      const results = await Promise.all(inputs.map((input) => store.createComment(input, MAX_DEPTH)));
      for (const result of results) assert.ok(result.ok && !result.replayed);
      const seqs = new Set(results.map((r) => (r.ok ? r.comment.seq : 0)));
      assert.equal(seqs.size, 50);
      const page = await newestPage(store, siteId, postUrl);
      assert.equal(page.total, 50);
      assert.deepEqual(page.comments.map((c) => c.id).sort(), inputs.map((c) => c.id).sort());
    });

    test('stores one row for 20 concurrent calls with the same id, and every caller gets it', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const input = newComment(siteId, postUrl);
      const calls = Array.from({ length: 20 }, () => store.createComment(input, MAX_DEPTH));
      const results = await Promise.all(calls);
      const comments = results.map((result) => {
        assert.ok(result.ok, JSON.stringify(result));
        return result.comment;
      });
      assert.equal(results.filter((r) => r.ok && !r.replayed).length, 1);
      for (const comment of comments) assert.deepEqual(comment, comments[0]);
      const page = await newestPage(store, siteId, postUrl);
      assert.equal(page.total, 1);
      assert.deepEqual(page.comments, [comments[0]]);
    });

    test('undoes a failed write completely and keeps the writes made alongside it', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const taken = (await store.getSite(siteId))!.origin;
      const inputs = Array.from({ length: 10 }, () => newComment(siteId, postUrl));
      const writes = inputs.map((input) => store.createComment(input, MAX_DEPTH));
      const badSite = store.putSite({ id: unique('site'), name: 'Clash', origin: taken, allowedOrigins: [] });
      const noSite = newComment(unique('nosite'), 'https://nosite.example.org/p');
      const unknownSite = store.createComment(noSite, MAX_DEPTH);
      // Fails after its post row was written: that post must be undone with it.
      const brokenPost = `${postUrl}-broken`;
      const invalidKind = 'bogus' as unknown as CommentKind;
      const broken = store.createComment(newComment(siteId, brokenPost, { kind: invalidKind }), MAX_DEPTH);
      await assert.rejects(badSite);
      await assert.rejects(unknownSite);
      await assert.rejects(broken);
      for (const result of await Promise.all(writes)) assert.ok(result.ok);
      assert.equal((await newestPage(store, siteId, postUrl)).total, 10);
      assert.equal(await store.getPost(siteId, brokenPost), null);
    });

    test('answers parent_not_found for a parent missing or on another post, storing nothing', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const otherPost = `${postUrl}-other`;
      const newPost = `${postUrl}-new`;
      const parent = await create(store, newComment(siteId, postUrl));
      await create(store, newComment(siteId, otherPost));

      for (const [url, parentId] of [
        [otherPost, parent.id],
        [postUrl, 'missing-parent'],
        [newPost, parent.id],
      ] as const) {
        const reply = newComment(siteId, url, { parentId });
        const result = await store.createComment(reply, MAX_DEPTH);
        assert.deepEqual(result, { ok: false, reason: 'parent_not_found' });
        assert.equal(await store.getComment(siteId, reply.id), null);
      }
      assert.equal(await store.getPost(siteId, newPost), null);
      assert.equal((await newestPage(store, siteId, otherPost)).total, 1);
    });

    test('gives a reply its parent’s depth + 1 and answers too_deep beyond maxDepth', async () => {
      const { siteId, postUrl } = await freshSite(store);
      let parent = await create(store, newComment(siteId, postUrl));
      assert.equal(parent.depth, 0);
      for (let depth = 1; depth <= MAX_DEPTH; depth++) {
        parent = await create(store, newComment(siteId, postUrl, { parentId: parent.id }));
        assert.equal(parent.depth, depth);
        assert.equal((await store.getComment(siteId, parent.id))?.depth, depth);
      }
      const tooDeep = newComment(siteId, postUrl, { parentId: parent.id });
      assert.deepEqual(await store.createComment(tooDeep, MAX_DEPTH), { ok: false, reason: 'too_deep' });
      assert.equal(await store.getComment(siteId, tooDeep.id), null);
      assert.equal((await newestPage(store, siteId, postUrl)).total, MAX_DEPTH + 1);
    });

    test('lists and counts published comments only, replies included; getComment finds pending', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const top = await create(store, newComment(siteId, postUrl));
      const pendingTop = await create(store, newComment(siteId, postUrl, { status: 'pending' }));
      const reply = await create(store, newComment(siteId, postUrl, { parentId: top.id }));
      await create(store, newComment(siteId, postUrl, { parentId: top.id, status: 'pending' }));
      const page = await newestPage(store, siteId, postUrl);
      assert.equal(page.total, 2);
      assert.deepEqual(page.comments.map((c) => c.id), [top.id, reply.id]);
      assert.equal((await store.getComment(siteId, pendingTop.id))?.status, 'pending');
    });

    test('orders threads oldest first, each followed depth-first by its replies, oldest first', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const at = (seconds: number) => new Date(BASE_TIME + seconds * 1000);
      const add = (id: string, seconds: number, parentId: string | null = null) =>
        create(store, newComment(siteId, postUrl, { id: `${siteId}-${id}`, created: at(seconds), parentId }));
      const p = (id: string) => `${siteId}-${id}`;
      // Inserted out of time order on purpose: the order comes from (created, seq), not insertion.
      await add('C', 10);
      await add('A', 1);
      await add('B', 2);
      await add('A1', 3, p('A'));
      await add('B1', 4, p('B'));
      await add('A2', 5, p('A'));
      await add('A1a', 6, p('A1'));
      await add('A3', 4, p('A'));
      await add('A4', 5, p('A')); // same time as A2, stored later: after it
      const page = await newestPage(store, siteId, postUrl);
      assert.deepEqual(
        page.comments.map((c) => [c.id.slice(siteId.length + 1), c.depth]),
        [['A', 0], ['A1', 1], ['A1a', 2], ['A3', 1], ['A2', 1], ['A4', 1], ['B', 0], ['B1', 1], ['C', 0]],
      );
      assert.equal(page.total, 9);
      assert.equal(page.older, null);
    });

    test('pages by threads: newest first, older down to null, none repeated or lost', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const threads: StoredComment[] = [];
      const replies = new Map<string, StoredComment>();
      // 23 threads, three to a timestamp (ties are broken by seq), stored in scrambled order.
      for (let n = 0; n < 23; n++) {
        const i = (n * 7) % 23;
        const created = new Date(BASE_TIME + Math.floor(i / 3) * 1000);
        const thread = await create(store, newComment(siteId, postUrl, { created }));
        threads.push(thread);
        if (i % 2 === 0) {
          replies.set(thread.id, await create(store, newComment(siteId, postUrl, { parentId: thread.id })));
        }
      }
      await create(store, newComment(siteId, postUrl, { status: 'pending' }));
      threads.sort((a, b) => a.created.getTime() - b.created.getTime() || a.seq - b.seq);
      const expected = threads.flatMap((t) => [t.id, ...(replies.has(t.id) ? [replies.get(t.id)!.id] : [])]);

      const pages: string[][] = [];
      let before: string | null = null;
      do {
        const page = await store.listThreads({ siteId, postUrl, pageSize: 5, before });
        assert.equal(page.total, 23 + replies.size);
        pages.push(page.comments.map((c) => c.id));
        before = page.older;
        assert.ok(pages.length <= 5, 'more pages than threads allow');
      } while (before !== null);

      assert.deepEqual(
        pages.map((ids) => ids.filter((id) => threads.some((t) => t.id === id)).length),
        [5, 5, 5, 5, 3],
      );
      assert.equal(pages[0]![0], threads[18]!.id, 'the first page starts at the 5th newest thread');
      assert.deepEqual([...pages].reverse().flat(), expected);

      const exact = await store.listThreads({ siteId, postUrl, pageSize: 23 });
      assert.equal(exact.older, null);
      assert.deepEqual(exact.comments.map((c) => c.id), expected);
    });

    test('throws InvalidCursorError for a malformed cursor and RangeError for a bad pageSize', async () => {
      const { siteId, postUrl } = await freshSite(store);
      await create(store, newComment(siteId, postUrl));
      const b64 = (text: string) => Buffer.from(text).toString('base64url');
      const malformed = [
        '', 'not a cursor', '!!!!', 'x'.repeat(100),
        b64('hello'), b64('1.2.3'), b64('01.2'), b64('1.'), b64('1.2') + '=',
      ];
      for (const before of malformed) {
        for (const url of [postUrl, `${postUrl}-none`]) {
          const listing = store.listThreads({ siteId, postUrl: url, pageSize: 5, before });
          await assert.rejects(listing, InvalidCursorError, `cursor ${JSON.stringify(before)}`);
        }
      }
      for (const pageSize of [0, 1001, 2.5]) {
        await assert.rejects(store.listThreads({ siteId, postUrl, pageSize }), RangeError);
      }
    });

    test('returns an empty page with version 0 for a post without comments', async () => {
      const { siteId, postUrl } = await freshSite(store);
      assert.deepEqual(await newestPage(store, siteId, postUrl), {
        post: null,
        total: 0,
        comments: [],
        older: null,
        version: 0,
      });
    });

    test('raises a post’s version when a comment is added to it, and only to it', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const otherPost = `${postUrl}-other`;
      const version = async (url: string) => (await newestPage(store, siteId, url)).version;

      const first = await create(store, newComment(siteId, postUrl));
      const v1 = await version(postUrl);
      assert.equal(v1, first.seq);
      await create(store, newComment(siteId, otherPost));
      assert.equal(await version(postUrl), v1);
      const reply = await create(store, newComment(siteId, postUrl, { parentId: first.id }));
      const v2 = await version(postUrl);
      assert.ok(v2 > v1);
      assert.equal(v2, reply.seq);
      await create(store, newComment(siteId, postUrl, { status: 'pending' }));
      assert.ok((await version(postUrl)) > v2);
    });

    test('close() waits for writes already started, which a reopened store then finds', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const instance = await open();
      const inputs = Array.from({ length: 30 }, () => newComment(siteId, postUrl));
      const writes = inputs.map((input) => instance.createComment(input, MAX_DEPTH));
      await instance.close();
      for (const result of await Promise.all(writes)) assert.ok(result.ok);
      await assert.rejects(instance.createComment(newComment(siteId, postUrl), MAX_DEPTH));

      const reopened = await open();
      assert.deepEqual((await listedIds(reopened, siteId, postUrl)).sort(), inputs.map((c) => c.id).sort());
    });

    test('keeps one row per id and one post per URL when two instances write at once', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const other = await open();
      const instances = [store, other];
      const same = newComment(siteId, postUrl);
      const sameResults = await Promise.all(
        Array.from({ length: 20 }, (_, i) => instances[i % 2]!.createComment(same, MAX_DEPTH)),
      );
      assert.ok(sameResults.every((r) => r.ok));
      assert.equal(sameResults.filter((r) => r.ok && !r.replayed).length, 1);

      const newPost = `${postUrl}-race`;
      const inputs = Array.from({ length: 20 }, (_, i) =>
        newComment(siteId, newPost, { postTitle: `title ${i}` }),
      );
      const results = await Promise.all(
        inputs.map((input, i) => instances[i % 2]!.createComment(input, MAX_DEPTH)),
      );
      assert.ok(results.every((r) => r.ok && !r.replayed));
      const page = await newestPage(other, siteId, newPost);
      assert.equal(page.total, 20);
      assert.match(page.post?.title ?? '', /^title \d+$/);
      assert.deepEqual(await store.getPost(siteId, newPost), page.post);
      assert.deepEqual(await listedIds(store, siteId, postUrl), [same.id]);
    });

    test('announces edits and deletes of published comments and keeps them, in order, for replay', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const heard: CommentEvent[] = [];
      const stop = store.onComment((event) => {
        if (event.siteId === siteId && event.change) heard.push(event);
      });
      await new Promise((resolve) => setTimeout(resolve, 200)); // PostgreSQL: let LISTEN start
      try {
        const lonely = await create(store, newComment(siteId, postUrl));
        const parent = await create(store, newComment(siteId, postUrl));
        await create(store, newComment(siteId, postUrl, { parentId: parent.id }));
        const pending = await create(store, newComment(siteId, postUrl, { status: 'pending' }));
        const at = (ms: number) => new Date(BASE_TIME + 3_600_000 + ms);
        await store.editComment(siteId, lonely.id, 'Hello, edited', at(1));
        await store.editComment(siteId, pending.id, 'not for the public', at(2));
        await store.deleteComment(siteId, pending.id, at(3));
        await store.deleteComment(siteId, lonely.id, at(4));
        await store.deleteComment(siteId, parent.id, at(5));
        await until(() => heard.length >= 3);
        await new Promise((resolve) => setTimeout(resolve, 100));
        const expected = [
          { id: lonely.id, change: 'edited' },
          { id: lonely.id, change: 'removed' },
          { id: parent.id, change: 'emptied' },
        ];
        assert.deepEqual(heard.map((e) => ({ id: e.commentId, change: e.change })), expected, 'the pending one is not announced');
        for (const event of heard) assert.equal(event.postUrl, postUrl);
        const seqs = heard.map((e) => e.seq);
        assert.ok(seqs[0]! > pending.seq && seqs[1]! > seqs[0]! && seqs[2]! > seqs[1]!, `fresh, rising seqs: ${seqs}`);
        assert.equal((await store.threadStamp(siteId, postUrl)).version, seqs[2], "the post's version is the last change");

        const kept = await store.commentChanges(siteId, 0, 10);
        assert.deepEqual(
          kept.map(({ created, ...event }) => event),
          heard.map((event) => ({ ...event })),
        );
        assert.deepEqual(kept.map((c) => c.created), [at(1), at(4), at(5)]);
        assert.deepEqual((await store.commentChanges(siteId, seqs[0]!, 10)).map((c) => c.seq), seqs.slice(1));
        assert.deepEqual((await store.commentChanges(siteId, 0, 1)).map((c) => c.seq), seqs.slice(0, 1));
        const other = await freshSite(store);
        assert.deepEqual(await store.commentChanges(other.siteId, 0, 10), [], "another site's changes are its own");
        assert.equal(await store.eventsHead(siteId), seqs[2], "the site's latest event is its last change");
        assert.equal(await store.eventsHead(other.siteId), 0, 'a site without comments has none');
        const later = await create(store, newComment(siteId, postUrl));
        assert.ok(later.seq > seqs[2]!, 'a new comment never reuses a change’s seq');
        assert.equal(await store.eventsHead(siteId), later.seq, 'then its latest comment');

        assert.ok((await store.purgeCommentChanges(at(4))) >= 1, 'the change made before the cut is forgotten');
        assert.deepEqual((await store.commentChanges(siteId, 0, 10)).map((c) => c.seq), seqs.slice(1), 'later ones are kept');
        assert.equal(await store.eventsHead(siteId), later.seq, 'the head does not move back');
      } finally {
        stop();
      }
    });

    test("lists a post's comment likes in one read: most liked first, bounded, the liker's own marked", async () => {
      const { siteId, postUrl } = await freshSite(store);
      const [a, b, c] = [newComment(siteId, postUrl), newComment(siteId, postUrl), newComment(siteId, postUrl)];
      for (const input of [a, b, c]) await create(store, input);
      const like = (commentId: string | null, likerKey: string, on = store) =>
        on.setLike(
          { siteId, postUrl, commentId, likerKey, name: likerKey, avatar: 'abc', picture: null, website: null, created: new Date() },
          true,
          20,
        );
      // Two instances at once, as two servers would: both likes of `b` count.
      await Promise.all([like(b.id, 'user:1'), like(b.id, 'user:2', await open())]);
      await like(a.id, 'user:2');
      await like(null, 'user:3'); // the post itself
      assert.deepEqual(await store.commentLikes(siteId, postUrl, 'user:2', 10), [
        { commentId: b.id, count: 2, liked: true },
        { commentId: a.id, count: 1, liked: true },
      ]);
      assert.deepEqual(await store.commentLikes(siteId, postUrl, null, 1), [{ commentId: b.id, count: 2, liked: false }]);
      assert.deepEqual(await store.commentLikes(siteId, `${postUrl}-none`, 'user:2', 10), []);
    });

    test('keeps pending and spam comments out of pages and totals, in their own status, for every instance', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const shown = newComment(siteId, postUrl);
      const held = newComment(siteId, postUrl, { status: 'pending' });
      const spam = newComment(siteId, postUrl, { status: 'spam' });
      for (const input of [shown, held, spam]) assert.ok((await store.createComment(input, MAX_DEPTH)).ok);
      const other = await open();
      for (const instance of [store, other]) {
        assert.deepEqual(await listedIds(instance, siteId, postUrl), [shown.id]);
        assert.equal((await instance.threadStamp(siteId, postUrl)).total, 1);
        assert.equal((await instance.getComment(siteId, spam.id))?.status, 'spam');
        assert.equal((await instance.getComment(siteId, held.id))?.status, 'pending');
      }
      const exported = await store.exportComments(siteId, 0, 10);
      assert.deepEqual(exported.map((c) => [c.id, c.status]), [[shown.id, 'published'], [held.id, 'pending'], [spam.id, 'spam']]);
      const before = await store.threadStamp(siteId, postUrl);
      assert.equal((await other.setCommentStatus(siteId, spam.id, 'published'))?.status, 'published');
      const after = await store.threadStamp(siteId, postUrl);
      assert.equal(after.total, 2);
      assert.ok(after.version > before.version);
      assert.equal(await store.setCommentStatus(siteId, 'no-such-comment', 'published'), null);
    });

    test('stores moderation settings per site and per post; a post’s settings give it a record and a new version', async () => {
      const { siteId, postUrl } = await freshSite(store);
      const quiet = `${postUrl}-quiet`;
      assert.deepEqual(await store.moderationSettings(siteId, null), { policy: null, maxLinks: null, closed: false });
      await store.putModerationSettings(siteId, null, { policy: 'hold-all', maxLinks: 7, closed: false });
      await store.putModerationSettings(siteId, quiet, { policy: 'publish', maxLinks: null, closed: true });
      const other = await open();
      assert.deepEqual(await other.moderationSettings(siteId, null), { policy: 'hold-all', maxLinks: 7, closed: false });
      assert.deepEqual(await other.moderationSettings(siteId, quiet), { policy: 'publish', maxLinks: null, closed: true });
      assert.deepEqual(await other.moderationSettings(siteId, postUrl), { policy: null, maxLinks: null, closed: false });
      assert.notEqual(await store.getPost(siteId, quiet), null);
      const stamp = await store.threadStamp(siteId, quiet);
      assert.equal(stamp.total, 0);
      assert.ok(stamp.version > 0);
    });
  });
}

// SQLite: always, in a temporary directory.
const sqliteDir = mkdtempSync(join(tmpdir(), 'blogtalk-store-'));
storeContract('SQLite store', () => openStore({ file: join(sqliteDir, 'contract.db') }), {
  cleanup: async () => rmSync(sqliteDir, { recursive: true, force: true }),
});

describe('openStore without a database URL', () => {
  it('creates the data directory and blogtalk.db in it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'blogtalk-store-'));
    const dataDir = join(root, 'nested', 'data');
    const store = await openStore({ dataDir });
    try {
      assert.ok(existsSync(join(dataDir, 'blogtalk.db')));
      assert.deepEqual(await store.listSites(), []);
    } finally {
      await store.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

// PostgreSQL: only with TEST_DATABASE_URL, in schemas made for this run and dropped after it.
const databaseUrl = process.env['TEST_DATABASE_URL'];
const skip = databaseUrl ? false : 'TEST_DATABASE_URL not set';
const runSchema = () => `bt_test_${process.pid}_${randomBytes(4).toString('hex')}`;

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

const contractSchema = runSchema();
storeContract('PostgreSQL store', () => openStore({ databaseUrl, pgSchema: contractSchema }), {
  skip,
  cleanup: () => dropSchema(contractSchema),
});

describe('PostgreSQL instances sharing a database', () => {
  const schema = runSchema();
  const open = () => openStore({ databaseUrl, pgSchema: schema });
  after(async () => {
    if (!skip) await dropSchema(schema);
  });

  it('migrate a fresh schema once when they start together, all succeeding', { skip }, async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, open));
    try {
      const { siteId } = await freshSite(stores[0]!);
      for (const store of stores) assert.equal((await store.getSite(siteId))?.id, siteId);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("hear each other's new comments through LISTEN/NOTIFY", { skip }, async () => {
    const [a, b] = await Promise.all([open(), open()]);
    try {
      const { siteId, postUrl } = await freshSite(a);
      const heardByA: string[] = [];
      a.onComment((event) => heardByA.push(event.commentId));
      await new Promise((resolve) => setTimeout(resolve, 200)); // let A's LISTEN start
      const stored = await create(b, newComment(siteId, postUrl));
      await until(() => heardByA.length > 0);
      assert.deepEqual(heardByA, [stored.id]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("hear each other's edits and deletes through LISTEN/NOTIFY", { skip }, async () => {
    const [a, b] = await Promise.all([open(), open()]);
    try {
      const { siteId, postUrl } = await freshSite(a);
      const heardByA: string[] = [];
      a.onComment((event) => heardByA.push(`${event.change ?? 'new'} ${event.commentId}`));
      await new Promise((resolve) => setTimeout(resolve, 200)); // let A's LISTEN start
      const stored = await create(b, newComment(siteId, postUrl));
      await b.editComment(siteId, stored.id, 'edited on B', new Date());
      await b.deleteComment(siteId, stored.id, new Date());
      await until(() => heardByA.length >= 3);
      assert.deepEqual(heardByA, [`new ${stored.id}`, `edited ${stored.id}`, `removed ${stored.id}`]);
      assert.deepEqual((await a.commentChanges(siteId, stored.seq, 10)).map((c) => c.change), ['edited', 'removed']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('never show two threads under one version, even if an earlier writer commits last', { skip }, async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const blocker = new pg.Client({ connectionString: databaseUrl });
    await blocker.connect();
    try {
      const { siteId, postUrl } = await freshSite(a);
      const parent = await create(a, newComment(siteId, postUrl));
      // Hold the parent row so that a reply gets its seq, then waits before it can commit.
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM ${schema}.comments WHERE site_id = $1 AND id = $2 FOR UPDATE`, [
        siteId,
        parent.id,
      ]);
      const { rows } = await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const blocked = () =>
        blocker.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))', [rows[0]!.pid]);
      const early = a.createComment(newComment(siteId, postUrl, { parentId: parent.id }), MAX_DEPTH);
      for (let waited = 0; (await blocked()).rowCount === 0; waited += 10) {
        assert.ok(waited < 5000, 'the reply never started waiting for the held parent row');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // A later writer on the same post, on another instance, then a reader.
      const late = b.createComment(newComment(siteId, postUrl), MAX_DEPTH);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const during = await newestPage(b, siteId, postUrl);
      await blocker.query('COMMIT');
      assert.ok((await early).ok);
      assert.ok((await late).ok);
      const afterwards = await newestPage(b, siteId, postUrl);
      assert.equal(afterwards.total, 3);
      const shown = `${during.total} then ${afterwards.total} comments`;
      assert.ok(afterwards.version > during.version, `version ${during.version} showed ${shown}`);
    } finally {
      await blocker.end();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
