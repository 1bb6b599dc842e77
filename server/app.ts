/**
 * `buildApp(options)`: the blogtalk reference server as a Fastify app that is not yet
 * listening. Tests build it directly; `main.ts` reads the environment and listens.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { defaultLimits, type Limits } from './config.js';
import { decodeUtf8, findTextProblem } from './domain/text.js';
import { errorBody, HttpError } from './http/errors.js';
import { rateLimitBackend } from './http/rate-limit-store.js';
import { SiteDirectory } from './http/sites.js';
import { assetRoutes } from './routes/assets.js';
import { commentRoutes } from './routes/comments.js';
import { likeRoutes } from './routes/likes.js';
import { REPORTER_KEPT_MS, reportRoutes } from './routes/reports.js';
import { liveRoutes } from './routes/live.js';
import type { Site, Store } from './store/store.js';
import type { EmailOptions } from './auth/email.js';
import type { ProviderConfig } from './auth/providers.js';
import { Sessions, type CookieMode } from './auth/sessions.js';
import { createGuardedFetch, type GuardedFetchOptions } from './http/guarded-fetch.js';
import { WebmentionReceiver, webmentionRoutes } from './webmention/receive.js';
import { authRoutes } from './routes/auth.js';
import { privacyRoutes } from './routes/privacy.js';
import { reblogRoutes } from './routes/reblogs.js';
import { WebmentionSender } from './webmention/send.js';
import { adminRoutes } from './routes/admin.js';
import { pictureRoutes } from './routes/pictures.js';
import { Akismet } from './moderation/akismet.js';
import { DEFAULT_IP_RETENTION_DAYS } from './moderation/screen.js';
import { JobRunner, type JobRunnerOptions } from './jobs/runner.js';
import { Notifier } from './notify/notifier.js';
import { notifyRoutes } from './routes/notify.js';

/** Sign-in: providers, session cookie, email login, outbound requests. */
export interface AuthOptions {
  /** OpenID Connect / OAuth 2 providers (see `server/auth/providers.ts`). */
  providers?: ProviderConfig[];
  /** `cross-site` (default): `SameSite=None; Partitioned`; `first-party`: `SameSite=Lax`. */
  cookieMode?: CookieMode;
  /** This server's public base URL (redirect URIs, email links); default: the request's own origin. */
  publicUrl?: string;
  /** SMTP for email login links; without it email login is off. */
  email?: EmailOptions;
  /** The guarded outbound fetch (tests allow loopback and inject a resolver). */
  outbound?: GuardedFetchOptions;
}

export interface AppOptions {
  store: Store;
  /** Key for avatar HMACs. Keep it stable and secret: changing it changes every avatar. */
  secret: string;
  /** Sites to create or update at start (bootstrap from environment, demo, tests). */
  sites?: Site[];
  limits?: Partial<Limits>;
  /** Folder of the built widget (`dist/`), served at `/blogtalk.js` etc. */
  distDir?: string;
  /** Folder of the demo page, served at `/` when set (demo mode only). */
  demoDir?: string;
  /** Trust `X-Forwarded-*` from these proxies (Fastify's `trustProxy`). */
  trustProxy?: boolean | string | string[];
  /** Request logging (pino): off by default; `{ level }` to turn it on. */
  logger?: boolean | { level: string };
  /** Count rate limits in this Redis (shared by every instance) instead of the database or memory. */
  redisUrl?: string;
  /** Server clock, injectable for tests. */
  now?: () => Date;
  /** Sign-in; sessions work without it, but no provider is offered. */
  auth?: AuthOptions;
  /** The guarded outbound fetch for Webmention verification (default: `auth.outbound`, else strict). */
  outbound?: GuardedFetchOptions;
  /** Akismet for the sites that turn it on: its API base (tests: a loopback stand-in) and timeout. */
  akismet?: { endpoint?: (key: string | null) => string; timeoutMs?: number };
  /** The job runner's timing (poll interval, lease, backoff); defaults suit production. */
  jobs?: Pick<JobRunnerOptions, 'pollMs' | 'leaseMs' | 'batch' | 'backoffMs'>;
}

