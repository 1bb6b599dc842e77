/**
 * Notification endpoints:
 *
 *   GET  /api/v1/subscriptions/confirm/<token>   a page with a button (mail scanners open links: GET changes nothing)
 *   POST /api/v1/subscriptions/confirm/<token>   that button (a form post): activates the reply subscription
 *   GET  /api/v1/unsubscribe/<token>             a page with a button that posts the one-click form below
 *   POST /api/v1/unsubscribe/<token>             RFC 8058 one-click: exactly `application/x-www-form-urlencoded`
 *                                                `List-Unsubscribe=One-Click`, nothing else; ends that subscription
 *                                                or that kind of an owner's emails
 *   GET  /api/v1/admin/notifications?site=       an owner's email choices for a site
 *   POST /api/v1/admin/notifications             set them (same origin, session, `X-CSRF-Token` as the rest of /admin)
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Sessions } from '../auth/sessions.js';
import { hashToken } from '../auth/tokens.js';
import type { Limits } from '../config.js';
import { errorSchema, HttpError } from '../http/errors.js';
import { CONFIRM_PATH, UNSUBSCRIBE_PATH, type Notifier } from '../notify/notifier.js';
import { notifyTokenPattern, readUnsubscribeToken } from '../notify/tokens.js';
import { escapeHtml, sendPage } from '../privacy/page.js';
import type { OwnerMailSettings, Store, User } from '../store/store.js';
import { ADMIN_PREFIX, ownerAccess } from './admin.js';

export interface NotifyRoutesOptions {
  store: Store;
  sessions: Sessions;
  limits: Limits;
  secret: string;
  now: () => Date;
  /** Null without SMTP: the pages still answer (old links), the settings say mail is off. */
  notifier: Notifier | null;
}

const ONE_CLICK = 'List-Unsubscribe=One-Click';

