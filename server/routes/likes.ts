/**
 * Likes: "N bloggers like this" for a post or one of its comments. Signed-in readers like and
 * unlike (counted once per user); anyone can read the count and the most recent likers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Sessions } from '../auth/sessions.js';
import type { Limits } from '../config.js';
import { errorSchema, HttpError } from '../http/errors.js';
import { applyCors, type SiteDirectory } from '../http/sites.js';
import type { LikeSummary, Site, Store } from '../store/store.js';
import { userAvatar } from './auth.js';
import { pictureUrl } from './pictures.js';

/** Likers shown with the count ("+ N more" for the rest). */
const LIKERS_SHOWN = 20;
/** Liked comments listed for one post at most (the most liked first). */
const COMMENTS_LISTED = 5000;

const summarySchema = {
  type: 'object',
  required: ['count', 'likers', 'liked'],
  properties: {
    count: { type: 'integer' },
    liked: { type: 'boolean' },
    likers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'avatar', 'picture', 'website'],
        properties: {
          name: { type: 'string' },
          avatar: { type: 'string' },
          picture: { type: ['string', 'null'] },
          website: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

export interface LikeRoutesOptions {
  store: Store;
  sites: SiteDirectory;
  sessions: Sessions;
  limits: Limits;
  secret: string;
  now: () => Date;
}

export async function likeRoutes(app: FastifyInstance, opts: LikeRoutesOptions): Promise<void> {
  const { store, sites, sessions, limits, secret, now } = opts;

  async function resolve(rawPost: string, request: FastifyRequest, reply: FastifyReply): Promise<{ site: Site; post: string }> {
    const { site, url } = await sites.resolvePost(rawPost);
    applyCors(site, request, reply);
    return { site, post: url };
  }

  /** Likers' provider pictures leave as paths on this server (`pictureUrl`). */
  const wire = <T extends LikeSummary>(s: T): T => ({ ...s, likers: s.likers.map((l) => ({ ...l, picture: pictureUrl(secret, l.picture) })) });

  async function signedIn(request: FastifyRequest, reply: FastifyReply) {
    const state = await sessions.current(request, reply);
    return state.kind === 'user' ? state.user : null;
  }

  /** Who asks, for a read: an expired session reads as a guest rather than failing. */
  async function readerKey(request: FastifyRequest): Promise<string | null> {
    const state = await sessions.read(request);
    return state.kind === 'user' ? `user:${state.user.id}` : null;
  }

  app.get<{ Querystring: { post: string; comment?: string } }>(
    '/api/v1/likes',
    {
      schema: {
        summary: 'Who likes a post (or one of its comments), and how many like each of its comments',
        description:
          'For the post (no `comment`), `comments` lists the like count of every liked comment of the post ' +
          `(the ${COMMENTS_LISTED} most liked), so one request serves the whole thread. ` +
          '`liked` says whether the signed-in reader (call with credentials) likes it.',
        tags: ['likes'],
        querystring: {
          type: 'object',
          required: ['post'],
          properties: { post: { type: 'string', maxLength: limits.postUrlMaxChars }, comment: { type: 'string', maxLength: 100 } },
        },
        response: {
          200: {
            ...summarySchema,
            properties: {
              ...summarySchema.properties,
              comments: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'count', 'liked'],
                  properties: { id: { type: 'string' }, count: { type: 'integer' }, liked: { type: 'boolean' } },
                },
              },
            },
          },
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { site, post } = await resolve(request.query.post, request, reply);
      const reader = await readerKey(request);
      const comment = request.query.comment ?? null;
      reply.header('Cache-Control', 'no-cache');
      if (comment) return wire(await store.likes(site.id, post, comment, reader, LIKERS_SHOWN));
      const [summary, counts] = await Promise.all([
        store.likes(site.id, post, null, reader, LIKERS_SHOWN),
        store.commentLikes(site.id, post, reader, COMMENTS_LISTED),
      ]);
      return { ...wire(summary), comments: counts.map(({ commentId: id, count, liked }) => ({ id, count, liked })) };
    },
  );

  app.post<{ Body: { post: string; comment?: string | null; liked: boolean } }>(
    '/api/v1/likes',
    {
      config: { rateLimit: { max: limits.writesPerMinute, timeWindow: 60_000 } },
      schema: {
        summary: 'Like or unlike a post or a comment (signed in; counted once per user)',
        tags: ['likes'],
        body: {
          type: 'object',
          required: ['post', 'liked'],
          additionalProperties: false,
          properties: {
            post: { type: 'string', maxLength: limits.postUrlMaxChars },
            comment: { type: ['string', 'null'], maxLength: 100 },
            liked: { type: 'boolean' },
          },
        },
        response: { 200: summarySchema, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { site, post } = await resolve(request.body.post, request, reply);
      const user = await signedIn(request, reply);
      if (!user) throw new HttpError(401, 'sign_in_required', 'Sign in to like this.');
      const commentId = request.body.comment ?? null;
      if (commentId) {
        const comment = await store.getComment(site.id, commentId);
        if (!comment || comment.postUrl !== post) throw new HttpError(404, 'comment_not_found', 'That comment is not on this post.');
      }
      return wire(await store.setLike(
        {
          siteId: site.id,
          postUrl: post,
          commentId,
          likerKey: `user:${user.id}`,
          name: user.name,
          avatar: userAvatar(secret, site.id, user),
          picture: user.picture,
          website: user.website,
          created: now(),
        },
        request.body.liked,
        LIKERS_SHOWN,
      ));
    },
  );
}
