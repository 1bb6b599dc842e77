// Bench `rss`: memory of a server process with BENCH_RSS_COMMENTS comments stored (default
// 100,000: 2,000 posts × 50, each post 25 top-level comments with one reply each). The site is
// seeded the way an owner moving in would: a generated JSON Lines export (the format of
// server/transfer/jsonl.ts) through `node build/server/cli.js import` — its time and peak RSS
// are reported too (the issue asks for a bounded-memory import). Then `node build/server/main.js`
// on that SQLite file: RSS idle, after a burst of reads across every post (BENCH_RSS_READS,
// default 20,000 GETs of each post's newest page at 50 connections), after a second identical
// burst (growth between the two = not bounded) and after 5 s idle. Goal: ≤ 150 MB.
// Baseline, same run: the bare Fastify child of the `server` bench, idle and after the same
// number of requests to its route.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { commentText, emit, log, round, withServerChild } from './lib.mjs';
import { buildDir, mb, procMemory, repoRoot, siteId, siteOrigin, sleep, tempDataDir, withServers } from './procs.mjs';

const perPost = 50;
const connections = 50;
const goalMB = 150;

/**
 * Writes an export of `total` comments: posts of 25 roots, each with one reply. (Exported, like
 * `importExport`, to measure an import alone.)
 */
export async function writeExport(file, total) {
  const out = createWriteStream(file);
  const write = async (value) => {
    if (!out.write(`${JSON.stringify(value)}\n`)) await once(out, 'drain');
  };
  const site = { id: siteId, name: 'Bench', origin: siteOrigin, allowedOrigins: [siteOrigin] };
  await write({ format: 'blogtalk-export', version: 1, exported: new Date().toISOString(), site });
  const base = Date.UTC(2020, 0, 1);
  const postCount = Math.ceil(total / perPost);
  for (let i = 0; i < total; i++) {
    const p = Math.floor(i / perPost);
    const k = i % perPost;
    const root = k < perPost / 2;
    const id = `rss-${p}-${k}`;
    await write({
      type: 'comment', id, post: `${siteOrigin}/rss-${p}`, postTitle: `Post ${p}`,
      parent: root ? null : `rss-${p}-${k - perPost / 2}`, kind: 'comment', status: 'published',
      author: { name: `Reader ${i}`, email: `reader${i}@bench.test`, website: i % 3 ? null : `https://reader${i}.bench.test/`, avatar: (i % 16).toString(16).repeat(32) },
      body: commentText(i), created: new Date(base + i * 60_000).toISOString(), reblog: null,
      requestHash: '0'.repeat(64), originalHtml: null,
    });
  }
  out.end();
  await once(out, 'finish');
  return postCount;
}

/** `cli.js import <file>` into `dataDir`, sampling its memory; { seconds, peakRssMB, report }. */
export async function importExport(file, dataDir) {
  const started = performance.now();
  const child = spawn(process.execPath, [join(buildDir, 'server', 'cli.js'), 'import', file], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4_000)));
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, procMemory(child.pid).peak);
  }, 50);
  const killer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000); // bounded: 10 minutes at most
  const [code] = await once(child, 'exit');
  clearInterval(sampler);
  clearTimeout(killer);
  const report = stderr.trim().split('\n').at(-1);
  if (code !== 0) throw new Error(`import exited with ${code}: ${stderr}`);
  return { seconds: round((performance.now() - started) / 1000, 1), peakRssMB: mb(peak), report };
}

/** `amount` GETs at 50 connections, cycling through `paths`. */
async function burst(url, paths, amount) {
  let n = 0;
  const r = await autocannon({
    url, connections, pipelining: 1, amount,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[n++ % paths.length] }) }],
  });
  return { reqPerSec: round(r.requests.total / r.duration, 0), seconds: round(r.duration, 1), p99Ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
}

export async function run(opts = {}) {
  const total = Number(opts.comments ?? process.env.BENCH_RSS_COMMENTS ?? 100_000);
  const reads = Number(opts.reads ?? process.env.BENCH_RSS_READS ?? 20_000);

  const baseline = await withServerChild({ mode: 'bare' }, async (server) => {
    const idle = await server.call('rss');
    await burst(server.url, ['/bare'], reads);
    return { idleMB: mb(idle), afterReadsMB: mb(await server.call('rss')) };
  });

  const data = await tempDataDir();
  try {
    const file = join(data.dir, 'export.jsonl');
    log(`rss: writing an export of ${total} comments`);
    const postCount = await writeExport(file, total);
    const exportMB = mb(statSync(file).size);
    log(`rss: importing it (${exportMB} MB) with cli.js import`);
    const imported = await importExport(file, join(data.dir, 'db'));
    log(`rss: import took ${imported.seconds} s, peak RSS ${imported.peakRssMB} MB: ${imported.report}`);

    const line = await withServers([{ db: { dataDir: join(data.dir, 'db') }, label: 'rss server' }], async ([server]) => {
      await sleep(2_000);
      const idle = server.memory().rss;
      const paths = Array.from({ length: postCount }, (_, p) =>
        `/api/v1/comments?post=${encodeURIComponent(`${siteOrigin}/rss-${p}`)}`);
      // The first page must hold the whole post: check one, so the burst reads what we think.
      const sample = await (await fetch(`${server.url}${paths[0]}`)).json();
      log(`rss: ${postCount} posts; first post total ${sample.total}, ${sample.comments.length} on its first page`);
      log(`rss: burst 1, ${reads} reads across ${postCount} posts`);
      const first = await burst(server.url, paths, reads);
      const afterReads = server.memory().rss;
      log(`rss: burst 2`);
      const second = await burst(server.url, paths, reads);
      const afterSecond = server.memory().rss;
      await sleep(5_000);
      const { rss: settled, peak } = server.memory();
      return {
        bench: 'rss', store: 'sqlite', comments: total, posts: postCount, dbMB: mb(statSync(join(data.dir, 'db', 'blogtalk.db')).size),
        rssMB: mb(Math.max(idle, afterReads, afterSecond, settled)),
        idleMB: mb(idle), afterReadsMB: mb(afterReads), afterSecondReadsMB: mb(afterSecond), settledMB: mb(settled), peakMB: mb(peak),
        reads: { count: reads, first, second },
        import: { exportMB, seconds: imported.seconds, peakRssMB: imported.peakRssMB, report: imported.report },
      };
    });
    emit({
      ...line,
      baseline: { bareFastifyIdleMB: baseline.idleMB, bareFastifyAfterReadsMB: baseline.afterReadsMB },
      ratio: round(line.rssMB / baseline.afterReadsMB, 2),
      goal: { rssMB: goalMB },
      withinGoal: line.peakMB <= goalMB,
    });
  } finally {
    await data.remove();
  }
  return null;
}

// `node bench/rss.mjs` runs this bench alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
