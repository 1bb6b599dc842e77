/**
 * The optional Akismet check, against a stand-in on 127.0.0.1 that speaks Akismet's documented
 * answers (`true`, `true` with `X-akismet-pro-tip: discard`, `false`, `invalid` with
 * `X-akismet-debug-help`, a 500, and a request that never answers), reached through the guarded
 * outbound fetch's loopback allowance. Spam is kept as spam; every failure holds the comment for
 * moderation, never loses it. The owner's spam/approve calls go back as submit-spam / submit-ham.
 * The real Akismet is never called.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';

const blog = 'https://akismet-site.example';
const self = 'http://localhost:80';
let n = 0;
const newPost = () => `${blog}/p/${process.pid}-${++n}/`;

/** One request the stand-in received. */
interface Received {
  key: string;
  method: string;
  form: Record<string, string>;
}

/**
 * Akismet as its documentation describes it. The key picks the behaviour: `valid…` keys judge the
 * content (`true` for the documented test author `viagra-test-123`, `true` + discard for
 * "discard-me", else `false`); `invalid…` answers `invalid` with a debug header; `broken…` a 500;
 * `hang…` never answers.
 */
function standIn(received: Received[]): Server {
  const hanging = new Set<ServerResponse>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const match = /^\/([A-Za-z0-9]+)\/1\.1\/(comment-check|submit-spam|submit-ham|verify-key)$/.exec(request.url ?? '');
    let raw = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (raw += chunk));
    request.on('end', () => {
      if (!match || request.method !== 'POST') return void response.writeHead(404).end();
      const [, key, method] = match as unknown as [string, string, string];
      const form = Object.fromEntries(new URLSearchParams(raw));
      received.push({ key, method, form });
      if (method === 'verify-key') {
        // Documented: no key in the host; `key` and `blog` in the body.
        const valid = key === 'nokey' && !form.key?.startsWith('invalid');
        if (valid) return void response.writeHead(200, { 'content-type': 'text/plain' }).end('valid');
        return void response.writeHead(200, { 'content-type': 'text/plain', 'x-akismet-debug-help': 'Invalid key.' }).end('invalid');
      }
      if (key.startsWith('hang')) return void hanging.add(response);
      if (key.startsWith('broken')) return void response.writeHead(500).end('Internal Server Error');
      if (key.startsWith('invalid')) {
        return void response
          .writeHead(200, { 'content-type': 'text/plain', 'x-akismet-debug-help': 'We were unable to verify your API key.' })
          .end('invalid');
      }
      if (method !== 'comment-check') return void response.writeHead(200, { 'content-type': 'text/plain' }).end('Thanks for making the web a better place.');
      if (form.comment_author === 'viagra-test-123') return void response.writeHead(200, { 'content-type': 'text/plain' }).end('true');
      if (form.comment_content?.includes('discard-me')) {
        return void response.writeHead(200, { 'content-type': 'text/plain', 'x-akismet-pro-tip': 'discard' }).end('true');
      }
      response.writeHead(200, { 'content-type': 'text/plain' }).end('false');
    });
  });
  server.on('close', () => hanging.forEach((r) => r.destroy()));
  return server;
}

