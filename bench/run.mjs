// `npm run bench`: every benchmark, one JSON line each on stdout (chatter on stderr), each
// against a baseline measured in the same run. Benchmarks are not tests: times never fail the
// run, but a bundle over budget or a crashed bench makes the exit code non-zero.
// `node bench/run.mjs render server` runs only the named ones. Env: BENCH_DURATION (seconds per
// load test, default 10), BENCH_RENDER_RUNS (default 5), BENCH_CPU_PROF=1 (profile server
// children into .bench-out/), DATABASE_URL / TEST_DATABASE_URL (adds the PostgreSQL runs),
// BENCH_LOAD_DURATION (mixed load, default 60 s), BENCH_FANOUT_CONNECTIONS (1000),
// BENCH_FANOUT_POSTS (50), BENCH_RSS_COMMENTS (100000), BENCH_RSS_READS (20000),
// BENCH_BUILD_DIR (the compiled server, default build).
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.mjs';
import { emit, log } from './lib.mjs';
import { render } from './render.mjs';
import { bareBaseline, storeBenches } from './server.mjs';

process.chdir(fileURLToPath(new URL('..', import.meta.url))); // paths (dist/, build/) are from the repo root
const databaseUrl = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;

async function server() {
  const baseline = await bareBaseline();
  await storeBenches(baseline);
  if (databaseUrl) await storeBenches(baseline, databaseUrl);
  else for (const bench of ['server-read', 'server-post']) {
    emit({ bench, store: 'postgres', skipped: 'set DATABASE_URL or TEST_DATABASE_URL' });
  }
}

/** name → a function that emits its lines and returns a failure message or nothing. */
const benches = {
  bundle,
  render,
  server,
  outbox: async () => (await import('./outbox.mjs')).outbox(),
  load: async () => (await import('./load.mjs')).run(),
  fanout: async () => (await import('./fanout.mjs')).run(),
  rss: async () => (await import('./rss.mjs')).run(),
};

const wanted = process.argv.slice(2);
const failures = [];
for (const [name, fn] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const started = Date.now();
  try {
    const failure = await fn();
    if (failure) failures.push(`${name}: ${failure}`);
  } catch (error) {
    emit({ bench: name, error: String(error?.message ?? error) });
    log(error?.stack ?? error);
    failures.push(`${name}: crashed`);
  }
  log(`${name} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
if (failures.length > 0) {
  log(`failed: ${failures.join('; ')}`);
  process.exitCode = 1;
}
