/**
 * Reblogs between two blogs on one server: the owner of blog B reblogs a post of blog A; A's
 * thread shows "… Reblogged this on B."; the reblog page is plain HTML with microformats that
 * a Webmention receiver reads as a repost. Run on SQLite and (when configured) PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { mf2 } from 'microformats-parser';
import { buildApp } from '../../server/app.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import { readMention } from '../../server/webmention/verify.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const blogA = 'https://peace.example';
const blogB = 'https://daveyone1.example';
const schema = testSchemaName();
after(() => dropTestSchema(schema));
let n = 0;
let postN = 0;

for (const [name, skip, open] of [
  ['SQLite', false, (dir: string) => openStore({ dataDir: dir })],
  ['PostgreSQL', testDatabaseUrl ? false : 'TEST_DATABASE_URL not set', () => openStore({ databaseUrl: testDatabaseUrl!, pgSchema: schema })],
] as const) describe(`reblogs between two blogs on one server (${name})`, { skip }, () => {
  let app: FastifyInstance;
  let store: Store;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-reblogs-'));
    store = await open(dir);
    app = await buildApp({
      store,
      secret: 's',
      sites: [
        { id: 'peace', name: 'World Peace Forum', origin: blogA, allowedOrigins: [blogA] },
        { id: 'davey', name: 'Davey <One> & Co', origin: blogB, allowedOrigins: [blogB] },
      ],
      limits: { writesPerMinute: 1e6 },
      auth: { publicUrl: 'https://comments.example' },
      // An address that is not a blog here is looked at (for another blogtalk server): never outside loopback.
      outbound: { resolve: async () => [] },
    });
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A signed-in user (optionally owning sites): their session cookie. */
  async function user(who: string, owns: string[] = []): Promise<string> {
    const now = new Date();
    const u = await store.upsertUser(
      { issuer: 'https://idp.example', subject: `${who}-${++n}`, name: who, picture: null, website: `https://${who}.example/`, email: null },
      `u-${who}-${n}`,
      now,
    );
    for (const site of owns) await store.setSiteOwner(site, u.id, true);
    const id = randomToken();
    await store.createSession(hashToken(id), { userId: u.id, provider: 'test', created: now, expires: new Date(now.getTime() + 3_600_000) });
    return `blogtalk_session=${id}`;
  }

  const newPost = () => `${blogA}/2016/09/kerry-lavrov-${++postN}/`;
  const reblog = (cookie: string | null, body: Record<string, unknown>) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/reblogs',
      headers: { 'content-type': 'application/json', origin: blogA, ...(cookie ? { cookie } : {}) },
      payload: JSON.stringify(body),
    });
  const undo = (cookie: string, site: string, id: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/reblogs/undo',
      headers: { 'content-type': 'application/json', origin: blogA, cookie },
      payload: JSON.stringify({ site, id }),
    });
  const thread = async (post: string) =>
    (await app.inject({ url: `/api/v1/comments?post=${encodeURIComponent(post)}`, headers: { origin: blogA } })).json() as {
      total: number;
      comments: { kind: string; author: { name: string }; body: string; reblog: { blogName: string; url: string } | null }[];
    };
  const count = async (post: string) =>
    (await app.inject({ url: `/api/v1/reblogs/count?post=${encodeURIComponent(post)}`, headers: { origin: blogA } })).json().count as number;
  const page = (url: string) => app.inject({ url: new URL(url).pathname });

  it("adds a 'reblog' response to the original thread that links to the reblog page", async () => {
    const post = newPost();
    const davey = await user('daveyone1', ['davey']);
    const res = await reblog(davey, { post, target: 'davey', commentary: 'Worth reading.', pageTitle: 'Kerry and Lavrov', excerpt: 'The talks…' });
    assert.equal(res.statusCode, 201, res.body);
    const made = res.json();
    assert.equal(made.blogName, 'Davey <One> & Co');
    assert.match(made.url, /^https:\/\/comments\.example\/reblogs\/davey\/[\w-]+$/);
    const { comments } = await thread(post);
    assert.equal(comments.length, 1);
    assert.equal(comments[0]!.kind, 'reblog');
    assert.equal(comments[0]!.author.name, 'daveyone1');
    assert.deepEqual(comments[0]!.reblog, { blogName: 'Davey <One> & Co', url: made.url });
    assert.equal(await count(post), 1);
    const listed = (await app.inject({ url: '/api/v1/reblogs?site=davey', headers: { origin: blogB } })).json().reblogs;
    assert.equal(listed[0].id, made.id);
    assert.equal(listed[0].commentary, 'Worth reading.');
    assert.equal(listed[0].title, 'Kerry and Lavrov');
  });

  it('accepts the blog by its address as well as by its id', async () => {
    const davey = await user('davey-address', ['davey']);
    const res = await reblog(davey, { post: newPost(), target: `${blogB}/` });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().site, 'davey');
  });

  it('asks a guest to sign in and refuses a blog the user does not own, readably', async () => {
    const post = newPost();
    const guest = await reblog(null, { post, target: 'davey' });
    assert.equal(guest.statusCode, 401);
    assert.equal(guest.json().error.code, 'sign_in_required');
    const stranger = await user('stranger', ['peace']);
    const refused = await reblog(stranger, { post, target: 'davey' });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error.code, 'not_owner');
    assert.match(refused.json().error.message, /do not own Davey <One> & Co/);
    assert.equal(refused.headers['access-control-allow-origin'], blogA, 'the widget can read why');
    const unknown = await reblog(stranger, { post, target: 'https://nowhere.example/' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'unknown_blog');
    const own = await reblog(stranger, { post, target: 'peace' });
    assert.equal(own.json().error.code, 'same_blog');
    assert.equal((await thread(post)).total, 0, 'nothing was stored');
  });

  it('refuses a second reblog of the same post to the same blog with a clear message', async () => {
    const post = newPost();
    const davey = await user('davey-twice', ['davey']);
    assert.equal((await reblog(davey, { post, target: 'davey' })).statusCode, 201);
    const again = await reblog(davey, { post, target: 'davey', commentary: 'again' });
    assert.equal(again.statusCode, 409);
    assert.deepEqual(again.json().error, { code: 'already_reblogged', message: 'You already reblogged this post on Davey <One> & Co.' });
    assert.equal((await thread(post)).total, 1);
  });

  it('undo removes both the reblog and its response, after which it can be reblogged again', async () => {
    const post = newPost();
    const davey = await user('davey-undo', ['davey']);
    const made = (await reblog(davey, { post, target: 'davey' })).json();
    assert.equal((await page(made.url)).statusCode, 200);
    const stranger = await user('not-an-owner');
    assert.equal((await undo(stranger, 'davey', made.id)).statusCode, 403);
    const res = await undo(davey, 'davey', made.id);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { removed: true });
    assert.equal((await thread(post)).total, 0);
    assert.equal(await count(post), 0);
    assert.equal((await page(made.url)).statusCode, 410, 'gone, as Webmention receivers understand');
    assert.equal((await undo(davey, 'davey', made.id)).statusCode, 404);
    assert.equal((await reblog(davey, { post, target: 'davey' })).statusCode, 201);
  });

  it('serves the reblog as plain HTML whose microformats say it reposts the original', async () => {
    const post = newPost();
    const davey = await user('daveyone1', ['davey']);
    const made = (await reblog(davey, { post, target: 'davey', commentary: 'Worth reading.\n\nTwice.', pageTitle: 'Kerry and Lavrov', excerpt: 'The talks…' })).json();
    const res = await page(made.url);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'/);
    assert.doesNotMatch(res.body, /<script/i);
    const { items } = mf2(res.body, { baseUrl: made.url }) as unknown as {
      items: { type: string[]; properties: Record<string, ({ type?: string[]; properties?: Record<string, string[]>; value?: string } | string)[]> }[];
    };
    const entry = items.find((item) => item.type.includes('h-entry'))!;
    assert.ok(entry, 'an h-entry');
    const repostOf = entry.properties['repost-of']![0] as { properties: Record<string, string[]> };
    assert.deepEqual(repostOf.properties['url'], [post]);
    assert.deepEqual(entry.properties['name'], ['Kerry and Lavrov']);
    assert.equal((entry.properties['author']![0] as { properties: Record<string, string[]> }).properties['name']![0], 'daveyone1');
    // What a receiving server makes of it.
    const mention = readMention(res.body, made.url, post);
    assert.equal(mention.kind, 'repost');
    assert.ok(mention.kind === 'repost');
    assert.equal(mention.blogName, 'Davey <One> & Co');
    assert.equal(mention.authorName, 'daveyone1');
    assert.equal(mention.url, made.url);
    assert.match(mention.content, /Worth reading\.\s+Twice\./);
  });

  it('escapes hostile commentary, title and excerpt on the reblog page', async () => {
    const davey = await user('davey-hostile', ['davey']);
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(1)>"\'&';
    const made = (await reblog(davey, { post: newPost(), target: 'davey', commentary: hostile, pageTitle: hostile, excerpt: hostile })).json();
    const { body } = await page(made.url);
    assert.doesNotMatch(body, /<script|<img/i);
    assert.ok(body.includes('&#60;script&#62;alert(1)&#60;/script&#62;&#60;img src=x onerror=alert(1)&#62;&#34;&#39;&#38;'));
    const { items } = mf2(body, { baseUrl: made.url }) as unknown as { items: { type: string[]; properties: Record<string, { value: string }[]> }[] };
    const entry = items.find((item) => item.type.includes('h-entry'))!;
    assert.equal(entry.properties['content']![0]!.value, hostile);
  });

  it('bounds every field and refuses NUL', async () => {
    const davey = await user('davey-bounds', ['davey']);
    const post = newPost();
    const long = await reblog(davey, { post, target: 'davey', commentary: 'x'.repeat(5_001) });
    assert.equal(long.statusCode, 400);
    assert.equal(long.json().error.code, 'commentary_too_long');
    const excerpt = await reblog(davey, { post, target: 'davey', excerpt: 'x'.repeat(1_001) });
    assert.equal(excerpt.json().error.code, 'excerpt_too_long');
    const nul = await reblog(davey, { post, target: 'davey', commentary: 'a\u0000b' });
    assert.equal(nul.statusCode, 400);
    assert.equal(nul.json().error.code, 'nul_character');
    const notUrl = await reblog(davey, { post: 'javascript:alert(1)', target: 'davey' });
    assert.equal(notUrl.json().error.code, 'invalid_post_url');
    assert.equal((await thread(post)).total, 0);
  });

  it("lists the signed-in user's own blogs to reblog on, without the post's own blog", async () => {
    const both = await user('owner-of-both', ['davey', 'peace']);
    const res = await app.inject({
      url: `/api/v1/reblogs/targets?post=${encodeURIComponent(newPost())}`,
      headers: { origin: blogA, cookie: both },
    });
    assert.deepEqual(res.json(), { sites: [{ id: 'davey', name: 'Davey <One> & Co', origin: blogB }] });
    const guest = await app.inject({ url: `/api/v1/reblogs/targets?post=${encodeURIComponent(newPost())}`, headers: { origin: blogA } });
    assert.equal(guest.statusCode, 401);
  });

  it('tells which of the user’s blogs already reblogged the post, so a reload can still offer Undo', async () => {
    const post = newPost();
    const both = await user('reblogged-before', ['davey', 'peace']);
    const targets = async () =>
      (await app.inject({ url: `/api/v1/reblogs/targets?post=${encodeURIComponent(post)}`, headers: { origin: blogA, cookie: both } })).json();
    assert.deepEqual(await targets(), { sites: [{ id: 'davey', name: 'Davey <One> & Co', origin: blogB }] });
    const made = (await reblog(both, { post, target: 'davey' })).json();
    assert.deepEqual(await targets(), { sites: [{ id: 'davey', name: 'Davey <One> & Co', origin: blogB, reblog: { id: made.id, url: made.url } }] });
    const other = await user('someone-else', ['davey']);
    const theirs = await app.inject({ url: `/api/v1/reblogs/targets?post=${encodeURIComponent(newPost())}`, headers: { origin: blogA, cookie: other } });
    assert.equal(theirs.json().sites[0].reblog, undefined, 'another post');
    assert.equal((await undo(both, 'davey', made.id)).statusCode, 200);
    assert.deepEqual(await targets(), { sites: [{ id: 'davey', name: 'Davey <One> & Co', origin: blogB }] });
  });
});
