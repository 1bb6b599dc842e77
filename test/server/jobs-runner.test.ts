/**
 * The job runner (server/jobs/runner.ts) on a real SQLite store, with an injected clock:
 * handlers by kind, wake-up on enqueue, backoff then dead with the last error, a lease that
 * lets another runner take over, and a clean stop that waits for the job in hand.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JobRunner } from '../../server/jobs/runner.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';

describe('job runner', () => {
  let store: Store;
  let dir: string;
  let clock = Date.UTC(2026, 0, 5, 9, 0, 0);
  const now = () => new Date(clock);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-runner-'));
    store = await openStore({ dataDir: dir });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs each job with the handler of its kind, woken by its enqueue', async () => {
    const seen: unknown[] = [];
    let ran!: () => void;
    const done = new Promise<void>((resolve) => (ran = resolve));
    const runner = new JobRunner({
      store,
      now,
      pollMs: 3_600_000,
      handlers: { greet: async (payload) => void (seen.push(payload), ran()) },
    });
    runner.start();
    await runner.enqueue({ kind: 'greet', payload: { name: 'Ann' }, runAt: now() });
    await done; // no poll for an hour: the enqueue woke it
    assert.deepEqual(seen, [{ name: 'Ann' }]);
    await runner.stop();
  });

  it('retries a failing job after 30 s, then 60 s, and keeps it dead with its last error after its last attempt', async () => {
    let calls = 0;
    const runner = new JobRunner({
      store,
      now,
      pollMs: 3_600_000,
      handlers: {
        flaky: async () => {
          calls += 1;
          throw new Error(`refused ${calls}`);
        },
      },
    });
    const id = (await store.enqueueJob({ kind: 'flaky', payload: null, runAt: now(), maxAttempts: 3 }, now()))!;
    assert.equal(await runner.runDue(), 1);
    assert.equal(calls, 1);
    assert.equal((await store.getJob(id))!.state, 'queued');
    clock += 29_000;
    await runner.runDue();
    assert.equal(calls, 1, 'not before its backoff');
    clock += 1_000;
    await runner.runDue();
    assert.equal(calls, 2);
    clock += 60_000;
    await runner.runDue();
    assert.equal(calls, 3);
    const dead = await store.getJob(id);
    assert.equal(dead!.state, 'dead');
    assert.equal(dead!.lastError, 'refused 3');
    clock += 3_600_000;
    await runner.runDue();
    assert.equal(calls, 3, 'a dead job stays dead');
    await runner.stop();
  });

  it('keeps a job of an unknown kind for a runner that knows it (retried, not lost)', async () => {
    const runner = new JobRunner({ store, now, handlers: {} });
    const id = (await store.enqueueJob({ kind: 'from-a-newer-version', payload: null, runAt: now() }, now()))!;
    await runner.runDue();
    const job = await store.getJob(id);
    assert.equal(job!.state, 'queued');
    assert.match(job!.lastError ?? '', /no handler/);
    await runner.stop();
  });

  it('lets another runner take a job whose runner died, once its lease is over', async () => {
    const id = (await store.enqueueJob({ kind: 'orphan', payload: null, runAt: now() }, now()))!;
    await store.claimJobs(now(), 60_000, 10); // a runner claims it, then dies
    let calls = 0;
    const runner = new JobRunner({ store, now, leaseMs: 60_000, handlers: { orphan: async () => void (calls += 1) } });
    await runner.runDue();
    assert.equal(calls, 0, 'leased to the dead runner');
    clock += 60_000;
    await runner.runDue();
    assert.equal(calls, 1);
    assert.equal((await store.getJob(id))!.state, 'done');
    await runner.stop();
  });

  it('stops cleanly: waits for the job in hand, then starts none', async () => {
    let release!: () => void;
    let started!: () => void;
    const inHand = new Promise<void>((resolve) => (started = resolve));
    let finished = 0;
    const runner = new JobRunner({
      store,
      now,
      pollMs: 3_600_000,
      handlers: {
        slow: () =>
          new Promise<void>((resolve) => {
            started();
            release = () => {
              finished += 1;
              resolve();
            };
          }),
      },
    });
    runner.start();
    await runner.enqueue({ kind: 'slow', payload: 1, runAt: now() });
    await inHand;
    const second = (await store.enqueueJob({ kind: 'slow', payload: 2, runAt: now() }, now()))!;
    const stopped = runner.stop();
    let stoppedYet = false;
    void stopped.then(() => (stoppedYet = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(stoppedYet, false, 'stop waits for the job in hand');
    release();
    await stopped;
    assert.equal(finished, 1);
    assert.equal((await store.getJob(second))!.state, 'queued', 'no job starts after stop');
  });
});
