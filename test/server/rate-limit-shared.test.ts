/**
 * Rate limits are shared between instances: through PostgreSQL when they share it, through
 * Redis when REDIS_URL is set — so scaling out does not multiply the limits.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { openStore, type OpenStoreOptions } from '../../server/store/index.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const blog = 'https://limits.example';
const site = { id: 'limits', name: 'Limits', origin: blog, allowedOrigins: [blog] };
let n = 0;

async function instance(storeOptions: OpenStoreOptions, redisUrl?: string): Promise<FastifyInstance> {
  const store = await openStore(storeOptions);
  return buildApp({
    store,
    secret: 's',
    sites: [site],
    limits: { writesPerMinute: 3 },
    ...(redisUrl ? { redisUrl } : {}),
  });
}

async function post(app: FastifyInstance): Promise<number> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/comments',
    headers: { 'content-type': 'application/json', 'idempotency-key': `rl-${process.pid}-${Date.now()}-${++n}` },
    payload: JSON.stringify({ post: `${blog}/p/`, author: { name: 'R', email: 'r@example.org' }, body: `n${n}` }),
  });
  return res.statusCode;
}

/** Two instances sharing the limit: the fourth write from one address is refused, whichever instance takes it. */
async function sharedLimit(a: FastifyInstance, b: FastifyInstance) {
  assert.deepEqual([await post(a), await post(b), await post(a), await post(b)], [201, 201, 201, 429]);
}

describe('write rate limits across instances', () => {
  const databaseUrl = testDatabaseUrl;
  const redisUrl = process.env['TEST_REDIS_URL'];
  const schema = testSchemaName();
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    await dropTestSchema(schema);
  });

  it('are counted once for two instances sharing PostgreSQL', { skip: databaseUrl ? false : 'TEST_DATABASE_URL not set' }, async () => {
    const a = await instance({ databaseUrl: databaseUrl!, pgSchema: schema });
    const b = await instance({ databaseUrl: databaseUrl!, pgSchema: schema });
    try {
      await sharedLimit(a, b);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('are counted once for two instances sharing Redis', { skip: redisUrl ? false : 'TEST_REDIS_URL not set' }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'blogtalk-rl-'));
    dirs.push(dir);
    // A fresh key space per run: the counter key carries the client address only.
    const url = new URL(redisUrl!);
    url.pathname = `/${1 + (process.pid % 14)}`;
    const a = await instance({ file: join(dir, 'a.db') }, url.href);
    const b = await instance({ file: join(dir, 'b.db') }, url.href);
    try {
      const { Redis } = await import('ioredis');
      const redis = new Redis(url.href);
      await redis.flushdb();
      await redis.quit();
      await sharedLimit(a, b);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
