/**
 * The owner's moderation API, `/api/v1/admin/…`, used by the `/admin` page that this server
 * serves itself. Same-origin only: a request whose `Origin` (or `Sec-Fetch-Site`) says it comes
 * from another site is refused and no CORS header is ever sent, so a blog page — even one
 * the owner is signed in on — cannot read or change the queue. Every change is a POST that also
 * carries `X-CSRF-Token`: a per-session token (an HMAC of the session) issued by
 * `GET /api/v1/admin/session`. GETs never change anything.
 *
 *   GET  session                       who is signed in, the sites they own, the CSRF token
 *   GET  comments?site&status&post&q   the queue, newest first, `before` to page; each with its reports;
 *                                      `status=reported`: reported comments, the most reported first
 *   POST comments/actions              approve / reject / spam / delete / dismiss (reports), one or many
 *   GET  settings?site&post            the site's (and a post's) moderation settings
 *   POST settings                      set them; a post's `closed` closes or opens it
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CommentStatus } from '../../src/data/api-types.js';
import type { Sessions } from '../auth/sessions.js';
import type { Limits } from '../config.js';
import { errorSchema, HttpError } from '../http/errors.js';
import { ownOrigin, type SiteDirectory } from '../http/sites.js';
import { effective, POLICIES } from '../moderation/policy.js';
import type { ModerationSettings, Site, Store, User } from '../store/store.js';
import { commentSchema, toWire } from './comments.js';

export interface AdminRoutesOptions {
  store: Store;
  sites: SiteDirectory;
  sessions: Sessions;
  limits: Limits;
  secret: string;
  now: () => Date;
}

export const ADMIN_PREFIX = '/api/v1/admin';
export const CSRF_HEADER = 'x-csrf-token';

export const ACTIONS = ['approve', 'reject', 'spam', 'delete', 'dismiss'] as const;
export type AdminAction = (typeof ACTIONS)[number];

/** Most comments one bulk action may name. */
const BULK_MAX = 200;
const QUEUE_PAGE_MAX = 200;
/** Most recent reasons shown with a reported comment. */
const REASONS_SHOWN = 5;

const settingsSchema = {
  type: 'object',
  required: ['policy', 'maxLinks', 'closed'],
  properties: {
    policy: { type: ['string', 'null'], enum: [...POLICIES, null] },
    maxLinks: { type: ['integer', 'null'] },
    closed: { type: 'boolean' },
  },
} as const;

const siteIdSchema = { type: 'string', minLength: 1, maxLength: 100 } as const;

