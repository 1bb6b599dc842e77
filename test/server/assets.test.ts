/**
 * The widget's translations, served by the comment server beside the bundle: the widget fetches
 * `/i18n/<lang>.json` from any blog's page (CORS `*`), cached and revalidated like the bundle.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { openStore } from '../../server/store/index.js';

/** One app serves every test here: they only read what it serves. */
let app: FastifyInstance;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blogtalk-assets-'));
  app = await buildApp({
    store: await openStore({ dataDir: dir }),
    secret: 'secret',
    sites: [{ id: 'blog', name: 'Blog', origin: 'https://blog.example.org', allowedOrigins: ['https://blog.example.org'] }],
    distDir: resolve('dist'),
  });
});
after(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describe('translations (/i18n/<lang>.json)', () => {
  for (const lang of ['de', 'ar']) {
    it(`serves ${lang}.json as built, to any origin, cached with revalidation`, async () => {
      const res = await app.inject({ url: `/i18n/${lang}.json`, headers: { origin: 'https://anywhere.example' } });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.match(String(res.headers['cache-control']), /max-age=\d+/);
      assert.equal(res.body, await readFile(resolve(`dist/i18n/${lang}.json`), 'utf8'));
      const messages = JSON.parse(res.body) as Record<string, unknown>;
      assert.equal(typeof messages['leaveReply'], 'string');
      const again = await app.inject({ url: `/i18n/${lang}.json`, headers: { 'if-none-match': String(res.headers.etag) } });
      assert.equal(again.statusCode, 304);
    });
  }

  it('has every message the English catalog has, in each translation', async () => {
    const source = await readFile(resolve('src/internal/i18n.ts'), 'utf8');
    const block = /const en: Messages = \{([\s\S]*?)\n\};/.exec(source)![1]!;
    const keys = [...block.matchAll(/^ {2}(\w+):/gm)].map((match) => match[1]).sort();
    for (const lang of ['de', 'ar']) {
      const messages = JSON.parse(await readFile(resolve(`dist/i18n/${lang}.json`), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(messages).sort(), keys, lang);
    }
  });

  it('serves no other file under /i18n/', async () => {
    assert.equal((await app.inject('/i18n/fr.json')).statusCode, 404);
    assert.equal((await app.inject('/i18n/')).statusCode, 404);
  });
});

describe('the widget script and its chunks', () => {
  it('serves /blogtalk.js, the loader, with a short cache, to any origin', async () => {
    const res = await app.inject({ url: '/blogtalk.js', headers: { origin: 'https://anywhere.example' } });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/javascript/);
    assert.equal(res.headers['cache-control'], 'public, max-age=300, stale-while-revalidate=86400');
    assert.equal(res.headers['access-control-allow-origin'], '*');
    assert.equal(res.body, await readFile(resolve('dist/blogtalk.js'), 'utf8'));
    // It names the entry chunk it imports, which the server has.
    const entry = /\.\/(chunks\/blogtalk-[\w-]{8}\.js)/.exec(res.body)?.[1];
    assert.ok(entry, 'the loader names its entry chunk');
    assert.equal((await app.inject(`/${entry}`)).statusCode, 200);
  });

  it('serves every chunk as an immutable, cross-origin module script', async () => {
    const names = await readdir(resolve('dist/chunks'));
    assert.ok(names.length > 3, 'the widget is split into chunks');
    for (const name of names) {
      const res = await app.inject({ url: `/chunks/${name}`, headers: { origin: 'https://blog.example.org' } });
      assert.equal(res.statusCode, 200, name);
      assert.match(String(res.headers['content-type']), /^text\/javascript/);
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin');
      assert.equal(res.body, await readFile(resolve('dist/chunks', name), 'utf8'));
      const again = await app.inject({ url: `/chunks/${name}`, headers: { 'if-none-match': String(res.headers.etag) } });
      assert.equal(again.statusCode, 304);
    }
  });

  it('serves nothing else under /chunks/', async () => {
    assert.equal((await app.inject('/chunks/blogtalk-AAAAAAAA.js')).statusCode, 404);
    assert.equal((await app.inject('/chunks/')).statusCode, 404);
  });
});
