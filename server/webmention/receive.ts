/**
 * Receiving Webmentions (W3C): `POST /webmention` with form-encoded `source` and `target`.
 * The request is answered at once (202); the source is then fetched through the guarded
 * outbound fetch and read for microformats: a repost of the target becomes a "reblog"
 * response, a reply a comment. A source that does not link to the target, cannot be
 * reached, is too large or resolves to a private address is dropped; nothing is shown. Sent
 * again (Webmention's update and delete), a source that now answers 410 Gone or no longer links
 * to the target takes back what it made: its response or its like.
 */
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Limits } from '../config.js';
import { avatarSeed } from '../domain/avatar.js';
import { canonicalPostUrl, httpUrl } from '../domain/post-url.js';
import { findTextProblem } from '../domain/text.js';
import { HttpError } from '../http/errors.js';
import type { GuardedFetch } from '../http/guarded-fetch.js';
import type { SiteDirectory } from '../http/sites.js';
import type { Site, Store } from '../store/store.js';
import { readMention } from './verify.js';

export interface WebmentionOptions {
  store: Store;
  limits: Limits;
  secret: string;
  fetch: GuardedFetch;
  now: () => Date;
}

/** Most Webmentions waiting for verification on one instance (503 above). */
const QUEUE_MAX = 1_000;
/** Verifications run at once. */
const CONCURRENCY = 2;

interface Job {
  site: Site;
  source: string;
  target: string;
}

/** Verifies queued Webmentions in the background, a few at a time. */
export class WebmentionReceiver {
  readonly #queue: Job[] = [];
  #running = 0;
  readonly #idle = new Set<() => void>();

  constructor(
    private readonly opts: WebmentionOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** False when the queue is full. */
  enqueue(job: Job): boolean {
    if (this.#queue.length >= QUEUE_MAX) return false;
    this.#queue.push(job);
    this.#pump();
    return true;
  }

  /** Resolves once every queued Webmention has been verified. */
  settled(): Promise<void> {
    return this.#running || this.#queue.length ? new Promise((done) => this.#idle.add(done)) : Promise.resolve();
  }

  /** Drops what has not started (on shutdown). */
  stop(): void {
    this.#queue.length = 0;
  }

  #pump(): void {
    while (this.#running < CONCURRENCY && this.#queue.length) {
      const job = this.#queue.shift()!;
      this.#running += 1;
      void this.#verify(job)
        .catch((error: unknown) => this.log.error(error))
        .finally(() => {
          this.#running -= 1;
          this.#pump();
          if (!this.#running && !this.#queue.length) {
            for (const done of this.#idle) done();
            this.#idle.clear();
          }
        });
    }
  }

  /** Removes what an earlier Webmention from `source` made on `target`: its response, or its like. */
  async #forget(site: Site, source: string, target: string, responseId: string): Promise<void> {
    const { store, now } = this.opts;
    await store.deleteComment(site.id, responseId, now());
    const likerKey = `wm:${source}`;
    const liked = await store.likes(site.id, target, null, likerKey, 0);
    if (liked.liked) {
      await store.setLike(
        { siteId: site.id, postUrl: target, commentId: null, likerKey, name: '', avatar: '', picture: null, website: null, created: now() },
        false,
        0,
      );
    }
  }

  async #verify({ site, source, target }: Job): Promise<void> {
    const { store, limits, secret, now } = this.opts;
    const log = this.log;
    let html: string;
    const responseId = `wm-${createHash('sha256').update(`${source}\n${target}`).digest('base64url').slice(0, 32)}`;
    try {
      const res = await this.opts.fetch(source, { headers: { accept: 'text/html' } });
      // 410 Gone: the source was deleted (an undone reblog, say); so is what it made here.
      if (res.status === 410) {
        await this.#forget(site, source, target, responseId);
        return log.info({ source }, 'webmention source gone; its response removed');
      }
      if (!res.ok) return log.info({ source, status: res.status }, 'webmention source not available');
      html = await res.text();
    } catch (error) {
      return log.info({ source, error: (error as Error).message }, 'webmention source refused or unreachable');
    }
    const mention = readMention(html, source, target);
    if (mention.kind === 'none') {
      // Sent again after an edit that took the link out (Webmention's update): what it made goes.
      await this.#forget(site, source, target, responseId);
      return log.info({ source, target }, 'webmention source does not mention the target');
    }
    const authorAvatar = avatarSeed(secret, site.id, null, `${mention.authorName}\n${new URL(source).origin}`);
    if (mention.kind === 'like') {
      await store.setLike(
        {
          siteId: site.id,
          postUrl: target,
          commentId: null,
          likerKey: `wm:${source}`,
          name: [...mention.authorName].slice(0, limits.nameMaxChars).join(''),
          avatar: authorAvatar,
          picture: null,
          website: mention.authorUrl ? httpUrl(mention.authorUrl) : null,
          created: now(),
        },
        true,
        1,
      );
      return;
    }
    const body = [...mention.content].slice(0, limits.bodyMaxChars).join('');
    const authorName = [...mention.authorName].slice(0, limits.nameMaxChars).join('');
    if (findTextProblem([body, authorName, mention.blogName])) return;
    const reblog = mention.kind === 'repost';
    const result = await store.createComment(
      {
        siteId: site.id,
        postUrl: target,
        postTitle: null,
        // One response per (source, target): a repeated Webmention finds it already there.
        id: responseId,
        requestHash: createHash('sha256').update(JSON.stringify(mention)).digest('hex'),
        parentId: null,
        kind: reblog ? 'reblog' : 'comment',
        status: 'published',
        authorName,
        authorEmail: null,
        authorWebsite: mention.authorUrl ? httpUrl(mention.authorUrl) : null,
        avatar: authorAvatar,
        body: reblog ? body : body || '(no text)',
        reblogBlogName: reblog ? mention.blogName : null,
        reblogUrl: reblog ? (httpUrl(mention.url) ?? source) : null,
        created: now(),
      },
      limits.maxDepth,
    );
    if (!result.ok) log.info({ source, reason: result.reason }, 'webmention not stored');
  }
}

