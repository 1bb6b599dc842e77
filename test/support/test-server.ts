/**
 * The real reference server on loopback for browser and end-to-end tests: a fresh SQLite
 * file in a temporary folder, one test site (https://blog.test) that allows the given origins.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp, type AppOptions } from '../../server/app.js';
import { openStore } from '../../server/store/index.js';

export interface TestServer {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** Posts of the test site live under this origin. */
  blogOrigin: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Origins whose pages may use the test site (the test page's origin). */
  allowedOrigins: string[];
  limits?: AppOptions['limits'];
  distDir?: string;
  host?: string;
}

export const testBlogOrigin = 'https://blog.test';

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'blogtalk-test-'));
  const store = await openStore({ dataDir: dir });
  const app = await buildApp({
    store,
    secret: 'test-secret',
    sites: [{ id: 'test', name: 'Test blog', origin: testBlogOrigin, allowedOrigins: options.allowedOrigins }],
    // Tests type in milliseconds: the time-to-write spam check would hold their comments.
    limits: { writesPerMinute: 100_000, minWritingSeconds: 0, ...options.limits },
    ...(options.distDir ? { distDir: options.distDir } : {}),
  });
  await app.listen({ port: 0, host: options.host ?? '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    blogOrigin: testBlogOrigin,
    async close() {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
