import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Comment, CommentPage, NewCommentRequest } from '../../src/data/api-types.js';
import type { Limits } from '../config.js';
import { avatarSeed } from '../domain/avatar.js';
import { canonicalPostUrl, httpUrl } from '../domain/post-url.js';
import { errorSchema, HttpError } from '../http/errors.js';
import { Lru } from '../http/lru.js';
import { applyCors, type SiteDirectory } from '../http/sites.js';
import { InvalidCursorError, type Site, type Store, type StoredComment } from '../store/store.js';

export interface CommentRoutesOptions {
  store: Store;
  sites: SiteDirectory;
  limits: Limits;
  secret: string;
  now: () => Date;
}

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
    status: { type: 'string', enum: ['published', 'pending'] },
    author: {
      type: 'object',
      required: ['name', 'website', 'avatar'],
      properties: { name: { type: 'string' }, website: nullableString, avatar: { type: 'string' } },
    },
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

/** What browsers may see of a stored comment: never the email address. */
export function toWire(c: StoredComment): Comment {
  return {
    id: c.id,
    post: c.postUrl,
    parent: c.parentId,
    depth: c.depth,
    kind: c.kind,
    status: c.status,
    author: { name: c.authorName, website: c.authorWebsite, avatar: c.avatar },
    body: c.body,
    created: c.created.toISOString(),
    reblog: c.reblogUrl ? { blogName: c.reblogBlogName ?? '', url: c.reblogUrl } : null,
  };
}

/** Idempotency keys: the client's comment id (a UUID, or any 8–100 URL-safe characters). */
const idempotencyKeyPattern = /^[A-Za-z0-9_-]{8,100}$/;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export async function commentRoutes(app: FastifyInstance, opts: CommentRoutesOptions): Promise<void> {
  const { store, sites, limits, secret, now } = opts;
  /** Keys whose first request is still being stored on this instance. */
  const inFlight = new Set<string>();
  /** Serialized pages by (site, post, page size, cursor), with the stamp they were made at. */
  const pages = new Lru<string, { total: number; version: number; etag: string; json: string }>(2_000);

  app.addSchema(commentSchema);

  async function resolvePost(rawUrl: string): Promise<{ site: Site; url: string }> {
    const url = canonicalPostUrl(rawUrl);
    if (!url) throw new HttpError(400, 'invalid_post_url', 'The post must be an http(s) URL.');
    const site = await sites.byOrigin(url.origin);
    if (!site) throw new HttpError(404, 'unknown_site', `No site is registered for ${url.origin}.`);
    return { site, url: url.href };
  }

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
            required: ['post', 'total', 'comments', 'older'],
            properties: {
              post: {
                type: 'object',
                required: ['url', 'title'],
                properties: { url: { type: 'string' }, title: nullableString },
              },
              total: { type: 'integer' },
              comments: { type: 'array', items: { $ref: 'Comment#' } },
              older: nullableString,
            },
          },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { site, url } = await resolvePost(request.query.post);
      applyCors(site, request, reply);
      const pageSize = request.query['page-size'] ?? limits.pageSizeDefault;
      const before = request.query.before || null;
      // Reads are served from serialized pages while the thread's stamp (published total and
      // highest seq, read from the database, so every instance agrees) has not moved.
      const key = `${site.id}\n${url}\n${pageSize}\n${before ?? ''}`;
      const stamp = await store.threadStamp(site.id, url);
      let page = pages.get(key);
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
        const body: CommentPage = {
          post: { url, title: threads.post?.title ?? null },
          total: threads.total,
          comments: threads.comments.map(toWire),
          older: threads.older,
        };
        const tag = createHash('sha1')
          .update(`${url}|${threads.version}|${threads.total}|${pageSize}|${before}`)
          .digest('base64url');
        page = { total: threads.total, version: threads.version, etag: `W/"${tag}"`, json: String(reply.serialize(body)) };
        pages.set(key, page);
      }
      reply.header('ETag', page.etag).header('Cache-Control', 'no-cache');
      if (request.headers['if-none-match'] === page.etag) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(page.json);
    },
  );

  app.post<{ Body: NewCommentRequest; Headers: { 'idempotency-key'?: string } }>(
    '/api/v1/comments',
    {
      config: { rateLimit: { max: limits.writesPerMinute, timeWindow: 60_000 } },
      schema: {
        summary: 'Post a comment or a reply',
        description:
          'The `Idempotency-Key` header is the client-made comment id. The same key with the same ' +
          'body returns the first result; with a different body, 422; while the first request is ' +
          'still being stored, 409 with Retry-After.',
        tags: ['comments'],
        headers: {
          type: 'object',
          properties: { 'idempotency-key': { type: 'string' } },
        },
        body: {
          type: 'object',
          required: ['post', 'author', 'body'],
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
      const { site, url } = await resolvePost(input.post);
      applyCors(site, request, reply);

      const name = input.author.name.trim();
      if (!name) throw new HttpError(400, 'name_empty', 'Please give your name.');
      if (!input.body.trim()) throw new HttpError(400, 'body_empty', 'The comment is empty.');
      const email = input.author.email.trim();
      if (!emailPattern.test(email)) {
        throw new HttpError(400, 'email_invalid', 'That email address does not look right.');
      }
      let website: string | null = null;
      if (input.author.website?.trim()) {
        website = httpUrl(input.author.website.trim());
        if (!website) {
          throw new HttpError(400, 'website_invalid', 'The website must be an http:// or https:// address.');
        }
      }
      const parent = input.parent ?? null;
      const requestHash = createHash('sha256')
        .update(JSON.stringify([url, parent, name, email.toLowerCase(), website, input.body]))
        .digest('hex');

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
            status: 'published',
            authorName: name,
            authorEmail: email,
            authorWebsite: website,
            avatar: avatarSeed(secret, site.id, email, name),
            body: input.body,
            reblogBlogName: null,
            reblogUrl: null,
            created: now(),
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
        return reply.code(201).send(toWire(result.comment));
      } finally {
        inFlight.delete(slot);
      }
    },
  );
}
