/**
 * Guest edit tokens made by the browser: sent with the comment (`editToken`), checked by
 * pattern, kept only as a SHA-256, part of the idempotent request, so a replay after a lost
 * response leaves the writer able to edit.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { CommentPage } from '../../src/data/api-types.js';
import { buildApp } from '../../server/app.js';
import { hashToken } from '../../server/auth/tokens.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';

const blog = 'https://blog.example.org';
let counter = 0;
const newKey = () => `edit-${process.pid}-${++counter}-key`;
const newPost = () => `${blog}/edit/${++counter}`;
const token = (c: string) => c.repeat(43);
const guest = { name: 'Ann', email: 'ann@example.org' };

describe('guest edit tokens', () => {
  let app: FastifyInstance;
  let store: Store;
  let dir: string;
  let clock = Date.parse('2026-11-26T12:00:00Z');
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-edit-'));
    store = await openStore({ dataDir: dir });
    app = await buildApp({
      store,
      secret: 'secret',
      sites: [{ id: 'blog', name: 'Blog', origin: blog, allowedOrigins: [blog] }],
      limits: { writesPerMinute: 100_000, editWindowSeconds: 600 },
      now: () => new Date(clock),
    });
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const create = (body: Record<string, unknown>, key = newKey()) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: { origin: blog, 'content-type': 'application/json', 'idempotency-key': key },
      payload: JSON.stringify({ author: guest, body: 'Hello', ...body }),
    });
  const edit = (id: string, body: Record<string, unknown>) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/comments/${id}/edit`,
      headers: { origin: blog, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });

  it('stores only the SHA-256 of the token the browser sent, and sends no Edit-Token header', async () => {
    const post = newPost();
    const res = await create({ post, editToken: token('a') });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers['edit-token'], undefined);
    assert.equal(res.body.includes(token('a')), false, 'the token is not echoed');
    const { id } = res.json() as { id: string };
    const authorship = await store.getCommentAuthorship('blog', id);
    assert.equal(authorship?.editTokenHash, hashToken(token('a')));
    const ok = await edit(id, { post, body: 'Fixed', editToken: token('a') });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal((ok.json() as { body: string }).body, 'Fixed');
  });

  it('refuses a token that does not fit the pattern with 400, before storing anything', async () => {
    const post = newPost();
    for (const bad of ['short', 'x'.repeat(129), `${'a'.repeat(40)}+/=`]) {
      const res = await create({ post, editToken: bad });
      assert.equal(res.statusCode, 400, bad);
      assert.ok((res.json() as { error: { code: string } }).error.code);
    }
    const list = await app.inject({ url: `/api/v1/comments?post=${encodeURIComponent(post)}`, headers: { origin: blog } });
    assert.equal((list.json() as CommentPage).total, 0);
  });

  it('keeps the token valid when the same request is replayed after a lost response', async () => {
    const post = newPost();
    const key = newKey();
    const first = await create({ post, editToken: token('b') }, key);
    assert.equal(first.statusCode, 201);
    const replay = await create({ post, editToken: token('b') }, key);
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    const { id } = replay.json() as { id: string };
    const ok = await edit(id, { post, body: 'Edited after a replay', editToken: token('b') });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  it('treats the same key with another token as a different comment (422), and the first token still rules', async () => {
    const post = newPost();
    const key = newKey();
    const { id } = (await create({ post, editToken: token('c') }, key)).json() as { id: string };
    const other = await create({ post, editToken: token('d') }, key);
    assert.equal(other.statusCode, 422);
    assert.equal((other.json() as { error: { code: string } }).error.code, 'idempotency_mismatch');
    assert.equal((await edit(id, { post, body: 'Forged', editToken: token('d') })).statusCode, 403);
    assert.equal((await edit(id, { post, body: 'Mine', editToken: token('c') })).statusCode, 200);
  });

  it('gives a guest who sent no token no way to edit', async () => {
    const post = newPost();
    const { id } = (await create({ post })).json() as { id: string };
    assert.equal((await store.getCommentAuthorship('blog', id))?.editTokenHash, null);
    const res = await edit(id, { post, body: 'Nope', editToken: token('e') });
    assert.equal(res.statusCode, 403);
  });

  it('refuses the right token after the edit window with the window in words', async () => {
    const post = newPost();
    const { id } = (await create({ post, editToken: token('f') })).json() as { id: string };
    clock += 600_001;
    try {
      const res = await edit(id, { post, body: 'Too late', editToken: token('f') });
      assert.equal(res.statusCode, 403);
      assert.equal(res.headers['access-control-allow-origin'], blog, 'the page may read why');
      assert.deepEqual(res.json(), {
        error: { code: 'edit_window_closed', message: 'Comments can be changed only within 10 minutes of posting.' },
      });
    } finally {
      clock -= 600_001;
    }
  });

  it('tells every reader the edit window on the page of comments', async () => {
    const post = newPost();
    await create({ post, editToken: token('g') });
    const list = await app.inject({ url: `/api/v1/comments?post=${encodeURIComponent(post)}`, headers: { origin: blog } });
    assert.equal((list.json() as CommentPage).editWindow, 600);
  });
});
