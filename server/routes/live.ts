/**
 * Live updates: `GET /api/v1/events?site=<blog origin>` is a Server-Sent Events stream of the
 * site's published comments as they are posted (`event: comment`, `data: <Comment>`), edited
 * (`event: edit`, `data: <Comment>` as it now is) and deleted (`event: delete`, `data: {id,
 * post, outcome}`, with `comment` when it was `emptied` rather than `removed`), each with
 * `id: <seq>`, and its likes as they change (`event: likes`, `data: {post, comment, count,
 * likers?}`: `comment` null for the post itself, whose newest likers come too). One stream
 * serves every thread of that site on a page. Event ids come from the
 * database, so a client that reconnects — to this instance or another one sharing the
 * database — with `Last-Event-ID` gets what it missed, in order.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Limits } from '../config.js';
import { HttpError } from '../http/errors.js';
import { applyCors, type SiteDirectory } from '../http/sites.js';
import type { CommentEvent, Store, StoredComment } from '../store/store.js';
import { toWire } from './comments.js';
import { pictureUrl } from './pictures.js';

/** Likers sent with a post's live like count (as the likes API shows). */
const LIKERS_SHOWN = 20;

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
  /** Live frames held back while its replay is read, so that none overtakes the replay. */
  held?: [seq: number, text: string][];
  /** The seqs its replay sent, not to be sent again when their announcement arrives late. */
  replayed?: Set<number>;
}

/**
 * Per store, the highest event id each site has announced since this instance started (its own
 * writes and, through the store, other instances'). A page read after it is current up to it.
 */
const heads = new WeakMap<Store, Map<string, number>>();

/**
 * Where a stream can resume from for a page read after this call: the site's latest event (from
 * the database the first time, then as announced), or 0 without live routes. A page's own post
 * version is a resume point too, but for an old post on a busy site the whole site since would
 * be replayed (or, past REPLAY_MAX, every thread told to reload): the list gives the later.
 */
export async function eventsHead(store: Store, siteId: string): Promise<number> {
  const head = heads.get(store);
  if (!head) return 0;
  let seq = head.get(siteId);
  if (seq === undefined) {
    seq = await store.eventsHead(siteId);
    // Announcements that arrived meanwhile may be later.
    if (seq > (head.get(siteId) ?? 0)) head.set(siteId, seq);
  }
  return seq;
}