/**
 * How long edits and deletes are kept for live replay (`Last-Event-ID`). A page whose live
 * connection was down longer than this still gets the new comments it missed, but not older
 * edits and deletes until it is reloaded.
 */
const CHANGES_KEPT_MS = 30 * 24 * 3600_000;

/** Finished jobs (sent emails included) are kept this long, then purged. */
const JOBS_KEPT_MS = 7 * 24 * 3600_000;

const textProblemMessages = {
  nul_character: 'Text may not contain NUL characters.',
  invalid_utf8: 'The request is not valid UTF-8.',
} as const;

/** `/author/email` → `email`, `/body` → `body`: the field a validation error is about. */
function fieldOf(instancePath: string, missing?: unknown): string {
  const last = instancePath.split('/').filter(Boolean).pop();
  return typeof missing === 'string' ? missing : last ?? 'request';
}

function validationError(error: FastifyError): HttpError {
  const first = error.validation?.[0];
  if (!first) return new HttpError(400, 'invalid_request', error.message);
  const params = first.params as { missingProperty?: string; limit?: number };
  const field = fieldOf(first.instancePath, params.missingProperty);
  const label = field === 'body' ? 'The comment' : `The ${field}`;
  switch (first.keyword) {
    case 'required':
      return new HttpError(400, `${field}_required`, `${label} is required.`);
    case 'minLength':
      return new HttpError(400, `${field}_empty`, `${label} is empty.`);
    case 'maxLength':
      return new HttpError(
        400,
        `${field}_too_long`,
        `${label} is too long: at most ${params.limit?.toLocaleString('en')} characters.`,
      );
    default:
      return new HttpError(400, `${field}_invalid`, `${label} is not valid (${first.message ?? first.keyword}).`);
  }
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const limits: Limits = { ...defaultLimits, ...options.limits };
  const now = options.now ?? (() => new Date());
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: limits.requestMaxBytes,
    trustProxy: options.trustProxy ?? false,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });

  const { store } = options;
  for (const site of options.sites ?? []) await store.putSite(site);
  const sites = new SiteDirectory(store);

  // JSON only, and strictly: malformed UTF-8, NUL and lone surrogates are refused, not repaired.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    const text = decodeUtf8(body as Buffer);
    if (text === null) return done(new HttpError(400, 'invalid_utf8', textProblemMessages.invalid_utf8));
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return done(new HttpError(400, 'invalid_json', 'The request body is not valid JSON.'));
    }
    const problem = findTextProblem(value);
    if (problem) return done(new HttpError(400, problem, textProblemMessages[problem]));
    done(null, value);
  });
  app.addHook('preValidation', async (request) => {
    const problem = findTextProblem(request.query);
    if (problem) throw new HttpError(400, problem, textProblemMessages[problem]);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    let http: HttpError;
    if (error instanceof HttpError) http = error;
    else if (error.validation) http = validationError(error);
    else if (error.statusCode === 413) {
      http = new HttpError(413, 'request_too_large', `The request is larger than ${limits.requestMaxBytes} bytes.`);
    } else if (error.statusCode === 415) {
      http = new HttpError(415, 'unsupported_media_type', 'Send the request as application/json.');
    } else if (error.statusCode === 429) {
      http = new HttpError(429, 'rate_limited', 'Too many comments from here for now; it will be sent later.');
    } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      http = new HttpError(error.statusCode, 'bad_request', error.message);
    } else {
      request.log.error(error);
      http = new HttpError(500, 'internal', 'Something went wrong on the comment server.');
    }
    // A refused origin must not read the refusal; an allowed one must read why (e.g. edit_window_closed).
    if (http.code.startsWith('origin_')) reply.removeHeader('Access-Control-Allow-Origin');
    reply.code(http.statusCode).headers(http.headers).send(errorBody(http.code, http.message));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('not_found', `Nothing at ${request.method} ${request.url.split('?')[0]}.`));
  });

  // CORS: the allowlist is per site, but a preflight names no site. Allow the preflight, and
  // set the header early, when some site allows the origin; each route then checks the
  // post's own site (applyCors) and refuses with 403 otherwise.
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (!origin || !request.url.startsWith('/api/')) return;
    reply.header('Vary', 'Origin');
    if (!(await sites.anySiteAllows(origin, request))) return;
    reply.header('Access-Control-Allow-Origin', origin);
    // Signed-in requests carry the session cookie; their errors must be readable too.
    reply.header('Access-Control-Allow-Credentials', 'true');
    reply.header('Access-Control-Expose-Headers', 'ETag, Retry-After, Idempotent-Replayed');
  });
  app.options('/api/*', async (_request, reply) => {
    if (!reply.hasHeader('Access-Control-Allow-Origin')) {
      throw new HttpError(403, 'origin_not_allowed', 'This origin may not use this comment server.');
    }
    // Credentialed requests (session cookie) need this too; the allowed origin is always exact.
    reply.header('Access-Control-Allow-Credentials', 'true');
    reply
      .header('Access-Control-Allow-Methods', 'GET, POST')
      .header('Access-Control-Allow-Headers', 'Content-Type, Idempotency-Key, If-None-Match')
      .header('Access-Control-Max-Age', '600')
      .code(204)
      .send();
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'blogtalk API',
        version: '1',
        description: 'Comments for any blog. Errors are `{ "error": { "code", "message" } }`.',
      },
    },
  });
  const limiter = rateLimitBackend(options.redisUrl, store.sharedHitCounter());
  await app.register(rateLimit, { global: false, ...limiter.options });
  app.addHook('onClose', () => limiter.close());

  const sessions = new Sessions({
    store,
    now,
    maxAgeSeconds: limits.sessionMaxAgeSeconds,
    cookieMode: options.auth?.cookieMode ?? 'cross-site',
  });
  const akismet = new Akismet({
    fetch: createGuardedFetch({ ...(options.outbound ?? options.auth?.outbound ?? {}), timeoutMs: options.akismet?.timeoutMs ?? 2_000 }),
    ...(options.akismet?.endpoint ? { endpoint: options.akismet.endpoint } : {}),
    log: app.log,
  });
  app.decorate('akismet', akismet);
  app.addHook('preClose', async () => akismet.settled());
  // Work done after the request (emails, Webmentions): a durable queue in the store, run by every instance.
  // Without SMTP there is nothing to send, so nothing about notifications is queued.
  const notifier = options.auth?.email
    ? new Notifier({
        store,
        secret: options.secret,
        now,
        email: options.auth.email,
        ...(options.auth.publicUrl ? { publicUrl: options.auth.publicUrl } : {}),
        log: app.log,
      })
    : null;
  // Reblog pages announced to the posts they repost (Webmention), through the same queue.
  const announcer = new WebmentionSender(createGuardedFetch(options.outbound ?? options.auth?.outbound ?? {}), app.log, store, now);
  const jobs = new JobRunner({
    store,
    now,
    handlers: { ...notifier?.handlers(), ...announcer.handlers() },
    log: app.log,
    ...options.jobs,
  });
  announcer.start(jobs);
  app.decorate('jobs', jobs);
  app.decorate('notifier', notifier);
  app.decorate('announcer', announcer);
  app.addHook('onReady', async () => {
    await notifier?.start(jobs);
    jobs.start();
  });
  app.addHook('preClose', async () => {
    announcer.stop();
    await jobs.stop();
    notifier?.stop();
  });
  await app.register(commentRoutes, {
    store,
    sites,
    limits,
    secret: options.secret,
    now,
    sessions,
    akismet,
    ...(notifier ? { notifier } : {}),
  });
  await app.register(notifyRoutes, { store, sessions, limits, secret: options.secret, now, notifier });
  await app.register(authRoutes, {
    store,
    sites,
    sessions,
    limits,
    secret: options.secret,
    now,
    providers: options.auth?.providers ?? [],
    ...(options.auth?.publicUrl ? { publicUrl: options.auth.publicUrl } : {}),
    ...(options.auth?.email ? { email: options.auth.email } : {}),
    ...(options.auth?.outbound ? { outbound: options.auth.outbound } : {}),
  });
  await app.register(privacyRoutes, {
    store,
    sites,
    sessions,
    limits,
    now,
    ...(options.auth?.publicUrl ? { publicUrl: options.auth.publicUrl } : {}),
    ...(options.auth?.email ? { email: options.auth.email } : {}),
  });
  // Commenters' addresses are forgotten after each site's retention (at start, then with the purge).
  const purgeAddresses = () => store.purgeAddresses(now(), DEFAULT_IP_RETENTION_DAYS);
  app.decorate('purgeAddresses', purgeAddresses);
  app.addHook('onReady', async () => {
    await purgeAddresses().catch(() => {});
  });
  // Expired sessions, codes and sign-ins are removed now and then, and so are edits and deletes
  // older than a live client could still be catching up on.
  const purge = setInterval(() => {
    void store.purgeExpiredAuth(now()).catch(() => {});
    void store.purgeReports(new Date(now().getTime() - REPORTER_KEPT_MS)).catch(() => {});
    void store.purgeCommentChanges(new Date(now().getTime() - CHANGES_KEPT_MS)).catch(() => {});
    void purgeAddresses().catch(() => {});
    void store.purgeJobs(new Date(now().getTime() - JOBS_KEPT_MS)).catch(() => {});
    void store.purgeSubscriptions(now()).catch(() => {});
  }, 10 * 60_000);
  purge.unref();
  await app.register(adminRoutes, { store, sites, sessions, limits, secret: options.secret, now, akismet });
  await app.register(liveRoutes, { store, sites, limits, now, secret: options.secret });
  await app.register(likeRoutes, { store, sites, sessions, limits, secret: options.secret, now });
  await app.register(reportRoutes, { store, sites, sessions, limits, secret: options.secret, now });
  const webmentions = new WebmentionReceiver(
    {
      store,
      limits,
      secret: options.secret,
      now,
      fetch: createGuardedFetch(options.outbound ?? options.auth?.outbound ?? {}),
    },
    app.log,
  );
  app.decorate('webmentions', webmentions);
  app.addHook('preClose', async () => webmentions.stop());
  await app.register(webmentionRoutes, { receiver: webmentions, sites, limits });
  await app.register(reblogRoutes, {
    store, sites, sessions, limits, secret: options.secret, now,
    ...(options.auth?.publicUrl ? { publicUrl: options.auth.publicUrl } : {}),
    announce: (source, target) => announcer.send(source, target),
    fetch: createGuardedFetch(options.outbound ?? options.auth?.outbound ?? {}),
  });
  await app.register(pictureRoutes, { secret: options.secret, outbound: options.outbound ?? options.auth?.outbound ?? {}, now });
  await app.register(assetRoutes, { distDir: options.distDir, demoDir: options.demoDir });

  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get(
    '/healthz',
    { schema: { hide: true } },
    async (_request, reply) => {
      try {
        await store.listSites();
        return { status: 'ok' };
      } catch {
        return reply.code(503).send({ status: 'unavailable' });
      }
    },
  );

  app.addHook('onClose', async () => {
    clearInterval(purge);
    await store.close();
  });
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Webmentions being verified; `settled()` waits for them (tests). */
    webmentions: WebmentionReceiver;
    /** Webmentions being sent for reblogs of posts elsewhere; `settled()` waits for them (tests). */
    announcer: WebmentionSender;
    /** Akismet submissions in the background; `settled()` waits for them (tests). */
    akismet: Akismet;
    /** Forgets commenters' addresses past their site's retention now (also run every 10 minutes); how many. */
    purgeAddresses: () => Promise<number>;
    /** The durable job runner (`runDue()` runs what is due now: tests). */
    jobs: JobRunner;
    /** Email notifications; null without SMTP. */
    notifier: Notifier | null;
  }
}
