/**
 * Crash safety: `kill -9` the server in the middle of a write load, start it again on the same
 * database, and find every comment it had acknowledged (201) — SQLite with synchronous=FULL,
 * and PostgreSQL when TEST_DATABASE_URL is set.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CommentPage } from '../../src/data/api-types.js';
import { startServerProcess } from '../support/processes.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const site = 'https://crash.example';
const post = `${site}/under-load/`;

/**
 * Posts comments from `workers` loops until the server stops answering; returns the acknowledged
 * ids. `onAck` hears the count after each acknowledgement.
 */
async function loadUntilDown(url: string, workers: number, maxEach: number, onAck: (count: number) => void): Promise<string[]> {
  const acked: string[] = [];
  let stopped = false;
  const worker = async (w: number) => {
    for (let i = 0; i < maxEach && !stopped; i++) {
      const id = `crash-${w}-${i}-${randomBytes(4).toString('hex')}`;
      try {
        const res = await fetch(`${url}/api/v1/comments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': id },
          body: JSON.stringify({ post, author: { name: `W${w}`, email: 'w@example.org' }, body: `comment ${i}` }),
          signal: AbortSignal.timeout(5000),
        });
        if (res.status === 201) onAck(acked.push(id));
        else await res.arrayBuffer();
      } catch {
        stopped = true; // connection refused or reset: the server is gone
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return acked;
}

async function listAll(url: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let before: string | null = '', pages = 0; before !== null; pages++) {
    assert.ok(pages < 100, 'too many pages');
    const cursor = before ? `&before=${before}` : '';
    const res = await fetch(`${url}/api/v1/comments?post=${encodeURIComponent(post)}&page-size=1000${cursor}`);
    assert.equal(res.status, 200);
    const page = (await res.json()) as CommentPage;
    for (const c of page.comments) ids.add(c.id);
    before = page.older;
  }
  return ids;
}

async function crashAndRecover(env: Record<string, string>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'blogtalk-crash-'));
  const common = {
    BLOGTALK_SITE_ORIGIN: site,
    BLOGTALK_SECRET: 'crash-secret',
    BLOGTALK_WRITES_PER_MINUTE: '1000000',
    ...env,
  };
  try {
    const first = await startServerProcess({ dataDir, env: common });
    // Let some writes land (counted, not timed: a loaded machine is slow), then pull the plug mid-load.
    let landed!: () => void;
    const someLanded = new Promise<void>((resolve) => (landed = resolve));
    const load = loadUntilDown(first.url, 16, 2_000, (count) => count >= 50 && landed());
    await Promise.race([someLanded, load]);
    await first.stop('SIGKILL');
    const acked = await load;
    console.log(`acknowledged before the kill: ${acked.length}`);
    assert.ok(acked.length > 0, 'no comment was acknowledged before the kill');
    assert.ok(acked.length < 16 * 2_000, 'the load had finished before the kill');

    const second = await startServerProcess({ dataDir, env: common, port: first.port });
    try {
      const stored = await listAll(second.url);
      const lost = acked.filter((id) => !stored.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged comments lost`);
    } finally {
      await second.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('a server killed mid-load', () => {
  it('loses no acknowledged comment (SQLite)', async () => {
    await crashAndRecover({});
  });

  const databaseUrl = testDatabaseUrl;
  const schema = testSchemaName();
  after(() => dropTestSchema(schema));

  it(
    'loses no acknowledged comment (PostgreSQL)',
    { skip: databaseUrl ? false : 'TEST_DATABASE_URL not set' },
    async () => {
      await crashAndRecover({ DATABASE_URL: databaseUrl!, BLOGTALK_PG_SCHEMA: schema });
    },
  );
});
