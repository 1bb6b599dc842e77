// The server under load, in its own process so the load generator does not share its event
// loop. argv[2] is JSON config: { mode: 'app' | 'bare', databaseUrl?, distDir? }.
// 'app' is the real buildApp (compiled, from build/) on a temp SQLite file, or on a fresh
// PostgreSQL schema that is dropped on close; 'bare' is a plain Fastify route (the baseline).
// It sends { ready: { url } } over IPC, then answers { id, cmd, ... } messages:
// seed, count, verify, rss, close.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pg from 'pg';
import { benchSite, commentText } from './lib.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
const root = new URL('..', import.meta.url);
let app;
let store;
let cleanup = async () => {};

if (config.mode === 'bare') {
  app = Fastify({ logger: false });
  app.get('/bare', async () => ({ hello: 'world', ok: true }));
} else {
  const { buildApp } = await import(new URL('build/server/app.js', root));
  const { openStore } = await import(new URL('build/server/store/index.js', root));
  if (config.databaseUrl) {
    const pgSchema = `bench_${process.pid}_${Date.now()}`;
    store = await openStore({ databaseUrl: config.databaseUrl, pgSchema });
    cleanup = async () => {
      const client = new pg.Client({ connectionString: config.databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
      await client.end();
    };
  } else {
    const dataDir = await mkdtemp(join(tmpdir(), 'blogtalk-bench-'));
    store = await openStore({ dataDir }); // synchronous=FULL is the store's default
    cleanup = () => rm(dataDir, { recursive: true, force: true });
  }
  app = await buildApp({
    store,
    secret: 'bench-secret',
    sites: [benchSite],
    limits: { writesPerMinute: 1e9 },
    ...(config.distDir ? { distDir: config.distDir } : {}),
  });
}

/**
 * Stores `threads` top-level comments on `post`, each with `replies` direct replies, straight
 * through the store (no HTTP). Roots first, so a reply's parent always exists.
 */
async function seed({ post, threads, replies = 0, prefix = 'seed' }) {
  const base = Date.UTC(2024, 0, 1);
  let n = 0;
  const make = (id, parentId) => {
    const i = n++;
    return store
      .createComment(
        {
          siteId: benchSite.id, postUrl: post, postTitle: 'Bench post', id, requestHash: '0'.repeat(64),
          parentId, kind: 'comment', status: 'published', authorName: `Reader ${i}`,
          authorEmail: `reader${i}@bench.test`, authorWebsite: i % 3 ? null : `https://reader${i}.bench.test/`,
          avatar: 'a'.repeat(32), body: commentText(i), reblogBlogName: null, reblogUrl: null,
          created: new Date(base + i * 1000),
        },
        5,
      )
      .then((result) => {
        if (!result.ok) throw new Error(`seeding ${id}: ${result.reason}`);
      });
  };
  const rootIds = Array.from({ length: threads }, (_, t) => `${prefix}-${t}`);
  await Promise.all(rootIds.map((id) => make(id, null)));
  await Promise.all(rootIds.flatMap((id) => Array.from({ length: replies }, (_, r) => make(`${id}-r${r}`, id))));
  return { stored: n };
}

/** Published comments on a post, as the store counts them. */
async function count({ post }) {
  return (await store.listThreads({ siteId: benchSite.id, postUrl: post, pageSize: 1 })).total;
}

/** Which of `ids` the store does not have. */
async function verify({ ids }) {
  const missing = [];
  for (const id of ids) if (!(await store.getComment(benchSite.id, id))) missing.push(id);
  return { checked: ids.length, missing: missing.length, examples: missing.slice(0, 5) };
}

const commands = {
  seed,
  count,
  verify,
  rss: async () => process.memoryUsage().rss,
  close: async () => {
    await app.close(); // also closes the store
    await cleanup();
    setImmediate(() => process.exit(0));
    return true;
  },
};

process.on('message', async ({ id, cmd, ...args }) => {
  try {
    process.send({ id, result: await commands[cmd](args) });
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) });
  }
});
// The bench died: clean up (temp files, PostgreSQL schema) and do not linger.
process.on('disconnect', () => commands.close().catch(() => process.exit(1)));

const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`server child (${config.mode}${config.databaseUrl ? ', postgres' : config.mode === 'app' ? ', sqlite' : ''}) at ${address}`);
process.send({ ready: { url: address } });
