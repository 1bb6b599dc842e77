/**
 * A commenter's own data: download it or erase it.
 *
 *   POST /api/v1/me/export      {site}                 signed in: the personal-data JSON (attachment)
 *   POST /api/v1/me/erase       {site, confirm: true}  signed in: erase, then signed out
 *   POST /api/v1/privacy/request {site, email, action} guests: a single-use 15-minute link by email;
 *                                                      always 202, whether or not the address wrote anything
 *   GET  /privacy/:code?action=…                       the link: a plain confirmation form (no script)
 *   POST /privacy/:code                                the form (code in the body too): export or erase
 *
 * Signed-in requests come from the widget by `fetch` with credentials: the session cookie is
 * partitioned to the embedding site, so a top-level page of the comment server never sees it.
 * Site owners act for anyone with the CLI (`export-author`, `erase-author`).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Limits } from '../config.js';
import { normaliseEmail, type EmailOptions } from '../auth/email.js';
import type { Sessions } from '../auth/sessions.js';
import { hashToken, randomToken, tokenPattern } from '../auth/tokens.js';
import { errorSchema, HttpError } from '../http/errors.js';
import { ownOrigin, siteAllows, type SiteDirectory } from '../http/sites.js';
import { personalDataDocument } from '../privacy/document.js';
import { createPrivacyMailer, PRIVACY_LINK_SECONDS, type PrivacyAction } from '../privacy/mail.js';
import { confirmPage, escapeHtml, sendPage } from '../privacy/page.js';
import type { AuthorRef, Site, Store } from '../store/store.js';

export interface PrivacyRoutesOptions {
  store: Store;
  sites: SiteDirectory;
  sessions: Sessions;
  limits: Limits;
  now: () => Date;
  /** This server's public base URL (email links); default: the request's own origin. */
  publicUrl?: string;
  /** SMTP for guests' links; without it only signed-in readers (and the CLI) can export or erase. */
  email?: EmailOptions;
}

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** One emailed link per address, site and action per this many milliseconds, at most (mail bombing). */
const PER_ADDRESS_MS = 60_000;

