import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Comment, CommentPage } from '../../src/data/api-types.js';
import { buildApp, type AppOptions } from '../../server/app.js';
import { openStore } from '../../server/store/index.js';

const blog = 'https://blog.example.org';
const page = 'https://blog.example.org';
let counter = 0;
const newKey = () => `key-${process.pid}-${Date.now()}-${++counter}`;
const newPost = () => `${blog}/2016/09/post-${++counter}/`;

async function makeApp(extra: Partial<AppOptions> = {}): Promise<{ app: FastifyInstance; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'blogtalk-api-'));
  const store = await openStore({ dataDir: dir });
  const app = await buildApp({
    store,
    secret: 'secret',
    sites: [
      { id: 'blog', name: 'Blog', origin: blog, allowedOrigins: [page] },
      { id: 'other', name: 'Other', origin: 'https://other.example', allowedOrigins: ['https://other.example'] },
    ],
    distDir: resolve('dist'),
    ...extra,
    limits: { writesPerMinute: 100_000, ...extra.limits },
  });
  return {
    app,
    async cleanup() {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function comment(post: string, over: Record<string, unknown> = {}) {
  return {
    post,
    pageTitle: 'A post',
    author: { name: 'Ada', email: 'ada@example.org', website: 'https://ada.example' },
    body: 'Hello there',
    ...over,
  };
}

describe('comment API', () => {
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  before(async () => ({ app, cleanup } = await makeApp()));
  after(() => cleanup());

  const post = (body: unknown, key: string | null = newKey(), headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: { 'content-type': 'application/json', origin: page, ...(key ? { 'idempotency-key': key } : {}), ...headers },
      payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  const list = async (postUrl: string, query = '') => {
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/comments?post=${encodeURIComponent(postUrl)}${query}`,
      headers: { origin: page },
    });
    return { res, page: res.json() as CommentPage };
  };

  it('answers the health check', async () => {
    const res = await app.inject('/healthz');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('lists an unknown post of a known site as an empty thread', async () => {
    const url = newPost();
    const { res, page } = await list(url);
    assert.equal(res.statusCode, 200);
    const { events, ...body } = page as typeof page & { events: number };
    assert.ok(Number.isSafeInteger(events) && events >= 0, 'where the live stream starts from');
    assert.deepEqual(body, { post: { url, title: null }, total: 0, comments: [], older: null, editWindow: 900 });
  });

  it('stores a comment, shows it, and never sends the email address', async () => {
    const url = newPost();
    const res = await post(comment(url));
    assert.equal(res.statusCode, 201);
    const created = res.json() as Comment;
    assert.equal(created.body, 'Hello there');
    assert.equal(created.author.name, 'Ada');
    assert.equal(created.author.website, 'https://ada.example/');
    assert.match(created.author.avatar, /^[0-9a-f]{32}$/);
    assert.equal(created.parent, null);
    assert.equal(res.body.includes('ada@example.org'), false);
    const { page: listed, res: listRes } = await list(url);
    assert.equal(listed.total, 1);
    assert.equal(listed.post.title, 'A post');
    assert.deepEqual(listed.comments, [created]);
    assert.equal(listRes.body.includes('ada@example.org'), false);
    assert.equal(listRes.body.includes('example.org"'), false);
  });

  it('canonicalises the post URL: fragment and query dropped, host lowercased, default port dropped', async () => {
    const url = newPost();
    const variant = url.replace('blog.example.org', 'BLOG.example.org:443') + '?utm=x#comment-1';
    assert.equal((await post(comment(variant))).statusCode, 201);
    const { page: listed } = await list(url);
    assert.equal(listed.post.url, url);
    assert.equal(listed.total, 1);
  });

  it('answers 304 to a matching ETag and a new ETag once the thread changes', async () => {
    const url = newPost();
    await post(comment(url));
    const first = await list(url);
    const etag = first.res.headers.etag as string;
    assert.ok(etag);
    const again = await app.inject({
      method: 'GET',
      url: `/api/v1/comments?post=${encodeURIComponent(url)}`,
      headers: { 'if-none-match': etag },
    });
    assert.equal(again.statusCode, 304);
    await post(comment(url, { body: 'second' }));
    const changed = await list(url);
    assert.notEqual(changed.res.headers.etag, etag);
  });

  it('keeps emoji and every script byte for byte', async () => {
    const url = newPost();
    const text = 'Ünïcödé 😀𝄞 مرحبا 你好 שלום\n\nline\r\nend  ';
    const res = await post(comment(url, { body: text, author: { name: 'Zoë 🦊', email: 'z@example.org' } }));
    assert.equal(res.statusCode, 201);
    const { page: listed } = await list(url);
    assert.equal(listed.comments[0]?.body, text);
    assert.equal(listed.comments[0]?.author.name, 'Zoë 🦊');
  });

  describe('idempotency', () => {
    it('returns the first result for a retry with the same key and body, storing one copy', async () => {
      const url = newPost();
      const key = newKey();
      const first = await post(comment(url), key);
      const second = await post(comment(url), key);
      assert.equal(first.statusCode, 201);
      assert.equal(second.statusCode, 201);
      assert.equal(second.headers['idempotent-replayed'], 'true');
      assert.deepEqual(second.json(), first.json());
      assert.equal((await list(url)).page.total, 1);
    });

    it('refuses the same key with a different body with 422', async () => {
      const url = newPost();
      const key = newKey();
      await post(comment(url), key);
      const res = await post(comment(url, { body: 'something else' }), key);
      assert.equal(res.statusCode, 422);
      assert.equal(res.json().error.code, 'idempotency_mismatch');
      assert.equal((await list(url)).page.total, 1);
    });

    it('stores one copy when the same key arrives many times at once', async () => {
      const url = newPost();
      const key = newKey();
      const results = await Promise.all(Array.from({ length: 10 }, () => post(comment(url), key)));
      for (const res of results) {
        assert.ok(res.statusCode === 201 || res.statusCode === 409, `status ${res.statusCode}`);
        if (res.statusCode === 409) assert.equal(res.headers['retry-after'], '1');
      }
      assert.ok(results.some((res) => res.statusCode === 201));
      assert.equal((await list(url)).page.total, 1);
    });

    it('requires an Idempotency-Key header', async () => {
      const res = await post(comment(newPost()), null);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error.code, 'idempotency_key_required');
    });
  });

  describe('replies', () => {
    it('threads a reply under its parent', async () => {
      const url = newPost();
      const parent = (await post(comment(url))).json() as Comment;
      const reply = await post(comment(url, { parent: parent.id, body: 'a reply' }));
      assert.equal(reply.statusCode, 201);
      assert.equal(reply.json().parent, parent.id);
      assert.equal(reply.json().depth, 1);
      const { page: listed } = await list(url);
      assert.deepEqual(
        listed.comments.map((c) => c.body),
        ['Hello there', 'a reply'],
      );
      assert.equal(listed.total, 2);
    });

    it('refuses a parent from another post', async () => {
      const parent = (await post(comment(newPost()))).json() as Comment;
      const url = newPost();
      const res = await post(comment(url, { parent: parent.id }));
      assert.equal(res.statusCode, 422);
      assert.equal(res.json().error.code, 'parent_not_found');
      assert.equal((await list(url)).page.total, 0);
    });

    it('refuses replies deeper than the limit with a clear message', async () => {
      const url = newPost();
      let parent: string | null = null;
      for (let depth = 0; depth <= 5; depth++) {
        const res = await post(comment(url, { parent, body: `depth ${depth}` }));
        assert.equal(res.statusCode, 201, res.body);
        parent = (res.json() as Comment).id;
      }
      const res = await post(comment(url, { parent }));
      assert.equal(res.statusCode, 422);
      assert.equal(res.json().error.code, 'too_deep');
      assert.match(res.json().error.message, /5 levels/);
    });
  });

  describe('bad input is refused with a clear error and nothing stored', () => {
    const cases: [string, (url: string) => unknown, number, string][] = [
      ['an empty body', (url) => comment(url, { body: '' }), 400, 'body_empty'],
      ['a body of only spaces', (url) => comment(url, { body: '  \n ' }), 400, 'body_empty'],
      ['a body over 10,000 characters', (url) => comment(url, { body: 'x'.repeat(10_001) }), 400, 'body_too_long'],
      ['a name over 100 characters', (url) => comment(url, { author: { name: 'n'.repeat(101), email: 'a@b.co' } }), 400, 'name_too_long'],
      ['a missing name', (url) => comment(url, { author: { email: 'a@b.co' } }), 400, 'name_required'],
      ['a website over 2,000 characters', (url) => comment(url, { author: { name: 'A', email: 'a@b.co', website: `https://a.co/${'x'.repeat(2000)}` } }), 400, 'website_too_long'],
      ['a javascript: website', (url) => comment(url, { author: { name: 'A', email: 'a@b.co', website: 'javascript:alert(1)' } }), 400, 'website_invalid'],
      ['a malformed email', (url) => comment(url, { author: { name: 'A', email: 'not-an-email' } }), 400, 'email_invalid'],
      ['a NUL in the body', (url) => comment(url, { body: 'a\u0000b' }), 400, 'nul_character'],
      ['a NUL in the name', (url) => comment(url, { author: { name: 'A\u0000', email: 'a@b.co' } }), 400, 'nul_character'],
      ['a lone surrogate', (url) => `{"post":"${url}","author":{"name":"A","email":"a@b.co"},"body":"x\\ud800y"}`, 400, 'invalid_utf8'],
      ['a post URL that is not http(s)', () => comment('ftp://blog.example.org/x'), 400, 'invalid_post_url'],
      ['an unknown site', () => comment('https://unknown.example/post'), 404, 'unknown_site'],
      ['malformed JSON', () => '{"post": ', 400, 'invalid_json'],
    ];
    for (const [what, body, status, code] of cases) {
      it(`refuses ${what} with ${status} ${code}`, async () => {
        const url = newPost();
        const res = await post(body(url));
        assert.equal(res.statusCode, status, res.body);
        assert.equal(res.json().error.code, code);
        assert.ok(res.json().error.message.length > 0);
        assert.equal((await list(url)).page.total, 0);
      });
    }

    it('refuses bytes that are not UTF-8', async () => {
      const url = newPost();
      const json = Buffer.from(JSON.stringify(comment(url, { body: 'AB' })));
      const bad = Buffer.from(json.toString('latin1').replace('AB', 'A\u00ffB'), 'latin1');
      const res = await post(bad);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error.code, 'invalid_utf8');
      assert.equal((await list(url)).page.total, 0);
    });

    it('refuses a body that is not JSON with 415', async () => {
      const url = newPost();
      const res = await post(JSON.stringify(comment(url)), newKey(), { 'content-type': 'text/plain' });
      assert.equal(res.statusCode, 415);
      assert.equal(res.json().error.code, 'unsupported_media_type');
      assert.equal((await list(url)).page.total, 0);
    });

    it('refuses a request over the byte limit with 413', async () => {
      const url = newPost();
      const res = await post(comment(url, { body: '😀'.repeat(20_000) }));
      assert.equal(res.statusCode, 413);
      assert.equal(res.json().error.code, 'request_too_large');
    });

    it('refuses a page size over 1,000 and a bad cursor', async () => {
      const url = newPost();
      const big = await list(url, '&page-size=1001');
      assert.equal(big.res.statusCode, 400);
      const cursor = await list(url, '&before=not-a-cursor');
      assert.equal(cursor.res.statusCode, 400);
      assert.equal(cursor.res.json().error.code, 'invalid_cursor');
    });
  });

  it('pages by top-level threads: newest page first, then older pages back to the first', async () => {
    const url = newPost();
    for (let i = 1; i <= 5; i++) await post(comment(url, { body: `thread ${i}` }));
    const first = await list(url, '&page-size=2');
    assert.deepEqual(first.page.comments.map((c) => c.body), ['thread 4', 'thread 5']);
    assert.equal(first.page.total, 5);
    const second = await list(url, `&page-size=2&before=${first.page.older}`);
    assert.deepEqual(second.page.comments.map((c) => c.body), ['thread 2', 'thread 3']);
    const third = await list(url, `&page-size=2&before=${second.page.older}`);
    assert.deepEqual(third.page.comments.map((c) => c.body), ['thread 1']);
    assert.equal(third.page.older, null);
  });

  describe('CORS', () => {
    it("answers a preflight from a site's origin", async () => {
      const res = await app.inject({
        method: 'OPTIONS',
        url: '/api/v1/comments',
        headers: { origin: page, 'access-control-request-method': 'POST' },
      });
      assert.equal(res.statusCode, 204);
      assert.equal(res.headers['access-control-allow-origin'], page);
      assert.match(String(res.headers['access-control-allow-headers']), /Idempotency-Key/);
    });

    it('refuses a preflight from an origin no site allows', async () => {
      const res = await app.inject({
        method: 'OPTIONS',
        url: '/api/v1/comments',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(res.statusCode, 403);
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    });

    it("refuses another site's origin, even one that the server knows", async () => {
      const url = newPost();
      const res = await post(comment(url), newKey(), { origin: 'https://other.example' });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error.code, 'origin_not_allowed');
      assert.equal(res.headers['access-control-allow-origin'], undefined);
      assert.equal((await list(url)).page.total, 0);
    });

    it("sets the allow-origin header on a site's own reads and on its errors", async () => {
      const url = newPost();
      const ok = await list(url);
      assert.equal(ok.res.headers['access-control-allow-origin'], page);
      const bad = await post(comment(url, { body: '' }));
      assert.equal(bad.headers['access-control-allow-origin'], page);
    });
  });

  it('publishes an OpenAPI document describing the comment routes', async () => {
    const res = await app.inject('/api/v1/openapi.json');
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.match(doc.openapi, /^3\./);
    assert.ok(doc.paths['/api/v1/comments'].get);
    assert.ok(doc.paths['/api/v1/comments'].post);
  });

  it('serves the widget script with caching headers', async () => {
    const res = await app.inject('/blogtalk.js');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /javascript/);
    assert.match(String(res.headers['cache-control']), /max-age=/);
    assert.ok(res.headers.etag);
    const again = await app.inject({ url: '/blogtalk.js', headers: { 'if-none-match': String(res.headers.etag) } });
    assert.equal(again.statusCode, 304);
  });

  it('answers unknown routes with the error shape', async () => {
    const res = await app.inject('/api/v1/nope');
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'not_found');
  });
});

describe('write rate limit', () => {
  it('answers 429 with Retry-After past the limit', async () => {
    const { app, cleanup } = await makeApp({ limits: { writesPerMinute: 3 } });
    try {
      const url = newPost();
      const statuses: number[] = [];
      let retryAfter: unknown;
      for (let i = 0; i < 4; i++) {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/comments',
          headers: { 'content-type': 'application/json', 'idempotency-key': newKey() },
          payload: JSON.stringify(comment(url, { body: `n${i}` })),
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) {
          retryAfter = res.headers['retry-after'];
          assert.equal(res.json().error.code, 'rate_limited');
        }
      }
      assert.deepEqual(statuses, [201, 201, 201, 429]);
      assert.ok(Number(retryAfter) > 0);
    } finally {
      await cleanup();
    }
  });
});
