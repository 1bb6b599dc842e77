/**
 * Provider pictures through the comment server, so a reader's browser only ever talks to the
 * comment server (no third-party request, no referrer or IP address handed to the provider).
 *
 * Browsers get `pictureUrl(secret, url)`: `/api/v1/pictures/<sig>?u=<url>`, where `sig` is an
 * HMAC of the URL under the server's secret, so only URLs the server itself handed out are
 * fetched — it is not an open proxy. The picture is fetched through the guarded outbound fetch
 * (public addresses only, https only unless a test configuration says otherwise), at most
 * 256 KiB in 5 s, and served only if it is a PNG, JPEG, GIF or WebP (never SVG, which can carry
 * script) whose first bytes agree. Anything wrong is a plain 404, whatever the reason.
 * Recently fetched pictures are kept in memory, bounded by their total size.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { errorBody, errorSchema } from '../http/errors.js';
import { createGuardedFetch, type GuardedFetchOptions } from '../http/guarded-fetch.js';
import { Lru } from '../http/lru.js';

const PREFIX = '/api/v1/pictures/';
/** Largest picture fetched (bytes). */
export const PICTURE_MAX_BYTES = 256 * 1024;
/** How long browsers and this server's memory keep a picture (seconds). */
const MAX_AGE = 86_400;

/** The image types served, each with a test of its first bytes. */
const types: Record<string, (b: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/gif': (b) => /^GIF8[79]a$/.test(b.subarray(0, 6).toString('latin1')),
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
};

function sign(secret: string, url: string): Buffer {
  return createHmac('sha256', secret).update(`picture\n${url}`).digest();
}

/**
 * Where browsers load a provider picture from: a path on this server (the widget resolves it
 * against the server's URL). No picture, no path.
 */
export function pictureUrl(secret: string, url: string): string;
export function pictureUrl(secret: string, url: string | null): string | null;
export function pictureUrl(secret: string, url: string | null): string | null {
  return url ? `${PREFIX}${sign(secret, url).toString('base64url')}?u=${encodeURIComponent(url)}` : null;
}

interface Picture {
  type: string;
  bytes: Buffer;
  fetched: number;
}

export interface PictureRoutesOptions {
  secret: string;
  /** The guarded fetch's settings (tests allow loopback); size and time limits are this module's. */
  outbound: GuardedFetchOptions;
  now: () => Date;
  /** Picture requests per minute from one address (default 300). */
  perMinute?: number;
  /** Bytes of pictures kept in memory (default 16 MiB). */
  cacheBytes?: number;
}

export async function pictureRoutes(app: FastifyInstance, opts: PictureRoutesOptions): Promise<void> {
  const fetch = createGuardedFetch({ ...opts.outbound, maxBytes: PICTURE_MAX_BYTES, timeoutMs: 5_000 });
  const cache = new Lru<string, Picture>(opts.cacheBytes ?? 16 * 1024 * 1024, (p) => p.bytes.length + 200);
  /** Fetches in progress, so a picture many readers ask for at once is fetched once. */
  const pending = new Map<string, Promise<Picture | null>>();

  async function load(url: string): Promise<Picture | null> {
    try {
      const response = await fetch(url, { headers: { accept: Object.keys(types).join(', ') } });
      const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const bytes = Buffer.from(await response.arrayBuffer());
      if (response.status !== 200 || !types[type]?.(bytes)) return null;
      return { type, bytes, fetched: opts.now().getTime() };
    } catch {
      return null;
    }
  }

  function picture(url: string): Promise<Picture | null> {
    const kept = cache.get(url);
    if (kept && opts.now().getTime() - kept.fetched < MAX_AGE * 1000) return Promise.resolve(kept);
    let loading = pending.get(url);
    if (!loading) {
      loading = load(url).then((p) => {
        pending.delete(url);
        if (p) cache.set(url, p);
        return p;
      });
      pending.set(url, loading);
    }
    return loading;
  }

  app.get<{ Params: { sig: string }; Querystring: { u: string } }>(
    `${PREFIX}:sig`,
    {
      config: { rateLimit: { max: opts.perMinute ?? 300, timeWindow: 60_000 } },
      schema: {
        summary: 'A commenter’s provider picture, fetched by this server',
        description:
          'Paths to it come in `author.picture`, `user.picture` and likers’ `picture`. Only PNG, JPEG, GIF ' +
          'and WebP up to 256 KiB; anything else (a wrong signature, an unreachable or refused address, ' +
          'another type) is 404.',
        tags: ['pictures'],
        params: { type: 'object', required: ['sig'], properties: { sig: { type: 'string', maxLength: 64 } } },
        querystring: { type: 'object', required: ['u'], properties: { u: { type: 'string', maxLength: 4096 } } },
        response: { '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { u } = request.query;
      const given = Buffer.from(request.params.sig, 'base64url');
      const expected = sign(opts.secret, u);
      const found =
        given.length === expected.length && timingSafeEqual(given, expected) ? await picture(u) : null;
      if (!found) return reply.code(404).send(errorBody('not_found', 'No such picture.'));
      return reply
        .type(found.type)
        .headers({
          'x-content-type-options': 'nosniff',
          'cache-control': `public, max-age=${MAX_AGE}`,
          'cross-origin-resource-policy': 'cross-origin',
          'content-security-policy': "default-src 'none'; sandbox",
        })
        .send(found.bytes);
    },
  );
}
