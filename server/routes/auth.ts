/**
 * Sign-in routes (`/api/v1/auth/…`). The server is the OAuth client; the widget never sees a
 * token or a session id, only a single-use hand-off code (≤ 60 s) that it redeems by `fetch`:
 *
 *   GET  providers                  the configured providers (id, name, icon, kind) and whether email login is on
 *   GET  start/:provider            (popup or full page) → 302 to the provider; query: post, origin, nonce, return?, instance?
 *   GET  callback/:provider         the provider's redirect: checks state, PKCE, nonce; then either an HTML page that
 *                                   posts {type:'blogtalk-login', code, nonce} to the opener at the exact page origin
 *                                   (popup), or 303 to `return#blogtalk-code=…` (redirect fallback)
 *   GET  handoff.js                 the callback page's script (no inline script: works under a strict CSP)
 *   POST redeem                     {code, nonce?} from the page's origin → session cookie, {user}
 *   GET  session                    {user | null}
 *   POST logout                     revokes the session, clears the cookie
 *   POST email                      {post, email, return} → a single-use link by email (15 min)
 *   GET  email/verify?code=…        the link: 303 to `return#blogtalk-code=…`
 *   POST owner-setup                {code} from the CLI's expiring setup link: the signed-in user becomes site owner
 *   GET  icons/:name                provider icons (SVG)
 */
import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oauth from 'openid-client';
import type { Limits } from '../config.js';
import { avatarSeed } from '../domain/avatar.js';
import { pictureUrl } from './pictures.js';
import { createMailer, EMAIL_ISSUER, EMAIL_LINK_SECONDS, normaliseEmail, type EmailOptions, type Mailer } from '../auth/email.js';
import { createProviders, ProviderError, type Provider, type ProviderConfig } from '../auth/providers.js';
import type { Sessions } from '../auth/sessions.js';
import { hashToken, randomToken, tokenPattern } from '../auth/tokens.js';
import { errorSchema, HttpError } from '../http/errors.js';
import { createGuardedFetch, OutboundRefusedError, type GuardedFetchOptions } from '../http/guarded-fetch.js';
import { ownOrigin, siteAllows, type SiteDirectory } from '../http/sites.js';
import type { Site, Store, User } from '../store/store.js';

export interface AuthRoutesOptions {
  store: Store;
  sites: SiteDirectory;
  sessions: Sessions;
  limits: Limits;
  secret: string;
  now: () => Date;
  providers: ProviderConfig[];
  /** This server's public base URL (for redirect URIs and email links); default: the request's own origin. */
  publicUrl?: string;
  email?: EmailOptions;
  /** Outbound requests to user-named hosts (Mastodon). */
  outbound?: GuardedFetchOptions;
}

/** Sign-in hand-off codes live this long. */
export const HANDOFF_SECONDS = 60;
/** A started sign-in must come back from the provider within this time. */
export const TRANSACTION_SECONDS = 10 * 60;
export const AUTH_PREFIX = '/api/v1/auth';

/** The signed-in user as browsers see it: never the email address. */
export interface PublicUser {
  id: string;
  name: string;
  /** The provider's picture, as a path on this server (`pictureUrl`), else null: draw the generated avatar from `avatar`. */
  picture: string | null;
  avatar: string;
  website: string | null;
  /** The configured provider id used to sign in (`email` for email links). */
  provider: string | null;
  /** Its display name ("Google", "Email"), for "You are commenting using your X account". */
  providerName: string | null;
  /** The user's pseudonym on the site asked about: `author.user` of their comments there. */
  author?: string;
  /** Present (true) when this server sends email and the account has an address: replies can be mailed (never the address itself). */
  mailable?: boolean;
}