export async function webmentionRoutes(
  app: FastifyInstance,
  opts: { receiver: WebmentionReceiver; sites: SiteDirectory; limits: Limits },
): Promise<void> {
  const { receiver, sites, limits } = opts;

  // The protocol says form-encoded, and nothing else; only this plugin accepts it.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8 * 1024 }, (_r, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post<{ Body: { source?: string; target?: string } }>(
    '/webmention',
    {
      config: { rateLimit: { max: limits.writesPerMinute, timeWindow: 60_000 } },
      schema: {
        summary: 'Receive a Webmention (W3C)',
        description: 'Form-encoded `source` and `target`; answered 202, verified asynchronously.',
        tags: ['webmention'],
        body: {
          type: 'object',
          required: ['source', 'target'],
          properties: { source: { type: 'string', maxLength: 2000 }, target: { type: 'string', maxLength: 2000 } },
        },
      },
    },
    async (request, reply) => {
      if (!request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
        throw new HttpError(415, 'unsupported_media_type', 'Send source and target form-encoded, as Webmention says.');
      }
      const source = httpUrl(request.body.source ?? '');
      const target = canonicalPostUrl(request.body.target ?? '');
      if (!source) throw new HttpError(400, 'invalid_source', 'source must be an http(s) URL.');
      if (!target) throw new HttpError(400, 'invalid_target', 'target must be an http(s) URL.');
      if (new URL(source).origin === target.origin) {
        throw new HttpError(400, 'same_site', 'source and target are on the same site.');
      }
      const site = await sites.byOrigin(target.origin);
      if (!site) throw new HttpError(400, 'unknown_target', `This server does not accept Webmentions for ${target.origin}.`);
      if (!receiver.enqueue({ site, source, target: target.href })) {
        throw new HttpError(503, 'busy', 'Too many Webmentions waiting; try again later.', { 'Retry-After': '60' });
      }
      return reply.code(202).send({ status: 'accepted' });
    },
  );
}