export async function privacyRoutes(app: FastifyInstance, opts: PrivacyRoutesOptions): Promise<void> {
  const { store, sites, sessions, limits, now } = opts;
  const mailer = opts.email ? createPrivacyMailer(opts.email) : null;
  /** Emails being prepared or sent (after the 202), awaited on close. */
  const sending = new Set<Promise<void>>();
  const lastMailed = new Map<string, number>();
  app.addHook('onClose', async () => {
    await Promise.allSettled(sending);
    mailer?.close();
  });
  const base = (request: FastifyRequest) => (opts.publicUrl ?? ownOrigin(request)).replace(/\/+$/, '');
  const limit = { rateLimit: { max: limits.signInsPerMinute, timeWindow: 60_000 } };
  const siteField = { type: 'string', minLength: 1, maxLength: limits.postUrlMaxChars } as const;

  /** The site a request names by any URL on the blog (or its origin). */
  async function siteOf(raw: string): Promise<Site> {
    let origin: string;
    try {
      origin = new URL(raw).origin;
    } catch {
      throw new HttpError(400, 'invalid_site', 'site must be the blog’s address, e.g. https://blog.example.org.');
    }
    const site = await sites.byOrigin(origin);
    if (!site) throw new HttpError(404, 'unknown_site', `No site is registered for ${origin}.`);
    return site;
  }

  /**
   * Signed-in routes: from a page the site allows (the JSON body already forces a CORS
   * preflight, so a plain form cannot send it), with a live session.
   */
  async function signedIn(request: FastifyRequest<{ Body: { site: string } }>, reply: FastifyReply) {
    const site = await siteOf(request.body.site);
    const origin = request.headers.origin;
    if (!origin) throw new HttpError(403, 'origin_required', 'This request must come from a page (Origin header).');
    if (!siteAllows(site, origin, request)) throw new HttpError(403, 'origin_not_allowed', `Pages on ${origin} may not use this site's comments.`);
    reply.header('Access-Control-Allow-Origin', origin).header('Access-Control-Allow-Credentials', 'true').header('Vary', 'Origin');
    reply.header('Cache-Control', 'no-store');
    const state = await sessions.current(request, reply);
    if (state.kind !== 'user') throw new HttpError(401, 'sign_in_required', 'Sign in to see or erase your data.');
    return state.user;
  }

  app.post<{ Body: { site: string } }>(
    '/api/v1/me/export',
    {
      config: limit,
      schema: {
        summary: 'Download everything stored about the signed-in reader',
        description:
          'The account, session dates, every comment (on every site of this server) and like, as one JSON ' +
          'document (`Content-Disposition: attachment`). Send with credentials.',
        tags: ['privacy'],
        body: { type: 'object', required: ['site'], additionalProperties: false, properties: { site: siteField } },
        response: { '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const user = await signedIn(request, reply);
      const author: AuthorRef = { userId: user.id };
      const document = personalDataDocument(author, await store.exportAuthor(author), now());
      return reply
        .header('Content-Disposition', 'attachment; filename="blogtalk-personal-data.json"')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify(document, null, 2));
    },
  );

  app.post<{ Body: { site: string; confirm: true } }>(
    '/api/v1/me/erase',
    {
      config: limit,
      schema: {
        summary: 'Erase everything stored about the signed-in reader, and sign out',
        description:
          'Each comment is removed, or kept as "This comment was deleted." where others replied; likes, sessions ' +
          'and the account are removed. `confirm` must be `true`. Send with credentials.',
        tags: ['privacy'],
        body: {
          type: 'object',
          required: ['site', 'confirm'],
          additionalProperties: false,
          properties: { site: siteField, confirm: { type: 'boolean', const: true } },
        },
        response: {
          200: {
            type: 'object',
            required: ['erased'],
            properties: {
              erased: {
                type: 'object',
                properties: {
                  removed: { type: 'integer' },
                  emptied: { type: 'integer' },
                  likes: { type: 'integer' },
                  sessions: { type: 'integer' },
                  user: { type: 'boolean' },
                },
              },
            },
          },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const user = await signedIn(request, reply);
      const erased = await store.eraseAuthor({ userId: user.id }, now());
      reply.header('Set-Cookie', sessions.cookie(null));
      return { erased };
    },
  );

  app.post<{ Body: { site: string; email: string; action: PrivacyAction } }>(
    '/api/v1/privacy/request',
    {
      config: limit,
      schema: {
        summary: "A guest's export or erase: a single-use link by email (15 minutes)",
        description:
          'Always answers 202 the same way, whether or not comments were written with that address: the email ' +
          'is sent only when there are some. The link opens a confirmation page on this server.',
        tags: ['privacy'],
        body: {
          type: 'object',
          required: ['site', 'email', 'action'],
          additionalProperties: false,
          properties: {
            site: siteField,
            email: { type: 'string', minLength: 3, maxLength: limits.emailMaxChars },
            action: { type: 'string', enum: ['export', 'erase'] },
          },
        },
        response: { 202: { type: 'object', properties: { accepted: { type: 'boolean' } } }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      if (!mailer) throw new HttpError(404, 'privacy_email_off', 'This server does not send email; ask the site owner.');
      const site = await siteOf(request.body.site);
      const origin = request.headers.origin;
      if (origin !== undefined) {
        if (!siteAllows(site, origin, request)) throw new HttpError(403, 'origin_not_allowed', `Pages on ${origin} may not use this site's comments.`);
        reply.header('Access-Control-Allow-Origin', origin).header('Vary', 'Origin');
      }
      const email = normaliseEmail(request.body.email);
      if (!emailPattern.test(email)) throw new HttpError(400, 'email_invalid', 'That email address does not look right.');
      const { action } = request.body;
      const link = (code: string) => `${base(request)}/privacy/${code}?action=${action}`;
      // Looked up and sent after answering, so neither the answer nor its timing tells whether
      // that address wrote anything here.
      const job = mailLink(site, email, action, link).catch((error: unknown) =>
        request.log.error({ err: error }, 'sending a privacy link failed'),
      );
      sending.add(job);
      void job.finally(() => sending.delete(job));
      return reply.code(202).send({ accepted: true });
    },
  );

  async function mailLink(site: Site, email: string, action: PrivacyAction, link: (code: string) => string): Promise<void> {
    const key = `${site.id}\n${email}\n${action}`;
    const at = now().getTime();
    if ((lastMailed.get(key) ?? -Infinity) > at - PER_ADDRESS_MS) return;
    const { comments } = await store.exportAuthor({ siteId: site.id, email });
    if (comments.length === 0) return;
    if (lastMailed.size > 10_000) lastMailed.clear();
    lastMailed.set(key, at);
    const code = randomToken();
    await store.putOneTimeCode({
      hash: hashToken(code),
      purpose: 'privacy',
      siteId: site.id,
      userId: null,
      origin: null,
      nonce: null,
      data: JSON.stringify({ email, action }),
      expires: new Date(at + PRIVACY_LINK_SECONDS * 1000),
    });
    await mailer!.sendPrivacyLink(email, link(code), site.name, action);
  }

  // --- the emailed link's page ---------------------------------------------------------------

  const codeParams = { type: 'object', required: ['code'], properties: { code: { type: 'string', pattern: tokenPattern } } } as const;
  const gone = (reply: FastifyReply) =>
    sendPage(reply, 410, 'This link no longer works', '<p>It was used already or is older than 15 minutes. Ask for a new one where you comment.</p>');

  /** Errors of the link's pages are pages too; a malformed link gets the same page as a used one. */
  const pageError = (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
    if (error.statusCode === 403 || error.statusCode === 429) {
      reply.headers((error as Partial<HttpError>).headers ?? {});
      return sendPage(reply, error.statusCode, error.statusCode === 403 ? 'Refused' : 'Too many tries', `<p>${escapeHtml(error.message)}</p>`);
    }
    if ((error.statusCode ?? 500) >= 500) throw error;
    return gone(reply);
  };

  app.get<{ Params: { code: string }; Querystring: { action?: PrivacyAction } }>(
    '/privacy/:code',
    {
      config: limit,
      schema: {
        hide: true,
        params: codeParams,
        querystring: { type: 'object', properties: { action: { type: 'string', enum: ['export', 'erase'] } } },
      },
      errorHandler: pageError,
    },
    // Opening the link changes nothing (mail scanners open links too): the form does.
    async (request, reply) => confirmPage(reply, request.params.code, request.query.action ?? 'export'),
  );

  // The confirmation is a plain form post: its parser is registered in a context of its own,
  // so no other route (above all /api/v1/me/erase) ever accepts a form.
  await app.register(async (page) => {
    page.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    page.post<{ Params: { code: string }; Body: { code: string; action: PrivacyAction } }>(
      '/privacy/:code',
      {
        config: limit,
        schema: {
          hide: true,
          params: codeParams,
          body: {
            type: 'object',
            required: ['code', 'action'],
            properties: { code: { type: 'string', pattern: tokenPattern }, action: { type: 'string', enum: ['export', 'erase'] } },
          },
        },
        errorHandler: pageError,
      },
      async (request, reply) => {
        // The single-use code is the capability; a post from another site's page is refused all the same.
        const origin = request.headers.origin;
        const own = new URL(base(request)).origin;
        if ((origin !== undefined && origin !== own && origin !== ownOrigin(request)) || request.headers['sec-fetch-site'] === 'cross-site') {
          throw new HttpError(403, 'cross_origin', 'This form can only be sent from its own page.');
        }
        if (request.body.code !== request.params.code) return gone(reply);
        const code = await store.consumeOneTimeCode(hashToken(request.params.code), 'privacy', now());
        if (!code || !code.siteId) return gone(reply);
        const { email, action } = JSON.parse(code.data ?? '{}') as { email: string; action: PrivacyAction };
        if (action !== request.body.action) return gone(reply);
        const author: AuthorRef = { siteId: code.siteId, email };
        if (action === 'export') {
          const document = personalDataDocument(author, await store.exportAuthor(author), now());
          return reply
            .header('Cache-Control', 'no-store')
            .header('Content-Disposition', 'attachment; filename="blogtalk-personal-data.json"')
            .type('application/json; charset=utf-8')
            .send(JSON.stringify(document, null, 2));
        }
        const erased = await store.eraseAuthor(author, now());
        return sendPage(
          reply,
          200,
          'Your comments are erased',
          `<p>${erased.removed} removed; ${erased.emptied} kept as “This comment was deleted.” because others replied. ` +
            'Your email address is no longer stored with any of them.</p>',
        );
      },
    );
  });
}
