/**
 * Email notifications against a real SMTP server on loopback, on SQLite and (with
 * TEST_DATABASE_URL) PostgreSQL: double opt-in, reply emails (never one's own, never held ones
 * until approved), owners' instant, held and digest emails and their settings, RFC 8058
 * one-click unsubscribe (a GET changes nothing), and sending through the job queue: a comment
 * posted while SMTP is down or refusing is accepted at once and its email arrives later.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';
import { startSmtpInbox, type Mail, type SmtpInbox } from '../support/smtp-inbox.js';
import { startSwitchProxy, type SwitchProxy } from '../support/switch-proxy.js';

const blog = 'https://notify.example';
const publicUrl = 'https://comments.example';
const self = 'http://localhost:80';
const schema = testSchemaName();
after(() => dropTestSchema(schema));
let n = 0;
const newPost = () => `${blog}/p/${++n}/`;
const DAY_MS = 24 * 3600_000;

interface Posted {
  id: string;
  status: string;
}

for (const [name, skip, open] of [
  ['SQLite', false, (dir: string) => openStore({ dataDir: dir })],
  ['PostgreSQL', testDatabaseUrl ? false : 'TEST_DATABASE_URL not set', () => openStore({ databaseUrl: testDatabaseUrl!, pgSchema: schema })],
] as const) describe(`email notifications on ${name}`, { skip }, () => {
  let app: FastifyInstance;
  let store: Store;
  let dir: string;
  let smtp: SmtpInbox;
  let proxy: SwitchProxy;
  let offset = 0;
  let owner: { cookie: string; csrf: string; id: string };
  const ownerEmail = `owner-${process.pid}@example.org`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-notify-'));
    store = await open(dir);
    smtp = await startSmtpInbox();
    proxy = await startSwitchProxy(smtp.port);
    app = await buildApp({
      store,
      secret: 'notify-secret',
      now: () => new Date(Date.now() + offset),
      sites: [{ id: 'nt', name: 'Notify <Blog>', origin: blog, allowedOrigins: [blog] }],
      limits: { minWritingSeconds: 0, writesPerMinute: 100_000 },
      auth: { publicUrl, email: { smtpUrl: `smtp://127.0.0.1:${new URL(proxy.url).port}?ignoreTLS=true`, from: 'Comments <comments@example.org>' } },
      // The tests run the queue themselves (settle); the poll would only race them.
      jobs: { pollMs: 3_600_000 },
    });
    await app.ready();
    const now = new Date();
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: `owner-${process.pid}`, name: 'Olga', picture: null, website: null, email: ownerEmail },
      `u-owner-${process.pid}`,
      now,
    );
    await store.setSiteOwner('nt', user.id, true);
    const session = randomToken();
    await store.createSession(hashToken(session), { userId: user.id, provider: 'test', created: now, expires: new Date(now.getTime() + DAY_MS) });
    const cookie = `blogtalk_session=${session}`;
    const csrf = ((await app.inject({ url: '/api/v1/admin/session', headers: { cookie } })).json() as { csrfToken: string }).csrfToken;
    owner = { cookie, csrf, id: user.id };
  });
  after(async () => {
    await app.close();
    await proxy.close();
    await smtp.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await settle();
    smtp.inbox.length = 0;
    offset = 0;
    smtp.refuse(null);
    proxy.point(smtp.port);
    await setOwner({ comments: 'each', held: true });
  });

  /** Lets queued notifications run now (the job runner, as its poll would). */
  async function settle(): Promise<void> {
    await app.notifier!.settled();
    await app.jobs.runDue();
  }

  /** Settles until `check` holds (up to 5 s): an approval is announced through PostgreSQL's NOTIFY, asynchronously. */
  async function settleUntil(check: () => boolean): Promise<void> {
    for (let waited = 0; ; waited += 20) {
      await settle();
      if (check()) return;
      assert.ok(waited < 5000, 'timed out waiting for an email');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function post(postUrl: string, fields: { name?: string; email?: string; body?: string; parent?: string; subscribe?: boolean } = {}) {
    const { name = 'Ann', email = 'ann@example.org', body = 'Hello', parent, subscribe } = fields;
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: { origin: blog, 'idempotency-key': `k-${randomToken(12)}` },
      payload: { post: postUrl, author: { name, email }, body, ...(parent ? { parent } : {}), ...(subscribe ? { subscribe } : {}) },
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json() as Posted;
  }

  async function setOwner(settings: { comments: 'each' | 'digest' | 'off'; held: boolean }) {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/notifications',
      headers: { cookie: owner.cookie, origin: self, 'x-csrf-token': owner.csrf },
      payload: { site: 'nt', ...settings },
    });
    assert.equal(response.statusCode, 200, response.body);
  }

  const to = (address: string) => smtp.inbox.filter((mail) => mail.to === address);
  const linkIn = (mail: Mail, path: string) => {
    const match = new RegExp(`${publicUrl.replace(/\./g, '\\.')}${path}/[A-Za-z0-9._-]+`).exec(mail.plain ?? '');
    assert.ok(match, `no ${path} link in:\n${mail.text}`);
    return match[0].slice(publicUrl.length);
  };
  const header = (mail: Mail, name: string) => mail.headers[name.toLowerCase()];

  /** Subscribes `email` to replies to a new comment and confirms, as the reader would. */
  async function subscribed(postUrl: string, email: string): Promise<Posted> {
    const comment = await post(postUrl, { name: 'Sam', email, body: 'Tell me when someone answers', subscribe: true });
    await settle();
    const [confirm] = to(email);
    assert.ok(confirm, 'the confirmation email arrives');
    const link = linkIn(confirm, '/api/v1/subscriptions/confirm');
    const done = await app.inject({ method: 'POST', url: link, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'confirm=yes' });
    assert.equal(done.statusCode, 200);
    smtp.inbox.length = 0;
    return comment;
  }

  it('mails a confirmation on "notify me", and sends replies only after its button is pressed (double opt-in)', async () => {
    const postUrl = newPost();
    const email = `sam-${++n}@example.org`;
    const parent = await post(postUrl, { name: 'Sam', email, body: 'First!', subscribe: true });
    await settle();
    const [confirm, ...more] = to(email);
    assert.ok(confirm);
    assert.deepEqual(more, []);
    assert.match(header(confirm, 'Subject') ?? '', /^Confirm: email me replies to my comment on “https:\/\/notify\.example\/p\/\d+\/”$/);
    assert.match(confirm.plain ?? '', /First!/, 'a plain-text part');
    assert.match(confirm.html ?? '', /First!/, 'and an HTML part');
    assert.match(header(confirm, 'List-Unsubscribe') ?? '', /^<https:\/\/comments\.example\/api\/v1\/unsubscribe\/[A-Za-z0-9._-]+>$/);
    assert.equal(header(confirm, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
    assert.ok(!/sam-\d+@example\.org/.test(header(confirm, 'List-Unsubscribe')!), 'no address in the token');
    const link = linkIn(confirm, '/api/v1/subscriptions/confirm');
    smtp.inbox.length = 0;

    // Opening the link (as a mail scanner would) confirms nothing.
    const page = await app.inject({ url: link });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<form method="post">/);
    await post(postUrl, { name: 'Rae', email: 'rae@example.org', body: 'A reply before confirming', parent: parent.id });
    await settle();
    assert.deepEqual(to(email), [], 'not confirmed: no reply email');

    const wrong = await app.inject({ method: 'POST', url: link, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'nothing=here' });
    assert.equal(wrong.statusCode, 400);
    const done = await app.inject({ method: 'POST', url: link, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'confirm=yes' });
    assert.equal(done.statusCode, 200);
    const again = await app.inject({ method: 'POST', url: link, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'confirm=yes' });
    assert.equal(again.statusCode, 404, 'single use');

    await post(postUrl, { name: 'Rae', email: 'rae@example.org', body: 'A reply after confirming', parent: parent.id });
    await settle();
    assert.equal(to(email).length, 1);
  });

  it('mails a reply with its author and excerpt as text, a link to it, and never the subscriber\'s own reply', async () => {
    const postUrl = newPost();
    const email = `sam-${++n}@example.org`;
    const parent = await subscribed(postUrl, email);
    await post(postUrl, { name: 'Sam', email: email.toUpperCase(), body: 'Answering myself', parent: parent.id });
    await settle();
    assert.deepEqual(to(email), [], 'their own reply is not mailed to them');

    const reply = await post(postUrl, { name: 'Eve <b>bold</b>', email: 'eve@example.org', body: 'Look: <script>alert(1)</script> & more', parent: parent.id });
    await settle();
    const [mail, ...more] = to(email);
    assert.ok(mail);
    assert.deepEqual(more, []);
    assert.match(header(mail, 'Subject') ?? '', /^Eve <b>bold<\/b> replied to your comment/);
    assert.ok(mail.plain?.includes('Look: <script>alert(1)</script> & more'), 'the text part has the words as they are');
    assert.ok(mail.html?.includes('Eve &#60;b&#62;bold&#60;/b&#62;'), 'the HTML part has the name escaped');
    assert.ok(mail.html?.includes('&#60;script&#62;alert(1)&#60;/script&#62; &#38; more'), 'and the excerpt');
    assert.ok(!mail.html?.includes('<script>') && !mail.html?.includes('<b>'));
    assert.ok(mail.plain?.includes(`${postUrl}#comment-${reply.id}`), 'a link to the reply');
    assert.equal(header(mail, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
  });

  it('holds back the email of a held reply until it is approved, and tells owners about the held comment once', async () => {
    const postUrl = newPost();
    const email = `sam-${++n}@example.org`;
    const parent = await subscribed(postUrl, email);
    await store.putModerationSettings('nt', postUrl, { policy: 'hold-all', maxLinks: null, closed: false });
    const reply = await post(postUrl, { name: 'Hal', email: 'hal@example.org', body: 'Held for now', parent: parent.id });
    assert.equal(reply.status, 'pending');
    await settle();
    assert.deepEqual(to(email), [], 'no email for a held reply');
    const [held, ...moreHeld] = to(ownerEmail);
    assert.ok(held);
    assert.deepEqual(moreHeld, []);
    assert.match(header(held, 'Subject') ?? '', /^Held for moderation: a comment by Hal/);
    assert.ok(held.plain?.includes(`${publicUrl}/admin`));

    const approved = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/comments/actions',
      headers: { cookie: owner.cookie, origin: self, 'x-csrf-token': owner.csrf },
      payload: { site: 'nt', action: 'approve', ids: [reply.id] },
    });
    assert.equal(approved.statusCode, 200, approved.body);
    await settleUntil(() => to(email).length > 0);
    const [mail] = to(email);
    assert.ok(mail, 'approved: now it is mailed');
    assert.match(mail.plain ?? '', /Held for now/);
    assert.equal(to(ownerEmail).length, 1, 'the owner, told already, is not told again');
  });

  it('never mails a comment taken for spam', async () => {
    const postUrl = newPost();
    const email = `sam-${++n}@example.org`;
    const parent = await subscribed(postUrl, email);
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: { origin: blog, 'idempotency-key': `k-${randomToken(12)}` },
      payload: { post: postUrl, author: { name: 'Bot', email: 'bot@example.org' }, body: 'Buy', parent: parent.id, honeypot: 'filled' },
    });
    assert.equal(response.statusCode, 201);
    await settle();
    assert.deepEqual(to(email), []);
    assert.deepEqual(to(ownerEmail), []);
  });

  it("mails owners each new comment, not their own, and nothing when they turn it off", async () => {
    const postUrl = newPost();
    const comment = await post(postUrl, { name: 'Gus', body: 'Nice post' });
    await settle();
    const [mail, ...more] = to(ownerEmail);
    assert.ok(mail);
    assert.deepEqual(more, []);
    assert.match(header(mail, 'Subject') ?? '', /^New comment by Gus/);
    assert.ok(mail.plain?.includes(`${postUrl}#comment-${comment.id}`));
    assert.match(header(mail, 'List-Unsubscribe') ?? '', /\/api\/v1\/unsubscribe\//);

    await setOwner({ comments: 'off', held: true });
    await post(postUrl, { name: 'Gus', body: 'Another' });
    await settle();
    assert.equal(to(ownerEmail).length, 1);
    const settings = await app.inject({ url: '/api/v1/admin/notifications?site=nt', headers: { cookie: owner.cookie } });
    assert.deepEqual(settings.json(), { comments: 'off', held: true, mail: true, address: true });
  });

  it('sends a daily digest of the day\'s comments instead, once, after the day is over', async () => {
    await setOwner({ comments: 'digest', held: true });
    const postUrl = newPost();
    await post(postUrl, { name: 'Dora', body: 'Digest one' });
    await post(postUrl, { name: 'Dino', body: 'Digest two' });
    await settle();
    assert.deepEqual(to(ownerEmail), [], 'nothing at once');
    const now = Date.now();
    offset = Date.parse(`${new Date(now).toISOString().slice(0, 10)}T00:00:00Z`) + DAY_MS + 60_000 - now;
    await settle();
    const [digest, ...more] = to(ownerEmail);
    assert.ok(digest, 'the digest arrives after midnight (UTC)');
    assert.deepEqual(more, []);
    assert.match(header(digest, 'Subject') ?? '', /^\d+ new comments? on Notify <Blog>/);
    assert.ok(digest.plain?.includes('Digest one') && digest.plain.includes('Digest two'));
    assert.ok(digest.html?.includes('Digest one'));
    assert.equal(header(digest, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
    await settle();
    assert.equal(to(ownerEmail).length, 1, 'once');
  });

  it('unsubscribes with the RFC 8058 one-click form post only; opening the link changes nothing', async () => {
    const postUrl = newPost();
    const email = `sam-${++n}@example.org`;
    const parent = await subscribed(postUrl, email);
    await post(postUrl, { name: 'Rae', email: 'rae@example.org', body: 'One', parent: parent.id });
    await settle();
    const [first] = to(email);
    const link = /^<(.*)>$/.exec(header(first!, 'List-Unsubscribe')!)![1]!.slice(publicUrl.length);

    const page = await app.inject({ url: link });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /name="List-Unsubscribe" value="One-Click"/);
    const json = await app.inject({ method: 'POST', url: link, payload: { 'List-Unsubscribe': 'One-Click' } });
    assert.equal(json.statusCode, 415, 'JSON is not the form RFC 8058 specifies');
    const other = await app.inject({ method: 'POST', url: link, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=Yes' });
    assert.equal(other.statusCode, 400);
    const forged = await app.inject({
      method: 'POST',
      url: link.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    assert.equal(forged.statusCode, 404);
    await post(postUrl, { name: 'Rae', email: 'rae@example.org', body: 'Two', parent: parent.id });
    await settle();
    assert.equal(to(email).length, 2, 'still subscribed after the GET and the refused posts');

    const done = await app.inject({ method: 'POST', url: link, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    assert.equal(done.statusCode, 200);
    await post(postUrl, { name: 'Rae', email: 'rae@example.org', body: 'Three', parent: parent.id });
    await settle();
    assert.equal(to(email).length, 2, 'no more');

    // An owner's held-comment emails end the same way, and only those.
    await store.putModerationSettings('nt', postUrl, { policy: 'hold-all', maxLinks: null, closed: false });
    smtp.inbox.length = 0;
    await post(postUrl, { name: 'Hal', body: 'Held' });
    await settle();
    const held = to(ownerEmail)[0]!;
    const heldLink = /^<(.*)>$/.exec(header(held, 'List-Unsubscribe')!)![1]!.slice(publicUrl.length);
    const off = await app.inject({ method: 'POST', url: heldLink, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    assert.equal(off.statusCode, 200);
    assert.deepEqual(await store.ownerMailSettings('nt', owner.id), { comments: 'each', held: false });
  });

  /** A signed-in reader's session cookie (an account with or without an address). */
  async function reader(email: string | null): Promise<string> {
    const now = new Date();
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: `r-${++n}-${process.pid}`, name: 'Rita', picture: null, website: null, email },
      `u-r-${n}-${process.pid}`,
      now,
    );
    const session = randomToken();
    await store.createSession(hashToken(session), { userId: user.id, provider: 'test', created: now, expires: new Date(now.getTime() + DAY_MS) });
    return `blogtalk_session=${session}`;
  }

  it("offers and honours 'notify me' for a signed-in reader with an address, and for none without", async () => {
    const postUrl = newPost();
    const email = `rita-${++n}@example.org`;
    for (const [cookie, mailable] of [
      [await reader(email), true],
      [await reader(null), false],
    ] as const) {
      const session = await app.inject({ url: `/api/v1/auth/session?post=${encodeURIComponent(postUrl)}`, headers: { cookie, origin: blog } });
      assert.equal((session.json() as { user: { mailable?: boolean } }).user.mailable, mailable || undefined);
      assert.ok(!session.body.includes('@example.org'), 'never the address');
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/comments',
        headers: { origin: blog, cookie, 'idempotency-key': `k-${randomToken(12)}` },
        payload: { post: postUrl, body: mailable ? 'Signed in, tell me' : 'No address here', subscribe: true },
      });
      assert.equal(response.statusCode, 201, response.body);
    }
    await settle();
    const mails = smtp.inbox.filter((mail) => mail.to !== ownerEmail);
    assert.deepEqual(mails.map((mail) => mail.to), [email], 'one confirmation, to the account with an address');
    assert.match(header(mails[0]!, 'Subject') ?? '', /^Confirm: /);
  });

  it('sends one confirmation a minute to an address, however many comments name it', async () => {
    const postUrl = newPost();
    const email = `victim-${++n}@example.org`;
    for (let i = 0; i < 3; i++) await post(postUrl, { name: 'Mallory', email, body: `Spam ${i}`, subscribe: true });
    await settle();
    assert.equal(to(email).length, 1);
  });

  it('accepts a comment at once while SMTP is down, and its email arrives after SMTP comes back', async () => {
    proxy.point(null);
    const email = `sam-${++n}@example.org`;
    const comment = await post(newPost(), { name: 'Sam', email, body: 'Posted while mail is down', subscribe: true });
    assert.equal(comment.status, 'published');
    await settle();
    assert.deepEqual(to(email), []);
    const waiting = (await store.listJobs('queued', 1000)).filter((job) => (job.payload as { type?: string }).type === 'confirm');
    assert.equal(waiting.length, 1, 'the email waits in the queue');
    assert.ok(waiting[0]!.lastError, 'with the reason it failed');
    assert.equal(waiting[0]!.attempts, 1);

    proxy.point(smtp.port);
    await settle();
    assert.deepEqual(to(email), [], 'not before its retry time');
    offset = 31_000; // the first retry comes 30 s later
    await settle();
    assert.equal(to(email).length, 1, 'delivered on the retry');
  });

  it('retries a send the SMTP server refuses with 451 and with 550, until it is accepted', async () => {
    smtp.refuse(451);
    const email = `sam-${++n}@example.org`;
    await post(newPost(), { name: 'Sam', email, body: 'Refused for now', subscribe: true });
    await settle();
    smtp.refuse(550);
    offset = 31_000;
    await settle();
    assert.deepEqual(to(email), []);
    smtp.refuse(null);
    offset = 31_000 + 61_000;
    await settle();
    assert.equal(to(email).length, 1);
  });
});

describe('without SMTP', () => {
  it('takes "notify me" as nothing: no subscription, no job, and the owner settings say mail is off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'blogtalk-nomail-'));
    const store = await openStore({ dataDir: dir });
    const app = await buildApp({
      store,
      secret: 's',
      sites: [{ id: 'nt', name: 'Blog', origin: blog, allowedOrigins: [blog] }],
      limits: { minWritingSeconds: 0 },
    });
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/comments',
        headers: { origin: blog, 'idempotency-key': `k-${randomToken(12)}` },
        payload: { post: `${blog}/p/x/`, author: { name: 'Ann', email: 'ann@example.org' }, body: 'Hi', subscribe: true },
      });
      assert.equal(response.statusCode, 201);
      await app.jobs.runDue();
      assert.equal(app.notifier, null);
      assert.deepEqual(await store.listJobs('queued', 10), []);
      assert.deepEqual(await store.listJobs('done', 10), []);
      assert.equal((await store.exportAuthor({ siteId: 'nt', email: 'ann@example.org' })).subscriptions, undefined);
    } finally {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
