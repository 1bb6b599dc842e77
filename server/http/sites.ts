import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Site, Store } from '../store/store.js';
import { canonicalPostUrl } from '../domain/post-url.js';
import { HttpError } from './errors.js';

/** In `allowedOrigins`, the origin the server itself is reached at (used by the demo site). */
export const SELF_ORIGIN = 'self';

/**
 * Finds a post's site and enforces the site's origin allowlist (CORS). Sites live in the
 * database so every instance agrees; lookups are cached briefly so a hot read path does not
 * query them on every request.
 */
export class SiteDirectory {
  #byOrigin = new Map<string, { site: Site | null; until: number }>();
  #allOrigins: { origins: Set<string>; until: number } | null = null;

  constructor(
    private readonly store: Store,
    private readonly ttlMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  async byOrigin(origin: string): Promise<Site | null> {
    const cached = this.#byOrigin.get(origin);
    if (cached && cached.until > this.now()) return cached.site;
    const site = await this.store.getSiteByOrigin(origin);
    if (this.#byOrigin.size > 10_000) this.#byOrigin.clear();
    this.#byOrigin.set(origin, { site, until: this.now() + this.ttlMs });
    return site;
  }

  /**
   * A post's canonical URL and its site, or the 4xx that says why not: 400 `invalid_post_url`
   * for anything but an http(s) URL, 404 `unknown_site` when no site has its origin.
   */
  async resolvePost(rawUrl: string): Promise<{ site: Site; url: string }> {
    const url = canonicalPostUrl(rawUrl);
    if (!url) throw new HttpError(400, 'invalid_post_url', 'The post must be an http(s) URL.');
    const site = await this.byOrigin(url.origin);
    if (!site) throw new HttpError(404, 'unknown_site', `No site is registered for ${url.origin}.`);
    return { site, url: url.href };
  }

  /** Forget cached lookups (after a site is added or changed on this instance). */
  invalidate(): void {
    this.#byOrigin.clear();
    this.#allOrigins = null;
  }

  /** Whether any site allows this origin: enough to answer a preflight, which names no site. */
  async anySiteAllows(origin: string, request: FastifyRequest): Promise<boolean> {
    if (!this.#allOrigins || this.#allOrigins.until <= this.now()) {
      const origins = new Set<string>();
      for (const site of await this.store.listSites()) for (const o of site.allowedOrigins) origins.add(o);
      this.#allOrigins = { origins, until: this.now() + this.ttlMs };
    }
    const { origins } = this.#allOrigins;
    return origins.has(origin) || (origins.has(SELF_ORIGIN) && origin === ownOrigin(request));
  }
}

/** The origin this request reached the server at, as a browser would write it. */
export function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export function siteAllows(site: Site, origin: string, request: FastifyRequest): boolean {
  if (site.allowedOrigins.includes(origin)) return true;
  return site.allowedOrigins.includes(SELF_ORIGIN) && origin === ownOrigin(request);
}

/**
 * Checks the request's `Origin` against the site's allowlist and sets the CORS headers.
 * Requests without `Origin` (not from a browser page) are let through: CORS protects readers'
 * browsers, it is not authentication.
 */
export function applyCors(site: Site, request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (!siteAllows(site, origin, request)) {
    throw new HttpError(403, 'origin_not_allowed', `Pages on ${origin} may not use this site's comments.`);
  }
  reply.header('Access-Control-Allow-Origin', origin);
  reply.header('Access-Control-Expose-Headers', 'ETag, Retry-After, Idempotent-Replayed');
}