export async function adminRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  const { store, sites, sessions, limits, secret } = opts;
  app.addSchema({
    ...commentSchema,
    $id: 'ModeratedComment',
    properties: {
      ...commentSchema.properties,
      reports: {
        type: 'object',
        required: ['count', 'reasons'],
        properties: {
          count: { type: 'integer' },
          reasons: {
            type: 'array',
            items: {
              type: 'object',
              required: ['reason', 'created'],
              properties: { reason: { type: 'string' }, created: { type: 'string', format: 'date-time' } },
            },
          },
        },
      },
    },
  });

  /** The session's CSRF token: bound to the session (its id hash), useless without its cookie. */
  const csrfFor = (idHash: string) => createHmac('sha256', secret).update(`admin-csrf\n${idHash}`).digest('base64url');

  // Same origin only, for reads as well as writes; never any CORS header.
  app.addHook('onRequest', async (request, reply) => {
    for (const name of ['Access-Control-Allow-Origin', 'Access-Control-Allow-Credentials', 'Access-Control-Expose-Headers']) {
      reply.removeHeader(name);
    }
    reply.header('Cache-Control', 'no-store');
    const origin = request.headers.origin;
    const fetchSite = request.headers['sec-fetch-site'];
    if ((origin !== undefined && origin !== ownOrigin(request)) || (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none')) {
      throw new HttpError(403, 'cross_origin', 'The moderation API answers only the moderation page of this server.');
    }
    if (request.method === 'POST' && origin === undefined) {
      throw new HttpError(403, 'origin_required', 'This request must come from the moderation page (Origin header).');
    }
  });

  /** The signed-in owner of `siteId`, after checking the CSRF token of a change. */
  async function requireOwner(request: FastifyRequest, reply: FastifyReply, siteId: string): Promise<{ user: User; site: Site }> {
    const state = await sessions.read(request);
    if (state.kind !== 'user') {
      if (state.kind === 'invalid') reply.header('Set-Cookie', sessions.cookie(null));
      throw new HttpError(401, 'sign_in_required', 'Sign in as an owner of this site.');
    }
    if (request.method === 'POST') {
      const sent = request.headers[CSRF_HEADER];
      const expected = Buffer.from(csrfFor(state.idHash));
      const given = Buffer.from(typeof sent === 'string' ? sent : '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new HttpError(403, 'csrf_invalid', 'This page is out of date; reload it and try again.');
      }
    }
    const site = await store.getSite(siteId);
    if (!site || !(await store.isSiteOwner(site.id, state.user.id))) {
      throw new HttpError(403, 'not_owner', 'You are not an owner of this site.');
    }
    return { user: state.user, site };
  }

  /** A post URL of this site, canonical. */
  async function postOf(site: Site, raw: string): Promise<string> {
    const resolved = await sites.resolvePost(raw);
    if (resolved.site.id !== site.id) throw new HttpError(400, 'post_not_on_site', 'That post belongs to another site.');
    return resolved.url;
  }

  app.get(
    `${ADMIN_PREFIX}/session`,
    {
      schema: {
        summary: 'The moderation page: who is signed in, the sites they own, and the CSRF token for changes',
        tags: ['admin'],
        response: {
          200: {
            type: 'object',
            required: ['user', 'sites'],
            properties: {
              user: { anyOf: [{ type: 'null' }, { type: 'object', required: ['name'], properties: { name: { type: 'string' } } }] },
              sites: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'name', 'origin'],
                  properties: { id: { type: 'string' }, name: { type: 'string' }, origin: { type: 'string' } },
                },
              },
              csrfToken: { type: 'string' },
            },
          },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const state = await sessions.read(request);
      if (state.kind !== 'user') {
        if (state.kind === 'invalid') reply.header('Set-Cookie', sessions.cookie(null));
        return { user: null, sites: [] };
      }
      const owned: Site[] = [];
      for (const site of await store.listSites()) if (await store.isSiteOwner(site.id, state.user.id)) owned.push(site);
      return {
        user: { name: state.user.name },
        sites: owned.map(({ id, name, origin }) => ({ id, name, origin })),
        csrfToken: csrfFor(state.idHash),
      };
    },
  );

  app.get<{ Querystring: { site: string; status?: CommentStatus | 'all' | 'reported'; post?: string; q?: string; limit?: number; before?: number } }>(
    `${ADMIN_PREFIX}/comments`,
    {
      schema: {
        summary: "A site's comments for moderation, newest first",
        description:
          '`status` defaults to `pending`; `all` for every status; `reported` for comments of any status with reports, ' +
          'the most reported first (one page). `next` is the `before` of the next page. ' +
          'A reported comment has `reports`: its count and most recent reasons.',
        tags: ['admin'],
        querystring: {
          type: 'object',
          required: ['site'],
          additionalProperties: false,
          properties: {
            site: siteIdSchema,
            status: { type: 'string', enum: ['pending', 'published', 'spam', 'all', 'reported'] },
            post: { type: 'string', maxLength: limits.postUrlMaxChars },
            q: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: QUEUE_PAGE_MAX },
            before: { type: 'integer', minimum: 1 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['comments', 'next'],
            properties: {
              comments: { type: 'array', items: { $ref: 'ModeratedComment#' } },
              next: { type: ['integer', 'null'] },
            },
          },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const { site } = await requireOwner(request, reply, q.site);
      const limit = q.limit ?? 50;
      const status = q.status ?? 'pending';
      const comments = await store.listForModeration({
        siteId: site.id,
        status: status === 'all' || status === 'reported' ? null : status,
        reported: status === 'reported',
        postUrl: q.post ? await postOf(site, q.post) : null,
        search: q.q?.trim() || null,
        limit: limit + 1,
        beforeSeq: q.before ?? null,
      });
      const page = comments.slice(0, limit);
      const reports = await store.reportSummaries(site.id, page.map((c) => c.id), REASONS_SHOWN);
      return {
        comments: page.map((c) => {
          const summary = reports.get(c.id);
          const wire = toWire(c, secret);
          if (!summary) return wire;
          return { ...wire, reports: { count: summary.count, reasons: summary.reasons.map((r) => ({ reason: r.reason, created: r.created.toISOString() })) } };
        }),
        next: comments.length > limit && status !== 'reported' ? page.at(-1)!.seq : null,
      };
    },
  );

  app.post<{ Body: { site: string; action: AdminAction; ids: string[] } }>(
    `${ADMIN_PREFIX}/comments/actions`,
    {
      schema: {
        summary: 'Approve, reject (remove), mark as spam (kept, never shown), delete comments, or dismiss their reports; one or many',
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['site', 'action', 'ids'],
          additionalProperties: false,
          properties: {
            site: siteIdSchema,
            action: { type: 'string', enum: [...ACTIONS] },
            ids: { type: 'array', minItems: 1, maxItems: BULK_MAX, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 100 } },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['results'],
            properties: {
              results: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'ok'],
                  properties: { id: { type: 'string' }, ok: { type: 'boolean' }, status: { type: 'string' }, outcome: { type: 'string' } },
                },
              },
            },
          },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { site } = await requireOwner(request, reply, request.body.site);
      const { action } = request.body;
      const results = await Promise.all(
        request.body.ids.map(async (id) => {
          if (action === 'dismiss') return { id, ok: (await store.dismissReports(site.id, [id])) > 0, outcome: 'dismissed' };
          if (action === 'approve' || action === 'spam') {
            const changed = await store.setCommentStatus(site.id, id, action === 'approve' ? 'published' : 'spam');
            return changed ? { id, ok: true, status: changed.status } : { id, ok: false };
          }
          const outcome = await store.deleteComment(site.id, id, opts.now());
          return outcome ? { id, ok: true, outcome } : { id, ok: false };
        }),
      );
      return { results };
    },
  );

  app.get<{ Querystring: { site: string; post?: string } }>(
    `${ADMIN_PREFIX}/settings`,
    {
      schema: {
        summary: "The site's moderation settings, a post's own, and what applies to the post",
        tags: ['admin'],
        querystring: {
          type: 'object',
          required: ['site'],
          additionalProperties: false,
          properties: { site: siteIdSchema, post: { type: 'string', maxLength: limits.postUrlMaxChars } },
        },
        response: {
          200: {
            type: 'object',
            required: ['site', 'effective'],
            properties: { site: settingsSchema, post: settingsSchema, effective: settingsSchema },
          },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { site } = await requireOwner(request, reply, request.query.site);
      const siteSettings = await store.moderationSettings(site.id, null);
      const post = request.query.post ? await store.moderationSettings(site.id, await postOf(site, request.query.post)) : null;
      return {
        site: siteSettings,
        ...(post ? { post } : {}),
        effective: effective(siteSettings, post ?? siteSettings, limits.linksMax),
      };
    },
  );

  app.post<{ Body: { site: string; post?: string } & Partial<ModerationSettings> }>(
    `${ADMIN_PREFIX}/settings`,
    {
      schema: {
        summary: "Set the site's moderation settings, or a post's (`post`); `closed` (posts only) closes or opens it",
        description: 'Fields left out keep their value; `null` makes a post inherit the site’s setting.',
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['site'],
          additionalProperties: false,
          properties: {
            site: siteIdSchema,
            post: { type: 'string', maxLength: limits.postUrlMaxChars },
            policy: { type: ['string', 'null'], enum: [...POLICIES, null] },
            maxLinks: { type: ['integer', 'null'], minimum: 0, maximum: 1000 },
            closed: { type: 'boolean' },
          },
        },
        response: { 200: settingsSchema, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { site } = await requireOwner(request, reply, request.body.site);
      const { post: rawPost, policy, maxLinks, closed } = request.body;
      const post = rawPost ? await postOf(site, rawPost) : null;
      if (!post && closed) throw new HttpError(400, 'closed_per_post', 'Comments are closed per post; name the post.');
      const current = await store.moderationSettings(site.id, post);
      const next: ModerationSettings = {
        policy: policy === undefined ? current.policy : policy,
        maxLinks: maxLinks === undefined ? current.maxLinks : maxLinks,
        closed: closed ?? current.closed,
      };
      await store.putModerationSettings(site.id, post, next);
      return next;
    },
  );
}
