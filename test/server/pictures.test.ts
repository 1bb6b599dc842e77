/**
 * Provider pictures through the comment server: only signed URLs, only raster images of a
 * bounded size, from public addresses; browsers get paths on the comment server, never the
 * provider's URL. The "provider" is a loopback server; refusals use an injected resolver.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import type { GuardedFetchOptions } from '../../server/http/guarded-fetch.js';
import { pictureUrl } from '../../server/routes/pictures.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';

/** A valid 1×1 PNG. */
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const blog = 'https://pictures.example';
const post = `${blog}/2016/09/kerry-lavrov/`;
const secret = 'picture-secret';

describe('provider pictures through the comment server', () => {
  let provider: http.Server;
  let base: string;
  /** Requests the provider answered, by path. */
  const served: string[] = [];
  let connections = 0;
  const apps: { app: FastifyInstance; store: Store; dir: string }[] = [];

  async function makeApp(outbound: GuardedFetchOptions) {
    const dir = await mkdtemp(join(tmpdir(), 'blogtalk-pictures-'));
    const store = await openStore({ dataDir: dir });
    const app = await buildApp({
      store,
      secret,
      sites: [{ id: 'pictures', name: 'Pictures', origin: blog, allowedOrigins: [blog] }],
      limits: { writesPerMinute: 1e6, minWritingSeconds: 0 },
      outbound,
    });
    apps.push({ app, store, dir });
    return { app, store };
  }

  let app: FastifyInstance;
  let store: Store;
  before(async () => {
    provider = http.createServer((req, res) => {
      served.push(req.url ?? '');
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path.startsWith('/me.png')) return void res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      if (path === '/me.svg') {
        return void res
          .writeHead(200, { 'content-type': 'image/svg+xml' })
          .end('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
      }
      if (path === '/page') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<script>alert(1)</script>');
      if (path === '/fake.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end('<html>not a png</html>');
      if (path === '/huge.png') {
        return void res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.concat([png, Buffer.alloc(300 * 1024)]));
      }
      res.writeHead(404).end();
    });
    provider.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
    ({ app, store } = await makeApp({ allowLoopback: true, allowHttp: true }));
  });
  after(async () => {
    for (const a of apps) {
      await a.app.close();
      await rm(a.dir, { recursive: true, force: true });
    }
    provider.closeAllConnections();
    await new Promise((resolve) => provider.close(resolve));
  });

  const get = (path: string, on = app) => on.inject({ url: path });

  it('serves a signed picture with its type and locked-down headers, fetching it once', async () => {
    const url = `${base}/me.png?v=1`;
    const path = pictureUrl(secret, url);
    assert.match(path, /^\/api\/v1\/pictures\/[\w-]{43}\?u=/);
    const before = served.length;
    const [res, again] = await Promise.all([get(path), get(path)]);
    for (const r of [res, again, await get(path)]) {
      assert.equal(r.statusCode, 200);
      assert.deepEqual(r.rawPayload, png);
      assert.equal(r.headers['content-type'], 'image/png');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['cache-control'], 'public, max-age=86400');
      assert.equal(r.headers['cross-origin-resource-policy'], 'cross-origin');
      assert.match(String(r.headers['content-security-policy']), /^default-src 'none'/);
    }
    assert.deepEqual(served.slice(before), ['/me.png?v=1'], 'fetched once for three readers');
  });

  it('answers 404 to a wrong or missing signature and fetches nothing', async () => {
    const before = served.length;
    const url = `${base}/me.png?v=2`;
    const signed = pictureUrl(secret, url);
    const forged = pictureUrl('another-secret', url);
    const otherUrl = signed.replace(encodeURIComponent(url), encodeURIComponent(`${base}/me.png?v=3`));
    for (const path of [forged, otherUrl, `/api/v1/pictures/x?u=${encodeURIComponent(url)}`]) {
      const res = await get(path);
      assert.equal(res.statusCode, 404, path);
      assert.equal(res.json().error.code, 'not_found');
    }
    assert.equal(served.length, before, 'the provider was never asked');
  });

  it('refuses SVG, HTML, a PNG that is not one, an oversize picture and a missing one with a plain 404', async () => {
    for (const name of ['me.svg', 'page', 'fake.png', 'huge.png', 'gone.png']) {
      const res = await get(pictureUrl(secret, `${base}/${name}`));
      assert.equal(res.statusCode, 404, name);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8', name);
      assert.deepEqual(res.json(), { error: { code: 'not_found', message: 'No such picture.' } }, name);
    }
  });

  it('never connects to a name that resolves to a private or loopback address', async () => {
    const port = (provider.address() as AddressInfo).port;
    const { app: strict } = await makeApp({
      allowHttp: true,
      resolve: async (name) => [{ address: name === 'metadata.test' ? '169.254.169.254' : '127.0.0.1', family: 4 }],
    });
    const before = connections;
    for (const url of [`http://avatars.test:${port}/me.png`, `http://metadata.test:${port}/me.png`, `http://127.0.0.1:${port}/me.png`]) {
      assert.equal((await get(pictureUrl(secret, url), strict)).statusCode, 404, url);
    }
    assert.equal(connections, before, 'no connection was opened');
  });

  it('limits picture requests from one address to 300 a minute', async () => {
    const { app: limited } = await makeApp({ allowLoopback: true, allowHttp: true });
    const path = pictureUrl('another-secret', `${base}/me.png`);
    const counts: Record<number, number> = {};
    for (let i = 0; i < 301; i++) {
      const { statusCode } = await get(path, limited);
      counts[statusCode] = (counts[statusCode] ?? 0) + 1;
    }
    assert.deepEqual(counts, { 404: 300, 429: 1 });
  });

  it('gives browsers the proxied path of a signed-in author, a session user and a liker, never the provider URL', async () => {
    const picture = `${base}/me.png?who=ann`;
    const now = new Date();
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: 'ann', name: 'Ann', picture, website: null, email: null },
      'u-ann',
      now,
    );
    const session = randomToken();
    await store.createSession(hashToken(session), {
      userId: user.id,
      provider: 'test',
      created: now,
      expires: new Date(now.getTime() + 3_600_000),
    });
    const headers = { 'content-type': 'application/json', origin: blog, cookie: `blogtalk_session=${session}` };
    const posted = await app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: { ...headers, 'idempotency-key': randomToken() },
      payload: JSON.stringify({ post, body: 'Hello with a face.' }),
    });
    assert.equal(posted.statusCode, 201, posted.body);
    const expected = pictureUrl(secret, picture);
    assert.equal(posted.json().author.picture, expected);
    const listed = await app.inject({ url: `/api/v1/comments?post=${encodeURIComponent(post)}`, headers: { origin: blog } });
    assert.equal(listed.json().comments[0].author.picture, expected);
    const me = await app.inject({ url: `/api/v1/auth/session?post=${encodeURIComponent(post)}`, headers });
    assert.equal(me.json().user.picture, expected);
    const liked = await app.inject({ method: 'POST', url: '/api/v1/likes', headers, payload: JSON.stringify({ post, liked: true }) });
    assert.equal(liked.json().likers[0].picture, expected);
    const likes = await app.inject({ url: `/api/v1/likes?post=${encodeURIComponent(post)}`, headers: { origin: blog } });
    assert.equal(likes.json().likers[0].picture, expected);
    for (const res of [posted, listed, me, liked, likes]) {
      assert.ok(!res.body.includes(base), `the provider URL never leaves: ${res.body}`);
    }
    // And the path works.
    assert.deepEqual((await get(expected)).rawPayload, png);
  });
});
