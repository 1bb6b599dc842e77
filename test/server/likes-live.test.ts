/**
 * Likes, live: a like or unlike through the API reaches every open stream of the site as
 * `event: likes` (the count as it now is; the post's newest likers too), once per change, with
 * an event id from the same sequence as comments — so a page's `events` and `Last-Event-ID`
 * cover likes as well. On SQLite, and on PostgreSQL (when `TEST_DATABASE_URL` is set) also
 * across two instances sharing the database.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import { openStore, type OpenStoreOptions } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';
import { openSse, type SseEvent } from '../support/sse-client.js';

const blog = 'https://likes-live.example';
const sites = [{ id: 'likes-live', name: 'Likes, live', origin: blog, allowedOrigins: [blog] }];
let n = 0;

interface Started {
  app: FastifyInstance;
  url: string;
  store: Store;
}

async function startApp(storeOptions: OpenStoreOptions): Promise<Started> {
  const store = await openStore(storeOptions);
  const app = await buildApp({ store, secret: 's', sites, limits: { writesPerMinute: 1e6 } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, store, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

/** A signed-in reader: a user and a live session, as the sign-in flow would leave them. */
async function reader(store: Store, name: string): Promise<string> {
  const now = new Date();
  const user = await store.upsertUser(
    { issuer: 'https://idp.example', subject: `${name}-${++n}`, name, picture: null, website: null, email: null },
    `u-${name}-${n}-${process.pid}`,
    now,
  );
  const id = randomToken();
  await store.createSession(hashToken(id), { userId: user.id, provider: 'test', created: now, expires: new Date(now.getTime() + 3_600_000) });
  return `blogtalk_session=${id}`;
}

