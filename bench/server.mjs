// Benches `server-read`, `server-post` and `memory`: autocannon on loopback (50 connections,
// BENCH_DURATION seconds after a short warm-up) against the real buildApp in a child process,
// on SQLite (temp file, synchronous=FULL) and, when DATABASE_URL or TEST_DATABASE_URL is set,
// on a fresh PostgreSQL schema. Baseline: a bare Fastify route returning a small JSON object,
// measured in the same run with the same settings. `memory` is the app child's RSS after the
// read bench (and after 10,000 more comments are seeded), against the bare child's.
import autocannon from 'autocannon';
import { commentText, duration, emit, log, round, withServerChild } from './lib.mjs';

const connections = 50;
const warmup = Math.min(2, Math.max(0.5, duration / 5));
const readPost = 'https://bench.test/read';
const writePost = 'https://bench.test/write';
const memoryPost = 'https://bench.test/memory';
const mb = (bytes) => round(bytes / 2 ** 20, 1);

/** Warm-up, then the measured run; the figures every server line reports. */
async function load(url, requests, label) {
  const options = { url, connections, requests, pipelining: 1 };
  log(`${label}: warm-up ${warmup}s, then ${duration}s at ${connections} connections`);
  await autocannon({ ...options, duration: warmup });
  const r = await autocannon({ ...options, duration });
  return {
    reqPerSec: round(r.requests.average, 0),
    p99Ms: r.latency.p99,
    p50Ms: r.latency.p50,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)])),
  };
}

/** The baseline: a bare Fastify GET route in its own child, and that child's RSS. */
export async function bareBaseline() {
  return withServerChild({ mode: 'bare' }, async (server) => {
    const figures = await load(server.url, [{ method: 'GET', path: '/bare' }], 'bare fastify');
    return { route: 'GET /bare (bare Fastify, small JSON)', ...figures, rssMB: mb(await server.call('rss')) };
  });
}

/**
 * server-read, server-post and (SQLite only) memory for one store. `databaseUrl` picks
 * PostgreSQL; without it, SQLite.
 */
export async function storeBenches(baseline, databaseUrl) {
  const store = databaseUrl ? 'postgres' : 'sqlite';
  const base = { reqPerSec: baseline.reqPerSec, p99Ms: baseline.p99Ms, route: baseline.route };
  await withServerChild({ mode: 'app', ...(databaseUrl ? { databaseUrl } : {}) }, async (server) => {
    await server.call('seed', { post: readPost, threads: 50, prefix: 'read' });
    const rssAtStart = await server.call('rss');

    // Read: the newest page of a 50-comment thread.
    const path = `/api/v1/comments?post=${encodeURIComponent(readPost)}&page-size=50`;
    const read = await load(server.url, [{ method: 'GET', path }], `${store} read`);
    const rssAfterRead = await server.call('rss');
    emit({
      bench: 'server-read', store, connections, durationS: duration, comments: 50, ...read,
      baseline: base, ratio: round(read.reqPerSec / baseline.reqPerSec, 3),
      goal: { ratio: 0.5, p99Ms: 20 },
    });

    // Post: every request a new comment with its own Idempotency-Key and body. Every 2xx, warm-up
    // included, is `acked` and looked up afterwards; `stored` may exceed it by the requests still
    // in flight when autocannon stopped.
    const run = Date.now().toString(36);
    const acked = [];
    let n = 0;
    const request = {
      method: 'POST',
      path: '/api/v1/comments',
      setupRequest(req) {
        const i = n++;
        return {
          ...req,
          headers: { 'content-type': 'application/json', 'idempotency-key': `bench-${run}-${i}` },
          body: JSON.stringify({ post: writePost, author: { name: `Writer ${i}`, email: `writer${i}@bench.test` }, body: commentText(i) }),
        };
      },
      onResponse(status, body) {
        if (status >= 200 && status < 300) acked.push(JSON.parse(body).id);
      },
    };
    const post = await load(server.url, [request], `${store} post`);
    const rssAfterPost = await server.call('rss');
    const stored = await server.call('count', { post: writePost });
    const check = await server.call('verify', { ids: acked });
    if (check.missing) log(`${store} post: ${check.missing} acknowledged comments missing, e.g. ${check.examples.join(', ')}`);
    emit({
      bench: 'server-post', store, connections, durationS: duration, ...post,
      acked: acked.length, stored, lost: check.missing,
      baseline: base, ratio: round(post.reqPerSec / baseline.reqPerSec, 3),
      goal: { reqPerSec: 2000, p99Ms: 20 },
    });

    if (databaseUrl) return;
    // Memory: RSS after the read bench, and after 10,000 more comments (1,000 threads × 10).
    log(`${store} memory: seeding 10,000 comments`);
    await server.call('seed', { post: memoryPost, threads: 1000, replies: 9, prefix: 'mem' });
    const rssAfterSeed = await server.call('rss');
    emit({
      bench: 'memory', store, rssMB: mb(rssAfterRead), atStartMB: mb(rssAtStart),
      afterPostMB: mb(rssAfterPost), afterSeed10kMB: mb(rssAfterSeed),
      baseline: { bareFastifyRssMB: baseline.rssMB }, ratio: round(mb(rssAfterRead) / baseline.rssMB, 2),
    });
  });
}
