// Helpers shared by the benchmarks: JSON output (stdout) vs. chatter (stderr), statistics,
// deterministic comment text, and the server child process driven over IPC.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Seconds each load test runs (`BENCH_DURATION`, default 10). */
export const duration = Number(process.env.BENCH_DURATION ?? 10);

/** Human chatter: stderr only, so stdout stays one JSON line per benchmark. */
export const log = (...args) => console.error('[bench]', ...args);

/** The one JSON line of a benchmark. */
export const emit = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const round = (n, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

const words = 'the of and to a in that is was he for it with as his on be at by had not are but from or have'.split(' ');

/** Deterministic comment text of about 200 characters, two paragraphs. */
export function commentText(i) {
  const pick = (k) => words[(i * 7 + k * 13) % words.length];
  const sentence = (k) => Array.from({ length: 12 }, (_, j) => pick(k * 12 + j)).join(' ');
  return `Comment ${i}: ${sentence(1)}.\n\n${sentence(2)} ${sentence(3)}.`;
}

/** The site every bench server registers; 'self' lets a page on the server's own origin in. */
export const benchSite = { id: 'bench', name: 'Bench', origin: 'https://bench.test', allowedOrigins: ['self'] };

/**
 * Starts `server-child.mjs` with `config` ({ mode: 'app'|'bare', databaseUrl? , distDir? }) and
 * resolves when it listens. `call(cmd, args)` runs a command in the child (see there).
 * Set BENCH_CPU_PROF=1 to write a CPU profile of each child into .bench-out/.
 */
export async function startServerChild(config) {
  const execArgv = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=.bench-out'] : [];
  const child = fork(fileURLToPath(new URL('./server-child.mjs', import.meta.url)), [JSON.stringify(config)], {
    stdio: ['ignore', 2, 2, 'ipc'], // the child's stdout goes to our stderr
    execArgv,
  });
  const pending = new Map();
  let nextId = 0;
  let onReady;
  const ready = new Promise((resolve, reject) => {
    onReady = resolve;
    child.once('exit', (code) => {
      const error = new Error(`server child exited with ${code}`);
      reject(error);
      for (const { reject: fail } of pending.values()) fail(error);
    });
  });
  child.on('message', (message) => {
    if (message.ready) return onReady(message.ready);
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(`server child: ${message.error}`));
    else waiter?.resolve(message.result);
  });
  const { url } = await ready;
  const call = (cmd, args = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, cmd, ...args });
    });
  /** Closes the app (and drops a PostgreSQL schema), then waits for the child to exit. */
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await call('close').catch(() => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { url, call, stop };
}

/** Runs `fn(server)` with a server child, always stopping the child. */
export async function withServerChild(config, fn) {
  const server = await startServerChild(config);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