async function like(server: string, cookie: string, post: string, liked: boolean, comment: string | null = null): Promise<void> {
  const res = await fetch(`${server}/api/v1/likes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: blog, cookie },
    body: JSON.stringify({ post, comment, liked }),
  });
  assert.equal(res.status, 200, await res.clone().text());
}

async function comment(server: string, post: string): Promise<string> {
  const res = await fetch(`${server}/api/v1/comments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `likes-live-${process.pid}-${++n}`, origin: blog },
    body: JSON.stringify({ post, author: { name: 'Guest', email: 'guest@example.org' }, body: 'A response to like.' }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

const events = (server: string, headers: Record<string, string> = {}) =>
  openSse(`${server}/api/v1/events?site=${encodeURIComponent(blog)}`, { origin: blog, ...headers });

type LikesData = { post: string; comment: string | null; count: number; likers?: { name: string }[] };
const likesOf = (events: SseEvent[]) => events.filter((e) => e.event === 'likes').map((e) => JSON.parse(e.data) as LikesData);

const databaseUrl = testDatabaseUrl;
const schema = testSchemaName();
const kinds = [
  ['SQLite', false],
  ['PostgreSQL', databaseUrl ? false : 'TEST_DATABASE_URL not set'],
] as const;

describe('likes, live', () => {
  const apps: FastifyInstance[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const app of apps) await app.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    await dropTestSchema(schema);
  });
  async function started(kind: (typeof kinds)[number][0]): Promise<Started> {
    let options: OpenStoreOptions;
    if (kind === 'SQLite') {
      const dir = await mkdtemp(join(tmpdir(), 'blogtalk-likes-live-'));
      dirs.push(dir);
      options = { dataDir: dir };
    } else options = { databaseUrl: databaseUrl!, pgSchema: schema };
    const s = await startApp(options);
    apps.push(s.app);
    return s;
  }

  for (const [kind, skip] of kinds) {
    it(`streams each like and unlike of a post or a comment once, with the count as it now is (${kind})`, { skip }, async () => {
      const { url, store } = await started(kind);
      const post = `${blog}/${kind}/post-${++n}/`;
      const responseId = await comment(url, post);
      const [ann, bo] = [await reader(store, 'Ann'), await reader(store, 'Bo')];
      const stream = await events(url);
      try {
        await like(url, ann, post, true);
        await like(url, ann, post, true); // already liked: no change, nothing sent
        await like(url, bo, post, true);
        await like(url, ann, post, false);
        await like(url, bo, post, true, responseId);
        await stream.waitFor((e) => e.event === 'likes' && JSON.parse(e.data).comment === responseId);
        const seen = likesOf(stream.events);
        // Frames are read when sent, so a count may already include a later change; never more than one per change.
        assert.equal(seen.length, 4);
        assert.deepEqual(seen.map((l) => l.comment), [null, null, null, responseId]);
        assert.equal(seen[2]!.count, 1);
        assert.deepEqual(seen[2]!.likers!.map((l) => l.name), ['Bo']);
        assert.deepEqual(seen[3], { post, comment: responseId, count: 1 });
        const ids = stream.events.filter((e) => e.event === 'likes').map((e) => Number(e.id));
        assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'ids grow');
      } finally {
        stream.close();
      }
    });

    it(`counts likes in a page's resume point and replays them to a stream resuming from before (${kind})`, { skip }, async () => {
      const { url, store } = await started(kind);
      const post = `${blog}/${kind}/resume-${++n}/`;
      const before = (await (await fetch(`${url}/api/v1/comments?post=${encodeURIComponent(post)}`, { headers: { origin: blog } })).json()) as { events: number };
      await like(url, await reader(store, 'Cy'), post, true);
      // A page read now (another post's, not cached yet): its resume point has not gone back.
      const fresh = `${blog}/${kind}/other-${++n}/`;
      const page = (await (await fetch(`${url}/api/v1/comments?post=${encodeURIComponent(fresh)}`, { headers: { origin: blog } })).json()) as { events: number };
      const resumed = await events(url, { 'last-event-id': String(before.events) });
      try {
        const replayed = await resumed.waitFor((e) => e.event === 'likes' && JSON.parse(e.data).post === post);
        assert.ok(Number(replayed.id) > before.events);
        assert.ok(page.events >= before.events);
        assert.equal((JSON.parse(replayed.data) as LikesData).count, 1);
      } finally {
        resumed.close();
      }
    });
  }

  for (const [kind, skip] of kinds) {
    it(`keeps each like change under a fresh value of the comment sequence, none for a like that changes nothing (${kind})`, { skip }, async () => {
      const { store } = await started(kind);
      const siteId = 'likes-live';
      const post = `${blog}/${kind}/store-${++n}/`;
      const heard: { seq: number; change?: string; commentId: string }[] = [];
      const stop = store.onComment((e) => e.change === 'liked' && heard.push(e));
      const start = await store.eventsHead(siteId);
      const like = (key: string, on: boolean, commentId: string | null = null) =>
        store.setLike({ siteId, postUrl: post, commentId, likerKey: key, name: key, avatar: 'a', picture: null, website: null, created: new Date() }, on, 5);
      await like('k1', true);
      await like('k1', true); // no change
      await like('k2', false); // no change
      await like('k1', true, 'c1');
      await like('k1', false);
      const changes = (await store.likeChanges(siteId, start, 100)).filter((c) => c.postUrl === post);
      assert.deepEqual(changes.map((c) => c.commentId), ['', 'c1', '']);
      assert.ok(changes.every((c, i) => c.seq > start && (i === 0 || c.seq > changes[i - 1]!.seq)));
      assert.equal(await store.eventsHead(siteId), changes[2]!.seq, "the site's latest event is its last like change");
      assert.deepEqual((await store.likeChanges(siteId, changes[0]!.seq, 100)).filter((c) => c.postUrl === post).map((c) => c.seq), [changes[1]!.seq, changes[2]!.seq]);
      // Comments take values from the same sequence: a later comment's seq is higher.
      const created = await store.createComment(
        { siteId, postUrl: post, postTitle: null, id: `c-${n}`, requestHash: 'h', parentId: null, kind: 'comment', status: 'published', authorName: 'A', authorEmail: null, authorWebsite: null, avatar: 'a', body: 'after the likes', reblogBlogName: null, reblogUrl: null, created: new Date() },
        5,
      );
      assert.ok(created.ok && created.comment.seq > changes[2]!.seq);
      for (let waited = 0; heard.filter((e) => changes.some((c) => c.seq === e.seq)).length < 3; waited += 20) {
        assert.ok(waited < 5_000, 'each change is announced');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      stop();
      assert.ok((await store.purgeCommentChanges(new Date(Date.now() + 1_000))) >= 3, 'the periodic purge forgets like changes too');
      assert.deepEqual((await store.likeChanges(siteId, start, 100)).filter((c) => c.postUrl === post), []);
    });
  }

  it('fans likes out between two instances sharing PostgreSQL', { skip: kinds[1][1] }, async () => {
    const a = await started('PostgreSQL');
    const b = await started('PostgreSQL');
    const post = `${blog}/pg/fan-out-${++n}/`;
    const onB = await events(b.url);
    try {
      // B's LISTEN connection opens with its first stream; a like through A until B hears one.
      const cookie = await reader(a.store, 'Di');
      let liked = false;
      for (let tries = 0; !likesOf(onB.events).some((l) => l.post === post); tries++) {
        assert.ok(tries < 50, 'B never heard a like made through A');
        liked = !liked;
        await like(a.url, cookie, post, liked);
        await onB.waitFor((e) => e.event === 'likes' && JSON.parse(e.data).post === post, 200).catch(() => {});
      }
      assert.ok(likesOf(onB.events).every((l) => l.count === 0 || l.count === 1));
    } finally {
      onB.close();
    }
  });
});
