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
 *   POST comments/edit                 change a comment's text (goes out on the live stream like an author's edit)
 *   POST comments/pin                  pin or unpin a top-level comment (first in the thread for everyone)
 *   GET  blocks?site                   the site's blocked authors, emails and addresses
 *   POST blocks                        block the author, email or address of a comment, or a typed email / address / network
 *   POST blocks/remove                 unblock
 *   GET  spam-settings?site            how long addresses are kept; Akismet (the key only as its last 4 characters)
 *   POST spam-settings                 set them
 *
 * Only owners see a comment's address (`ip`) and blocked emails; nothing here is sent anywhere else.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CommentStatus } from '../../src/data/api-types.js';
import type { Sessions } from '../auth/sessions.js';
import type { Limits } from '../config.js';
import { errorSchema, HttpError } from '../http/errors.js';
import { ownOrigin, type SiteDirectory } from '../http/sites.js';
import { effective, POLICIES } from '../moderation/policy.js';
import type { Block, BlockKind, ModerationSettings, Site, SpamSettings, Store, StoredComment, User } from '../store/store.js';
import { commentSchema, toWire } from './comments.js';
import { AKISMET_KEY_PATTERN, akismetOf, fromStored, type Akismet } from '../moderation/akismet.js';
import { BLOCKS_MAX, canonicalAddress } from '../moderation/blocks.js';
import { DEFAULT_IP_RETENTION_DAYS, IP_RETENTION_MAX_DAYS } from '../moderation/screen.js';
import { httpUrl } from '../domain/post-url.js';
import { authorKey } from './auth.js';

