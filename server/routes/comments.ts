import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Comment, CommentPage, NewCommentRequest } from '../../src/data/api-types.js';
import type { Limits } from '../config.js';
import { avatarSeed } from '../domain/avatar.js';
import { pictureUrl } from './pictures.js';
import { authorKey, userAvatar } from './auth.js';
import { httpUrl } from '../domain/post-url.js';
import { errorSchema, HttpError } from '../http/errors.js';
import { Lru } from '../http/lru.js';
import { applyCors, ownOrigin, type SiteDirectory } from '../http/sites.js';
import { InvalidCursorError, type Site, type Store, type StoredComment } from '../store/store.js';
import type { Sessions, SessionState } from '../auth/sessions.js';
import { hashToken, sameHash, tokenPattern } from '../auth/tokens.js';
import { moderationOf, statusFor } from '../moderation/policy.js';
import type { Akismet } from '../moderation/akismet.js';
import { screenNewComment } from '../moderation/screen.js';
import { eventsHead } from './live.js';
import type { Notifier } from '../notify/notifier.js';

export interface CommentRoutesOptions {
  store: Store;
  sites: SiteDirectory;
  limits: Limits;
  secret: string;
  now: () => Date;
  /** Signed-in writers; without it every writer is a guest. */
  sessions?: Sessions;
  /** The Akismet client, for sites that turn the check on. */
  akismet?: Akismet;
  /** Email notifications (SMTP configured): `subscribe` asks for replies by email. */
  notifier?: Notifier;
}

/** What an emptied (deleted, with replies) comment shows in place of its text. */
export const DELETED_TEXT = 'This comment was deleted.';

/**
 * The wire comment plus what sign-in added: `author.user` (the signed-in author's per-site
 * pseudonym, see `authorKey`, to offer Edit/Delete to them), `edited` and `deleted`. A guest
 * proves authorship with the `editToken` its browser made and sent with the comment.
 */
export type WireComment = Comment & {
  author: Comment['author'] & { user?: string; picture?: string };
  edited?: string;
  deleted?: boolean;
  pinned?: boolean;
};

const nullableString = { type: ['string', 'null'] } as const;

export const commentSchema = {
  $id: 'Comment',
  type: 'object',
  required: ['id', 'post', 'parent', 'depth', 'kind', 'status', 'author', 'body', 'created', 'reblog'],
  properties: {
    id: { type: 'string' },
    post: { type: 'string' },
    parent: nullableString,
    depth: { type: 'integer' },
    kind: { type: 'string', enum: ['comment', 'reblog'] },
    status: { type: 'string', enum: ['published', 'pending', 'spam'] },
    author: {
      type: 'object',
      required: ['name', 'website', 'avatar'],
      properties: {
        name: { type: 'string' },
        website: nullableString,
        avatar: { type: 'string' },
        user: {
          type: 'string',
          description:
            "Only on a signed-in author's comments: their pseudonym on this site (an HMAC of site and user, " +
            'not the user id, so it links nothing across sites). The session endpoint gives the same value ' +
            "as `user.author`, so the widget can tell the reader's own comments without a per-reader page.",
        },
        picture: { type: 'string' },
      },
    },
    edited: { type: 'string', format: 'date-time' },
    deleted: { type: 'boolean' },
    pinned: { type: 'boolean', description: 'Pinned by an owner: shown first in the thread.' },
    body: { type: 'string' },
    created: { type: 'string', format: 'date-time' },
    reblog: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['blogName', 'url'],
          properties: { blogName: { type: 'string' }, url: { type: 'string' } },
        },
      ],
    },
  },
} as const;

/** What browsers may see of a stored comment: never the email address, nor the user id. */
export function toWire(c: StoredComment, secret: string): WireComment {
  return {
    id: c.id,
    post: c.postUrl,
    parent: c.parentId,
    depth: c.depth,
    kind: c.kind,
    status: c.status,
    author: { name: c.authorName, website: c.authorWebsite, avatar: c.avatar,
      ...(c.userId ? { user: authorKey(secret, c.siteId, c.userId) } : {}),
      ...(c.authorPicture ? { picture: pictureUrl(secret, c.authorPicture) } : {}),
    },
    body: c.deleted ? DELETED_TEXT : c.body,
    created: c.created.toISOString(),
    reblog: c.reblogUrl ? { blogName: c.reblogBlogName ?? '', url: c.reblogUrl } : null,
    ...(c.edited ? { edited: c.edited.toISOString() } : {}),
    ...(c.deleted ? { deleted: true } : {}),
    ...(c.pinned ? { pinned: true } : {}),
  };
}

