/**
 * The owner tools through the HTTP API, on both stores: blocks (an account, an email, an
 * address or network; refused with 403 `blocked` and nothing more; unblocked), pinned threads
 * (first for everyone, pages still whole), an owner's edit (on the live stream like an author's),
 * commenters' addresses (owners only; forgotten after the site's retention, with an injected
 * clock), the spam settings (the Akismet key never sent back), and every new POST refused to
 * non-owners and without the CSRF token.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { CommentPage } from '../../src/data/api-types.js';
import { buildApp } from '../../server/app.js';
import { hashToken, randomToken } from '../../server/auth/tokens.js';
import { addressKeys, canonicalAddress } from '../../server/moderation/blocks.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';
import { openSse } from '../support/sse-client.js';

const blog = 'https://tools.example';
/** The server's own origin as `inject` reaches it (the moderation page's origin). */
const self = 'http://localhost:80';
const DAY = 86_400_000;
let n = 0;
const newPost = () => `${blog}/p/${process.pid}-${++n}/`;

const schema = testSchemaName();
after(() => dropTestSchema(schema));

describe('addresses and networks for blocks', () => {
  it('canonicalises what an owner types, and refuses what is not an address or too wide a network', () => {
    assert.equal(canonicalAddress(' 203.0.113.7 '), '203.0.113.7');
    assert.equal(canonicalAddress('203.0.113.77/24'), '203.0.113.0/24');
    assert.equal(canonicalAddress('203.0.113.7/32'), '203.0.113.7');
    assert.equal(canonicalAddress('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(canonicalAddress('2001:DB8:0:0:1::/48'), '2001:db8::/48');
    assert.equal(canonicalAddress('2001:db8::1'), '2001:db8::1');
    assert.equal(canonicalAddress('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1');
    for (const bad of ['10.0.0.0/7', '2001:db8::/15', '2001:db8::/47', 'example.org', '1.2.3', '1.2.3.4/33', '', '1.2.3.4/']) {
      assert.equal(canonicalAddress(bad), null, bad);
    }
  });

  it('turns an address into the keys of every network that holds it', () => {
    const keys = addressKeys('203.0.113.77');
    assert.equal(keys.length, 25);
    assert.deepEqual([keys[0], keys[8], keys.at(-1)], ['203.0.113.77', '203.0.113.0/24', '203.0.0.0/8']);
    assert.ok(addressKeys('2001:db8::5').includes('2001:db8::/32'));
    assert.equal(addressKeys('2001:db8::5').length, 29);
    assert.ok(addressKeys('2001:db8:aa:1::9').includes('2001:db8:aa::/48'));
    assert.ok(addressKeys('::ffff:198.51.100.1').includes('198.51.100.0/24'));
    assert.deepEqual(addressKeys('nonsense'), []);
  });
});

for (const [name, skip, open] of [
  ['SQLite', false, (dir: string) => openStore({ dataDir: dir })],
  ['PostgreSQL', testDatabaseUrl ? false : 'TEST_DATABASE_URL not set', () => openStore({ databaseUrl: testDatabaseUrl!, pgSchema: schema })],
] as const) describe(`owner tools on ${name}`, { skip }, () => {
  let app: FastifyInstance;
  let store: Store;
  let dir: string;
  let clock = Date.UTC(2026, 5, 1, 12, 0, 0);
  let owner: { cookie: string; csrf: string; userId: string };
  let reader: { cookie: string; csrf: string; userId: string };

  async function signIn(who: string, asOwner: boolean, email: string | null = null) {
    const now = new Date(clock);
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: `${who}-${process.pid}-${++n}`, name: who, picture: null, website: null, email },
      `u-${who}-${process.pid}-${n}`,
      now,
    );
    if (asOwner) await store.setSiteOwner('tools', user.id, true);
    const id = randomToken();
    await store.createSession(hashToken(id), { userId: user.id, provider: 'test', created: now, expires: new Date(now.getTime() + 400 * DAY) });
    const cookie = `blogtalk_session=${id}`;
    const session = await app.inject({ url: '/api/v1/admin/session', headers: { cookie } });
    return { cookie, csrf: (session.json() as { csrfToken: string }).csrfToken, userId: user.id };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-tools-'));
    store = await open(dir);
    app = await buildApp({
      store,
      secret: 's',
      sites: [{ id: 'tools', name: 'Tools', origin: blog, allowedOrigins: [blog] }],
      limits: { writesPerMinute: 1e6, minWritingSeconds: 0 },
      now: () => new Date(clock),
    });
    owner = await signIn('Olive', true);
    reader = await signIn('Rita', false, 'rita@example.org');
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const admin = (who: { cookie: string; csrf: string } | null, options: InjectOptions & { body?: unknown; csrf?: string | null }) => {
    const { body, csrf, ...rest } = options;
    const headers: Record<string, string> = { origin: self };
    if (who) headers.cookie = who.cookie;
    if (csrf !== null && (csrf ?? who?.csrf)) headers['x-csrf-token'] = (csrf ?? who?.csrf)!;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return app.inject({ ...rest, headers, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
  };
  const post = (path: string, body: Record<string, unknown>, who = owner) => admin(who, { method: 'POST', url: `/api/v1/admin/${path}`, body });

  /** A new comment through the public API, from an address, as a guest or a signed-in reader. */
  async function write(postUrl: string, body: string, opts: { ip?: string; email?: string; as?: { cookie: string }; parent?: string; key?: string } = {}) {
    return app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      remoteAddress: opts.ip ?? '198.51.100.20',
      headers: {
        'content-type': 'application/json',
        origin: blog,
        'idempotency-key': opts.key ?? `tools-${process.pid}-${++n}`,
        ...(opts.as ? { cookie: opts.as.cookie } : {}),
      },
      payload: JSON.stringify({
        post: postUrl,
        body,
        ...(opts.parent ? { parent: opts.parent } : {}),
        ...(opts.as ? {} : { author: { name: 'Guest', email: opts.email ?? 'guest@example.org' } }),
      }),
    });
  }
  const thread = async (postUrl: string, query = '') =>
    (await app.inject({ url: `/api/v1/comments?post=${encodeURIComponent(postUrl)}${query}`, headers: { origin: blog } })).json() as CommentPage & {
      comments: (CommentPage['comments'][number] & { pinned?: boolean })[];
    };
  const queueRow = async (id: string) =>
    ((await admin(owner, { url: '/api/v1/admin/comments?site=tools&status=all&limit=200' })).json().comments as { id: string; ip?: string }[]).find(
      (c) => c.id === id,
    );

  it("refuses a blocked guest email, any case, with 403 `blocked` and nothing more; a retry of an earlier comment still gets its answer; unblocked, accepted", async () => {
    const postUrl = newPost();
    const earlier = await write(postUrl, 'Before the block', { email: 'Pest@Example.org', key: `tools-early-${process.pid}` });
    assert.equal(earlier.statusCode, 201);
    const block = await post('blocks', { site: 'tools', kind: 'email', value: ' PEST@example.ORG ' });
    assert.equal(block.statusCode, 200, block.body);
    assert.deepEqual({ ...block.json().block, created: null }, { kind: 'email', value: 'pest@example.org', label: null, created: null });
    assert.equal(block.json().added, true);
    const refused = await write(postUrl, 'After the block', { email: 'pest@EXAMPLE.org' });
    assert.equal(refused.statusCode, 403);
    assert.deepEqual(refused.json(), { error: { code: 'blocked', message: 'You cannot comment on this site.' } });
    const replay = await write(postUrl, 'Before the block', { email: 'Pest@Example.org', key: `tools-early-${process.pid}` });
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    const listed = (await admin(owner, { url: '/api/v1/admin/blocks?site=tools' })).json().blocks as { kind: string; value: string }[];
    assert.ok(listed.some((b) => b.kind === 'email' && b.value === 'pest@example.org'));
    const unblock = await post('blocks/remove', { site: 'tools', kind: 'email', value: 'Pest@example.org' });
    assert.deepEqual(unblock.json(), { removed: true });
    assert.equal((await write(postUrl, 'After the unblock', { email: 'pest@example.org' })).statusCode, 201);
  });

  it("blocks a signed-in author from their comment (listed by name and pseudonym, never the user id), and unblocks them", async () => {
    const postUrl = newPost();
    const mine = await write(postUrl, 'Signed in', { as: reader });
    assert.equal(mine.statusCode, 201);
    const block = await post('blocks', { site: 'tools', kind: 'user', comment: mine.json().id });
    assert.equal(block.statusCode, 200, block.body);
    assert.equal(block.json().block.label, 'Rita');
    assert.equal(block.json().block.value, mine.json().author.user, 'the per-site pseudonym the thread shows');
    assert.equal(block.body.includes(reader.userId), false);
    const refused = await write(postUrl, 'Again', { as: reader });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error.code, 'blocked');
    // Another reader is not affected; a guest comment has no account to block.
    assert.equal((await write(postUrl, 'A guest')).statusCode, 201);
    const guest = await write(postUrl, 'Guest again');
    const noAccount = await post('blocks', { site: 'tools', kind: 'user', comment: guest.json().id });
    assert.equal(noAccount.statusCode, 400);
    assert.equal(noAccount.json().error.code, 'no_user');
    const removed = await post('blocks/remove', { site: 'tools', kind: 'user', value: block.json().block.value });
    assert.deepEqual(removed.json(), { removed: true });
    assert.equal((await write(postUrl, 'Welcome back', { as: reader })).statusCode, 201);
  });

  it("blocks the address of a comment and a typed network; the address is shown to owners only", async () => {
    const postUrl = newPost();
    const from = await write(postUrl, 'From an address', { ip: '192.0.2.44' });
    assert.equal(from.statusCode, 201);
    assert.equal(from.body.includes('192.0.2.44'), false, 'not told back to the writer');
    assert.equal((await queueRow(from.json().id))?.ip, '192.0.2.44');
    assert.equal(JSON.stringify(await thread(postUrl)).includes('192.0.2.44'), false, 'never in the public thread');
    const byComment = await post('blocks', { site: 'tools', kind: 'address', comment: from.json().id });
    assert.equal(byComment.json().block.value, '192.0.2.44');
    assert.equal((await write(postUrl, 'Same address, other email', { ip: '192.0.2.44', email: 'new@example.org' })).statusCode, 403);
    assert.equal((await write(postUrl, 'Neighbour', { ip: '192.0.2.45' })).statusCode, 201);
    assert.equal((await write(postUrl, 'The owner, on the same network', { ip: '192.0.2.44', as: owner })).statusCode, 201);
    const network = await post('blocks', { site: 'tools', kind: 'address', value: '2001:db8:aa::/48' });
    assert.equal(network.json().block.value, '2001:db8:aa::/48');
    assert.equal((await write(postUrl, 'Inside', { ip: '2001:db8:aa:1::9' })).statusCode, 403);
    assert.equal((await write(postUrl, 'Outside', { ip: '2001:db8:ab::9' })).statusCode, 201);
    // An IPv4 client of a dual-stack listener arrives as an IPv4-mapped IPv6 address.
    const mapped = await write(postUrl, 'Mapped', { ip: '::ffff:192.0.2.60' });
    assert.equal((await post('blocks', { site: 'tools', kind: 'address', comment: mapped.json().id })).json().block.value, '192.0.2.60');
    assert.equal((await write(postUrl, 'Mapped again', { ip: '::ffff:192.0.2.60' })).statusCode, 403);
    assert.equal((await write(postUrl, 'Plain', { ip: '192.0.2.60' })).statusCode, 403);
    assert.deepEqual((await post('blocks/remove', { site: 'tools', kind: 'address', value: '::ffff:192.0.2.60' })).json(), { removed: true });
    const bad = await post('blocks', { site: 'tools', kind: 'address', value: '10.0.0.0/4' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'address_invalid');
    assert.deepEqual((await post('blocks/remove', { site: 'tools', kind: 'address', value: '192.0.2.44/32' })).json(), { removed: true });
    assert.deepEqual((await post('blocks/remove', { site: 'tools', kind: 'address', value: '2001:DB8:AA::/48' })).json(), { removed: true });
    assert.equal((await write(postUrl, 'Unblocked', { ip: '192.0.2.44' })).statusCode, 201);
  });

  it('puts pinned threads first for everyone, with the "pinned" mark; older pages hold every other thread once', async () => {
    const postUrl = newPost();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock += 1000;
      ids.push((await write(postUrl, `c${i}`)).json().id as string);
    }
    const reply = await write(postUrl, 'a reply', { parent: ids[0] });
    const pin = await post('comments/pin', { site: 'tools', id: ids[0], pinned: true });
    assert.equal(pin.statusCode, 200, pin.body);
    assert.equal(pin.json().pinned, true);
    const first = await thread(postUrl, '&page-size=2');
    assert.deepEqual(first.comments.map((c) => c.body), ['c0', 'a reply', 'c3', 'c4']);
    assert.equal(first.comments[0]!.pinned, true);
    assert.equal(first.comments[1]!.pinned, undefined);
    const second = await thread(postUrl, `&page-size=2&before=${first.older}`);
    assert.deepEqual(second.comments.map((c) => c.body), ['c1', 'c2']);
    assert.equal(second.older, null);
    const notTop = await post('comments/pin', { site: 'tools', id: reply.json().id, pinned: true });
    assert.equal(notTop.statusCode, 400);
    assert.equal(notTop.json().error.code, 'not_top_level');
    await post('comments/pin', { site: 'tools', id: ids[0], pinned: false });
    assert.deepEqual((await thread(postUrl)).comments.map((c) => c.body), ['c0', 'a reply', 'c1', 'c2', 'c3', 'c4']);
  });

  it("sends an owner's edit on the live stream, as an author's edit; validated like one", async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const postUrl = newPost();
    const written = (await write(postUrl, 'Typo hre')).json() as { id: string };
    const stream = await openSse(`${url}/api/v1/events?site=${encodeURIComponent(blog)}`, { origin: blog });
    try {
      const edit = await post('comments/edit', { site: 'tools', id: written.id, body: 'Typo here' });
      assert.equal(edit.statusCode, 200, edit.body);
      assert.equal(edit.json().body, 'Typo here');
      const event = await stream.waitFor((e) => e.event === 'edit');
      const data = JSON.parse(event.data) as { id: string; body: string; edited?: string };
      assert.equal(data.id, written.id);
      assert.equal(data.body, 'Typo here');
      assert.ok(data.edited);
      assert.equal(event.data.includes('198.51.100.20'), false);
    } finally {
      stream.close();
    }
    assert.equal((await thread(postUrl)).comments[0]!.body, 'Typo here');
    const blank = await post('comments/edit', { site: 'tools', id: written.id, body: '   ' });
    assert.equal(blank.json().error.code, 'body_empty');
    const long = await post('comments/edit', { site: 'tools', id: written.id, body: 'x'.repeat(10_001) });
    assert.equal(long.json().error.code, 'body_too_long');
    assert.equal((await post('comments/edit', { site: 'tools', id: 'no-such-comment', body: 'x' })).statusCode, 404);
  });

  it("keeps addresses for the site's retention (30 days by default, or its own; 0 keeps none), then the purge forgets them", async () => {
    const postUrl = newPost();
    const kept = (await write(postUrl, 'Addressed', { ip: '203.0.113.50' })).json() as { id: string };
    assert.equal((await queueRow(kept.id))?.ip, '203.0.113.50');
    clock += 29 * DAY;
    await app.purgeAddresses();
    assert.equal((await queueRow(kept.id))?.ip, '203.0.113.50', 'still within 30 days');
    clock += DAY;
    assert.ok((await app.purgeAddresses()) >= 1);
    assert.equal((await queueRow(kept.id))?.ip, undefined, 'forgotten after 30 days');
    const noAddress = await post('blocks', { site: 'tools', kind: 'address', comment: kept.id });
    assert.equal(noAddress.json().error.code, 'no_address');

    const set = await post('spam-settings', { site: 'tools', ipRetentionDays: 0 });
    assert.equal(set.json().ipRetentionDays, 0);
    const none = (await write(postUrl, 'Not kept', { ip: '203.0.113.51' })).json() as { id: string };
    assert.equal((await queueRow(none.id))?.ip, undefined);
    await post('spam-settings', { site: 'tools', ipRetentionDays: 2 });
    const short = (await write(postUrl, 'Kept two days', { ip: '203.0.113.52' })).json() as { id: string };
    clock += 2 * DAY;
    await app.purgeAddresses();
    assert.equal((await queueRow(short.id))?.ip, undefined);
    await post('spam-settings', { site: 'tools', ipRetentionDays: null });
    assert.equal((await admin(owner, { url: '/api/v1/admin/spam-settings?site=tools' })).json().ipRetentionDays, 30);
  });

  it('keeps the Akismet key to itself: only its last four characters come back', async () => {
    const set = await post('spam-settings', { site: 'tools', akismetKey: 'secretkey1234abcd', akismetBlog: 'https://tools.example/' });
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual(set.json().akismet, { enabled: true, keyHint: '…abcd', blog: 'https://tools.example/' });
    const read = await admin(owner, { url: '/api/v1/admin/spam-settings?site=tools' });
    assert.equal(read.body.includes('secretkey1234'), false);
    assert.equal((await post('spam-settings', { site: 'tools', akismetKey: 'bad key.example' })).statusCode, 400);
    const noBlog = await post('spam-settings', { site: 'tools', akismetKey: 'secretkey1234abcd', akismetBlog: null });
    assert.equal(noBlog.json().error.code, 'akismetBlog_required');
    assert.equal((await post('spam-settings', { site: 'tools', akismetBlog: 'javascript:alert(1)' })).statusCode, 400);
    const off = await post('spam-settings', { site: 'tools', akismetKey: null });
    assert.deepEqual(off.json().akismet, { enabled: false, keyHint: null, blog: 'https://tools.example/' });
  });

  it('refuses every new change to a reader who owns nothing and to an owner without the CSRF token', async () => {
    const postUrl = newPost();
    const id = (await write(postUrl, 'Target')).json().id as string;
    const changes: [string, Record<string, unknown>][] = [
      ['blocks', { site: 'tools', kind: 'email', value: 'x@example.org' }],
      ['blocks/remove', { site: 'tools', kind: 'email', value: 'x@example.org' }],
      ['comments/pin', { site: 'tools', id, pinned: true }],
      ['comments/edit', { site: 'tools', id, body: 'Defaced' }],
      ['spam-settings', { site: 'tools', ipRetentionDays: 365 }],
    ];
    for (const [path, body] of changes) {
      const notOwner = await post(path, body, reader);
      assert.equal(notOwner.statusCode, 403, path);
      assert.equal(notOwner.json().error.code, 'not_owner', path);
      const noToken = await admin(owner, { method: 'POST', url: `/api/v1/admin/${path}`, body, csrf: null });
      assert.equal(noToken.statusCode, 403, path);
      assert.equal(noToken.json().error.code, 'csrf_invalid', path);
      const signedOut = await admin(null, { method: 'POST', url: `/api/v1/admin/${path}`, body });
      assert.equal(signedOut.statusCode, 401, path);
    }
    for (const path of ['blocks', 'spam-settings']) {
      assert.equal((await admin(reader, { url: `/api/v1/admin/${path}?site=tools` })).statusCode, 403, path);
    }
    assert.equal((await store.getComment('tools', id))?.body, 'Target');
    assert.equal((await store.getComment('tools', id))?.pinned, undefined);
    assert.equal(await store.isBlocked('tools', [{ kind: 'email', value: 'x@example.org' }]), false);
    assert.equal((await store.spamSettings('tools')).ipRetentionDays, null);
  });
});