describe('Akismet (against a local stand-in)', () => {
  const received: Received[] = [];
  let akismet: Server;
  let endpoint: (key: string | null) => string;
  let app: FastifyInstance;
  let strict: FastifyInstance;
  let store: Store;
  let dir: string;
  let owner: { cookie: string; csrf: string };

  before(async () => {
    akismet = standIn(received);
    await new Promise<void>((resolve) => akismet.listen(0, '127.0.0.1', resolve));
    const port = (akismet.address() as AddressInfo).port;
    endpoint = (key) => `http://127.0.0.1:${port}/${key ?? 'nokey'}/1.1/`;
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-akismet-'));
    store = await openStore({ dataDir: dir });
    const common = {
      store,
      secret: 's',
      sites: [{ id: 'ak', name: 'Akismet site', origin: blog, allowedOrigins: [blog] }],
      limits: { writesPerMinute: 1e6, minWritingSeconds: 0 },
    };
    app = await buildApp({ ...common, outbound: { allowLoopback: true, allowHttp: true }, akismet: { endpoint, timeoutMs: 400 } });
    // The same stand-in, without the loopback allowance: the guarded fetch refuses to connect.
    strict = await buildApp({ ...common, outbound: { allowHttp: true }, akismet: { endpoint, timeoutMs: 400 } });
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: `owner-${process.pid}`, name: 'Olive', picture: null, website: null, email: 'olive@example.org' },
      `u-olive-${process.pid}`,
      new Date(),
    );
    await store.setSiteOwner('ak', user.id, true);
    const id = randomToken();
    await store.createSession(hashToken(id), { userId: user.id, provider: 'test', created: new Date(), expires: new Date(Date.now() + 3_600_000) });
    const cookie = `blogtalk_session=${id}`;
    owner = { cookie, csrf: (await app.inject({ url: '/api/v1/admin/session', headers: { cookie } })).json().csrfToken as string };
  });
  after(async () => {
    await app.close();
    await strict.close();
    await new Promise((resolve) => akismet.close(resolve));
    akismet.closeAllConnections();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    received.length = 0;
  });

  const useKey = (key: string | null) =>
    store.putSpamSettings('ak', { ipRetentionDays: null, akismetKey: key, akismetBlog: key ? 'https://akismet-site.example/' : null });

  async function write(body: string, opts: { name?: string; on?: FastifyInstance; honeypot?: string } = {}) {
    const res = await (opts.on ?? app).inject({
      method: 'POST',
      url: '/api/v1/comments',
      remoteAddress: '198.51.100.77',
      headers: {
        'content-type': 'application/json',
        origin: blog,
        'idempotency-key': `akismet-${process.pid}-${++n}`,
        'user-agent': 'Mozilla/5.0 (stand-in test)',
        referer: `${blog}/p/`,
      },
      payload: JSON.stringify({
        post: newPost(),
        body,
        author: { name: opts.name ?? 'Gina', email: 'gina@example.org', website: 'https://gina.example/' },
        ...(opts.honeypot ? { honeypot: opts.honeypot } : {}),
      }),
    });
    assert.equal(res.statusCode, 201, res.body);
    const comment = res.json() as { id: string; status: string; post: string };
    return { told: comment.status, stored: (await store.getComment('ak', comment.id))!.status, id: comment.id, post: comment.post };
  }
  const action = (action: string, ids: string[]) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/admin/comments/actions',
      headers: { origin: self, cookie: owner.cookie, 'x-csrf-token': owner.csrf, 'content-type': 'application/json' },
      payload: JSON.stringify({ site: 'ak', action, ids }),
    });

  it('sends the documented fields to comment-check; `false` (ham) leaves the site policy to decide', async () => {
    const set = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/spam-settings',
      headers: { origin: self, cookie: owner.cookie, 'x-csrf-token': owner.csrf, 'content-type': 'application/json' },
      payload: JSON.stringify({ site: 'ak', akismetKey: 'validkey0001', akismetBlog: 'https://akismet-site.example/' }),
    });
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual(
      received.map((r) => [r.key, r.method, r.form]),
      [['nokey', 'verify-key', { key: 'validkey0001', blog: 'https://akismet-site.example/' }]],
      'the key was verified first',
    );
    received.length = 0;
    const result = await write('A thoughtful reply');
    assert.deepEqual([result.told, result.stored], ['published', 'published']);
    assert.equal(received.length, 1);
    const [check] = received as [Received];
    assert.equal(check.key, 'validkey0001');
    assert.equal(check.method, 'comment-check');
    const { comment_date_gmt: date, ...form } = check.form;
    assert.deepEqual(form, {
      blog: 'https://akismet-site.example/',
      user_ip: '198.51.100.77',
      user_agent: 'Mozilla/5.0 (stand-in test)',
      referrer: `${blog}/p/`,
      permalink: result.post,
      comment_type: 'comment',
      comment_author: 'Gina',
      comment_author_email: 'gina@example.org',
      comment_author_url: 'https://gina.example/',
      comment_content: 'A thoughtful reply',
      blog_charset: 'UTF-8',
    });
    assert.ok(!Number.isNaN(Date.parse(date!)));
  });

  it('keeps a comment Akismet calls spam as spam: its writer is told "pending", nobody else sees it', async () => {
    await useKey('validkey0002');
    const result = await write('Buy now', { name: 'viagra-test-123' });
    assert.deepEqual([result.told, result.stored], ['pending', 'spam']);
    const page = await app.inject({ url: `/api/v1/comments?post=${encodeURIComponent(result.post)}`, headers: { origin: blog } });
    assert.equal(page.json().total, 0);
  });

  it('keeps a "discard" verdict as spam too: never dropped', async () => {
    await useKey('validkey0003');
    const result = await write('Pure discard-me spam');
    assert.equal(result.stored, 'spam');
    assert.ok(await store.getComment('ak', result.id));
  });

  for (const [what, key] of [
    ['an invalid key (`invalid`, with X-akismet-debug-help)', 'invalidkey01'],
    ['a 500', 'brokenkey001'],
    ['no answer within the timeout', 'hangkey00001'],
  ] as const) {
    it(`holds the comment for moderation on ${what}`, async () => {
      await useKey(key);
      const result = await write(`Judged by ${key}`);
      assert.deepEqual([result.told, result.stored], ['pending', 'pending']);
      assert.equal(received.length, 1, 'it did ask');
    });
  }

  it('holds the comment when the guarded fetch refuses the address (no loopback allowance): nothing reaches the stand-in', async () => {
    await useKey('validkey0004');
    const result = await write('Refused outbound', { on: strict });
    assert.equal(result.stored, 'pending');
    assert.equal(received.length, 0);
  });

  it('asks nothing when the site has no key, and nothing for a comment the hidden field already marked', async () => {
    await useKey(null);
    assert.equal((await write('No Akismet here')).stored, 'published');
    await useKey('validkey0005');
    assert.equal((await write('Bot', { honeypot: 'filled' })).stored, 'spam');
    assert.equal(received.length, 0);
  });

  it('tells Akismet what the owner decided, in the background: submit-spam for missed spam, submit-ham for a false alarm', async () => {
    await useKey('validkey0006');
    const missed = await write('Sneaky spam');
    const flagged = await write('Honest words', { name: 'viagra-test-123' });
    assert.equal(missed.stored, 'published');
    assert.equal(flagged.stored, 'spam');
    received.length = 0;
    assert.equal((await action('spam', [missed.id])).statusCode, 200);
    assert.equal((await action('approve', [flagged.id])).statusCode, 200);
    await app.akismet.settled();
    assert.deepEqual(
      received.map((r) => [r.method, r.form.comment_content, r.form.user_ip, r.form.blog]),
      [
        ['submit-spam', 'Sneaky spam', '198.51.100.77', 'https://akismet-site.example/'],
        ['submit-ham', 'Honest words', '198.51.100.77', 'https://akismet-site.example/'],
      ],
    );
    // Approving a comment that was never spam tells Akismet nothing.
    received.length = 0;
    await useKey('validkey0007');
    const plain = await write('Plain');
    received.length = 0;
    await action('approve', [plain.id]);
    await app.akismet.settled();
    assert.equal(received.length, 0);
  });

  it('refuses to save a key Akismet does not accept (verify-key says `invalid`), keeping the one before', async () => {
    await useKey('validkey0008');
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/spam-settings',
      headers: { origin: self, cookie: owner.cookie, 'x-csrf-token': owner.csrf, 'content-type': 'application/json' },
      payload: JSON.stringify({ site: 'ak', akismetKey: 'invalidkey99' }),
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'akismet_key_invalid');
    assert.equal((await store.spamSettings('ak')).akismetKey, 'validkey0008');
    assert.deepEqual(received.map((r) => r.method), ['verify-key']);
  });
});
