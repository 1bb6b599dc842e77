// Bench `load`: mixed read/write load on the real server (`node build/server/main.js`, as
// `npm run serve` runs it), 50 connections for BENCH_LOAD_DURATION seconds (default 60) after a
// short warm-up. Each connection cycles 4 reads (GET the newest page, page-size 50, of one of
// 10 posts) and 1 write (POST a new top-level comment with a fresh Idempotency-Key and body to
// one of those posts), so 80 % GET / 20 % POST, and every write changes a thread that is read.
// Runs on SQLite (one process), on PostgreSQL (one process) and on two processes sharing one
// PostgreSQL schema and secret (autocannon splits the connections across both). Afterwards the
// servers are stopped and every acknowledged (201) comment is looked up in the database itself
// (better-sqlite3 / pg): `lost` must be 0. Baseline: the bare Fastify route of the `server`
// bench (bench/server-child.mjs), same connections and duration, in the same run.
// PostgreSQL runs need DATABASE_URL or TEST_DATABASE_URL (else a `skipped` line); each uses a
// fresh schema, dropped afterwards. Returns a failure message when a comment was lost.
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { commentText, emit, log, round, withServerChild } from './lib.mjs';
import {
  databaseUrl, mb, pgSchema, pgSkipped, postComment, siteId, siteOrigin, tempDataDir, withServers,
} from './procs.mjs';

const posts = Array.from({ length: 10 }, (_, k) => `${siteOrigin}/load-${k}`);
const seedPerPost = 20;
const mix = '4 × GET newest page (page-size 50) : 1 × POST new comment, over 10 posts';

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
  } catch {
    return NaN;
  }
}

function figures(r) {
  return {
    reqPerSec: round(r.requests.average, 0),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)])),
  };
}

/** The mixed request cycle; every 201 is recorded in `acked`. */
function mixedRequests(acked, runId) {
  let reads = 0;
  let writes = 0;
  const get = {
    method: 'GET',
    setupRequest(req) {
      const post = posts[reads++ % posts.length];
      return { ...req, path: `/api/v1/comments?post=${encodeURIComponent(post)}&page-size=50` };
    },
  };
  const post = {
    method: 'POST',
    path: '/api/v1/comments',
    setupRequest(req) {
      const i = writes++;
      return {
        ...req,
        headers: { 'content-type': 'application/json', 'idempotency-key': `ld-${runId}-${i}` },
        body: JSON.stringify({ post: posts[i % posts.length], author: { name: `Writer ${i}`, email: `w${i}@bench.test` }, body: commentText(i) }),
      };
    },
    onResponse(status, body) {
      if (status === 201) acked.push(JSON.parse(body).id);
    },
  };
  return [get, get, get, get, post];
}

/** Ids the database holds for the bench site, straight from the database. */
async function storedIds(db) {
  if (db.dataDir) {
    const sqlite = new Database(join(db.dataDir, 'blogtalk.db'), { readonly: true });
    try {
      return new Set(sqlite.prepare('SELECT id FROM comments WHERE site_id = ?').pluck().all(siteId));
    } finally {
      sqlite.close();
    }
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT id FROM "${db.schema}".comments WHERE site_id = $1`, [siteId]);
    return new Set(rows.map((r) => r.id));
  } finally {
    await client.end();
  }
}

async function loadRun({ store, instances, db, connections, seconds, warmup, baseline }) {
  const runId = Date.now().toString(36);
  const acked = [];
  const specs = Array.from({ length: instances }, (_, i) => ({ db, label: `${store} server ${i + 1}/${instances}` }));
  const result = await withServers(specs, async (servers) => {
    const urls = servers.map((s) => s.url);
    // Seed every post so the first reads have a page to serve (acknowledged too).
    await Promise.all(posts.map(async (post, k) => {
      for (let j = 0; j < seedPerPost; j++) {
        const id = `ld-${runId}-seed-${k}-${j}`;
        const { status } = await postComment(urls[j % urls.length], { id, post, body: commentText(j) });
        if (status === 201) acked.push(id);
      }
    }));
    const options = { url: instances > 1 ? urls : urls[0], connections, pipelining: 1, requests: mixedRequests(acked, runId) };
    log(`load ${store}: warm-up ${warmup}s, then ${seconds}s at ${connections} connections on ${instances} process(es)`);
    await autocannon({ ...options, duration: warmup });
    const cpuBefore = servers.map((s) => cpuSeconds(s.pid));
    const r = await autocannon({ ...options, duration: seconds });
    const serverCpuS = servers.map((s, i) => round(cpuSeconds(s.pid) - cpuBefore[i], 1));
    const serverRssMB = servers.map((s) => mb(s.memory().rss));
    return { ...figures(r), serverCpuS, serverRssMB };
  });
  // The servers are stopped (SIGTERM, graceful): now every 201 must be in the database.
  const ids = await storedIds(db);
  const missing = acked.filter((id) => !ids.has(id));
  if (missing.length) log(`load ${store}: ${missing.length} acknowledged comments missing, e.g. ${missing.slice(0, 5).join(', ')}`);
  const line = {
    bench: 'load', store, instances, connections, durationS: seconds, mix, ...result,
    acked: acked.length, stored: ids.size, lost: missing.length,
    baseline: { route: baseline.route, reqPerSec: baseline.reqPerSec, p99Ms: baseline.p99Ms },
    ratio: round(result.reqPerSec / baseline.reqPerSec, 3),
    goal: { errors: 0, non2xx: 0, lost: 0 },
  };
  emit(line);
  return line;
}

export async function run(opts = {}) {
  const seconds = Number(opts.duration ?? process.env.BENCH_LOAD_DURATION ?? 60);
  const connections = Number(opts.connections ?? 50);
  const warmup = Math.min(2, Math.max(0.5, seconds / 5));
  const failures = [];

  const baseline = await withServerChild({ mode: 'bare' }, async (server) => {
    log(`load baseline: bare Fastify, ${seconds}s at ${connections} connections`);
    const options = { url: server.url, connections, pipelining: 1, requests: [{ method: 'GET', path: '/bare' }] };
    await autocannon({ ...options, duration: warmup });
    const r = await autocannon({ ...options, duration: seconds });
    return { route: 'GET /bare (bare Fastify, small JSON)', ...figures(r) };
  });

  const sqlite = await tempDataDir();
  try {
    const line = await loadRun({ store: 'sqlite', instances: 1, db: { dataDir: sqlite.dir }, connections, seconds, warmup, baseline });
    if (line.lost) failures.push(`sqlite lost ${line.lost}`);
  } finally {
    await sqlite.remove();
  }

  for (const instances of [1, 2]) {
    const store = instances === 1 ? 'postgres' : 'postgres-2x';
    if (!databaseUrl) {
      emit({ bench: 'load', store, instances, skipped: pgSkipped });
      continue;
    }
    const { schema, drop } = pgSchema(`load${instances}`);
    try {
      const line = await loadRun({ store, instances, db: { schema }, connections, seconds, warmup, baseline });
      if (line.lost) failures.push(`${store} lost ${line.lost}`);
    } finally {
      await drop().catch((error) => log(`load ${store}: dropping schema ${schema} failed: ${error.message}`));
    }
  }
  return failures.length ? `acknowledged comments lost: ${failures.join(', ')}` : null;
}

// `node bench/load.mjs` runs this bench alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const failure = await run();
  if (failure) {
    log(`load: ${failure}`);
    process.exitCode = 1;
  }
}
