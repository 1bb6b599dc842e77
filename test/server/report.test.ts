/**
 * Reports: `POST /api/v1/comments/<id>/report` (once per reader: a signed-in account, or a
 * guest's address, never kept in clear), the owner's queue with counts, reasons and the
 * "reported" filter, "dismiss" with CSRF; the store's side on SQLite and PostgreSQL (export,
 * erasure, the purge that forgets which guest reported).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const blog = 'https://reports.example';
const self = 'http://localhost:80';
let n = 0;
const newPost = () => `${blog}/p/${++n}/`;

const databaseUrl = testDatabaseUrl;
const schema = testSchemaName();
after(() => dropTestSchema(schema));

interface Queued {
  id: string;
  status: string;
  reports?: { count: number; reasons: { reason: string; created: string }[] };
}

for (const [name, skip, open] of [
  ['SQLite', false, (dir: string) => openStore({ dataDir: dir })],
  ['PostgreSQL', databaseUrl ? false : 'TEST_DATABASE_URL not set', () => openStore({ databaseUrl: databaseUrl!, pgSchema: schema })],
] as const) describe(`reports on ${name}`, { skip }, () => {
  let app: FastifyInstance;
  let store: Store;
  let dir: string;
  let owner: { cookie: string; csrf: string; id: string };

  async function signIn(who: string, asOwner = false): Promise<{ cookie: string; csrf: string; id: string }> {
    const now = new Date();
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: `${who}-${++n}`, name: who, picture: null, website: null, email: null },
      `u-${who}-${n}-${process.pid}`,
      now,
    );
    if (asOwner) await store.setSiteOwner('rep', user.id, true);
    const id = randomToken();
    await store.createSession(hashToken(id), { userId: user.id, provider: 'test', created: now, expires: new Date(now.getTime() + 3_600_000) });
    const cookie = `blogtalk_session=${id}`;
    const session = await app.inject({ url: '/api/v1/admin/session', headers: { cookie } });
    return { cookie, csrf: (session.json() as { csrfToken: string }).csrfToken, id: user.id };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-reports-'));
    store = await open(dir);
    app = await buildApp({
      store,
      secret: 's',
      sites: [{ id: 'rep', name: 'Reports', origin: blog, allowedOrigins: [blog] }],
      limits: { writesPerMinute: 1e6 },
    });
    owner = await signIn('Olive', true);
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function comment(post: string, body = 'Hello'): Promise<string> {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: { 'content-type': 'application/json', origin: blog, 'idempotency-key': `rep-${process.pid}-${++n}` },
      payload: JSON.stringify({ post, body, author: { name: 'Guest', email: 'guest@example.org' } }),
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id as string;
  }

  const report = (id: string, body: unknown, opts: { ip?: string; cookie?: string } = {}) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/comments/${encodeURIComponent(id)}/report`,
      remoteAddress: opts.ip ?? '198.51.100.7',
      headers: { 'content-type': 'application/json', origin: blog, ...(opts.cookie ? { cookie: opts.cookie } : {}) },
      payload: JSON.stringify(body),
    });

  const queue = async (query: string): Promise<Queued[]> => {
    const res = await app.inject({ url: `/api/v1/admin/comments?site=rep${query}`, headers: { cookie: owner.cookie, origin: self } });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().comments as Queued[];
  };

  const act = (action: string, ids: string[], csrf: string | null = owner.csrf) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/admin/comments/actions',
      headers: { cookie: owner.cookie, origin: self, 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) },
      payload: JSON.stringify({ site: 'rep', action, ids }),
    });

  it('counts one report per reader: the same guest address again adds nothing and answers already', async () => {
    const post = newPost();
    const id = await comment(post);
    const first = await report(id, { post, reason: 'Spam link' });
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.json(), { already: false });
    assert.equal(first.headers['access-control-allow-origin'], blog);
    const again = await report(id, { post, reason: 'Really spam' });
    assert.deepEqual(again.json(), { already: true });
    const other = await report(id, { post }, { ip: '203.0.113.9' });
    assert.deepEqual(other.json(), { already: false });
    const reader = await signIn('Rita');
    assert.deepEqual((await report(id, { post, reason: '  Rude  ' }, { cookie: reader.cookie })).json(), { already: false });
    assert.deepEqual((await report(id, { post }, { cookie: reader.cookie, ip: '192.0.2.1' })).json(), { already: true });

    const item = (await queue('&status=all')).find((c) => c.id === id)!;
    assert.equal(item.reports?.count, 3);
    assert.deepEqual(
      item.reports.reasons.map((r) => r.reason),
      ['Rude', 'Spam link'],
    );
  });

  it('keeps no address in clear: the reporter is a user id or an HMAC', async () => {
    const post = newPost();
    const id = await comment(post);
    await report(id, { post }, { ip: '198.51.100.77' });
    const summaries = await store.reportSummaries('rep', [id], 5);
    assert.equal(summaries.get(id)?.count, 1);
    // Adding the same key through the store is refused: the route's key is deterministic per address.
    const { createHmac } = await import('node:crypto');
    const key = `guest:${createHmac('sha256', 's').update('report\nrep\n198.51.100.77').digest('base64url')}`;
    assert.equal(await store.addReport({ siteId: 'rep', commentId: id, reporterKey: key, reason: null, created: new Date() }), false);
    if (name === 'SQLite') {
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(join(dir, 'blogtalk.db'), { readonly: true });
      try {
        const reporters = db.prepare('SELECT reporter FROM reports').all() as { reporter: string }[];
        assert.ok(reporters.length > 0);
        for (const { reporter } of reporters) assert.match(reporter, /^(user:[^.]+|guest:[A-Za-z0-9_-]{43}|forgotten:\d+)$/);
      } finally {
        db.close();
      }
    }
  });

  it('answers 404 for an unknown comment, one on another post, and one not published', async () => {
    const post = newPost();
    const id = await comment(post);
    const unknown = await report('nope', { post });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'comment_not_found');
    assert.equal((await report(id, { post: newPost() })).statusCode, 404);
    await store.setCommentStatus('rep', id, 'pending');
    assert.equal((await report(id, { post })).statusCode, 404);
  });

  it('bounds the reason at 500 characters and refuses one on your own comment', async () => {
    const post = newPost();
    const id = await comment(post);
    const long = await report(id, { post, reason: 'x'.repeat(501) });
    assert.equal(long.statusCode, 400);
    assert.equal((await report(id, { post, reason: 'x'.repeat(500) })).statusCode, 200);
    const writer = await signIn('Wendy');
    const mine = await app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: { 'content-type': 'application/json', origin: blog, cookie: writer.cookie, 'idempotency-key': `rep-own-${++n}` },
      payload: JSON.stringify({ post, body: 'Mine' }),
    });
    const own = await report(mine.json().id, { post }, { cookie: writer.cookie });
    assert.equal(own.statusCode, 400);
    assert.equal(own.json().error.code, 'own_comment');
  });

  it('lists reported comments of any status, the most reported first, and dismisses their reports with CSRF', async () => {
    const post = newPost();
    // The most reported is the older one: newest-first alone would list it second.
    const twice = await comment(post, 'Twice');
    const once = await comment(post, 'Once');
    const never = await comment(post, 'Never');
    await report(once, { post }, { ip: '10.1.0.1' });
    await report(twice, { post }, { ip: '10.1.0.1' });
    await report(twice, { post }, { ip: '10.1.0.2' });
    await store.setCommentStatus('rep', twice, 'spam');
    const reported = (await queue(`&status=reported&post=${encodeURIComponent(post)}`)).map((c) => [c.id, c.status, c.reports?.count]);
    assert.deepEqual(reported, [
      [twice, 'spam', 2],
      [once, 'published', 1],
    ]);
    assert.equal((await queue('&status=all')).find((c) => c.id === never)?.reports, undefined);

    const forged = await act('dismiss', [twice], null);
    assert.equal(forged.statusCode, 403);
    assert.equal(forged.json().error.code, 'csrf_invalid');
    const dismissed = await act('dismiss', [twice]);
    assert.equal(dismissed.statusCode, 200);
    assert.deepEqual(dismissed.json().results, [{ id: twice, ok: true, outcome: 'dismissed' }]);
    assert.deepEqual(
      (await queue(`&status=reported&post=${encodeURIComponent(post)}`)).map((c) => c.id),
      [once],
    );
  });

  it("puts a signed-in reader's reports in their export and takes them with their erasure", async () => {
    const post = newPost();
    const id = await comment(post);
    const reader = await signIn('Erin');
    await report(id, { post, reason: 'Off topic' }, { cookie: reader.cookie });
    const data = await store.exportAuthor({ userId: reader.id });
    assert.deepEqual(
      data.reports?.map((r) => [r.siteId, r.commentId, r.reason]),
      [['rep', id, 'Off topic']],
    );
    await store.eraseAuthor({ userId: reader.id }, new Date());
    assert.equal((await store.reportSummaries('rep', [id], 5)).get(id), undefined);
  });

  it('forgets which guest reported after the retention, keeping the count; drops reports of removed comments', async () => {
    const post = newPost();
    const id = await comment(post);
    const gone = await comment(post);
    await report(id, { post }, { ip: '10.2.0.1' });
    await report(gone, { post }, { ip: '10.2.0.1' });
    const reader = await signIn('Sam');
    await report(id, { post }, { cookie: reader.cookie });
    await store.deleteComment('rep', gone, new Date());
    await store.purgeReports(new Date(Date.now() + 60_000));
    assert.equal((await store.reportSummaries('rep', [id], 5)).get(id)?.count, 2);
    assert.equal((await store.reportSummaries('rep', [gone], 5)).get(gone), undefined);
    // The guest is forgotten, so the same address counts again; the signed-in reader is not.
    assert.deepEqual((await report(id, { post }, { ip: '10.2.0.1' })).json(), { already: false });
    assert.deepEqual((await report(id, { post }, { cookie: reader.cookie })).json(), { already: true });
    assert.equal((await store.reportSummaries('rep', [id], 5)).get(id)?.count, 3);
  });
});

describe('reports are rate-limited', () => {
  it('answers 429 past the write limit per minute', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'blogtalk-reports-rl-'));
    const store = await openStore({ dataDir: dir });
    const app = await buildApp({
      store,
      secret: 's',
      sites: [{ id: 'rep', name: 'Reports', origin: blog, allowedOrigins: [blog] }],
      limits: { writesPerMinute: 3 },
    });
    try {
      const post = newPost();
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/comments',
        headers: { 'content-type': 'application/json', origin: blog, 'idempotency-key': `rep-rl-${process.pid}` },
        payload: JSON.stringify({ post, body: 'Hi', author: { name: 'G', email: 'g@example.org' } }),
      });
      const id = res.json().id as string;
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await app.inject({
          method: 'POST',
          url: `/api/v1/comments/${id}/report`,
          remoteAddress: '10.9.9.9',
          headers: { 'content-type': 'application/json', origin: blog },
          payload: JSON.stringify({ post }),
        });
        codes.push(r.statusCode);
      }
      assert.deepEqual(codes, [200, 200, 200, 429]);
    } finally {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
