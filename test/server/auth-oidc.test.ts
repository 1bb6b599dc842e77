/**
 * Sign-in end to end on the server side: a real OpenID Connect provider (`oidc-provider`) on
 * loopback, the blogtalk app as its client, driven the way the popup would drive it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { startDevProvider, type DevProvider } from '../../server/auth/dev-provider.js';
import { Sessions } from '../../server/auth/sessions.js';
import { hashToken } from '../../server/auth/tokens.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import { Browser, handoffData, PUBLIC_URL, sessionCookie } from '../support/oidc-flow.js';

const blog = 'https://blog.example.org';
const other = 'https://other.example';
const SESSION_SECONDS = 3600;
const EDIT_SECONDS = 900;
let counter = 0;
const newPost = () => `${blog}/2016/09/post-${process.pid}-${++counter}/`;
const newKey = () => `key-${process.pid}-${Date.now()}-${++counter}`;
const newNonce = () => `nonce-${process.pid}-${++counter}-abcdefgh`;

describe('sign-in with OpenID Connect (loopback oidc-provider)', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;
  let idp: DevProvider;
  let clock = Date.now();

  before(async () => {
    idp = await startDevProvider({ redirectUris: [`${PUBLIC_URL}/api/v1/auth/callback/demo`] });
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-auth-'));
    store = await openStore({ dataDir: dir });
    app = await buildApp({
      store,
      secret: 'secret',
      now: () => new Date(clock),
      sites: [
        { id: 'blog', name: 'Blog', origin: blog, allowedOrigins: [blog] },
        { id: 'other', name: 'Other', origin: other, allowedOrigins: [other] },
      ],
      limits: {
        writesPerMinute: 100_000,
        signInsPerMinute: 100_000,
        sessionMaxAgeSeconds: SESSION_SECONDS,
        editWindowSeconds: EDIT_SECONDS,
      },
      auth: { providers: [idp.config], publicUrl: PUBLIC_URL },
    });
  });
  after(async () => {
    await app.close();
    await idp.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** `start` for the blog page; returns the provider URL it redirects to. */
  async function start(nonce: string, extra = ''): Promise<string> {
    const res = await app.inject(
      `/api/v1/auth/start/demo?post=${encodeURIComponent(newPost())}&origin=${encodeURIComponent(blog)}&nonce=${nonce}${extra}`,
    );
    assert.equal(res.statusCode, 302, res.body);
    return res.headers.location as string;
  }

  /** Start → provider → callback page; returns the callback response. */
  async function throughProvider(nonce: string) {
    const browser = new Browser(app);
    const callback = await browser.toCallback(await start(nonce));
    return browser.request(callback);
  }

  function redeem(body: Record<string, unknown>, origin = blog) {
    return app.inject({
      method: 'POST',
      url: '/api/v1/auth/redeem',
      headers: { origin, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  }

  async function signIn(): Promise<{ cookie: string; userId: string }> {
    const nonce = newNonce();
    const page = handoffData((await throughProvider(nonce)).body);
    const res = await redeem({ code: page['code'], nonce });
    assert.equal(res.statusCode, 200, res.body);
    const cookie = sessionCookie(res.headers['set-cookie']);
    assert.ok(cookie);
    return { cookie, userId: (res.json() as { user: { id: string } }).user.id };
  }

  function session(cookie?: string) {
    return app.inject({ url: '/api/v1/auth/session', headers: { origin: blog, ...(cookie ? { cookie } : {}) } });
  }

  function postComment(post: string, cookie: string | null, extra: Record<string, unknown> = {}) {
    return app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: { origin: blog, 'content-type': 'application/json', 'idempotency-key': newKey(), ...(cookie ? { cookie } : {}) },
      payload: JSON.stringify({ post, body: 'Signed-in hello', ...extra }),
    });
  }

  it('lists the configured providers with a name and an icon, and says whether email login is on', async () => {
    const res = await app.inject('/api/v1/auth/providers');
    assert.equal(res.statusCode, 200);
    const body = res.json() as { providers: Array<{ id: string; name: string; icon: string; kind: string }>; email: boolean };
    assert.deepEqual(body.providers.map((p) => [p.id, p.name, p.kind]), [['demo', 'Demo sign-in (development only)', 'oidc']]);
    assert.equal(body.providers[0]!.icon, `${PUBLIC_URL}/api/v1/auth/icons/demo.svg`);
    assert.equal(body.email, false);
    const icon = await app.inject('/api/v1/auth/icons/demo.svg');
    assert.equal(icon.statusCode, 200);
    assert.match(String(icon.headers['content-type']), /image\/svg\+xml/);
  });

  it('signs in through the provider, posts a comment as the user, and logs out', async () => {
    const nonce = newNonce();
    const providerUrl = new URL(await start(nonce));
    assert.equal(providerUrl.origin, idp.issuer);
    assert.equal(providerUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(providerUrl.searchParams.get('state'));
    assert.ok(providerUrl.searchParams.get('nonce'));
    assert.ok(providerUrl.searchParams.get('code_challenge'));

    const browser = new Browser(app);
    const callbackUrl = await browser.toCallback(providerUrl.href);
    const page = await browser.request(callbackUrl);
    assert.equal(page.status, 200);
    assert.equal(sessionCookie(page.headers['set-cookie']), null, 'the callback sets no session');
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.doesNotMatch(page.body, /<script>/, 'no inline script');
    const src = /<script src="([^"]+)" defer><\/script>/.exec(page.body)?.[1];
    assert.equal(new URL(src!, callbackUrl).pathname, '/api/v1/auth/handoff.js');
    const data = handoffData(page.body);
    assert.equal(data['origin'], blog);
    assert.equal(data['nonce'], nonce);
    assert.match(data['code'] ?? '', /^[A-Za-z0-9_-]{43}$/);

    // The page's script, run against a stand-in window: one message, to the exact origin, then close.
    const script = await app.inject('/api/v1/auth/handoff.js');
    assert.match(String(script.headers['content-type']), /text\/javascript/);
    const posted: Array<[unknown, string]> = [];
    let closed = false;
    const fakeWindow = {
      opener: { postMessage: (message: unknown, target: string) => posted.push([message, target]) },
      close: () => (closed = true),
    };
    runInNewContext(script.body, { window: fakeWindow, document: { documentElement: { dataset: data } } });
    assert.deepEqual(JSON.parse(JSON.stringify(posted)), [[{ type: 'blogtalk-login', code: data['code'], nonce }, blog]]);
    assert.equal(closed, true);

    const redeemed = await redeem({ code: data['code'], nonce });
    assert.equal(redeemed.statusCode, 200, redeemed.body);
    assert.equal(redeemed.headers['access-control-allow-origin'], blog);
    assert.equal(redeemed.headers['access-control-allow-credentials'], 'true');
    const setCookie = String(redeemed.headers['set-cookie']);
    for (const attribute of ['HttpOnly', 'Secure', 'SameSite=None', 'Partitioned', 'Path=/api', `Max-Age=${SESSION_SECONDS}`]) {
      assert.ok(setCookie.includes(attribute), `${attribute} in ${setCookie}`);
    }
    const user = (redeemed.json() as { user: Record<string, unknown> }).user;
    assert.equal(user['name'], 'Dev Reader');
    assert.equal(user['providerName'], 'Demo sign-in (development only)');
    assert.equal(JSON.stringify(redeemed.json()).includes('dev-reader@example.invalid'), false, 'no email to browsers');
    const cookie = sessionCookie(redeemed.headers['set-cookie'])!;
    const stored = await store.getSession(hashToken(cookie.split('=')[1]!), new Date(clock));
    assert.ok(stored, 'the store keeps the session by the hash of its id');

    const current = await session(cookie);
    assert.equal(current.statusCode, 200);
    assert.equal((current.json() as { user: { name: string } }).user.name, 'Dev Reader');
    assert.equal(current.headers['access-control-allow-credentials'], 'true');

    const post = newPost();
    const created = await postComment(post, cookie);
    assert.equal(created.statusCode, 201, created.body);
    const comment = created.json() as { author: { name: string; user?: string }; id: string };
    assert.equal(comment.author.name, 'Dev Reader');
    assert.equal(typeof user['author'], 'string');
    assert.equal(comment.author.user, user['author'], 'the author pseudonym matches the session’s');
    assert.notEqual(comment.author.user, user['id'], 'not the user id, which would be the same on every site');
    assert.equal(created.headers['edit-token'], undefined, 'signed-in writers need no edit token');
    assert.equal((await store.getComment('blog', comment.id))?.userId, user['id']);

    const out = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { origin: blog, 'content-type': 'application/json', cookie },
      payload: '{}',
    });
    assert.equal(out.statusCode, 204);
    assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
    assert.deepEqual((await session(cookie)).json(), { user: null });
    const afterLogout = await postComment(post, cookie);
    assert.equal(afterLogout.statusCode, 401);
    assert.equal((afterLogout.json() as { error: { code: string } }).error.code, 'session_expired');
  });

  it('answers credentialed preflights only for an exact allowed origin, never *', async () => {
    const preflight = (origin: string) =>
      app.inject({
        method: 'OPTIONS',
        url: '/api/v1/auth/redeem',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const ok = await preflight(blog);
    assert.equal(ok.statusCode, 204);
    assert.equal(ok.headers['access-control-allow-origin'], blog);
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');
    const evil = await preflight('https://evil.example');
    assert.equal(evil.statusCode, 403);
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
  });

  it('falls back to a redirect that returns to the post with the one-time code in the fragment', async () => {
    const nonce = newNonce();
    const back = `${blog}/2016/09/post/#comment-7`;
    const browser = new Browser(app);
    const callback = await browser.toCallback(await start(nonce, `&return=${encodeURIComponent(back)}`));
    const res = await browser.request(callback);
    assert.equal(res.status, 303);
    const location = new URL(res.location!);
    assert.equal(location.origin + location.pathname, `${blog}/2016/09/post/`);
    const code = /^#blogtalk-code=([A-Za-z0-9_-]+)$/.exec(location.hash)?.[1];
    assert.ok(code, location.hash);
    assert.equal(sessionCookie(res.headers['set-cookie']), null);
    assert.equal((await redeem({ code, nonce })).statusCode, 200);
  });

  it('refuses a return address on another origin', async () => {
    const res = await app.inject(
      `/api/v1/auth/start/demo?post=${encodeURIComponent(newPost())}&origin=${encodeURIComponent(blog)}&nonce=${newNonce()}&return=${encodeURIComponent('https://evil.example/')}`,
    );
    assert.equal(res.statusCode, 400);
    assert.equal((res.json() as { error: { code: string } }).error.code, 'return_invalid');
  });

  it('refuses to start for a page origin the site does not allow', async () => {
    const res = await app.inject(
      `/api/v1/auth/start/demo?post=${encodeURIComponent(newPost())}&origin=${encodeURIComponent(other)}&nonce=${newNonce()}`,
    );
    assert.equal(res.statusCode, 403);
  });

  describe('refused, with nothing signed in', () => {
    it('a callback with a wrong state', async () => {
      const browser = new Browser(app);
      const callback = new URL(await browser.toCallback(await start(newNonce())));
      callback.searchParams.set('state', 'not-the-state-we-sent');
      const res = await browser.request(callback.href);
      assert.equal(res.status, 400);
      assert.equal(handoffData(res.body)['code'], undefined);
      assert.equal(sessionCookie(res.headers['set-cookie']), null);
    });

    it('a replayed callback (the state is single use)', async () => {
      const browser = new Browser(app);
      const callback = await browser.toCallback(await start(newNonce()));
      assert.equal((await browser.request(callback)).status, 200);
      const again = await browser.request(callback);
      assert.equal(again.status, 400);
      assert.equal(handoffData(again.body)['code'], undefined);
    });

    /** Starts, then alters the stored sign-in before the provider comes back. */
    async function tamperedCallback(change: { nonce?: string; codeVerifier?: string }) {
      const nonce = newNonce();
      const providerUrl = await start(nonce);
      const state = new URL(providerUrl).searchParams.get('state')!;
      const transaction = await store.takeAuthTransaction(hashToken(state), new Date(clock));
      assert.ok(transaction);
      await store.putAuthTransaction({ ...transaction, ...change });
      const browser = new Browser(app);
      return browser.request(await browser.toCallback(providerUrl));
    }

    it('an ID token whose nonce is not the one sent', async () => {
      const res = await tamperedCallback({ nonce: 'a-different-nonce-value' });
      assert.equal(res.status, 400);
      const data = handoffData(res.body);
      assert.equal(data['code'], undefined);
      assert.equal(data['error'], 'sign_in_failed');
    });

    it('a PKCE verifier that does not match the challenge', async () => {
      const res = await tamperedCallback({ codeVerifier: 'x'.repeat(43) });
      assert.equal(res.status, 400);
      assert.equal(handoffData(res.body)['code'], undefined);
    });

    it('a replayed hand-off code', async () => {
      const nonce = newNonce();
      const { code } = handoffData((await throughProvider(nonce)).body);
      assert.equal((await redeem({ code, nonce })).statusCode, 200);
      const again = await redeem({ code, nonce });
      assert.equal(again.statusCode, 400);
      assert.equal((again.json() as { error: { code: string } }).error.code, 'code_invalid');
      assert.equal(sessionCookie(again.headers['set-cookie']), null);
    });

    it('a hand-off code with the wrong widget nonce (and it is spent)', async () => {
      const nonce = newNonce();
      const { code } = handoffData((await throughProvider(nonce)).body);
      const wrong = await redeem({ code, nonce: newNonce() });
      assert.equal(wrong.statusCode, 400);
      assert.equal((wrong.json() as { error: { code: string } }).error.code, 'nonce_mismatch');
      assert.equal(sessionCookie(wrong.headers['set-cookie']), null);
      assert.equal((await redeem({ code, nonce })).statusCode, 400);
    });

    it('a hand-off code redeemed from another origin', async () => {
      const nonce = newNonce();
      const { code } = handoffData((await throughProvider(nonce)).body);
      const res = await redeem({ code, nonce }, other);
      assert.equal(res.statusCode, 403);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'origin_mismatch');
      assert.equal(sessionCookie(res.headers['set-cookie']), null);
      assert.equal(res.headers['access-control-allow-origin'], undefined, 'a 403 lets the other page read nothing');
    });

    it('a redeem without an Origin, or not as JSON', async () => {
      const nonce = newNonce();
      const { code } = handoffData((await throughProvider(nonce)).body);
      const noOrigin = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/redeem',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ code, nonce }),
      });
      assert.equal(noOrigin.statusCode, 403);
      const form = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/redeem',
        headers: { origin: blog, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `code=${code}&nonce=${nonce}`,
      });
      assert.equal(form.statusCode, 415);
    });

    it('a hand-off code older than 60 seconds', async () => {
      const nonce = newNonce();
      const { code } = handoffData((await throughProvider(nonce)).body);
      clock += 61_000;
      try {
        assert.equal((await redeem({ code, nonce })).statusCode, 400);
      } finally {
        clock -= 61_000;
      }
    });

    it('an expired session', async () => {
      const { cookie } = await signIn();
      clock += SESSION_SECONDS * 1000 + 1;
      try {
        assert.deepEqual((await session(cookie)).json(), { user: null });
        const res = await postComment(newPost(), cookie);
        assert.equal(res.statusCode, 401);
        assert.equal((res.json() as { error: { code: string } }).error.code, 'session_expired');
      } finally {
        clock -= SESSION_SECONDS * 1000 + 1;
      }
    });

    it('a logout from a page no site allows', async () => {
      const { cookie } = await signIn();
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: { origin: 'https://evil.example', 'content-type': 'application/json', cookie },
        payload: '{}',
      });
      assert.equal(res.statusCode, 403);
      assert.equal((await session(cookie)).json().user?.name, 'Dev Reader', 'still signed in');
    });
  });

  describe('editing and deleting', () => {
    function change(action: 'edit' | 'delete', id: string, body: Record<string, unknown>, cookie?: string) {
      return app.inject({
        method: 'POST',
        url: `/api/v1/comments/${id}/${action}`,
        headers: { origin: blog, 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
        payload: JSON.stringify(body),
      });
    }
    const guest = { name: 'Ann', email: 'ann@example.org' };

    it("lets a signed-in user edit their own comment, and not someone else's", async () => {
      const ada = await signIn();
      const post = newPost();
      const mine = (await postComment(post, ada.cookie)).json() as { id: string };
      const edited = await change('edit', mine.id, { post, body: 'Edited words' }, ada.cookie);
      assert.equal(edited.statusCode, 200, edited.body);
      assert.equal((edited.json() as { body: string }).body, 'Edited words');
      assert.ok((edited.json() as { edited?: string }).edited);
      const list = await app.inject({ url: `/api/v1/comments?post=${encodeURIComponent(post)}`, headers: { origin: blog } });
      assert.equal((list.json() as { comments: Array<{ body: string }> }).comments[0]!.body, 'Edited words');

      const guestComment = (await postComment(post, null, { author: guest })).json() as { id: string };
      const refused = await change('edit', guestComment.id, { post, body: 'Hijacked' }, ada.cookie);
      assert.equal(refused.statusCode, 403);
      assert.equal((refused.json() as { error: { code: string } }).error.code, 'not_your_comment');
      const anonymous = await change('edit', mine.id, { post, body: 'Hijacked' });
      assert.equal(anonymous.statusCode, 401);
    });

    it('lets a guest edit with the edit token it posted with, and nobody without it', async () => {
      const post = newPost();
      const token = 'T'.repeat(43);
      const created = await postComment(post, null, { author: guest, editToken: token });
      assert.equal(created.statusCode, 201);
      const { id } = created.json() as { id: string };
      assert.equal((await change('edit', id, { post, body: 'Nope', editToken: 'w'.repeat(43) })).statusCode, 403);
      assert.equal((await change('edit', id, { post, body: 'Nope' })).statusCode, 403);
      const ok = await change('edit', id, { post, body: 'Fixed typo', editToken: token });
      assert.equal(ok.statusCode, 200, ok.body);
    });

    it('refuses an edit after the window', async () => {
      const ada = await signIn();
      const post = newPost();
      const mine = (await postComment(post, ada.cookie)).json() as { id: string };
      clock += EDIT_SECONDS * 1000 + 1;
      try {
        const res = await change('edit', mine.id, { post, body: 'Too late' }, ada.cookie);
        assert.equal(res.statusCode, 403);
        assert.equal((res.json() as { error: { code: string } }).error.code, 'edit_window_closed');
        assert.equal((await change('delete', mine.id, { post }, ada.cookie)).statusCode, 403);
      } finally {
        clock -= EDIT_SECONDS * 1000 + 1;
      }
    });

    it('deleting a comment with replies leaves "This comment was deleted." in its place', async () => {
      const ada = await signIn();
      const post = newPost();
      const parent = (await postComment(post, ada.cookie)).json() as { id: string };
      const reply = await postComment(post, null, { author: guest, parent: parent.id, body: 'A reply' });
      assert.equal(reply.statusCode, 201);
      const res = await change('delete', parent.id, { post }, ada.cookie);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { id: parent.id, outcome: 'emptied' });
      const list = await app.inject({ url: `/api/v1/comments?post=${encodeURIComponent(post)}`, headers: { origin: blog } });
      const comments = (list.json() as { comments: Array<{ id: string; body: string; deleted?: boolean }> }).comments;
      assert.deepEqual(
        comments.map((c) => [c.body, c.deleted ?? false]),
        [
          ['This comment was deleted.', true],
          ['A reply', false],
        ],
      );
      const lone = (await postComment(post, ada.cookie)).json() as { id: string };
      assert.deepEqual((await change('delete', lone.id, { post }, ada.cookie)).json(), { id: lone.id, outcome: 'removed' });
    });

    it("lets a site owner delete anyone's comment", async () => {
      const owner = await signIn();
      await store.setSiteOwner('blog', owner.userId, true);
      try {
        const post = newPost();
        const created = (await postComment(post, null, { author: guest })).json() as { id: string };
        assert.equal((await change('delete', created.id, { post }, owner.cookie)).statusCode, 200);
        assert.equal((await session(owner.cookie)).statusCode, 200);
      } finally {
        await store.setSiteOwner('blog', owner.userId, false);
      }
    });
  });
});

describe('session cookie modes', () => {
  const make = (cookieMode: 'cross-site' | 'first-party') =>
    new Sessions({ store: {} as Store, now: () => new Date(), maxAgeSeconds: 600, cookieMode });

  it('is HttpOnly, Secure, SameSite=None and Partitioned for cross-site embeds', () => {
    assert.equal(make('cross-site').cookie('abc'), 'blogtalk_session=abc; Path=/api; HttpOnly; Secure; Max-Age=600; SameSite=None; Partitioned');
  });

  it('is SameSite=Lax without Partitioned in first-party mode', () => {
    assert.equal(make('first-party').cookie('abc'), 'blogtalk_session=abc; Path=/api; HttpOnly; Secure; Max-Age=600; SameSite=Lax');
    assert.match(make('first-party').cookie(null), /^blogtalk_session=; .*Max-Age=0/);
  });
});
