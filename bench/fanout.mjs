// Bench `fanout`: Server-Sent Events fan-out. Opens BENCH_FANOUT_CONNECTIONS (default 1,000)
// concurrent `GET /api/v1/events?site=…` streams with Node's http client (one socket each, no
// EventSource), then posts BENCH_FANOUT_POSTS comments (default 50), one every 50 ms after one
// unmeasured warm-up comment, and measures each delivery: from just before the POST is sent
// to the `event: comment` frame arriving on a stream (p50/p99/max over every delivery), plus the time until the last stream
// has a comment (`spreadMs`). `missed` counts (stream, acknowledged comment) pairs never
// delivered within 15 s after the last post: goal 0.
// Runs on one SQLite server (streams and posts on the same process), and, with DATABASE_URL or
// TEST_DATABASE_URL, on two processes sharing a fresh PostgreSQL schema: streams on instance B,
// posts to instance A, so every delivery crosses LISTEN/NOTIFY. Baseline, same run and same
// client: a bare Fastify SSE server (bench/fanout-bare-child.mjs) writing a comment-sized frame
// to every stream as the POST arrives: the transport's floor on this machine.
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { emit, log, round } from './lib.mjs';
import {
  databaseUrl, mb, openFilesLimit, percentile, pgSchema, pgSkipped, postComment, siteOrigin, sleep, tempDataDir, withServers,
} from './procs.mjs';

const spacingMs = 50;
const deliveryWaitMs = 15_000;
const eventsPath = `/api/v1/events?site=${encodeURIComponent(siteOrigin)}`;
const fanoutPost = `${siteOrigin}/fanout`;

/**
 * Opens `n` SSE streams on `url + path`, `batch` at a time; resolves when each has its first
 * bytes (or failed). Every stream records when each comment id arrived.
 */
async function openStreams(url, path, n, batch = 100) {
  const streams = [];
  const started = performance.now();
  const openOne = () =>
    new Promise((resolve) => {
      const stream = { received: new Map(), duplicates: 0, failed: null, ended: false, req: null };
      streams.push(stream);
      const timer = setTimeout(() => {
        stream.failed ??= 'no first byte in 20 s';
        resolve();
      }, 20_000);
      const req = http.get(`${url}${path}`, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) {
          stream.failed = `status ${res.statusCode}`;
          res.resume();
          clearTimeout(timer);
          return resolve();
        }
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk) => {
          const now = performance.now();
          clearTimeout(timer);
          resolve();
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (!frame.includes('event: comment')) continue;
            const data = frame.split('\n').find((l) => l.startsWith('data: '));
            if (!data) continue;
            const { id } = JSON.parse(data.slice(6));
            if (stream.received.has(id)) stream.duplicates += 1;
            else stream.received.set(id, now);
          }
        });
        res.on('end', () => (stream.ended = true));
        res.on('error', () => {});
      });
      req.on('error', (error) => {
        stream.failed ??= error.code ?? error.message;
        clearTimeout(timer);
        resolve();
      });
      stream.req = req;
    });
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, openOne));
  }
  const openMs = performance.now() - started;
  const close = () => {
    for (const s of streams) s.req.destroy();
  };
  return { streams, openMs, close };
}

/**
 * Posts `count` comments through `send(id)` one every `spacingMs`, then waits until every open
 * stream has every acknowledged one (at most `deliveryWaitMs`). Returns the figures.
 */
async function measure({ streams, count, send, prefix }) {
  const live = streams.filter((s) => !s.failed);
  // One unmeasured comment first: connection set-up and first-call costs stay out of the figures.
  const warm = `${prefix}-warm`;
  if ((await send(warm).catch(() => 0)) === 201) {
    const until = performance.now() + 5_000;
    while (!live.every((s) => s.received.has(warm)) && performance.now() < until) await sleep(20);
  }
  const sentAt = new Map();
  const acked = [];
  const started = performance.now();
  const posts = [];
  for (let i = 0; i < count; i++) {
    const wait = started + i * spacingMs - performance.now();
    if (wait > 0) await sleep(wait);
    const id = `${prefix}-${i}`;
    sentAt.set(id, performance.now());
    posts.push(send(id).then((status) => status === 201 && acked.push(id), () => {}));
  }
  await Promise.all(posts);
  const deadline = performance.now() + deliveryWaitMs;
  const complete = () => live.every((s) => acked.every((id) => s.received.has(id)));
  while (!complete() && performance.now() < deadline) await sleep(50);

  const latencies = [];
  const spreads = [];
  let delivered = 0;
  for (const id of acked) {
    let last = 0;
    for (const s of live) {
      const at = s.received.get(id);
      if (at === undefined) continue;
      delivered += 1;
      const ms = at - sentAt.get(id);
      latencies.push(ms);
      if (ms > last) last = ms;
    }
    spreads.push(last);
  }
  const ms = (v) => round(v, 1);
  return {
    streamsOpen: live.length,
    streamsFailed: streams.length - live.length,
    streamsEndedEarly: live.filter((s) => s.ended).length,
    posted: count,
    acked: acked.length,
    deliveries: delivered,
    missed: live.length * acked.length - delivered,
    duplicates: live.reduce((sum, s) => sum + s.duplicates, 0),
    p50Ms: ms(percentile(latencies, 50)),
    p99Ms: ms(percentile(latencies, 99)),
    maxMs: ms(percentile(latencies, 100)),
    spreadP50Ms: ms(percentile(spreads, 50)),
    spreadMaxMs: ms(percentile(spreads, 100)),
    failures: [...new Set(streams.filter((s) => s.failed).map((s) => s.failed))].slice(0, 5),
  };
}

