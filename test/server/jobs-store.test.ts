/**
 * The job queue's store contract (`JobStore`), on SQLite and, with TEST_DATABASE_URL, on
 * PostgreSQL: enqueue with a dedupe key, claims with a lease (one claimer per job, also with
 * two stores on one database), complete, retry, dead, purge.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const schema = testSchemaName();
after(() => dropTestSchema(schema));
const T0 = new Date(Date.UTC(2026, 0, 5, 9, 0, 0));
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
let n = 0;
const kind = () => `test-${process.pid}-${++n}`;

for (const [name, skip, open] of [
  ['SQLite', false, (dir: string) => openStore({ dataDir: dir })],
  ['PostgreSQL', testDatabaseUrl ? false : 'TEST_DATABASE_URL not set', () => openStore({ databaseUrl: testDatabaseUrl!, pgSchema: schema })],
] as const) describe(`job store contract (${name})`, { skip }, () => {
  let store: Store;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-jobs-'));
    store = await open(dir);
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Claims everything due at `when` and keeps only this test's kind (the store is shared by the tests). */
  async function claim(k: string, when: Date, leaseMs = 60_000) {
    const jobs = await store.claimJobs(when, leaseMs, 100);
    // Put back other tests' jobs untouched: none are due at these times in other tests.
    return jobs.filter((job) => job.kind === k);
  }

  it('hands a job back parsed, once, only when it is due', async () => {
    const k = kind();
    const id = await store.enqueueJob({ kind: k, payload: { to: 'a@example.org', n: [1, 2] }, runAt: at(10) }, at(0));
    assert.equal(typeof id, 'number');
    assert.deepEqual(await claim(k, at(5)), []);
    const [job, ...rest] = await claim(k, at(10));
    assert.deepEqual(rest, []);
    assert.equal(job!.id, id);
    assert.deepEqual(job!.payload, { to: 'a@example.org', n: [1, 2] });
    assert.equal(job!.state, 'running');
    assert.equal(job!.attempts, 1);
    assert.equal(job!.maxAttempts, 8);
    assert.deepEqual(job!.leaseUntil, at(70));
    assert.deepEqual(await claim(k, at(11)), [], 'a leased job is not claimed again');
    assert.equal(await store.completeJob(job!.id, 1, at(12)), true);
    const done = await store.getJob(job!.id);
    assert.equal(done!.state, 'done');
    assert.deepEqual(done!.finished, at(12));
    assert.deepEqual(await claim(k, at(1000)), [], 'a done job never runs again');
  });

  it('adds a job with a dedupe key only once', async () => {
    const k = kind();
    const key = `once-${k}`;
    const first = await store.enqueueJob({ kind: k, payload: 1, runAt: at(0), dedupeKey: key }, at(0));
    const again = await store.enqueueJob({ kind: k, payload: 2, runAt: at(0), dedupeKey: key }, at(0));
    assert.ok(first);
    assert.equal(again, null);
    const jobs = await claim(k, at(0));
    assert.equal(jobs.length, 1);
    await store.completeJob(jobs[0]!.id, 1, at(1));
    assert.equal(await store.enqueueJob({ kind: k, payload: 3, runAt: at(0), dedupeKey: key }, at(2)), null, 'still stored when done');
    assert.ok(await store.enqueueJob({ kind: k, payload: 4, runAt: at(0) }, at(2)), 'no key: no dedupe');
    assert.ok(await store.enqueueJob({ kind: k, payload: 5, runAt: at(0) }, at(2)));
    assert.equal((await claim(k, at(3))).length, 2);
  });

  it('retries a failed job when told, keeps it dead with its last error when not', async () => {
    const k = kind();
    const id = (await store.enqueueJob({ kind: k, payload: null, runAt: at(0), maxAttempts: 2 }, at(0)))!;
    const [first] = await claim(k, at(0));
    assert.equal(await store.failJob(id, first!.attempts, '451 try later', at(30), at(1)), true);
    const retried = await store.getJob(id);
    assert.equal(retried!.state, 'queued');
    assert.equal(retried!.lastError, '451 try later');
    assert.deepEqual(retried!.runAt, at(30));
    assert.deepEqual(await claim(k, at(29)), []);
    const [second] = await claim(k, at(30));
    assert.equal(second!.attempts, 2);
    assert.equal(await store.failJob(id, 2, 'connection refused', null, at(31)), true);
    const dead = await store.getJob(id);
    assert.equal(dead!.state, 'dead');
    assert.equal(dead!.lastError, 'connection refused');
    assert.ok((await store.listJobs('dead', 1000)).some((job) => job.id === id));
    assert.deepEqual(await claim(k, at(10_000)), []);
  });

  it('gives a job whose lease ran out to the next claimer, and ignores the late first one', async () => {
    const k = kind();
    const id = (await store.enqueueJob({ kind: k, payload: null, runAt: at(0) }, at(0)))!;
    const [first] = await claim(k, at(0), 1000);
    const [second] = await claim(k, at(2), 1000);
    assert.equal(second!.id, id);
    assert.equal(second!.attempts, 2);
    assert.equal(await store.completeJob(id, first!.attempts, at(3)), false, "the first claim's word no longer counts");
    assert.equal(await store.failJob(id, first!.attempts, 'late', null, at(3)), false);
    assert.equal(await store.completeJob(id, second!.attempts, at(3)), true);
  });

  it('lets concurrent claimers share out the due jobs, each job to one of them', async () => {
    const k = kind();
    const ids = new Set<number>();
    for (let i = 0; i < 30; i++) ids.add((await store.enqueueJob({ kind: k, payload: i, runAt: at(100) }, at(0)))!);
    // Two stores on the same database where that is possible (PostgreSQL), else the one store.
    const other = name === 'PostgreSQL' ? await openStore({ databaseUrl: testDatabaseUrl!, pgSchema: schema }) : store;
    try {
      const batches = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? other : store).claimJobs(at(100), 60_000, 7)),
      );
      const claimed = batches.flat().filter((job) => job.kind === k).map((job) => job.id);
      assert.equal(new Set(claimed).size, claimed.length, 'no job claimed twice');
      assert.deepEqual(new Set(claimed), ids);
    } finally {
      if (other !== store) await other.close();
    }
  });

  it('purges finished jobs older than the cut-off, and keeps the rest', async () => {
    const k = kind();
    const old = (await store.enqueueJob({ kind: k, payload: null, runAt: at(0), dedupeKey: `purge-${k}` }, at(0)))!;
    const recent = (await store.enqueueJob({ kind: k, payload: null, runAt: at(0) }, at(0)))!;
    const waiting = (await store.enqueueJob({ kind: k, payload: null, runAt: at(5000) }, at(0)))!;
    const jobs = await claim(k, at(0));
    await store.completeJob(old, jobs.find((j) => j.id === old)!.attempts, at(10));
    await store.completeJob(recent, jobs.find((j) => j.id === recent)!.attempts, at(500));
    assert.ok((await store.purgeJobs(at(100))) >= 1);
    assert.equal(await store.getJob(old), null);
    assert.ok(await store.getJob(recent));
    assert.ok(await store.getJob(waiting));
    assert.ok(await store.enqueueJob({ kind: k, payload: null, runAt: at(0), dedupeKey: `purge-${k}` }, at(600)), 'its key is free again');
  });
});
