/**
 * The sign-in popup cut off by a provider's Cross-Origin-Opener-Policy: the widget's nonce is
 * the SHA-256 (hex) of a secret it kept, and the server keeps the hand-off under that nonce too,
 * so the widget can redeem the secret by fetch when no message arrives.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { startDevProvider, type DevProvider } from '../../server/auth/dev-provider.js';
import { hashToken } from '../../server/auth/tokens.js';
import { openStore } from '../../server/store/index.js';
import { Browser, handoffData, PUBLIC_URL, sessionCookie } from '../support/oidc-flow.js';

const blog = 'https://blog.example.org';
let counter = 0;
const secret = () => `secret-${process.pid}-${++counter}-abcdefghijk`;

describe('sign-in hand-off without window.opener (COOP fallback)', () => {
  let dir: string;
  let app: FastifyInstance;
  let idp: DevProvider;
  let clock = Date.now();

  before(async () => {
    idp = await startDevProvider({ redirectUris: [`${PUBLIC_URL}/api/v1/auth/callback/demo`] });
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-coop-'));
    app = await buildApp({
      store: await openStore({ dataDir: dir }),
      secret: 'secret',
      now: () => new Date(clock),
      sites: [{ id: 'blog', name: 'Blog', origin: blog, allowedOrigins: [blog] }],
      limits: { signInsPerMinute: 100_000 },
      auth: { providers: [idp.config], publicUrl: PUBLIC_URL },
    });
  });
  after(async () => {
    await app.close();
    await idp.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Start (popup, or with `return` the redirect flow) → provider → callback. */
  async function signIn(nonce: string, extra = '') {
    const post = `${blog}/coop/${++counter}`;
    const start = await app.inject(
      `/api/v1/auth/start/demo?post=${encodeURIComponent(post)}&origin=${encodeURIComponent(blog)}&nonce=${nonce}${extra}`,
    );
    assert.equal(start.statusCode, 302, start.body);
    const browser = new Browser(app);
    return browser.request(await browser.toCallback(start.headers.location as string));
  }

  const redeem = (body: Record<string, unknown>) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/redeem',
      headers: { origin: blog, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });

  it('redeems the kept secret once, with its nonce, for a session; the page never shows the secret', async () => {
    const kept = secret();
    const nonce = hashToken(kept);
    const page = await signIn(nonce);
    assert.equal(page.body.includes(kept), false);
    assert.equal(handoffData(page.body)['nonce'], nonce);

    const ok = await redeem({ code: kept, nonce });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.ok(sessionCookie(ok.headers['set-cookie']));
    assert.equal((ok.json() as { user: { name: string } }).user.name, 'Dev Reader');
    assert.equal((await redeem({ code: kept, nonce })).statusCode, 400, 'single use');
    // The code in the page still works for a widget that did get the message.
    assert.equal((await redeem({ code: handoffData(page.body)['code'], nonce })).statusCode, 200);
  });

  it('keeps nothing under a nonce that is not a SHA-256, nor in the redirect flow, and refuses a guessed secret', async () => {
    const plain = `plain-${process.pid}-nonce-abcdefgh`;
    await signIn(plain);
    assert.equal((await redeem({ code: plain, nonce: plain })).statusCode, 400);

    const kept = secret();
    const nonce = hashToken(kept);
    await signIn(nonce, `&return=${encodeURIComponent(`${blog}/back`)}`);
    assert.equal((await redeem({ code: kept, nonce })).statusCode, 400, 'the redirect flow brings its code back itself');

    const burnt = secret();
    await signIn(hashToken(burnt));
    assert.equal((await redeem({ code: burnt })).statusCode, 400, 'not without the nonce');

    const other = secret();
    const popupNonce = hashToken(other);
    await signIn(popupNonce);
    assert.equal((await redeem({ code: secret(), nonce: popupNonce })).statusCode, 400);
  });

  it('expires the kept hand-off with the code (60 s)', async () => {
    const kept = secret();
    const nonce = hashToken(kept);
    await signIn(nonce);
    clock += 61_000;
    try {
      assert.equal((await redeem({ code: kept, nonce })).statusCode, 400);
    } finally {
      clock -= 61_000;
    }
  });
});