const publicUserSchema = {
  type: 'object',
  required: ['id', 'name', 'picture', 'avatar', 'website', 'provider', 'providerName'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    picture: { type: ['string', 'null'] },
    avatar: { type: 'string' },
    website: { type: ['string', 'null'] },
    provider: { type: ['string', 'null'] },
    providerName: { type: ['string', 'null'] },
    author: {
      type: 'string',
      description: "Given when the site is known: the same value as `author.user` on this user's comments there.",
    },
    mailable: { type: 'boolean', description: 'True when this server sends email and the account has an address (for "Notify me").' },
  },
} as const;

/** The avatar seed of a signed-in user: salted HMAC of the email if known, else of the identity. */
export function userAvatar(secret: string, siteId: string, user: User): string {
  return avatarSeed(secret, siteId, user.email, `${user.issuer}\n${user.subject}`);
}

/**
 * A signed-in user's pseudonym on one site: the same for all their comments there, different
 * on every other site, and not reversible to the user id without the server's secret.
 */
export function authorKey(secret: string, siteId: string, userId: string): string {
  return createHmac('sha256', secret).update(`author\n${siteId}\n${userId}`).digest('base64url').slice(0, 22);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The script of the callback page: hands the code to the opener, at the exact origin only. */
const handoffScript = `(function () {
  var d = document.documentElement.dataset;
  if (!window.opener || !d.origin) return;
  var message = d.error
    ? { type: 'blogtalk-login-error', error: d.error, nonce: d.nonce }
    : { type: 'blogtalk-login', code: d.code, nonce: d.nonce };
  window.opener.postMessage(message, d.origin);
  window.close();
})();
`;

const icons: Record<string, string> = {
  oidc: '<circle cx="12" cy="12" r="11" fill="#f78c40"/><path d="M11 6v13l3-1.5V5z" fill="#fff"/>',
  google: '<circle cx="12" cy="12" r="11" fill="#4285f4"/><path d="M12 7a5 5 0 1 0 4.9 6H12v-2h7a7 7 0 1 1-2-5l-1.5 1.5A5 5 0 0 0 12 7z" fill="#fff"/>',
  github: '<circle cx="12" cy="12" r="11" fill="#24292f"/><path d="M12 6a6 6 0 0 0-1.9 11.7c.3 0 .4-.1.4-.3v-1c-1.7.4-2-.8-2-.8-.3-.7-.7-.9-.7-.9-.5-.4 0-.4 0-.4.6 0 .9.6.9.6.5.9 1.4.7 1.8.5 0-.4.2-.7.4-.8-1.3-.2-2.7-.7-2.7-3 0-.6.2-1.2.6-1.6 0-.2-.2-.8.1-1.6 0 0 .5-.2 1.6.6a5.5 5.5 0 0 1 3 0c1.1-.8 1.6-.6 1.6-.6.3.8.1 1.4 0 1.6.4.4.6 1 .6 1.6 0 2.3-1.4 2.8-2.7 3 .2.2.4.6.4 1.1v1.7c0 .2.1.4.4.3A6 6 0 0 0 12 6z" fill="#fff"/>',
  wordpress: '<circle cx="12" cy="12" r="11" fill="#21759b"/><path d="M5.5 8.5 9 18l2-6-1.2-3.5H8.7V8h5v.5h-1.1L16 18l1.8-6.2c.3-1.1-.2-2.2-.8-3.3h-.5A7 7 0 0 0 5.5 8.5z" fill="#fff"/>',
  mastodon: '<circle cx="12" cy="12" r="11" fill="#6364ff"/><path d="M7 9.5C7 7 8.6 6.5 12 6.5S17 7 17 9.5v3c0 2-1.6 2.8-4 3-1.5.1-3-.2-3.5-.5.5 1.5 2.5 1.8 4.5 1.3v1.2c-3 1-6.5.2-7-3z" fill="#fff"/>',
  demo: '<circle cx="12" cy="12" r="11" fill="#6b7280"/><path d="M8 7h4a5 5 0 0 1 0 10H8zm2 2v6h2a3 3 0 0 0 0-6z" fill="#fff"/>',
  email: '<circle cx="12" cy="12" r="11" fill="#0675c4"/><path d="M6 8h12v8H6zm1 1v.3l5 3.2 5-3.2V9zm0 1.5V15h10v-4.5l-5 3.2z" fill="#fff"/>',
};

export async function authRoutes(app: FastifyInstance, opts: AuthRoutesOptions): Promise<void> {
  const { store, sites, sessions, limits, secret, now } = opts;
  const guardedFetch = createGuardedFetch(opts.outbound);
  let registrations: number[] = [];
  const providers: Map<string, Provider> = createProviders(opts.providers, {
    guardedFetch,
    registrations: { get: (key) => store.getRegisteredClient(key), put: (c) => store.putRegisteredClient(c) },
    allowRegistration() {
      const t = Date.now();
      registrations = registrations.filter((at) => at > t - 60_000);
      if (registrations.length >= limits.registrationsPerMinute) {
        throw new ProviderError('Too many new instances at once; try again in a minute.', 'rate_limited');
      }
      registrations.push(t);
    },
    iconBase: `${AUTH_PREFIX}/icons/`,
  });
  const mailer: Mailer | null = opts.email ? createMailer(opts.email) : null;
  if (mailer) app.addHook('onClose', async () => mailer.close());

  const base = (request: FastifyRequest) => (opts.publicUrl ?? ownOrigin(request)).replace(/\/+$/, '');
  const redirectUri = (request: FastifyRequest, provider: string) => `${base(request)}${AUTH_PREFIX}/callback/${provider}`;
  const providerName = (id: string | null) =>
    id === 'email' ? 'Email' : id ? (providers.get(id)?.info.name ?? id) : null;

  async function publicUser(user: User, provider: string | null, siteId: string): Promise<PublicUser> {
    return {
      id: user.id,
      name: user.name,
      picture: pictureUrl(secret, user.picture),
      avatar: userAvatar(secret, siteId, user),
      website: user.website,
      provider,
      providerName: providerName(provider),
      ...(siteId ? { author: authorKey(secret, siteId, user.id) } : {}),
      ...(mailer && user.email ? { mailable: true } : {}),
    };
  }

  async function siteOfPost(rawUrl: string): Promise<Site> {
    return (await sites.resolvePost(rawUrl)).site;
  }

  /**
   * CSRF guard of state-changing routes: a JSON body (so a plain form cannot send it) from a
   * page whose origin some site allows. Sets the credentialed CORS headers for that exact origin.
   */
  async function requireAllowedOrigin(request: FastifyRequest, reply: FastifyReply, site?: Site): Promise<string> {
    const type = request.headers['content-type'] ?? '';
    if (request.method === 'POST' && !/^application\/json\s*(;|$)/i.test(type)) {
      throw new HttpError(415, 'unsupported_media_type', 'Send the request as application/json.');
    }
    const origin = request.headers.origin;
    if (!origin) throw new HttpError(403, 'origin_required', 'This request must come from a page (Origin header).');
    const allowed = site ? siteAllows(site, origin, request) : await sites.anySiteAllows(origin, request);
    if (!allowed) throw new HttpError(403, 'origin_not_allowed', `Pages on ${origin} may not use this comment server.`);
    credentialedCors(reply, origin);
    return origin;
  }

  function credentialedCors(reply: FastifyReply, origin: string): void {
    reply.header('Access-Control-Allow-Origin', origin);
    reply.header('Access-Control-Allow-Credentials', 'true');
    reply.header('Vary', 'Origin');
  }

  function noStore(reply: FastifyReply): void {
    reply.header('Cache-Control', 'no-store');
    reply.header('Referrer-Policy', 'no-referrer');
  }

  /** The callback's page: a tiny document whose static script posts to the opener. */
  function handoffPage(reply: FastifyReply, status: number, data: { origin?: string; code?: string; nonce?: string; error?: string }, text: string) {
    const attributes = Object.entries(data)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => ` data-${k}="${escapeHtml(String(v))}"`)
      .join('');
    noStore(reply);
    reply
      .code(status)
      .header(
        'Content-Security-Policy',
        "default-src 'none'; script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      )
      // The opener must stay reachable: no COOP isolation on this page.
      .header('Cross-Origin-Opener-Policy', 'unsafe-none')
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html lang="en"${attributes}><head><meta charset="utf-8"><title>${escapeHtml(text)}</title>` +
          // Relative (these pages all live at /api/v1/auth/<a>/<b>), so a path prefix at a proxy still works.
          `<meta name="viewport" content="width=device-width"><script src="../handoff.js" defer></script>` +
          `</head><body><p>${escapeHtml(text)}</p></body></html>`,
      );
  }

  /**
   * A new hand-off code for the user, bound to the page origin and the widget's nonce. With
   * `hash`, the code is stored under that hash instead (the widget holds its preimage).
   */
  async function handoffCode(userId: string, siteId: string, origin: string, nonce: string | null, provider: string, hash?: string) {
    const code = randomToken();
    await store.putOneTimeCode({
      hash: hash ?? hashToken(code),
      purpose: 'handoff',
      siteId,
      userId,
      origin,
      nonce,
      data: JSON.stringify({ provider }),
      expires: new Date(now().getTime() + HANDOFF_SECONDS * 1000),
    });
    return code;
  }

  /** `return` must be an http(s) URL on the page's origin; its fragment is replaced. */
  function returnUrl(raw: string | undefined, origin: string): string | null {
    if (!raw) return null;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new HttpError(400, 'return_invalid', 'The return address is not a URL.');
    }
    if (url.origin !== origin || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new HttpError(400, 'return_invalid', 'The return address must be on the page’s own origin.');
    }
    url.hash = '';
    return url.href;
  }

  const signInLimit = { rateLimit: { max: limits.signInsPerMinute, timeWindow: 60_000 } };

  app.get(
    `${AUTH_PREFIX}/providers`,
    {
      schema: {
        summary: 'The sign-in providers this server offers',
        tags: ['auth'],
        response: {
          200: {
            type: 'object',
            required: ['providers', 'email'],
            properties: {
              providers: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'name', 'icon', 'kind'],
                  properties: {
                    id: { type: 'string' },
                    name: { type: 'string' },
                    icon: { type: 'string' },
                    kind: { type: 'string', enum: ['oidc', 'oauth2', 'mastodon'] },
                  },
                },
              },
              email: { type: 'boolean' },
            },
          },
        },
      },
    },
    async (request, reply) => {
      reply.header('Cache-Control', 'public, max-age=300');
      const iconBase = `${base(request)}${AUTH_PREFIX}/icons/`;
      return {
        providers: [...providers.values()].map((p) => ({
          ...p.info,
          icon: p.info.icon.startsWith(`${AUTH_PREFIX}/icons/`) ? iconBase + p.info.icon.slice(AUTH_PREFIX.length + 7) : p.info.icon,
        })),
        email: mailer !== null,
      };
    },
  );

  app.get<{ Params: { name: string } }>(
    `${AUTH_PREFIX}/icons/:name`,
    { schema: { hide: true, params: { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z]+\\.svg$' } } } } },
    async (request, reply) => {
      const body = icons[request.params.name.replace(/\.svg$/, '')];
      if (!body) throw new HttpError(404, 'not_found', 'No such icon.');
      reply.header('Cache-Control', 'public, max-age=86400').header('Cross-Origin-Resource-Policy', 'cross-origin');
      return reply.type('image/svg+xml').send(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">${body}</svg>`);
    },
  );

  app.get(`${AUTH_PREFIX}/handoff.js`, { schema: { hide: true } }, async (_request, reply) => {
    reply.header('Cache-Control', 'public, max-age=3600');
    return reply.type('text/javascript; charset=utf-8').send(handoffScript);
  });

  app.get<{
    Params: { provider: string };
    Querystring: { post: string; origin: string; nonce: string; return?: string; instance?: string };
  }>(
    `${AUTH_PREFIX}/start/:provider`,
    {
      config: signInLimit,
      schema: {
        summary: 'Start signing in (open in a popup, or navigate the page there)',
        description:
          'Redirects to the provider. `origin` is the embedding page’s origin (one of the site’s allowed ' +
          'origins); `nonce` is the widget’s own random value, echoed in the hand-off. With `return` ' +
          '(a URL on `origin`) the callback redirects there with `#blogtalk-code=…` instead of using postMessage.',
        tags: ['auth'],
        params: { type: 'object', required: ['provider'], properties: { provider: { type: 'string', maxLength: 40 } } },
        querystring: {
          type: 'object',
          required: ['post', 'origin', 'nonce'],
          properties: {
            post: { type: 'string', minLength: 1, maxLength: limits.postUrlMaxChars },
            origin: { type: 'string', minLength: 1, maxLength: 300 },
            nonce: { type: 'string', pattern: tokenPattern },
            return: { type: 'string', maxLength: limits.postUrlMaxChars },
            instance: { type: 'string', maxLength: 300 },
          },
        },
        response: { '4xx': errorSchema, '5xx': errorSchema },
      },
    },
    async (request, reply) => {
      const provider = providers.get(request.params.provider);
      if (!provider) throw new HttpError(404, 'unknown_provider', `No sign-in provider "${request.params.provider}".`);
      const q = request.query;
      const site = await siteOfPost(q.post);
      if (!siteAllows(site, q.origin, request)) {
        throw new HttpError(403, 'origin_not_allowed', `Pages on ${q.origin} may not use this site's comments.`);
      }
      const back = returnUrl(q.return, q.origin);
      const state = oauth.randomState();
      const nonce = oauth.randomNonce();
      const codeVerifier = oauth.randomPKCECodeVerifier();
      const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
      let started;
      try {
        started = await provider.start({
          redirectUri: redirectUri(request, provider.info.id),
          state,
          nonce,
          codeChallenge,
          ...(q.instance === undefined ? {} : { instance: q.instance }),
        });
      } catch (error) {
        if (error instanceof OutboundRefusedError || (error as { cause?: unknown }).cause instanceof OutboundRefusedError) {
          throw new HttpError(400, 'instance_refused', 'That server cannot be used for sign-in.');
        }
        if (error instanceof ProviderError) {
          const status = error.code === 'instance_invalid' ? 400 : error.code === 'rate_limited' ? 429 : 502;
          throw new HttpError(status, error.code, error.message);
        }
        request.log.warn(error);
        throw new HttpError(502, 'provider_unavailable', `${provider.info.name} cannot be reached right now.`);
      }
      await store.putAuthTransaction({
        stateHash: hashToken(state),
        provider: provider.info.id,
        nonce,
        codeVerifier,
        siteId: site.id,
        returnOrigin: q.origin,
        returnUrl: back,
        clientNonce: q.nonce,
        data: started.data,
        expires: new Date(now().getTime() + TRANSACTION_SECONDS * 1000),
      });
      noStore(reply);
      return reply.redirect(started.url.href, 302);
    },
  );

  app.get<{ Params: { provider: string }; Querystring: Record<string, string> }>(
    `${AUTH_PREFIX}/callback/:provider`,
    {
      schema: {
        summary: 'Where the provider sends the reader back (not called by the widget)',
        tags: ['auth'],
        params: { type: 'object', required: ['provider'], properties: { provider: { type: 'string', maxLength: 40 } } },
        querystring: {
          type: 'object',
          properties: {
            code: { type: 'string', maxLength: 2000 },
            state: { type: 'string', maxLength: 500 },
            error: { type: 'string', maxLength: 200 },
          },
        },
      },
    },
    async (request, reply) => {
      const state = request.query['state'];
      const transaction = state ? await store.takeAuthTransaction(hashToken(state), now()) : null;
      if (!transaction || transaction.provider !== request.params.provider) {
        return handoffPage(reply, 400, {}, 'This sign-in has expired or is not valid. Close this window and try again.');
      }
      const fail = (error: string, text: string) =>
        transaction.returnUrl
          ? reply.redirect(`${transaction.returnUrl}#blogtalk-error=${encodeURIComponent(error)}`, 303)
          : handoffPage(reply, 400, { origin: transaction.returnOrigin, nonce: transaction.clientNonce, error }, text);
      const provider = providers.get(transaction.provider);
      if (!provider) return fail('unknown_provider', 'This sign-in provider is no longer offered.');
      if (request.query['error']) return fail('cancelled', 'Sign-in was cancelled.');
      let user: User;
      try {
        const callbackUrl = new URL(request.url, base(request));
        const profile = await provider.finish({
          callbackUrl,
          redirectUri: redirectUri(request, provider.info.id),
          state: state!,
          nonce: transaction.nonce,
          codeVerifier: transaction.codeVerifier,
          data: transaction.data,
        });
        user = await store.upsertUser(profile, randomToken(16), now());
      } catch (error) {
        request.log.warn({ err: error }, 'sign-in failed');
        return fail('sign_in_failed', `Signing in with ${provider.info.name} did not work. Close this window and try again.`);
      }
      const code = await handoffCode(user.id, transaction.siteId, transaction.returnOrigin, transaction.clientNonce, provider.info.id);
      // COOP fallback: a provider page sent with Cross-Origin-Opener-Policy severs the popup from
      // the page, so the message below never arrives. A widget whose nonce is the SHA-256 (hex) of
      // a secret it kept may then redeem that secret (by fetch, never in a URL): the same
      // hand-off, stored under the nonce, single-use and as short-lived.
      if (!transaction.returnUrl && /^[0-9a-f]{64}$/.test(transaction.clientNonce)) {
        await handoffCode(user.id, transaction.siteId, transaction.returnOrigin, transaction.clientNonce, provider.info.id, transaction.clientNonce).catch(
          (error: unknown) => request.log.warn({ err: error }, 'no COOP fallback for this sign-in'),
        );
      }
      if (transaction.returnUrl) {
        noStore(reply);
        return reply.redirect(`${transaction.returnUrl}#blogtalk-code=${code}`, 303);
      }
      return handoffPage(
        reply,
        200,
        { origin: transaction.returnOrigin, code, nonce: transaction.clientNonce },
        'Signed in. You can close this window.',
      );
    },
  );

  app.post<{ Body: { code: string; nonce?: string } }>(
    `${AUTH_PREFIX}/redeem`,
    {
      config: signInLimit,
      schema: {
        summary: 'Exchange a hand-off code for a session cookie',
        description:
          'From the page the code was made for (its exact origin), with the nonce the widget created. ' +
          'Single use: a second attempt is refused. Sets an HttpOnly session cookie (call with credentials).',
        tags: ['auth'],
        body: {
          type: 'object',
          required: ['code'],
          additionalProperties: false,
          properties: { code: { type: 'string', pattern: tokenPattern }, nonce: { type: 'string', pattern: tokenPattern } },
        },
        response: {
          200: { type: 'object', required: ['user', 'expires'], properties: { user: publicUserSchema, expires: { type: 'string' } } },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const origin = await requireAllowedOrigin(request, reply);
      const code = await store.consumeOneTimeCode(hashToken(request.body.code), 'handoff', now());
      if (!code || !code.userId || !code.siteId) {
        throw new HttpError(400, 'code_invalid', 'This sign-in code has expired or was already used. Please sign in again.');
      }
      if (code.origin !== origin) throw new HttpError(403, 'origin_mismatch', 'This sign-in code was made for another page.');
      if (code.nonce !== null && code.nonce !== request.body.nonce) {
        throw new HttpError(400, 'nonce_mismatch', 'This sign-in code belongs to another sign-in. Please sign in again.');
      }
      const site = await store.getSite(code.siteId);
      if (!site || !siteAllows(site, origin, request)) {
        throw new HttpError(403, 'origin_not_allowed', `Pages on ${origin} may not use this site's comments.`);
      }
      const user = await store.getUser(code.userId);
      if (!user) throw new HttpError(400, 'code_invalid', 'This sign-in code is no longer valid.');
      const provider = (JSON.parse(code.data ?? '{}') as { provider?: string }).provider ?? null;
      const expires = await sessions.start(user.id, provider, reply);
      noStore(reply);
      return { user: await publicUser(user, provider, site.id), expires: expires.toISOString() };
    },
  );

  app.get<{ Querystring: { post?: string } }>(
    `${AUTH_PREFIX}/session`,
    {
      schema: {
        summary: 'Who is signed in (call with credentials)',
        description: '`owner` says whether the user owns the site of `post` (when given).',
        tags: ['auth'],
        querystring: { type: 'object', properties: { post: { type: 'string', maxLength: limits.postUrlMaxChars } } },
        response: {
          200: {
            type: 'object',
            required: ['user'],
            properties: {
              user: { anyOf: [{ type: 'null' }, publicUserSchema] },
              owner: { type: 'boolean' },
              expires: { type: 'string' },
            },
          },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const origin = request.headers.origin;
      const site = request.query.post ? await siteOfPost(request.query.post) : null;
      if (origin) {
        const allowed = site ? siteAllows(site, origin, request) : await sites.anySiteAllows(origin, request);
        if (!allowed) throw new HttpError(403, 'origin_not_allowed', `Pages on ${origin} may not use this comment server.`);
        credentialedCors(reply, origin);
      }
      noStore(reply);
      const state = await sessions.read(request);
      if (state.kind !== 'user') {
        if (state.kind === 'invalid') reply.header('Set-Cookie', sessions.cookie(null));
        return { user: null };
      }
      return {
        user: await publicUser(state.user, state.provider, site?.id ?? ''),
        owner: site ? await store.isSiteOwner(site.id, state.user.id) : false,
        expires: state.expires.toISOString(),
      };
    },
  );

  app.post(
    `${AUTH_PREFIX}/logout`,
    {
      schema: {
        summary: 'Sign out: revokes the session and clears its cookie',
        description: 'Send `{}` as JSON from an allowed page, with credentials.',
        tags: ['auth'],
        body: { type: 'object' },
        response: { 204: { type: 'null' }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      await requireAllowedOrigin(request, reply);
      await sessions.end(request, reply);
      noStore(reply);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: { post: string; email: string; return: string; nonce?: string } }>(
    `${AUTH_PREFIX}/email`,
    {
      config: signInLimit,
      schema: {
        summary: 'Email a single-use sign-in link (15 minutes)',
        description:
          'The link leads back to `return` (a URL on the page’s origin) with `#blogtalk-code=…`. With `nonce` ' +
          '(kept by the widget in this browser), the code can only be redeemed with that nonce, so a link ' +
          'forwarded to someone else cannot sign them in.',
        tags: ['auth'],
        body: {
          type: 'object',
          required: ['post', 'email', 'return'],
          additionalProperties: false,
          properties: {
            post: { type: 'string', minLength: 1, maxLength: limits.postUrlMaxChars },
            email: { type: 'string', minLength: 3, maxLength: limits.emailMaxChars },
            return: { type: 'string', minLength: 1, maxLength: limits.postUrlMaxChars },
            nonce: { type: 'string', pattern: tokenPattern },
          },
        },
        response: { 202: { type: 'object', properties: { sent: { type: 'boolean' } } }, '4xx': errorSchema, '5xx': errorSchema },
      },
    },
    async (request, reply) => {
      if (!mailer) throw new HttpError(404, 'email_login_off', 'This server does not offer email sign-in.');
      const site = await siteOfPost(request.body.post);
      const origin = await requireAllowedOrigin(request, reply, site);
      const email = normaliseEmail(request.body.email);
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
        throw new HttpError(400, 'email_invalid', 'That email address does not look right.');
      }
      const back = returnUrl(request.body.return, origin)!;
      const code = randomToken();
      await store.putOneTimeCode({
        hash: hashToken(code),
        purpose: 'email',
        siteId: site.id,
        userId: null,
        origin,
        nonce: null,
        data: JSON.stringify({ email, returnUrl: back, nonce: request.body.nonce ?? null }),
        expires: new Date(now().getTime() + EMAIL_LINK_SECONDS * 1000),
      });
      const link = `${base(request)}${AUTH_PREFIX}/email/verify?code=${code}`;
      try {
        await mailer.sendLoginLink(email, link, site.name);
      } catch (error) {
        request.log.error({ err: error }, 'sending a sign-in email failed');
        throw new HttpError(502, 'email_failed', 'The sign-in email could not be sent; try again later.');
      }
      return reply.code(202).send({ sent: true });
    },
  );

  app.get<{ Querystring: { code: string } }>(
    `${AUTH_PREFIX}/email/verify`,
    {
      config: signInLimit,
      schema: {
        summary: 'The emailed link (single use)',
        tags: ['auth'],
        querystring: { type: 'object', required: ['code'], properties: { code: { type: 'string', maxLength: 200 } } },
      },
    },
    async (request, reply) => {
      noStore(reply);
      const code = await store.consumeOneTimeCode(hashToken(request.query.code), 'email', now());
      if (!code || !code.siteId || !code.origin) {
        return handoffPage(reply, 400, {}, 'This sign-in link has expired or was already used. Ask for a new one.');
      }
      const { email, returnUrl: back, nonce } = JSON.parse(code.data ?? '{}') as {
        email: string;
        returnUrl: string;
        nonce: string | null;
      };
      const existing = await store.getUserByIdentity(EMAIL_ISSUER, email);
      const user = await store.upsertUser(
        { issuer: EMAIL_ISSUER, subject: email, name: existing?.name ?? email.split('@')[0]!, picture: null, website: null, email },
        randomToken(16),
        now(),
      );
      const handoff = await handoffCode(user.id, code.siteId, code.origin, nonce ?? null, 'email');
      return reply.redirect(`${back}#blogtalk-code=${handoff}`, 303);
    },
  );

  app.post<{ Body: { code: string } }>(
    `${AUTH_PREFIX}/owner-setup`,
    {
      config: signInLimit,
      schema: {
        summary: 'Redeem an owner setup code (from `npm run cli -- owner-link`): the signed-in user becomes an owner',
        description:
          'Single use, expiring. The widget calls it with credentials from an allowed page of the site when its URL ' +
          'has `#blogtalk-owner-setup=<code>`.',
        tags: ['auth'],
        body: {
          type: 'object',
          required: ['code'],
          additionalProperties: false,
          properties: { code: { type: 'string', pattern: tokenPattern } },
        },
        response: { 200: { type: 'object', properties: { site: { type: 'string' }, owner: { type: 'boolean' } } }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const origin = await requireAllowedOrigin(request, reply);
      const state = await sessions.read(request);
      if (state.kind !== 'user') throw new HttpError(401, 'sign_in_required', 'Sign in first, then use the setup link.');
      const code = await store.consumeOneTimeCode(hashToken(request.body.code), 'owner-setup', now());
      if (!code || !code.siteId) throw new HttpError(400, 'code_invalid', 'This setup link has expired or was already used.');
      const site = await store.getSite(code.siteId);
      if (!site || !siteAllows(site, origin, request)) {
        throw new HttpError(403, 'origin_not_allowed', 'Open the setup link on a page of the site it is for.');
      }
      await store.setSiteOwner(site.id, state.user.id, true);
      noStore(reply);
      return { site: site.id, owner: true };
    },
  );
}
