/**
 * The GitHub, WordPress.com and Mastodon presets against local stand-ins serving those
 * providers' documented endpoints (they cannot reach the real ones here), and the provider
 * configuration read from the environment.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { mastodonInstance, providersFromEnv } from '../../server/auth/providers.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import type { Resolver } from '../../server/http/guarded-fetch.js';
import { pictureUrl } from '../../server/routes/pictures.js';
import { Browser, handoffData, PUBLIC_URL } from '../support/oidc-flow.js';
import { standInClients, startStandIns, type StandIns } from '../support/oidc-standins.js';

const blog = 'https://blog.example.org';
let counter = 0;
const nonce = () => `nonce-${process.pid}-${++counter}-presets`;
const post = () => `${blog}/2016/09/preset-${++counter}/`;

describe('provider presets against local stand-ins', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;
  let standIns: StandIns;
  let instance: string;
  let hosts: Record<string, string>;

  before(async () => {
    standIns = await startStandIns();
    instance = `mastodon.test:${standIns.port}`;
    hosts = { [instance]: `127.0.0.1:${standIns.port}` };
    const resolve: Resolver = async (name) => {
      if (name === 'mastodon.test') return [{ address: '127.0.0.1', family: 4 }];
      if (name === 'internal.test') return [{ address: '10.0.0.1', family: 4 }];
      throw new Error(`ENOTFOUND ${name}`);
    };
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-presets-'));
    store = await openStore({ dataDir: dir });
    app = await buildApp({
      store,
      secret: 'secret',
      sites: [{ id: 'blog', name: 'Blog', origin: blog, allowedOrigins: [blog] }],
      limits: { signInsPerMinute: 100_000, registrationsPerMinute: 2 },
      auth: {
        publicUrl: PUBLIC_URL,
        outbound: { resolve, allowLoopback: true, allowHttp: true },
        providers: [
          {
            type: 'github',
            ...standInClients.github,
            authorizationUrl: `${standIns.url}/login/oauth/authorize`,
            tokenUrl: `${standIns.url}/login/oauth/access_token`,
            apiUrl: standIns.url,
            allowInsecure: true,
          },
          {
            type: 'wordpress',
            ...standInClients.wordpress,
            authorizationUrl: `${standIns.url}/oauth2/authorize`,
            tokenUrl: `${standIns.url}/oauth2/token`,
            apiUrl: standIns.url,
            allowInsecure: true,
          },
          { type: 'mastodon', allowInsecure: true },
        ],
      },
    });
  });
  after(async () => {
    await app.close();
    await standIns.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function signIn(provider: string, extra = '') {
    const n = nonce();
    const start = await app.inject(
      `/api/v1/auth/start/${provider}?post=${encodeURIComponent(post())}&origin=${encodeURIComponent(blog)}&nonce=${n}${extra}`,
    );
    assert.equal(start.statusCode, 302, start.body);
    const browser = new Browser(app, hosts);
    const page = await browser.request(await browser.toCallback(String(start.headers.location)));
    assert.equal(page.status, 200, page.body);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/redeem',
      headers: { origin: blog, 'content-type': 'application/json' },
      payload: JSON.stringify({ code: handoffData(page.body)['code'], nonce: n }),
    });
    assert.equal(res.statusCode, 200, res.body);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    return { ...(res.json() as { user: { id: string; name: string; picture: string | null; providerName: string; author?: string } }).user, cookie };
  }

  it('offers each preset with its icon', async () => {
    const body = (await app.inject('/api/v1/auth/providers')).json() as { providers: Array<{ id: string; name: string; icon: string; kind: string }> };
    assert.deepEqual(
      body.providers.map((p) => [p.id, p.name, p.kind, p.icon.endsWith(`/icons/${p.id}.svg`)]),
      [
        ['github', 'GitHub', 'oauth2', true],
        ['wordpress', 'WordPress.com', 'oauth2', true],
        ['mastodon', 'Mastodon', 'mastodon', true],
      ],
    );
    for (const p of body.providers) assert.equal((await app.inject(new URL(p.icon).pathname)).statusCode, 200);
  });

  it('signs in with GitHub (OAuth 2 + PKCE, then the user API)', async () => {
    const user = await signIn('github');
    assert.equal(user.name, 'The Octocat');
    assert.equal(user.providerName, 'GitHub');
    // The provider's picture is kept, and browsers get it through this server.
    const picture = pictureUrl('secret', 'https://avatars.githubusercontent.com/u/583231?v=4');
    assert.equal(user.picture, picture);
    assert.equal((await store.getUserByIdentity('https://github.com', '583231'))?.picture, 'https://avatars.githubusercontent.com/u/583231?v=4');
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/comments',
      headers: { origin: blog, 'content-type': 'application/json', 'idempotency-key': `gh-${process.pid}-${Date.now()}`, cookie: user.cookie },
      payload: JSON.stringify({ post: post(), body: 'From GitHub' }),
    });
    assert.equal(created.statusCode, 201, created.body);
    const author = (created.json() as { author: { name: string; picture?: string; user?: string } }).author;
    assert.deepEqual(
      [author.name, author.picture, author.user],
      ['The Octocat', picture, user.author],
    );
  });

  it('signs in with WordPress.com (OAuth 2, then /me)', async () => {
    const user = await signIn('wordpress');
    assert.equal(user.name, 'Word Presser');
    assert.ok(await store.getUserByIdentity('https://wordpress.com', '7007'));
  });

  it('signs in with Mastodon on an instance the reader names, registering once per instance', async () => {
    const first = await signIn('mastodon', `&instance=${encodeURIComponent(instance)}`);
    assert.equal(first.name, 'Toot Reader');
    assert.ok(await store.getUserByIdentity(`https://${instance}`, '109372843234'));
    const second = await signIn('mastodon', `&instance=${encodeURIComponent(`https://${instance.toUpperCase()}/`)}`);
    assert.equal(second.id, first.id);
    assert.equal(standIns.calls.get('/api/v1/apps'), 1, 'one registration, then the cached one');
  });

  it('refuses a Mastodon instance that resolves to a private address, or is not a host name', async () => {
    for (const [name, code] of [
      ['internal.test', 'instance_refused'],
      ['https://x.test/path', 'instance_invalid'],
      ['', 'instance_invalid'],
    ] as const) {
      const res = await app.inject(
        `/api/v1/auth/start/mastodon?post=${encodeURIComponent(post())}&origin=${encodeURIComponent(blog)}&nonce=${nonce()}&instance=${encodeURIComponent(name)}`,
      );
      assert.equal(res.statusCode, 400, `${name}: ${res.body}`);
      assert.equal((res.json() as { error: { code: string } }).error.code, code, name);
    }
  });

  it('rate-limits new instance registrations', async () => {
    // The limit is 2 a minute; mastodon.test used one.
    const fresh = ['a', 'b', 'c'].map((x) => `${x}.mastodon.test`);
    const statuses: number[] = [];
    for (const host of fresh) {
      const res = await app.inject(
        `/api/v1/auth/start/mastodon?post=${encodeURIComponent(post())}&origin=${encodeURIComponent(blog)}&nonce=${nonce()}&instance=${host}`,
      );
      statuses.push(res.statusCode);
    }
    assert.equal(statuses.at(-1), 429, statuses.join(','));
  });

  it('normalises instance names', () => {
    assert.equal(mastodonInstance('Mastodon.Social', false), 'mastodon.social');
    assert.equal(mastodonInstance('https://mastodon.social/', false), 'mastodon.social');
    assert.equal(mastodonInstance('@me@mastodon.social', false), 'mastodon.social');
    assert.throws(() => mastodonInstance('mastodon.social:8443', false));
    assert.throws(() => mastodonInstance('localhost', false));
    assert.throws(() => mastodonInstance('a b', false));
    assert.throws(() => mastodonInstance('mastodon.social/@me', false));
  });
});

describe('BLOGTALK_PROVIDERS', () => {
  it('reads providers from JSON or from a file, and refuses bad ones clearly', async () => {
    const json = JSON.stringify([{ type: 'google', clientId: 'g', clientSecret: 's' }, { type: 'mastodon' }]);
    assert.deepEqual(
      providersFromEnv({ BLOGTALK_PROVIDERS: json }).map((p) => p.type),
      ['google', 'mastodon'],
    );
    const dir = await mkdtemp(join(tmpdir(), 'blogtalk-providers-'));
    try {
      const file = join(dir, 'providers.json');
      await writeFile(file, json);
      assert.equal(providersFromEnv({ BLOGTALK_PROVIDERS: file }).length, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.deepEqual(providersFromEnv({}), []);
    assert.throws(() => providersFromEnv({ BLOGTALK_PROVIDERS: '[{"type":"myspace"}]' }), /type must be one of/);
    assert.throws(() => providersFromEnv({ BLOGTALK_PROVIDERS: '[{"type":"github"}]' }), /clientId is required/);
    assert.throws(
      () => providersFromEnv({ BLOGTALK_PROVIDERS: '[{"type":"mastodon"},{"type":"mastodon"}]' }),
      /two providers with id "mastodon"/,
    );
  });
});