function frame(event: string, id: number | null, data: unknown): string {
  return `${id === null ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function liveRoutes(app: FastifyInstance, opts: LiveRoutesOptions): Promise<void> {
  const { store, sites, limits, now, secret } = opts;
  const streams = new Set<Stream>();

  /** An event's frame, with the comment as it is now; null when it is not for the public. */
  const message = async (event: CommentEvent, known?: StoredComment): Promise<string | null> => {
    const { change, seq } = event;
    if (change === 'liked') {
      // The count as it is now (a later like's frame says the same or newer); anonymous, so no `liked`.
      const post = event.postUrl!;
      const comment = event.commentId || null;
      const likes = await store.likes(event.siteId, post, comment, null, comment ? 0 : LIKERS_SHOWN);
      const likers = comment ? {} : { likers: likes.likers.map((l) => ({ ...l, picture: pictureUrl(secret, l.picture) })) };
      return frame('likes', seq, { post, comment, count: likes.count, ...likers });
    }
    if (change === 'removed') return frame('delete', seq, { id: event.commentId, post: event.postUrl, outcome: change });
    const comment = known ?? (await store.getComment(event.siteId, event.commentId).catch(() => null));
    if (!comment || comment.status !== 'published') return null;
    if (change === 'emptied') return frame('delete', seq, { id: comment.id, post: comment.postUrl, outcome: change, comment: toWire(comment, secret) });
    return frame(change === 'edited' ? 'edit' : 'comment', seq, toWire(comment, secret));
  };
  const send = (stream: Stream, seq: number, text: string) => {
    if (stream.held) stream.held.push([seq, text]);
    else if (!stream.replayed?.has(seq) && !stream.reply.raw.destroyed) stream.reply.raw.write(text);
  };

  // One store subscription for the whole instance: each event is read and serialized once,
  // then written to every stream of its site. Reads run at once, writes in the events' order,
  // so the last frame about a comment always carries its latest state.
  let order: Promise<unknown> = Promise.resolve();
  const head = new Map<string, number>();
  heads.set(store, head);
  const onComment = (event: CommentEvent) => {
    if (event.seq > (head.get(event.siteId) ?? 0)) head.set(event.siteId, event.seq);
    if (![...streams].some((stream) => stream.siteId === event.siteId)) return;
    const reading = message(event).catch(() => null);
    order = order
      .then(() => reading)
      .then((text) => {
        if (text) for (const stream of streams) if (stream.siteId === event.siteId) send(stream, event.seq, text);
      });
  };
  const unsubscribe = store.onComment(onComment);

  const heartbeat = setInterval(() => {
    for (const stream of streams) stream.reply.raw.write(': keep-alive\n\n');
  }, opts.heartbeatMs ?? 25_000);
  heartbeat.unref();

  // Streams never go idle by themselves: end them so that shutdown is not held up.
  app.addHook('preClose', async () => {
    unsubscribe();
    heads.delete(store);
    clearInterval(heartbeat);
    for (const stream of streams) stream.reply.raw.end();
    streams.clear();
  });

  app.get<{ Querystring: { site: string; 'last-event-id'?: string }; Headers: { 'last-event-id'?: string } }>(
    '/api/v1/events',
    {
      schema: {
        summary: "A site's comments as they are posted, edited and deleted, live (Server-Sent Events)",
        description:
          'Each with `id: <seq>`: `event: comment` (a new Comment as data), `event: edit` (the Comment as ' +
          'edited), `event: delete` (`{id, post, outcome: "removed" | "emptied", comment?}`: an emptied ' +
          'comment is kept as "This comment was deleted." for its replies); `event: likes` (`{post, comment, ' +
          'count, likers?}`: a like count changed; `comment` null for the post, with its newest likers); ' +
          '`event: reload` when too much ' +
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

      // 0 too: a page of a site without events yet.
      if (!Number.isSafeInteger(lastId) || lastId < 0) return;
      stream.held = [];
      let replay: [number, string | null][] = [];
      try {
        const since = now().getTime() - REPLAY_SLACK_MS;
        const from = Math.max(0, lastId - REPLAY_SLACK_SEQ);
        const room = REPLAY_SLACK_SEQ + REPLAY_MAX + 1;
        const [added, changes, likes] = await Promise.all([
          store.exportComments(site.id, from, room),
          store.commentChanges(site.id, from, room),
          store.likeChanges(site.id, from, room),
        ]);
        const missed = [
          ...added.map((c) => ({ siteId: site.id, commentId: c.id, seq: c.seq, created: c.created, known: c })),
          ...changes,
          ...likes.map((l) => ({ ...l, change: 'liked' as const })),
        ]
          .filter((e) => e.seq > lastId || e.created.getTime() > since)
          .sort((a, b) => a.seq - b.seq);
        // A like frame carries the count as it is now: only the last one per post or comment is needed.
        const lastLike = new Map<string, number>();
        for (const e of missed) if ('change' in e && e.change === 'liked') lastLike.set(`${e.postUrl}\n${e.commentId}`, e.seq);
        const wanted = missed.filter((e) => !('change' in e && e.change === 'liked') || lastLike.get(`${e.postUrl}\n${e.commentId}`) === e.seq);
        replay =
          added.length + changes.length + likes.length >= room
            ? [[0, frame('reload', null, {})]]
            : await Promise.all(wanted.map(async (e) => [e.seq, await message(e, 'known' in e ? e.known : undefined)] as const));
      } finally {
        const live = stream.held;
        delete stream.held;
        for (const [seq, text] of replay) if (text) send(stream, seq, text);
        stream.replayed = new Set(replay.map(([seq]) => seq));
        for (const [seq, text] of live) send(stream, seq, text);
      }
    },
  );
}
