/**
 * The real reference server on loopback for browser and end-to-end tests: a fresh SQLite
 * file in a temporary folder, one test site (https://blog.test) that allows the given origins.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp, type AppOptions } from '../../server/app.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import { openStore } from '../../server/store/index.js';
import type { EmailOptions } from '../../server/auth/email.js';

export interface TestServer {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** Posts of the test site live under this origin. */
  blogOrigin: string;
  /** Moves the server's clock by `ms` (0 puts it back): edit windows and the like, without waiting. */
  shiftClock(ms: number): void;
  close(): Promise<void>;
  /**
   * Signs `name` in, as after a real sign-in: a user made on first use (owning `owns`), and a
   * hand-off code for a page on `origin` (default: the first allowed origin) to redeem
   * (`POST /api/v1/auth/redeem`, `redeem` in src/data/session.ts) for the session cookie.
   */
  signIn(name: string, options?: { origin?: string; owns?: string[]; picture?: string | null }): Promise<string>;
  /** `name`, signed in on a session of their own, likes `post` (or one of its comments) through the API. */
  like(name: string, post: string, comment?: string | null, website?: string | null): Promise<void>;
}

export interface TestServerOptions {
  /** Origins whose pages may use the test site (the test page's origin). */
  allowedOrigins: string[];
  limits?: AppOptions['limits'];
  distDir?: string;
  host?: string;
  /** SMTP for email sign-in and notifications (e.g. a loopback `smtp-inbox`); none by default. */
  email?: EmailOptions;
}

export const testBlogOrigin = 'https://blog.test';
/** A second blog on the same server (reblogs between two blogs). */
export const testBlogBOrigin = 'https://b.test';

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'blogtalk-test-'));
  const store = await openStore({ dataDir: dir });
  let offset = 0;
  const app = await buildApp({
    now: () => new Date(Date.now() + offset),
    store,
    secret: 'test-secret',
    sites: [
      { id: 'test', name: 'Test blog', origin: testBlogOrigin, allowedOrigins: options.allowedOrigins },
      { id: 'test-b', name: 'Blog B', origin: testBlogBOrigin, allowedOrigins: options.allowedOrigins },
    ],
    // Tests type in milliseconds: the time-to-write spam check would hold their comments.
    limits: { writesPerMinute: 100_000, minWritingSeconds: 0, ...options.limits },
    ...(options.distDir ? { distDir: options.distDir } : {}),
    // Provider pictures are served by the test runner on loopback (web-test-runner.config.mjs).
    outbound: { allowLoopback: true, allowHttp: true },
    ...(options.email ? { auth: { email: options.email } } : {}),
  });
  await app.listen({ port: 0, host: options.host ?? '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const user = (name: string, website: string | null = null, picture: string | null = null) =>
    store.upsertUser(
      { issuer: 'https://idp.test', subject: name, name, picture, website, email: null },
      `user-${randomToken()}`,
      new Date(),
    );
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async signIn(name, { origin = options.allowedOrigins[0] ?? null, owns = [], picture = null } = {}) {
      const code = randomToken();
      const { id } = await user(name, null, picture);
      for (const site of owns) await store.setSiteOwner(site, id, true);
      const expires = new Date(Date.now() + 60_000);
      await store.putOneTimeCode({
        ...{ hash: hashToken(code), purpose: 'handoff', siteId: 'test', userId: id },
        ...{ origin, nonce: null, data: JSON.stringify({ provider: 'test' }), expires },
      });
      return code;
    },
    async like(name, post, comment = null, website = null) {
      const session = randomToken();
      const now = new Date();
      const { id } = await user(name, website);
      const expires = new Date(now.getTime() + 3_600_000);
      await store.createSession(hashToken(session), { userId: id, provider: null, created: now, expires });
      const response = await fetch(`${url}/api/v1/likes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `blogtalk_session=${session}` },
        body: JSON.stringify({ post, comment, liked: true }),
      });
      if (!response.ok) throw new Error(`like failed: ${response.status} ${await response.text()}`);
    },
    blogOrigin: testBlogOrigin,
    shiftClock(ms) {
      offset = ms;
    },
    async close() {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
