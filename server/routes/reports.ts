/**
 * Reports: a reader flags a published comment for the blog owner, once per reader, with an
 * optional reason. The owner sees the count and the latest reasons in the moderation queue
 * (`routes/admin.ts`) and can dismiss them.
 *
 * Who "one reader" is: a signed-in reader is `user:<id>`. A guest is `guest:<HMAC>` of their
 * IP address and the site under the server's secret (so it links nothing across sites) — not a per-browser id, which anyone can clear to
 * report again; readers behind one address share one report per comment, which is enough for
 * a signal the owner reads. The address is never stored in clear, and the HMAC is forgotten
 * after `REPORTER_KEPT_MS` by the periodic purge (the report itself stays, counted).
 */
import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Sessions } from '../auth/sessions.js';
import type { Limits } from '../config.js';
import { errorSchema, HttpError } from '../http/errors.js';
import { applyCors, type SiteDirectory } from '../http/sites.js';
import type { Store } from '../store/store.js';

/** How long a guest report remembers who made it (a week); after that the same guest could report again. */
export const REPORTER_KEPT_MS = 7 * 24 * 3_600_000;
export const REASON_MAX_CHARS = 500;

export interface ReportRoutesOptions {
  store: Store;
  sites: SiteDirectory;
  sessions: Sessions;
  limits: Limits;
  secret: string;
  now: () => Date;
}

export async function reportRoutes(app: FastifyInstance, opts: ReportRoutesOptions): Promise<void> {
  const { store, sites, sessions, limits, secret, now } = opts;

  app.post<{ Params: { id: string }; Body: { post: string; reason?: string | null } }>(
    '/api/v1/comments/:id/report',
    {
      config: { rateLimit: { max: limits.writesPerMinute, timeWindow: 60_000 } },
      schema: {
        summary: 'Report a published comment to the blog owner (once per reader; the reason is optional)',
        description:
          'Signed-in readers (call with credentials) count once per account, guests once per address. ' +
          'A second report by the same reader adds nothing and answers `already: true`.',
        tags: ['comments'],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } },
        body: {
          type: 'object',
          required: ['post'],
          additionalProperties: false,
          properties: {
            post: { type: 'string', maxLength: limits.postUrlMaxChars },
            reason: { type: ['string', 'null'], maxLength: REASON_MAX_CHARS },
          },
        },
        response: {
          200: { type: 'object', required: ['already'], properties: { already: { type: 'boolean' } } },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { site, url } = await sites.resolvePost(request.body.post);
      applyCors(site, request, reply);
      const comment = await store.getComment(site.id, request.params.id);
      if (!comment || comment.postUrl !== url || comment.status !== 'published' || comment.deleted) {
        throw new HttpError(404, 'comment_not_found', 'That comment is not on this post.');
      }
      const state = await sessions.current(request, reply);
      const user = state.kind === 'user' ? state.user : null;
      if (user && comment.userId === user.id) throw new HttpError(400, 'own_comment', 'You cannot report your own comment.');
      const reporterKey = user
        ? `user:${user.id}`
        : `guest:${createHmac('sha256', secret).update(`report\n${site.id}\n${request.ip}`).digest('base64url')}`;
      const reason = request.body.reason?.trim() || null;
      const added = await store.addReport({ siteId: site.id, commentId: comment.id, reporterKey, reason, created: now() });
      return { already: !added };
    },
  );
}
