/**
 * Live updates: `GET /api/v1/events?site=<blog origin>` is a Server-Sent Events stream of the
 * site's new published comments (`event: comment`, `id: <seq>`, `data: <Comment>`). One stream
 * serves every thread of that site on a page. Event ids come from the database, so a client
 * that reconnects — to this instance or another one sharing the database — with
 * `Last-Event-ID` gets what it missed.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Limits } from '../config.js';
import { HttpError } from '../http/errors.js';
import { applyCors, type SiteDirectory } from '../http/sites.js';
import type { CommentEvent, Store } from '../store/store.js';
import { toWire } from './comments.js';

export interface LiveRoutesOptions {
  store: Store;
  sites: SiteDirectory;
  limits: Limits;
  now: () => Date;
  /** For the authors' per-site pseudonyms on wire comments. */
  secret: string;
  /** Keep-alive comment interval (tests shorten it). */
  heartbeatMs?: number;
}

/**
 * On reconnect, comments are replayed from a little before `Last-Event-ID`: with PostgreSQL,
 * writers to different posts may commit out of seq order, so a comment with a lower seq can
 * appear after a higher one was sent. Clients drop the ones they already have by id.
 */
const REPLAY_SLACK_SEQ = 1_000;
const REPLAY_SLACK_MS = 60_000;
/** More missed comments than this and the client is told to reload instead. */
const REPLAY_MAX = 500;

interface Stream {
  siteId: string;
  reply: FastifyReply;
}

function frame(event: string, id: number | null, data: unknown): string {
  return `${id === null ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function liveRoutes(app: FastifyInstance, opts: LiveRoutesOptions): Promise<void> {
  const { store, sites, limits, now, secret } = opts;
  const streams = new Set<Stream>();

  // One store subscription for the whole instance: each new comment is read and serialized
  // once, then written to every stream of its site.
  const onComment = async (event: CommentEvent) => {
    let listeners = 0;
    for (const stream of streams) if (stream.siteId === event.siteId) listeners += 1;
    if (listeners === 0) return;
    const comment = await store.getComment(event.siteId, event.commentId).catch(() => null);
    if (!comment || comment.status !== 'published') return;
    const message = frame('comment', event.seq, toWire(comment, secret));
    for (const stream of streams) if (stream.siteId === event.siteId) stream.reply.raw.write(message);
  };
  const unsubscribe = store.onComment((event) => void onComment(event));

  const heartbeat = setInterval(() => {
    for (const stream of streams) stream.reply.raw.write(': keep-alive\n\n');
  }, opts.heartbeatMs ?? 25_000);
  heartbeat.unref();

  // Streams never go idle by themselves: end them so that shutdown is not held up.
  app.addHook('preClose', async () => {
    unsubscribe();
    clearInterval(heartbeat);
    for (const stream of streams) stream.reply.raw.end();
    streams.clear();
  });

  app.get<{ Querystring: { site: string; 'last-event-id'?: string }; Headers: { 'last-event-id'?: string } }>(
    '/api/v1/events',
    {
      schema: {
        summary: "A site's new comments, live (Server-Sent Events)",
        description:
          '`event: comment` with `id: <seq>` and a Comment as data; `event: reload` when too much ' +
          'was missed to replay. Send `Last-Event-ID` (header, or `last-event-id` in the query) to resume.',
        tags: ['comments'],
        querystring: {
          type: 'object',
          required: ['site'],
          properties: {
            site: { type: 'string', minLength: 1, maxLength: 300 },
            // A new EventSource cannot set the header (after a pause in a hidden tab, say).
            'last-event-id': { type: 'string', maxLength: 20 },
          },
        },
        headers: { type: 'object', properties: { 'last-event-id': { type: 'string', maxLength: 20 } } },
      },
    },
    async (request, reply) => {
      let origin: string;
      try {
        origin = new URL(request.query.site).origin;
      } catch {
        throw new HttpError(400, 'invalid_site', 'site must be the blog’s origin, e.g. https://blog.example.org.');
      }
      const site = await sites.byOrigin(origin);
      if (!site) throw new HttpError(404, 'unknown_site', `No site is registered for ${origin}.`);
      applyCors(site, request, reply);
      if (streams.size >= limits.liveStreamsMax) {
        throw new HttpError(503, 'too_many_streams', 'Live updates are busy; try again shortly.', { 'Retry-After': '30' });
      }
      const lastId = Number(request.headers['last-event-id'] ?? request.query['last-event-id']);

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        'X-Accel-Buffering': 'no',
        Connection: 'keep-alive',
      });
      raw.write('retry: 3000\n\n');
      const stream: Stream = { siteId: site.id, reply };
      streams.add(stream);
      raw.on('close', () => streams.delete(stream));

      if (Number.isSafeInteger(lastId) && lastId > 0) {
        const since = now().getTime() - REPLAY_SLACK_MS;
        const recent = await store.exportComments(site.id, Math.max(0, lastId - REPLAY_SLACK_SEQ), REPLAY_SLACK_SEQ + REPLAY_MAX + 1);
        const missed = recent.filter(
          (c) => c.status === 'published' && (c.seq > lastId || c.created.getTime() > since),
        );
        if (recent.length > REPLAY_SLACK_SEQ + REPLAY_MAX) raw.write(frame('reload', null, {}));
        else for (const c of missed) raw.write(frame('comment', c.seq, toWire(c, secret)));
      }
    },
  );
}