export async function notifyRoutes(app: FastifyInstance, opts: NotifyRoutesOptions): Promise<void> {
  const { store, sessions, secret, now, notifier } = opts;
  // Generous: one-click unsubscribes arrive from a few mail providers' addresses for all their users.
  const limit = { rateLimit: { max: 300, timeWindow: 60_000 } };
  const tokenParams = { type: 'object', required: ['token'], properties: { token: { type: 'string', pattern: notifyTokenPattern } } } as const;
  const pageError = (error: { statusCode?: number; message: string }, _request: FastifyRequest, reply: FastifyReply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) throw error;
    return sendPage(reply, status, status === 404 ? 'This link does not work' : 'Not done', `<p>${escapeHtml(error.message)}</p>`);
  };
  const form = (label: string, fields: string) =>
    `<form method="post">${fields}<button type="submit">${escapeHtml(label)}</button></form>`;

  // --- confirming a reply subscription --------------------------------------------------------

  app.get<{ Params: { token: string } }>(
    `${CONFIRM_PATH}/:token`,
    { config: limit, schema: { hide: true, params: tokenParams }, errorHandler: pageError },
    async (_request, reply) =>
      sendPage(
        reply,
        200,
        'Email me replies',
        '<p>Press the button to be emailed when someone replies to your comment. Every email has a link to stop them.</p>' +
          form('Yes, email me replies', '<input type="hidden" name="confirm" value="yes">'),
      ),
  );

  app.get<{ Params: { token: string } }>(
    `${UNSUBSCRIBE_PATH}/:token`,
    { config: limit, schema: { hide: true, params: tokenParams }, errorHandler: pageError },
    async (request, reply) => {
      const target = readUnsubscribeToken(secret, request.params.token);
      if (!target) throw new HttpError(404, 'unknown_token', 'This unsubscribe link is not valid.');
      const what =
        target.kind === 'subscription'
          ? 'emails about replies to your comment'
          : target.what === 'held'
            ? 'emails about comments held for moderation'
            : 'emails about new comments (each, or the daily digest)';
      return sendPage(
        reply,
        200,
        'Unsubscribe',
        `<p>Press the button to stop ${escapeHtml(what)}.</p>` +
          form('Unsubscribe', `<input type="hidden" name="List-Unsubscribe" value="One-Click">`),
      );
    },
  );

  // Form posts only here, in a context of their own: no other route accepts a form.
  await app.register(async (forms) => {
    forms.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_request, body, done) => {
      done(null, body);
    });

    forms.post<{ Params: { token: string }; Body: string }>(
      `${CONFIRM_PATH}/:token`,
      { config: limit, schema: { hide: true, params: tokenParams }, errorHandler: pageError },
      async (request, reply) => {
        if (typeof request.body !== 'string' || new URLSearchParams(request.body).get('confirm') !== 'yes') {
          throw new HttpError(400, 'confirm_required', 'Use the button on the confirmation page.');
        }
        const sub = await store.confirmSubscription(hashToken(request.params.token), now());
        if (!sub) throw new HttpError(404, 'unknown_token', 'This link was used already or is too old. Ask again with your next comment.');
        return sendPage(reply, 200, 'Done', '<p>You will get an email when someone replies to your comment. Every one has a link to stop them.</p>');
      },
    );

    forms.post<{ Params: { token: string }; Body: string }>(
      `${UNSUBSCRIBE_PATH}/:token`,
      {
        config: limit,
        schema: {
          summary: 'One-click unsubscribe (RFC 8058)',
          description: `Only \`application/x-www-form-urlencoded\` with the body \`${ONE_CLICK}\`.`,
          tags: ['notifications'],
          params: tokenParams,
        },
        errorHandler: pageError,
      },
      async (request, reply) => {
        // Exactly the form RFC 8058 specifies: JSON (which the app parses elsewhere) or anything else is refused.
        const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
        if (type !== 'application/x-www-form-urlencoded' || typeof request.body !== 'string') {
          throw new HttpError(415, 'form_required', `Send ${ONE_CLICK} as application/x-www-form-urlencoded.`);
        }
        const fields = new URLSearchParams(request.body);
        if (fields.get('List-Unsubscribe') !== 'One-Click' || [...fields.keys()].length !== 1) {
          throw new HttpError(400, 'one_click_required', `Send the form field ${ONE_CLICK}.`);
        }
        const target = readUnsubscribeToken(secret, request.params.token);
        if (!target) throw new HttpError(404, 'unknown_token', 'This unsubscribe link is not valid.');
        if (target.kind === 'subscription') await store.deleteSubscription(target.id);
        else {
          const settings = await store.ownerMailSettings(target.siteId, target.userId);
          await store.putOwnerMailSettings(
            target.siteId,
            target.userId,
            target.what === 'held' ? { ...settings, held: false } : { ...settings, comments: 'off' },
          );
        }
        return sendPage(reply, 200, 'Unsubscribed', '<p>You will get no more of these emails.</p>');
      },
    );
  });

  // --- the owner's choices (the /admin page's sub-element) ------------------------------------

  const settingsResponse = {
    type: 'object',
    required: ['comments', 'held', 'mail', 'address'],
    properties: {
      comments: { type: 'string', enum: ['each', 'digest', 'off'] },
      held: { type: 'boolean' },
      mail: { type: 'boolean', description: 'Whether this server sends email at all (SMTP configured).' },
      address: { type: 'boolean', description: 'Whether the account has an email address to send to (never the address).' },
    },
  } as const;
  const siteId = { type: 'string', minLength: 1, maxLength: 100 } as const;

  const answer = async (site: string, owner: User) => ({
    ...(await store.ownerMailSettings(site, owner.id)),
    mail: notifier !== null,
    address: !!owner.email,
  });

  // Under the owners' API, with its guard: same origin only, owners only, CSRF on a change.
  const { sameOriginOnly, requireOwner } = ownerAccess(store, sessions, secret);
  await app.register(async (admin) => {
    admin.addHook('onRequest', sameOriginOnly);

    admin.get<{ Querystring: { site: string } }>(
      `${ADMIN_PREFIX}/notifications`,
      {
        schema: {
          summary: "The signed-in owner's email choices for a site",
          tags: ['admin'],
          querystring: { type: 'object', required: ['site'], additionalProperties: false, properties: { site: siteId } },
          response: { 200: settingsResponse, '4xx': errorSchema },
        },
      },
      async (request, reply) => answer(request.query.site, (await requireOwner(request, reply, request.query.site)).user),
    );

    admin.post<{ Body: OwnerMailSettings & { site: string } }>(
      `${ADMIN_PREFIX}/notifications`,
      {
        schema: {
          summary: "Sets the signed-in owner's email choices for a site",
          description: '`comments`: `each` new comment, a daily `digest`, or `off`; `held`: an email for each comment held for moderation.',
          tags: ['admin'],
          body: {
            type: 'object',
            required: ['site', 'comments', 'held'],
            additionalProperties: false,
            properties: { site: siteId, comments: { type: 'string', enum: ['each', 'digest', 'off'] }, held: { type: 'boolean' } },
          },
          response: { 200: settingsResponse, '4xx': errorSchema },
        },
      },
      async (request, reply) => {
        const { site, comments, held } = request.body;
        const { user } = await requireOwner(request, reply, site);
        await store.putOwnerMailSettings(site, user.id, { comments, held });
        return answer(site, user);
      },
    );
  });
}