/**
 * Memory for serialized pages of comments, per server instance (UTF-8 bytes: as many ASCII
 * pages as the 16 MB of UTF-16 weight it used to be).
 */
const PAGE_CACHE_BYTES = 8 * 1024 * 1024;
/** How far (in event ids) a cached page's `events` may lag its site's latest before it is renewed. */
const EVENTS_LAG_MAX = 200;

/** Idempotency keys: the client's comment id (a UUID, or any 8–100 URL-safe characters). */
const idempotencyKeyPattern = /^[A-Za-z0-9_-]{8,100}$/;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export async function commentRoutes(app: FastifyInstance, opts: CommentRoutesOptions): Promise<void> {
  const { store, sites, limits, secret, now, sessions, notifier } = opts;
  const readSession = (request: FastifyRequest, reply: FastifyReply): Promise<SessionState> =>
    sessions ? sessions.current(request, reply) : Promise.resolve({ kind: 'none' });
  /** Keys whose first request is still being stored on this instance. */
  const inFlight = new Set<string>();
  /** Serialized pages by (site, post, page size, cursor), with the stamp they were made at. */
  // Bounded in bytes, not entries: one page can be 1,000 threads long.
  // Kept as UTF-8 bytes outside the JS heap: a page evicted from a busy cache is then freed
  // with its buffer, instead of lingering as old-generation garbage until a full collection.
  const pages = new Lru<string, { total: number; version: number; etag: string; json: Buffer; events: number }>(
    PAGE_CACHE_BYTES,
    (page) => page.json.length,
  );

  app.addSchema(commentSchema);

  app.get<{ Querystring: { post: string; 'page-size'?: number; before?: string } }>(
    '/api/v1/comments',
    {
      schema: {
        summary: "One page of a post's comments",
        description:
          'The newest `page-size` top-level threads, oldest first, each followed by its replies. ' +
          '`older` is the cursor for the previous page. A post without comments yet gives an empty page.',
        tags: ['comments'],
        querystring: {
          type: 'object',
          required: ['post'],
          properties: {
            post: { type: 'string', minLength: 1, maxLength: limits.postUrlMaxChars },
            'page-size': { type: 'integer', minimum: 1, maximum: limits.pageSizeMax },
            before: { type: 'string', maxLength: 200 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['post', 'total', 'comments', 'older', 'editWindow'],
            properties: {
              post: {
                type: 'object',
                required: ['url', 'title'],
                properties: { url: { type: 'string' }, title: nullableString },
              },
              total: { type: 'integer' },
              comments: { type: 'array', items: { $ref: 'Comment#' } },
              older: nullableString,
              editWindow: {
                type: 'integer',
                description: 'Seconds after posting during which an author may edit or delete their comment.',
              },
              closed: { type: 'boolean' },
              events: {
                type: 'integer',
                description: 'Open the live stream with this as `last-event-id`: nothing after the page was read is missed.',
              },
            },
          },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { site, url } = await sites.resolvePost(request.query.post);
      applyCors(site, request, reply);
      const pageSize = request.query['page-size'] ?? limits.pageSizeDefault;
      const before = request.query.before || null;
      // Reads are served from serialized pages while the thread's stamp (published total and
      // highest seq, read from the database, so every instance agrees) has not moved.
      const key = `${site.id}\n${url}\n${pageSize}\n${before ?? ''}`;
      // Read before the stamp: the page is current up to it.
      const head = await eventsHead(store, site.id);
      const stamp = await store.threadStamp(site.id, url);
      let page = pages.get(key);
      const events = Math.max(head, stamp.version);
      if (!page || page.total !== stamp.total || page.version !== stamp.version) {
        let threads;
        try {
          threads = await store.listThreads({ siteId: site.id, postUrl: url, pageSize, before });
        } catch (error) {
          if (error instanceof InvalidCursorError) {
            throw new HttpError(400, 'invalid_cursor', 'That page of comments does not exist.');
          }
          throw error;
        }
        // Closing a post gives it a new version, so whether it is closed is cached with the page.
        const { closed } = await store.moderationSettings(site.id, url);
        const body: CommentPage = {
          post: { url, title: threads.post?.title ?? null },
          total: threads.total,
          comments: threads.comments.map((c) => toWire(c, secret)),
          editWindow: limits.editWindowSeconds,
          older: threads.older,
          ...(closed ? { closed } : {}),
          events,
        };
        const tag = createHash('sha1')
          .update(`${url}|${threads.version}|${threads.total}|${pageSize}|${before}`)
          .digest('base64url');
        const json = Buffer.from(String(reply.serialize(body)));
        page = { total: threads.total, version: threads.version, etag: `W/"${tag}"`, json, events };
        pages.set(key, page);
      } else if (events - page.events > EVENTS_LAG_MAX) {
        // Any `events` read before the stamp stays a valid resume point while the page is
        // unchanged: it is renewed (a copy) only when the site has moved on enough to make a
        // stream's replay long, not per read. (A string in the JSON cannot hold `,"events":`.)
        const old = `,"events":${page.events}`;
        const at = page.json.lastIndexOf(old);
        if (at >= 0) page.json = Buffer.concat([page.json.subarray(0, at), Buffer.from(`,"events":${events}`), page.json.subarray(at + old.length)]);
        if (at >= 0) page.events = events;
        pages.set(key, page);
      }
      reply.header('ETag', page.etag).header('Cache-Control', 'no-cache');
      if (request.headers['if-none-match'] === page.etag) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(page.json);
    },
  );

  app.post<{
    Body: Omit<NewCommentRequest, 'author'> & { author?: NewCommentRequest['author'] };
    Headers: { 'idempotency-key'?: string };
  }>(
    '/api/v1/comments',
    {
      config: { rateLimit: { max: limits.writesPerMinute, timeWindow: 60_000 } },
      schema: {
        summary: 'Post a comment or a reply',
        description:
          'The `Idempotency-Key` header is the client-made comment id. The same key with the same ' +
          'body returns the first result; with a different body, 422; while the first request is ' +
          'still being stored, 409 with Retry-After. Signed in (session cookie, sent with credentials), ' +
          '`author` is not needed: the user’s profile is used. A guest may send `editToken`, a secret its browser ' +
          'made (only its SHA-256 is stored), to edit or delete the comment within the edit window; it is part of ' +
          'the request, so a replay after a lost response keeps it valid. An expired session gives 401 `session_expired`.',
        tags: ['comments'],
        headers: {
          type: 'object',
          properties: { 'idempotency-key': { type: 'string' } },
        },
        body: {
          type: 'object',
          required: ['post', 'body'],
          additionalProperties: false,
          properties: {
            post: { type: 'string', minLength: 1, maxLength: limits.postUrlMaxChars },
            pageTitle: { type: 'string', maxLength: limits.titleMaxChars },
            parent: { type: ['string', 'null'], maxLength: 100 },
            author: {
              type: 'object',
              required: ['name', 'email'],
              additionalProperties: false,
              properties: {
                name: { type: 'string', minLength: 1, maxLength: limits.nameMaxChars },
                email: { type: 'string', minLength: 1, maxLength: limits.emailMaxChars },
                website: { type: 'string', maxLength: limits.websiteMaxChars },
              },
            },
            body: { type: 'string', minLength: 1, maxLength: limits.bodyMaxChars },
            editToken: {
              type: 'string',
              pattern: tokenPattern,
              description: "Guests: a random secret (base64url) that proves authorship later; ignored when signed in.",
            },
            honeypot: { type: 'string', maxLength: 1000 },
            writingMs: { type: 'integer', minimum: 0 },
            subscribe: {
              type: 'boolean',
              description: 'Email replies to this comment to its writer (after they confirm by email); only when the server sends email.',
            },
          },
        },
        response: { 201: { $ref: 'Comment#' }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      if (!key || !idempotencyKeyPattern.test(key)) {
        throw new HttpError(
          400,
          'idempotency_key_required',
          'The Idempotency-Key header must be the comment id: 8 to 100 letters, digits, "-" or "_".',
        );
      }
      const input = request.body;
      const { site, url } = await sites.resolvePost(input.post);
      applyCors(site, request, reply);
      const session = await readSession(request, reply);

      let name: string;
      let email: string | null;
      let website: string | null = null;
      let avatar: string;
      let userId: string | null = null;
      let picture: string | null = null;
      let editTokenHash: string | null = null;
      if (session.kind === 'user') {
        const { user } = session;
        userId = user.id;
        name = user.name;
        email = user.email;
        website = user.website;
        picture = user.picture;
        avatar = userAvatar(secret, site.id, user);
      } else {
        if (!input.author) throw new HttpError(400, 'author_required', 'The author is required.');
        name = input.author.name.trim();
        if (!name) throw new HttpError(400, 'name_empty', 'Please give your name.');
        email = input.author.email.trim();
        if (!emailPattern.test(email)) {
          throw new HttpError(400, 'email_invalid', 'That email address does not look right.');
        }
        if (input.author.website?.trim()) {
          website = httpUrl(input.author.website.trim());
          if (!website) {
            throw new HttpError(400, 'website_invalid', 'The website must be an http:// or https:// address.');
          }
        }
        avatar = avatarSeed(secret, site.id, email, name);
        if (input.editToken) editTokenHash = hashToken(input.editToken);
      }
      if (!input.body.trim()) throw new HttpError(400, 'body_empty', 'The comment is empty.');
      const parent = input.parent ?? null;
      const who = userId ? ['user', userId] : [name, (email ?? '').toLowerCase(), website];
      // The token's hash is part of the request: a retry of the same request (the outbox resends
      // it whole) replays, while the same key with another token is a different request (422),
      // so nobody is told "stored" for a token that the server does not hold. Appended only when
      // present, so the hashes of comments stored before tokens existed still match their replays.
      const requestHash = createHash('sha256')
        .update(JSON.stringify([url, parent, ...who, input.body, ...(editTokenHash ? [editTokenHash] : [])]))
        .digest('hex');

      const moderation = await moderationOf(store, site.id, url, limits.linksMax);
      // A retry of a comment stored before the post was closed still gets its first answer.
      if (moderation.closed && !(await store.getComment(site.id, key))) {
        throw new HttpError(403, 'comments_closed', 'Comments are closed on this post.');
      }
      const policyStatus = await statusFor(store, moderation, {
        siteId: site.id,
        body: input.body,
        userId,
        email,
        owner: () => store.isSiteOwner(site.id, userId ?? ''),
        honeypot: input.honeypot,
        writingMs: input.writingMs,
        minWritingMs: limits.minWritingSeconds * 1000,
      });
      // Blocks (403), Akismet, and the writer's address (see server/moderation/screen.ts).
      const { status, authorIp } = await screenNewComment(store, opts.akismet, {
        siteId: site.id,
        status: policyStatus,
        userId,
        email,
        address: request.ip,
        replay: async () => (await store.getComment(site.id, key)) !== null,
        owner: () => store.isSiteOwner(site.id, userId ?? ''),
        comment: {
          permalink: url,
          type: parent ? 'reply' : 'comment',
          authorName: name,
          authorEmail: email,
          authorUrl: website,
          content: input.body,
          created: now(),
          ip: request.ip,
          userAgent: request.headers['user-agent'] ?? null,
          referrer: request.headers.referer ?? null,
        },
      });

      const slot = `${site.id}\n${key}`;
      if (inFlight.has(slot)) {
        throw new HttpError(409, 'in_progress', 'This comment is still being saved; try again in a moment.', {
          'Retry-After': '1',
        });
      }
      inFlight.add(slot);
      try {
        const result = await store.createComment(
          {
            siteId: site.id,
            postUrl: url,
            postTitle: input.pageTitle?.trim() || null,
            id: key,
            requestHash,
            parentId: parent,
            kind: 'comment',
            status,
            authorName: name,
            authorEmail: email,
            authorWebsite: website,
            avatar,
            body: input.body,
            reblogBlogName: null,
            reblogUrl: null,
            created: now(),
            userId,
            authorPicture: picture,
            editTokenHash,
            authorIp,
          },
          limits.maxDepth,
        );
        if (!result.ok) {
          switch (result.reason) {
            case 'idempotency_mismatch':
              throw new HttpError(422, 'idempotency_mismatch', 'This comment id was already used for a different comment.');
            case 'parent_not_found':
              throw new HttpError(422, 'parent_not_found', 'The comment you are replying to is not on this post.');
            case 'too_deep':
              throw new HttpError(
                422,
                'too_deep',
                `Replies can nest only ${limits.maxDepth} levels deep; reply to an earlier comment instead.`,
              );
          }
        }
        if (result.replayed) reply.header('Idempotent-Replayed', 'true');
        else if (notifier) {
          notifier.seen(ownOrigin(request));
          // Only queued here (emails are sent by the job runner); a failure to queue is logged,
          // never a failed comment.
          const queued = async () => {
            await notifier.stored(result.comment);
            if (input.subscribe && email && result.comment.status !== 'spam') await notifier.subscribe(result.comment, email, userId);
          };
          await queued().catch((error: unknown) => request.log.error({ err: error }, 'queueing notifications failed'));
        }
        // Spam is kept for the owner, but its writer is told no more than "awaiting moderation".
        const stored = result.comment.status === 'spam' ? { ...result.comment, status: 'pending' as const } : result.comment;
        return reply.code(201).send(toWire(stored, secret));
      } finally {
        inFlight.delete(slot);
      }
    },
  );

  /**
   * Whether this request may change the comment: its signed-in author, or the guest holding its
   * edit token, within the edit window; a site owner may always delete.
   */
  async function authorise(
    request: FastifyRequest,
    reply: FastifyReply,
    site: Site,
    id: string,
    editToken: string | undefined,
    action: 'edit' | 'delete',
  ): Promise<void> {
    const session = await readSession(request, reply);
    const authorship = await store.getCommentAuthorship(site.id, id);
    if (!authorship || authorship.deleted) throw new HttpError(404, 'comment_not_found', 'That comment does not exist.');
    if (action === 'delete' && session.kind === 'user' && (await store.isSiteOwner(site.id, session.user.id))) return;
    const byUser = authorship.userId !== null && session.kind === 'user' && session.user.id === authorship.userId;
    const byToken =
      authorship.userId === null &&
      authorship.editTokenHash !== null &&
      editToken !== undefined &&
      sameHash(hashToken(editToken), authorship.editTokenHash);
    if (!byUser && !byToken) {
      if (authorship.userId !== null && session.kind !== 'user') {
        throw new HttpError(401, 'sign_in_required', 'Sign in to change your comment.');
      }
      throw new HttpError(403, 'not_your_comment', 'Only its author can change this comment.');
    }
    if (now().getTime() - authorship.created.getTime() > limits.editWindowSeconds * 1000) {
      throw new HttpError(
        403,
        'edit_window_closed',
        `Comments can be changed only within ${Math.round(limits.editWindowSeconds / 60)} minutes of posting.`,
      );
    }
  }

  const changeParams = {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'string', pattern: idempotencyKeyPattern.source } },
  } as const;

  app.post<{ Params: { id: string }; Body: { post: string; body: string; editToken?: string } }>(
    '/api/v1/comments/:id/edit',
    {
      config: { rateLimit: { max: limits.writesPerMinute, timeWindow: 60_000 } },
      schema: {
        summary: "Edit one's own comment (within the edit window)",
        description:
          'Signed in: the session cookie (send with credentials). Guest: the `editToken` it was posted with.',
        tags: ['comments'],
        params: changeParams,
        body: {
          type: 'object',
          required: ['post', 'body'],
          additionalProperties: false,
          properties: {
            post: { type: 'string', minLength: 1, maxLength: limits.postUrlMaxChars },
            body: { type: 'string', minLength: 1, maxLength: limits.bodyMaxChars },
            editToken: { type: 'string', pattern: tokenPattern },
          },
        },
        response: { 200: { $ref: 'Comment#' }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { site, url } = await sites.resolvePost(request.body.post);
      applyCors(site, request, reply);
      if (!request.body.body.trim()) throw new HttpError(400, 'body_empty', 'The comment is empty.');
      await authorise(request, reply, site, request.params.id, request.body.editToken, 'edit');
      const existing = await store.getComment(site.id, request.params.id);
      if (!existing || existing.postUrl !== url) throw new HttpError(404, 'comment_not_found', 'That comment is not on this post.');
      const edited = await store.editComment(site.id, request.params.id, request.body.body, now());
      if (!edited) throw new HttpError(404, 'comment_not_found', 'That comment does not exist.');
      return toWire(edited, secret);
    },
  );

  app.post<{ Params: { id: string }; Body: { post: string; editToken?: string } }>(
    '/api/v1/comments/:id/delete',
    {
      config: { rateLimit: { max: limits.writesPerMinute, timeWindow: 60_000 } },
      schema: {
        summary: "Delete one's own comment (within the edit window)",
        description:
          'A comment with replies is kept as "This comment was deleted." (`deleted: true`), so the replies keep ' +
          'their context; one without replies is removed. Site owners may delete any comment.',
        tags: ['comments'],
        params: changeParams,
        body: {
          type: 'object',
          required: ['post'],
          additionalProperties: false,
          properties: {
            post: { type: 'string', minLength: 1, maxLength: limits.postUrlMaxChars },
            editToken: { type: 'string', pattern: tokenPattern },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['id', 'outcome'],
            properties: { id: { type: 'string' }, outcome: { type: 'string', enum: ['removed', 'emptied'] } },
          },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { site, url } = await sites.resolvePost(request.body.post);
      applyCors(site, request, reply);
      await authorise(request, reply, site, request.params.id, request.body.editToken, 'delete');
      const existing = await store.getComment(site.id, request.params.id);
      if (!existing || existing.postUrl !== url) throw new HttpError(404, 'comment_not_found', 'That comment is not on this post.');
      const outcome = await store.deleteComment(site.id, request.params.id, now());
      if (!outcome) throw new HttpError(404, 'comment_not_found', 'That comment does not exist.');
      return { id: request.params.id, outcome };
    },
  );
}