export interface AdminRoutesOptions {
  store: Store;
  sites: SiteDirectory;
  sessions: Sessions;
  limits: Limits;
  secret: string;
  now: () => Date;
  /** Told when the owner marks spam or approves spam (sites with Akismet on). */
  akismet?: Akismet;
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
/** Most pinned threads on one post. */
export const PINS_MAX = 5;
const BLOCK_KINDS: readonly BlockKind[] = ['user', 'email', 'address'];
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

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

/**
 * Who may use the owners' API (`/admin` and its sub-elements' routes): the page of this server
 * only, and the signed-in owners of the site named, with the session's CSRF token on a change.
 * Shared by every route plugin under `ADMIN_PREFIX`.
 */
export function ownerAccess(store: Store, sessions: Sessions, secret: string) {
  /** The session's CSRF token: bound to the session (its id hash), useless without its cookie. */
  const csrfFor = (idHash: string) => createHmac('sha256', secret).update(`admin-csrf\n${idHash}`).digest('base64url');

  /** An `onRequest` hook: same origin only, for reads as well as writes; never any CORS header. */
  async function sameOriginOnly(request: FastifyRequest, reply: FastifyReply): Promise<void> {
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
  }

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

  return { csrfFor, sameOriginOnly, requireOwner };
}

export async function adminRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  const { store, sites, sessions, limits, secret } = opts;
  app.addSchema({
    ...commentSchema,
    $id: 'ModeratedComment',
    properties: {
      ...commentSchema.properties,
      ip: { type: 'string', description: "The writer's address, while the site keeps it (owners only)." },
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

  const { csrfFor, sameOriginOnly, requireOwner } = ownerAccess(store, sessions, secret);
  // Same origin only, for reads as well as writes; never any CORS header.
  app.addHook('onRequest', sameOriginOnly);

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
          const wire = { ...toWire(c, secret), ...(c.authorIp ? { ip: c.authorIp } : {}) };
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
      const credentials = opts.akismet && (action === 'spam' || action === 'approve') ? akismetOf(await store.spamSettings(site.id)) : null;
      const results = await Promise.all(
        request.body.ids.map(async (id) => {
          if (action === 'dismiss') return { id, ok: (await store.dismissReports(site.id, [id])) > 0, outcome: 'dismissed' };
          if (action === 'approve' || action === 'spam') {
            const before = credentials ? await store.getComment(site.id, id) : null;
            const changed = await store.setCommentStatus(site.id, id, action === 'approve' ? 'published' : 'spam');
            // Akismet learns from the owner's call: spam it missed, or ham it took for spam.
            if (credentials && before && changed && (action === 'spam' ? before.status !== 'spam' : before.status === 'spam')) {
              opts.akismet?.submit(action === 'spam' ? 'spam' : 'ham', credentials, fromStored(before));
            }
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

  /** A comment of the site, or 404. */
  async function commentOf(site: Site, id: string): Promise<StoredComment> {
    const comment = await store.getComment(site.id, id);
    if (!comment || comment.deleted) throw new HttpError(404, 'comment_not_found', 'That comment does not exist.');
    return comment;
  }

  const commentIdSchema = { type: 'string', minLength: 1, maxLength: 100 } as const;

  app.post<{ Body: { site: string; id: string; body: string } }>(
    `${ADMIN_PREFIX}/comments/edit`,
    {
      schema: {
        summary: "Change a comment's text (an owner's edit; marked edited, and sent to live readers like an author's)",
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['site', 'id', 'body'],
          additionalProperties: false,
          properties: { site: siteIdSchema, id: commentIdSchema, body: { type: 'string', minLength: 1, maxLength: limits.bodyMaxChars } },
        },
        response: { 200: { $ref: 'ModeratedComment#' }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { site } = await requireOwner(request, reply, request.body.site);
      if (!request.body.body.trim()) throw new HttpError(400, 'body_empty', 'The comment is empty.');
      await commentOf(site, request.body.id);
      const edited = await store.editComment(site.id, request.body.id, request.body.body, opts.now());
      if (!edited) throw new HttpError(404, 'comment_not_found', 'That comment does not exist.');
      return { ...toWire(edited, secret), ...(edited.authorIp ? { ip: edited.authorIp } : {}) };
    },
  );

  app.post<{ Body: { site: string; id: string; pinned: boolean } }>(
    `${ADMIN_PREFIX}/comments/pin`,
    {
      schema: {
        summary: `Pin or unpin a published top-level comment: pinned threads come first, for everyone (at most ${PINS_MAX} per post)`,
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['site', 'id', 'pinned'],
          additionalProperties: false,
          properties: { site: siteIdSchema, id: commentIdSchema, pinned: { type: 'boolean' } },
        },
        response: { 200: { $ref: 'ModeratedComment#' }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { site } = await requireOwner(request, reply, request.body.site);
      const result = await store.setPinned(site.id, request.body.id, request.body.pinned, PINS_MAX, opts.now());
      switch (result) {
        case 'not_found':
          throw new HttpError(404, 'comment_not_found', 'Only a published comment can be pinned.');
        case 'not_top_level':
          throw new HttpError(400, 'not_top_level', 'Only a top-level comment can be pinned, not a reply.');
        case 'too_many':
          throw new HttpError(409, 'too_many_pinned', `At most ${PINS_MAX} comments can be pinned on one post; unpin one first.`);
        default:
          return { ...toWire(result, secret), ...(result.authorIp ? { ip: result.authorIp } : {}) };
      }
    },
  );

  const blockSchema = {
    type: 'object',
    required: ['kind', 'value', 'label', 'created'],
    properties: {
      kind: { type: 'string', enum: [...BLOCK_KINDS] },
      value: { type: 'string', description: "The email, address or network; for an account, its pseudonym on this site (see `author.user`)." },
      label: { type: ['string', 'null'] },
      created: { type: 'string', format: 'date-time' },
    },
  } as const;
  /** A block as the owner sees it: an account by its per-site pseudonym, never its user id. */
  const blockWire = (block: Block) => ({
    kind: block.kind,
    value: block.kind === 'user' ? authorKey(secret, block.siteId, block.value) : block.value,
    label: block.label,
    created: block.created.toISOString(),
  });

  app.get<{ Querystring: { site: string } }>(
    `${ADMIN_PREFIX}/blocks`,
    {
      schema: {
        summary: "The site's blocks, newest first",
        tags: ['admin'],
        querystring: { type: 'object', required: ['site'], additionalProperties: false, properties: { site: siteIdSchema } },
        response: { 200: { type: 'object', required: ['blocks'], properties: { blocks: { type: 'array', items: blockSchema } } }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { site } = await requireOwner(request, reply, request.query.site);
      return { blocks: (await store.listBlocks(site.id, BLOCKS_MAX)).map(blockWire) };
    },
  );

  app.post<{ Body: { site: string; kind: BlockKind; comment?: string; value?: string } }>(
    `${ADMIN_PREFIX}/blocks`,
    {
      schema: {
        summary: 'Block the account, email or address of a comment (`comment`), or a typed email or address/network (`value`)',
        description:
          'New comments from a blocked account, email or address are refused with 403 `blocked` ("You cannot comment on this site."), ' +
          'which does not say which matched. Networks: IPv4 /8 to /32, IPv6 /16 to /128 in steps of 4.',
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['site', 'kind'],
          additionalProperties: false,
          properties: {
            site: siteIdSchema,
            kind: { type: 'string', enum: [...BLOCK_KINDS] },
            comment: commentIdSchema,
            value: { type: 'string', minLength: 1, maxLength: Math.max(limits.emailMaxChars, 64) },
          },
        },
        response: {
          200: { type: 'object', required: ['block', 'added'], properties: { block: blockSchema, added: { type: 'boolean' } } },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { site } = await requireOwner(request, reply, request.body.site);
      const { kind, comment: commentId, value: typed } = request.body;
      if ((commentId === undefined) === (typed === undefined)) {
        throw new HttpError(400, 'block_target_required', 'Name either a comment or a value to block.');
      }
      let value: string | null;
      let label: string | null = null;
      if (commentId !== undefined) {
        const comment = await commentOf(site, commentId);
        label = comment.authorName || null;
        value =
          kind === 'user'
            ? (comment.userId ?? null)
            : kind === 'email'
              ? (comment.authorEmail?.toLowerCase() ?? null)
              : comment.authorIp
                ? canonicalAddress(comment.authorIp) // `::ffff:192.0.2.1` is blocked as `192.0.2.1`
                : null;
        if (!value) {
          const what = kind === 'user' ? 'was not written by a signed-in account' : kind === 'email' ? 'has no email address' : 'no longer has an address (it is kept only for a while)';
          throw new HttpError(400, `no_${kind}`, `That comment ${what}.`);
        }
      } else if (kind === 'email') {
        value = typed!.trim().toLowerCase();
        if (!emailPattern.test(value)) throw new HttpError(400, 'email_invalid', 'That email address does not look right.');
      } else if (kind === 'address') {
        value = canonicalAddress(typed!);
        if (!value) throw new HttpError(400, 'address_invalid', 'Give an IPv4 or IPv6 address, or a network such as 203.0.113.0/24 (IPv4 /8 or longer; IPv6 /16 or longer, a multiple of 4).');
      } else {
        throw new HttpError(400, 'block_target_required', 'Block an account from one of its comments.');
      }
      if ((await store.listBlocks(site.id, BLOCKS_MAX)).length >= BLOCKS_MAX) {
        throw new HttpError(409, 'too_many_blocks', `A site can have at most ${BLOCKS_MAX} blocks; remove some first.`);
      }
      const block: Block = { siteId: site.id, kind, value, label, created: opts.now() };
      const added = await store.addBlock(block);
      return { block: blockWire(block), added };
    },
  );

  app.post<{ Body: { site: string; kind: BlockKind; value: string } }>(
    `${ADMIN_PREFIX}/blocks/remove`,
    {
      schema: {
        summary: 'Unblock: `value` as the block list gives it',
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['site', 'kind', 'value'],
          additionalProperties: false,
          properties: { site: siteIdSchema, kind: { type: 'string', enum: [...BLOCK_KINDS] }, value: { type: 'string', minLength: 1, maxLength: 300 } },
        },
        response: { 200: { type: 'object', required: ['removed'], properties: { removed: { type: 'boolean' } } }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { site } = await requireOwner(request, reply, request.body.site);
      const { kind, value } = request.body;
      let stored: string | null = value;
      if (kind === 'user') {
        const blocks = await store.listBlocks(site.id, BLOCKS_MAX);
        stored = blocks.find((b) => b.kind === 'user' && authorKey(secret, site.id, b.value) === value)?.value ?? null;
      } else if (kind === 'address') stored = canonicalAddress(value);
      else stored = value.trim().toLowerCase();
      return { removed: stored !== null && (await store.removeBlock(site.id, kind, stored)) };
    },
  );

  const spamSettingsSchema = {
    type: 'object',
    required: ['ipRetentionDays', 'akismet'],
    properties: {
      ipRetentionDays: { type: 'integer', description: `Days a commenter's address is kept (0: not kept); ${DEFAULT_IP_RETENTION_DAYS} unless set.` },
      akismet: {
        type: 'object',
        required: ['enabled', 'keyHint', 'blog'],
        properties: {
          enabled: { type: 'boolean' },
          keyHint: { type: ['string', 'null'], description: 'The last four characters of the key; the key itself is never sent back.' },
          blog: { type: ['string', 'null'] },
        },
      },
    },
  } as const;
  const spamWire = (settings: SpamSettings) => ({
    ipRetentionDays: settings.ipRetentionDays ?? DEFAULT_IP_RETENTION_DAYS,
    akismet: {
      enabled: akismetOf(settings) !== null,
      keyHint: settings.akismetKey ? `…${settings.akismetKey.slice(-4)}` : null,
      blog: settings.akismetBlog,
    },
  });

  app.get<{ Querystring: { site: string } }>(
    `${ADMIN_PREFIX}/spam-settings`,
    {
      schema: {
        summary: 'How long commenters’ addresses are kept, and the Akismet check',
        tags: ['admin'],
        querystring: { type: 'object', required: ['site'], additionalProperties: false, properties: { site: siteIdSchema } },
        response: { 200: spamSettingsSchema, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { site } = await requireOwner(request, reply, request.query.site);
      return spamWire(await store.spamSettings(site.id));
    },
  );

  app.post<{ Body: { site: string; ipRetentionDays?: number | null; akismetKey?: string | null; akismetBlog?: string | null } }>(
    `${ADMIN_PREFIX}/spam-settings`,
    {
      schema: {
        summary: 'Set how long addresses are kept (null: the default) and the Akismet key and blog URL (null turns it off)',
        description: 'Fields left out keep their value. Shortening the retention applies to stored addresses at the next purge (within 10 minutes).',
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['site'],
          additionalProperties: false,
          properties: {
            site: siteIdSchema,
            ipRetentionDays: { type: ['integer', 'null'], minimum: 0, maximum: IP_RETENTION_MAX_DAYS },
            akismetKey: { type: ['string', 'null'], pattern: AKISMET_KEY_PATTERN.source },
            akismetBlog: { type: ['string', 'null'], maxLength: limits.postUrlMaxChars },
          },
        },
        response: { 200: spamSettingsSchema, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { site } = await requireOwner(request, reply, request.body.site);
      const { ipRetentionDays, akismetKey, akismetBlog } = request.body;
      const current = await store.spamSettings(site.id);
      let blog = akismetBlog === undefined ? current.akismetBlog : akismetBlog;
      if (blog) {
        blog = httpUrl(blog.trim());
        if (!blog) throw new HttpError(400, 'akismetBlog_invalid', 'The blog URL must be an http:// or https:// address.');
      }
      const next: SpamSettings = {
        ipRetentionDays: ipRetentionDays === undefined ? current.ipRetentionDays : ipRetentionDays,
        akismetKey: akismetKey === undefined ? current.akismetKey : akismetKey,
        akismetBlog: blog || null,
      };
      if (next.akismetKey && !next.akismetBlog) {
        throw new HttpError(400, 'akismetBlog_required', 'Give the blog URL the Akismet key was issued for.');
      }
      // A new key (or blog) is asked about first: a key Akismet refuses would hold every comment.
      const changed = next.akismetKey !== current.akismetKey || next.akismetBlog !== current.akismetBlog;
      if (changed && next.akismetKey && next.akismetBlog && opts.akismet) {
        const verdict = await opts.akismet.verify({ key: next.akismetKey, blog: next.akismetBlog });
        if (verdict === 'invalid') {
          throw new HttpError(400, 'akismet_key_invalid', 'Akismet does not accept this key for that blog URL; nothing was saved.');
        }
      }
      await store.putSpamSettings(site.id, next);
      return spamWire(next);
    },
  );
}
