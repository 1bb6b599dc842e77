/**
 * The server process: reads the environment, opens the store, listens, and shuts down
 * gracefully. `node build/server/main.js` is production (`npm run serve`);
 * `--demo` adds the demo blog and page (`npm start`).
 */
import { join } from 'node:path';
import { buildApp } from './app.js';
import { limitsFromEnv } from './config.js';
import { demoPostUrl, seedDemo } from './demo.js';
import { dataDirFrom, loadSecret, projectRoot as root } from './env.js';
import { openStore } from './store/index.js';
import type { AuthOptions } from './app.js';
import type { DevProvider } from './auth/dev-provider.js';
import { providersFromEnv } from './auth/providers.js';
import { ALLOW_LOOPBACK_ENV, loopbackOutboundFromEnv, type GuardedFetchOptions } from './http/guarded-fetch.js';
import type { Site } from './store/store.js';

function fail(message: string): never {
  console.error(`blogtalk: ${message}`);
  process.exit(1);
}

/** A site to register at start: `BLOGTALK_SITE_ORIGIN` (+ optional id, name, allowed origins). */
function bootstrapSites(env: NodeJS.ProcessEnv): Site[] {
  const origin = env.BLOGTALK_SITE_ORIGIN;
  if (!origin) return [];
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    fail(`BLOGTALK_SITE_ORIGIN is not a URL: "${origin}"`);
  }
  const allowed = (env.BLOGTALK_ALLOWED_ORIGINS ?? parsed.origin)
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  return [
    {
      id: env.BLOGTALK_SITE_ID ?? parsed.hostname,
      name: env.BLOGTALK_SITE_NAME ?? parsed.hostname,
      origin: parsed.origin,
      allowedOrigins: allowed,
    },
  ];
}

/**
 * Sign-in from the environment: `BLOGTALK_PROVIDERS` (JSON or a file path), `BLOGTALK_PUBLIC_URL`,
 * `BLOGTALK_COOKIE_MODE` (`cross-site` | `first-party`), `BLOGTALK_SMTP_URL` + `BLOGTALK_MAIL_FROM`.
 */
function authFromEnv(env: NodeJS.ProcessEnv): AuthOptions {
  const auth: AuthOptions = { providers: providersFromEnv(env) };
  if (env.BLOGTALK_PUBLIC_URL) {
    const url = new URL(env.BLOGTALK_PUBLIC_URL);
    auth.publicUrl = url.origin + url.pathname.replace(/\/+$/, '');
  }
  const mode = env.BLOGTALK_COOKIE_MODE;
  if (mode) {
    if (mode !== 'cross-site' && mode !== 'first-party') throw new Error('BLOGTALK_COOKIE_MODE must be cross-site or first-party');
    auth.cookieMode = mode;
  }
  if (env.BLOGTALK_SMTP_URL) {
    if (!env.BLOGTALK_MAIL_FROM) throw new Error('set BLOGTALK_MAIL_FROM (the From address) with BLOGTALK_SMTP_URL');
    auth.email = { smtpUrl: env.BLOGTALK_SMTP_URL, from: env.BLOGTALK_MAIL_FROM };
  }
  return auth;
}

async function main(): Promise<void> {
  const demo = process.argv.includes('--demo');
  const env = process.env;
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be a port number, got "${env.PORT}"`);
  const host = env.HOST ?? (demo ? 'localhost' : '0.0.0.0');
  const dataDir = dataDirFrom(env, demo);
  let secret: string;
  try {
    secret = loadSecret(env, dataDir);
  } catch (error) {
    fail((error as Error).message);
  }

  let limits;
  try {
    limits = limitsFromEnv(env);
  } catch (error) {
    fail((error as Error).message);
  }
  let auth: AuthOptions;
  try {
    auth = authFromEnv(env);
  } catch (error) {
    fail((error as Error).message);
  }
  let outbound: GuardedFetchOptions | null;
  try {
    outbound = loopbackOutboundFromEnv(env, demo);
  } catch (error) {
    fail((error as Error).message);
  }
  if (outbound) {
    console.warn(
      `\n*** blogtalk: ${ALLOW_LOOPBACK_ENV}=1 — outbound fetches (Webmention, pictures) may reach LOOPBACK and plain http. ***\n` +
        '*** For tests on one machine only; never set it on a server that faces the internet. ***\n',
    );
  }
  const store = await openStore({ databaseUrl: env.DATABASE_URL, pgSchema: env.BLOGTALK_PG_SCHEMA, dataDir });
  if (demo) await seedDemo(store, secret);

  // Demo mode only: a local development OpenID Connect provider on its own loopback port.
  let devProvider: DevProvider | undefined;
  if (demo) {
    // The demo answers on whichever loopback name the browser used, so the callback (and the
    // origin its message comes from) must be that same name: register each of them.
    const bases = auth.publicUrl
      ? [auth.publicUrl]
      : ['localhost', '127.0.0.1', '[::1]'].map((name) => `http://${name}:${port}`);
    // Loaded only here, so `npm run serve` never loads oidc-provider.
    const { startDevProvider } = await import('./auth/dev-provider.js');
    devProvider = await startDevProvider({
      redirectUris: bases.map((base) => `${base}/api/v1/auth/callback/demo`),
      port: Number(env.BLOGTALK_DEMO_IDP_PORT ?? (port === 0 ? 0 : port + 1)),
    });
    auth.providers = [devProvider.config, ...(auth.providers ?? [])];
    // A second demo blog that the development account owns, to reblog the demo post on.
    const { seedDemoReblogBlog } = await import('./demo-reblog.js');
    await seedDemoReblogBlog(store, devProvider.issuer);
  }

  const trust = env.TRUST_PROXY;
  const app = await buildApp({
    store,
    secret,
    sites: bootstrapSites(env),
    limits,
    distDir: join(root, 'dist'),
    demoDir: demo ? join(root, 'demo') : undefined,
    trustProxy: trust ? (trust === 'true' ? true : trust.split(',').map((s) => s.trim())) : false,
    ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}),
    logger: { level: env.LOG_LEVEL ?? (demo ? 'warn' : 'info') },
    auth,
    ...(outbound ? { outbound } : {}),
  });
  if (devProvider) app.addHook('onClose', () => devProvider.close());

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info(`${signal}: finishing in-flight requests, then stopping`);
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const address = await app.listen({ port, host });
  const shown = address.replace('127.0.0.1', 'localhost').replace('[::1]', 'localhost');
  if (demo) {
    console.log(`\nblogtalk demo: ${shown}/  (demo mode: seed post ${demoPostUrl}, data in ${dataDir})\n`);
  } else {
    console.log(`blogtalk server listening on ${address}`);
  }
}

main().catch((error) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error)));