/** The bare baseline: same client, same pacing, a server that only writes frames. */
async function bareBaseline(connections, count) {
  const child = fork(fileURLToPath(new URL('./fanout-bare-child.mjs', import.meta.url)), [], { stdio: ['ignore', 2, 2, 'ipc'] });
  try {
    const { url } = await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m.ready));
      child.once('exit', (code) => reject(new Error(`bare SSE child exited with ${code}`)));
    });
    const { streams, openMs, close } = await openStreams(url, '/events', connections);
    try {
      const send = async (id) => {
        const res = await fetch(`${url}/post?id=${id}`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        return res.ok ? 201 : res.status;
      };
      const figures = await measure({ streams, count, send, prefix: `bare-${Date.now().toString(36)}` });
      return { route: 'bare Fastify SSE: POST writes one frame to every stream', openMs: round(openMs, 0), ...figures };
    } finally {
      close();
    }
  } finally {
    child.disconnect();
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
  }
}

async function fanoutRun({ store, db, connections, count, baseline, env }) {
  const specs = store === 'sqlite'
    ? [{ db, env, label: 'fanout sqlite server' }]
    : [{ db, env, label: 'fanout postgres A (posts)' }, { db, env, label: 'fanout postgres B (streams)' }];
  const line = await withServers(specs, async (servers) => {
    const writer = servers[0];
    const reader = servers.at(-1);
    log(`fanout ${store}: opening ${connections} streams on ${reader.url}`);
    const rssBeforeMB = mb(reader.memory().rss);
    const { streams, openMs, close } = await openStreams(reader.url, eventsPath, connections);
    try {
      const rssOpenMB = mb(reader.memory().rss);
      log(`fanout ${store}: ${streams.filter((s) => !s.failed).length} open in ${Math.round(openMs)} ms; posting ${count}, one per ${spacingMs} ms`);
      const prefix = `fan-${store}-${Date.now().toString(36)}`;
      const send = async (id) => (await postComment(writer.url, { id, post: fanoutPost, body: `Fan-out ${id}` })).status;
      const figures = await measure({ streams, count, send, prefix });
      return {
        bench: 'fanout', store, path: store === 'sqlite' ? 'one process' : 'streams on B, posts to A (LISTEN/NOTIFY)',
        connections, spacingMs, openMs: round(openMs, 0), ...figures,
        streamServerRssMB: { before: rssBeforeMB, streamsOpen: rssOpenMB, after: mb(reader.memory().rss) },
      };
    } finally {
      close();
    }
  });
  const full = {
    ...line,
    baseline: { route: baseline.route, p50Ms: baseline.p50Ms, p99Ms: baseline.p99Ms, maxMs: baseline.maxMs, missed: baseline.missed },
    ratio: baseline.p99Ms > 0 ? round(line.p99Ms / baseline.p99Ms, 2) : null,
    goal: { missed: 0 },
  };
  emit(full);
  return full;
}

export async function run(opts = {}) {
  const connections = Number(opts.connections ?? process.env.BENCH_FANOUT_CONNECTIONS ?? 1000);
  const count = Number(opts.posts ?? process.env.BENCH_FANOUT_POSTS ?? 50);
  const files = openFilesLimit();
  // Each stream is one socket in this process and one in the server (plus the pg pool etc.).
  if (files < connections + 200) {
    emit({ bench: 'fanout', skipped: `ulimit -n is ${files}; need ≥ ${connections + 200} for ${connections} streams (raise it and rerun)` });
    return null;
  }
  log(`fanout: ulimit -n ${files}`);
  const env = { BLOGTALK_LIVE_STREAMS_MAX: String(Math.max(10_000, connections + 100)) };
  const failures = [];

  const baseline = await bareBaseline(connections, count);
  log(`fanout baseline: p50 ${baseline.p50Ms} ms, p99 ${baseline.p99Ms} ms, missed ${baseline.missed}`);

  const sqlite = await tempDataDir();
  try {
    const line = await fanoutRun({ store: 'sqlite', db: { dataDir: sqlite.dir }, connections, count, baseline, env });
    if (line.missed || line.streamsFailed) failures.push(`sqlite: ${line.missed} missed, ${line.streamsFailed} streams failed`);
  } finally {
    await sqlite.remove();
  }

  if (!databaseUrl) {
    emit({ bench: 'fanout', store: 'postgres-2x', skipped: pgSkipped });
  } else {
    const { schema, drop } = pgSchema('fanout');
    try {
      const line = await fanoutRun({ store: 'postgres-2x', db: { schema }, connections, count, baseline, env });
      if (line.missed || line.streamsFailed) failures.push(`postgres-2x: ${line.missed} missed, ${line.streamsFailed} streams failed`);
    } finally {
      await drop().catch((error) => log(`fanout: dropping schema ${schema} failed: ${error.message}`));
    }
  }
  return failures.length ? `deliveries missed: ${failures.join('; ')}` : null;
}

// `node bench/fanout.mjs` runs this bench alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const failure = await run();
  if (failure) {
    log(`fanout: ${failure}`);
    process.exitCode = 1;
  }
}
