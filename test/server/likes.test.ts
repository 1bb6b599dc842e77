import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { demoPostUrl, demoSite, seedDemo } from '../../server/demo.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const blog = 'https://likes.example';
const post = `${blog}/2016/09/kerry-lavrov/`;
let n = 0;

const databaseUrl = testDatabaseUrl;
const schema = testSchemaName();
after(() => dropTestSchema(schema));

for (const [name, skip, open] of [
  ['SQLite', false, (dir: string) => openStore({ dataDir: dir })],
  ['PostgreSQL', databaseUrl ? false : 'TEST_DATABASE_URL not set', () => openStore({ databaseUrl: databaseUrl!, pgSchema: schema })],
] as const) describe(`likes ("N bloggers like this") on ${name}`, { skip }, () => {
  let app: FastifyInstance;
  let store: Store;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-likes-'));
    store = await open(dir);
    app = await buildApp({
      store,
      secret: 's',
      sites: [{ id: 'likes', name: 'Likes', origin: blog, allowedOrigins: [blog] }],
      limits: { writesPerMinute: 1e6 },
    });
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A signed-in reader: a user and a live session, as the sign-in flow would leave them. */
  async function reader(name: string): Promise<string> {
    const now = new Date();
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: `${name}-${++n}`, name, picture: null, website: null, email: null },
      `u-${name}-${n}`,
      now,
    );
    const id = randomToken();
    await store.createSession(hashToken(id), {
      userId: user.id,
      provider: 'test',
      created: now,
      expires: new Date(now.getTime() + 3_600_000),
    });
    return `blogtalk_session=${id}`;
  }

  const like = (cookie: string | null, liked: boolean, extra: Record<string, unknown> = {}) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/likes',
      headers: { 'content-type': 'application/json', origin: blog, ...(cookie ? { cookie } : {}) },
      payload: JSON.stringify({ post, liked, ...extra }),
    });
  const summary = async (cookie?: string) =>
    (
      await app.inject({
        url: `/api/v1/likes?post=${encodeURIComponent(post)}`,
        headers: { origin: blog, ...(cookie ? { cookie } : {}) },
      })
    ).json() as { count: number; liked: boolean; likers: { name: string }[] };

  it('counts a like once per user and toggles it off again', async () => {
    const ann = await reader('Ann');
    assert.equal((await like(ann, true)).statusCode, 200);
    const twice = (await like(ann, true)).json();
    assert.equal(twice.count, 1);
    assert.equal(twice.liked, true);
    assert.deepEqual((await summary()).likers.map((l) => l.name), ['Ann']);
    assert.equal((await summary()).liked, false, 'a guest has not liked it');
    assert.equal((await summary(ann)).liked, true);
    const off = (await like(ann, false)).json();
    assert.equal(off.count, 0);
    assert.equal(off.liked, false);
  });

  it('counts two users liking at the same moment', async () => {
    const [bob, cy] = await Promise.all([reader('Bob'), reader('Cy')]);
    const results = await Promise.all([like(bob, true), like(cy, true)]);
    for (const res of results) assert.equal(res.statusCode, 200);
    const after = await summary();
    assert.equal(after.count, 2);
    assert.deepEqual(after.likers.map((l) => l.name).sort(), ['Bob', 'Cy']);
  });

  it('asks guests to sign in, and refuses a comment from another post', async () => {
    const res = await like(null, true);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, 'sign_in_required');
    const dee = await reader('Dee');
    const missing = await like(dee, true, { comment: 'not-a-comment' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'comment_not_found');
  });

  /** A comment on `on` through the API, as a guest. */
  async function comment(on: string, body: string): Promise<string> {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: { 'content-type': 'application/json', origin: blog, 'idempotency-key': `k-${++n}-${Date.now()}` },
      payload: JSON.stringify({ post: on, author: { name: 'Guest', email: 'g@example.org' }, body }),
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id;
  }
  const commentLikes = async (on: string, cookie?: string) => {
    const res = await app.inject({
      url: `/api/v1/likes?post=${encodeURIComponent(on)}`,
      headers: { origin: blog, ...(cookie ? { cookie } : {}) },
    });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { comments: { id: string; count: number; liked: boolean }[] }).comments.sort((a, b) =>
      a.id < b.id ? -1 : 1,
    );
  };

  it("reads every comment's like count with the post's likes, in one request, with the reader's own likes", async () => {
    const on = `${blog}/batch-${++n}`;
    const [first, second, unliked] = [await comment(on, 'One'), await comment(on, 'Two'), await comment(on, 'Three')];
    const [eve, fay] = await Promise.all([reader('Eve'), reader('Fay')]);
    for (const [cookie, id] of [[eve, first], [fay, first], [fay, second]] as const) {
      assert.equal((await like(cookie, true, { post: on, comment: id })).statusCode, 200);
    }
    await like(eve, true, { post: on }); // the post's own like is not a comment's
    const whole = await app.inject({ url: `/api/v1/likes?post=${encodeURIComponent(on)}`, headers: { origin: blog, cookie: eve } });
    assert.equal(whole.json().count, 1);
    assert.equal(whole.json().liked, true);
    const one = await app.inject({ url: `/api/v1/likes?post=${encodeURIComponent(on)}&comment=${first}`, headers: { origin: blog } });
    assert.deepEqual(one.json().likers.map((l: { name: string }) => l.name).sort(), ['Eve', 'Fay']);
    assert.equal(one.json().comments, undefined, "a comment's own summary lists no comments");
    const expected = [
      { id: first, count: 2, liked: true },
      { id: second, count: 1, liked: false },
    ].sort((a, b) => (a.id < b.id ? -1 : 1));
    assert.deepEqual(await commentLikes(on, eve), expected);
    assert.deepEqual(
      await commentLikes(on),
      expected.map((entry) => ({ ...entry, liked: false })),
      'a guest likes none',
    );
    assert.ok(!(await commentLikes(on)).some((entry) => entry.id === unliked));
    assert.deepEqual(await commentLikes(`${blog}/never-commented-${n}`), []);
  });

  it('counts two users liking one comment at the same moment', async () => {
    const on = `${blog}/race-${++n}`;
    const id = await comment(on, 'Liked twice at once');
    const [gus, hal] = await Promise.all([reader('Gus'), reader('Hal')]);
    const results = await Promise.all([like(gus, true, { post: on, comment: id }), like(hal, true, { post: on, comment: id })]);
    for (const res of results) assert.equal(res.statusCode, 200);
    assert.deepEqual(await commentLikes(on), [{ id, count: 2, liked: false }]);
  });

  it('reads likes as a guest when the session has expired, and refuses a read from another origin', async () => {
    const on = `${blog}/expired-${++n}`;
    const id = await comment(on, 'Hi');
    await like(await reader('Ida'), true, { post: on, comment: id });
    const stale = 'blogtalk_session=' + 'x'.repeat(43);
    assert.deepEqual(await commentLikes(on, stale), [{ id, count: 1, liked: false }]);
    const post = await app.inject({
      url: `/api/v1/likes?post=${encodeURIComponent(on)}`,
      headers: { origin: blog, cookie: stale },
    });
    assert.equal(post.statusCode, 200);
    const foreign = await app.inject({
      url: `/api/v1/likes?post=${encodeURIComponent(on)}`,
      headers: { origin: 'https://elsewhere.example' },
    });
    assert.equal(foreign.statusCode, 403);
    assert.equal(foreign.json().error.code, 'origin_not_allowed');
  });

  it('seeds the demo post with "2 bloggers like this:" once, however often the demo starts', async () => {
    await seedDemo(store, 's');
    await seedDemo(store, 's');
    const { count, likers } = await store.likes(demoSite.id, demoPostUrl, null, null, 20);
    assert.equal(count, 2);
    assert.deepEqual(likers.map((l) => [l.name, l.website]), [
      ['Mira Okafor', null],
      ['daveyone1', 'https://worldpeaceforum.example/'],
    ]);
  });

  it('shows at most 20 likers with the full count', async () => {
    const cookies = await Promise.all(Array.from({ length: 22 }, (_, i) => reader(`R${i}`)));
    for (const cookie of cookies) await like(cookie, true);
    const { count, likers } = await summary();
    assert.ok(count >= 22);
    assert.equal(likers.length, 20);
  });
});
