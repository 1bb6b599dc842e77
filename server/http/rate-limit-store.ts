/**
 * Where the rate limits count: in memory for one process (SQLite), in the shared database
 * when several instances share PostgreSQL, or in Redis when `REDIS_URL` is set — so adding
 * instances does not multiply the limits.
 */
import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import type { HitCounter } from '../store/store.js';

type Incr = (key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number, max: number) => void;

/** A `@fastify/rate-limit` store class that counts through a `HitCounter`. */
function counterStore(counter: HitCounter) {
  return class DatabaseRateLimitStore {
    incr: Incr = (key, callback, timeWindow) => {
      counter.hit(key, timeWindow).then(
        ({ count, resetInMs }) => callback(null, { current: count, ttl: resetInMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    };

    child(): DatabaseRateLimitStore {
      return this;
    }
  };
}

export interface RateLimitBackend {
  options: Partial<RateLimitPluginOptions>;
  close(): Promise<void>;
}

export function rateLimitBackend(redisUrl: string | undefined, counter: HitCounter | null): RateLimitBackend {
  if (redisUrl) {
    const redis = new Redis(redisUrl, { connectTimeout: 2_000, maxRetriesPerRequest: 1, enableOfflineQueue: true });
    redis.on('error', () => {}); // reported per request (skipOnError), not as a crash
    return {
      options: { redis, nameSpace: 'blogtalk-rl-', skipOnError: true },
      close: async () => {
        await redis.quit().catch(() => redis.disconnect());
      },
    };
  }
  if (counter) {
    return {
      options: { store: counterStore(counter) as unknown as RateLimitPluginOptions['store'], skipOnError: true },
      close: async () => {},
    };
  }
  return { options: {}, close: async () => {} };
}
