/**
 * Email login against a real SMTP server on loopback (`smtp-server`): the link works once and
 * expires after 15 minutes. Also: owners made by the CLI and by a single-use setup code.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { EMAIL_ISSUER } from '../../server/auth/email.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import { sessionCookie } from '../support/oidc-flow.js';
import { startSmtpInbox, type Mail, type SmtpInbox } from '../support/smtp-inbox.js';

const blog = 'https://blog.example.org';
const PUBLIC_URL = 'https://comments.example.test';
let counter = 0;
const newPost = () => `${blog}/2016/09/mail-${process.pid}-${++counter}/`;

describe('email login (loopback SMTP)', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;
  let smtp: SmtpInbox;
  let inbox: Mail[];
  let clock = Date.now();

  before(async () => {
    smtp = await startSmtpInbox();
    inbox = smtp.inbox;
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-email-'));
    store = await openStore({ dataDir: dir });
    app = await buildApp({
      store,
      secret: 'secret',
      now: () => new Date(clock),
      sites: [{ id: 'blog', name: 'The Blog', origin: blog, allowedOrigins: [blog] }],
      limits: { signInsPerMinute: 100_000, writesPerMinute: 100_000 },
      auth: {
        publicUrl: PUBLIC_URL,
        email: { smtpUrl: smtp.url, from: 'comments@blog.example.org' },
      },
    });
  });
  after(async () => {
    await app.close();
    await smtp.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function requestLink(email: string, back = `${blog}/2016/09/post/`, nonce?: string): Promise<string> {
    const before = inbox.length;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/email',
      headers: { origin: blog, 'content-type': 'application/json' },
      payload: JSON.stringify({ post: newPost(), email, return: back, ...(nonce ? { nonce } : {}) }),
    });
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(inbox.length, before + 1);
    const mail = inbox.at(-1)!;
    assert.equal(mail.to, email.toLowerCase());
    const link = /https:\/\/comments\.example\.test\/api\/v1\/auth\/email\/verify\?code=[A-Za-z0-9_-]+/.exec(mail.text)?.[0];
    assert.ok(link, mail.text);
    return link;
  }

  const open = (link: string) => app.inject(link.slice(PUBLIC_URL.length));
  const redeem = (code: string, nonce?: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/redeem',
      headers: { origin: blog, 'content-type': 'application/json' },
      payload: JSON.stringify({ code, ...(nonce ? { nonce } : {}) }),
    });

  it('says email login is on', async () => {
    assert.equal((await app.inject('/api/v1/auth/providers')).json().email, true);
  });

  it('sends a link that signs in once, back on the post', async () => {
    const link = await requestLink('Reader@Example.org');
    const first = await open(link);
    assert.equal(first.statusCode, 303);
    const location = new URL(String(first.headers.location));
    assert.equal(location.origin + location.pathname, `${blog}/2016/09/post/`);
    const code = /^#blogtalk-code=([A-Za-z0-9_-]+)$/.exec(location.hash)?.[1];
    assert.ok(code);
    const res = await redeem(code);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((res.json() as { user: { providerName: string } }).user.providerName, 'Email');
    assert.ok(sessionCookie(res.headers['set-cookie']));
    assert.equal(JSON.stringify(res.json()).includes('reader@example.org'), false, 'the address is not sent back');
    assert.ok(await store.getUserByIdentity(EMAIL_ISSUER, 'reader@example.org'));

    const second = await open(link);
    assert.equal(second.statusCode, 400, 'a second use is refused');
    assert.equal(second.headers.location, undefined);
  });

  it('binds the link to the nonce of the browser that asked for it', async () => {
    const nonce = `email-nonce-${process.pid}-abcdef`;
    const link = await requestLink('bound@example.org', `${blog}/2016/09/post/`, nonce);
    const code = /#blogtalk-code=(.+)$/.exec(String((await open(link)).headers.location))![1]!;
    const without = await redeem(code);
    assert.equal(without.statusCode, 400, 'a forwarded link does not sign in another browser');
    assert.equal(sessionCookie(without.headers['set-cookie']), null);
    const link2 = await requestLink('bound@example.org', `${blog}/2016/09/post/`, nonce);
    const code2 = /#blogtalk-code=(.+)$/.exec(String((await open(link2)).headers.location))![1]!;
    assert.equal((await redeem(code2, nonce)).statusCode, 200);
  });

  it('refuses a link after 15 minutes', async () => {
    const link = await requestLink('late@example.org');
    clock += 15 * 60_000 + 1;
    try {
      const res = await open(link);
      assert.equal(res.statusCode, 400);
      assert.equal(res.headers.location, undefined);
    } finally {
      clock -= 15 * 60_000 + 1;
    }
  });

  it('refuses a return address on another origin, and pages no site allows', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/email',
      headers: { origin: blog, 'content-type': 'application/json' },
      payload: JSON.stringify({ post: newPost(), email: 'a@example.org', return: 'https://evil.example/' }),
    });
    assert.equal(res.statusCode, 400);
    const evil = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/email',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      payload: JSON.stringify({ post: newPost(), email: 'a@example.org', return: 'https://evil.example/' }),
    });
    assert.equal(evil.statusCode, 403);
  });

  it('makes an owner with a single-use setup code, and with the CLI', async () => {
    const link = await requestLink('owner@example.org');
    const code = /#blogtalk-code=(.+)$/.exec(String((await open(link)).headers.location))![1]!;
    const cookie = sessionCookie((await redeem(code)).headers['set-cookie'])!;
    const user = (await store.getUserByIdentity(EMAIL_ISSUER, 'owner@example.org'))!;

    const setup = async (setupCode: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/owner-setup',
        headers: { origin: blog, 'content-type': 'application/json', cookie },
        payload: JSON.stringify({ code: setupCode }),
      });
    const cli = fileURLToPath(new URL('../../server/cli.js', import.meta.url));
    const run = (...args: string[]) => promisify(execFile)(process.execPath, [cli, ...args], { env: { ...process.env, DATA_DIR: dir } });

    const printed = await run('owner-link', 'blog');
    const setupCode = /#blogtalk-owner-setup=([A-Za-z0-9_-]+)/.exec(printed.stdout)?.[1];
    assert.ok(setupCode, printed.stdout);
    const done = await setup(setupCode);
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(await store.isSiteOwner('blog', user.id), true);
    assert.equal((await setup(setupCode)).statusCode, 400, 'the setup code works once');

    await store.setSiteOwner('blog', user.id, false);
    await run('make-owner', 'blog', EMAIL_ISSUER, 'owner@example.org');
    assert.equal(await store.isSiteOwner('blog', user.id), true);
    const session = await app.inject({
      url: `/api/v1/auth/session?post=${encodeURIComponent(newPost())}`,
      headers: { origin: blog, cookie },
    });
    assert.equal(session.json().owner, true);
  });
});
