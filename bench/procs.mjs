// Helpers for the benches that run the real server as `npm run serve` does (`load`, `fanout`,
// `rss`): `node <build>/server/main.js` processes on loopback, configured by environment only,
// a fresh PostgreSQL schema per run, percentiles, and a process's RSS from /proc.
// BENCH_BUILD_DIR picks the compiled server (default build/, what `npm run bench` builds).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { log, round } from './lib.mjs';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const buildDir = resolve(repoRoot, process.env.BENCH_BUILD_DIR ?? 'build');
export const databaseUrl = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL || '';
export const pgSkipped = 'set DATABASE_URL or TEST_DATABASE_URL';

/** The bench blog, registered by every server through BLOGTALK_SITE_ORIGIN. */
export const siteOrigin = 'https://bench.test';
export const siteId = 'bench';
const secret = 'bench-secret-shared-by-all-instances';

export const mb = (bytes) => round(bytes / 2 ** 20, 1);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of an unsorted array (0 for an empty one). */
export function percentile(values, p) {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export async function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Resident set size of a live process, in bytes, and its peak (VmHWM), from /proc. */
export function procMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { rss: 0, peak: 0 };
  }
}

/** The soft open-files limit of this process (what spawned servers inherit). */
export function openFilesLimit() {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
    return soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return NaN;
  }
}

/** A fresh PostgreSQL schema name and a function that drops it. */
export function pgSchema(label) {
  const schema = `bench_${label}_${process.pid}_${Date.now().toString(36)}`;
  const drop = async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  };
  return { schema, drop };
}

/** A temp data folder and a function that removes it. */
export async function tempDataDir() {
  const dir = await mkdtemp(join(tmpdir(), 'blogtalk-bench-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Starts `node <build>/server/main.js` on a free loopback port and resolves once /healthz
 * answers. `db` is `{ dataDir }` (SQLite) or `{ schema }` (PostgreSQL on databaseUrl).
 * `stop()` sends SIGTERM (SIGKILL after 10 s) and waits for the exit.
 */
export async function startServer({ db, env = {}, label = 'server' }) {
  const port = await freePort();
  const main = join(buildDir, 'server', 'main.js');
  // As `npm run serve` runs it (a smaller young generation: see README, Running in production).
  const child = spawn(process.execPath, ['--max-semi-space-size=4', main], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      BLOGTALK_SECRET: secret,
      BLOGTALK_SITE_ORIGIN: siteOrigin,
      BLOGTALK_SITE_ID: siteId,
      BLOGTALK_WRITES_PER_MINUTE: '1000000000',
      ...(db.schema ? { DATABASE_URL: databaseUrl, BLOGTALK_PG_SCHEMA: db.schema } : { DATABASE_URL: '', DATA_DIR: db.dataDir }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((done) => child.once('exit', (code, signal) => done(code ?? signal)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited early (${child.exitCode}):\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${label} did not become healthy in 20 s:\n${output}`);
    }
    await sleep(100);
  }
  log(`${label} (pid ${child.pid}) at ${url}`);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return { url, port, pid: child.pid, child, output: () => output, memory: () => procMemory(child.pid), stop };
}

/** Starts the servers, runs `fn(servers)`, always stops them (in parallel). */
export async function withServers(specs, fn) {
  const servers = [];
  try {
    for (const spec of specs) servers.push(await startServer(spec));
    return await fn(servers);
  } finally {
    await Promise.allSettled(servers.map((s) => s.stop()));
  }
}

/** POSTs one comment; resolves to { status, ms }. Bounded by a 10 s timeout. */
export async function postComment(url, { id, post, body, name = 'Bench', parent = null }) {
  const started = performance.now();
  const res = await fetch(`${url}/api/v1/comments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': id },
    body: JSON.stringify({ post, parent, author: { name, email: 'bench@bench.test' }, body }),
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
}
