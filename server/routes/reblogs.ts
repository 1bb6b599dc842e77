/**
 * Reblogs: a signed-in owner of a blog on this server quotes a post (title, excerpt, link and
 * their own commentary) on that blog. The original's thread gets a "reblog" response ("<Name>
 * Says: Reblogged this on <Blog>.") in the same transaction when the original is on this server;
 * otherwise a Webmention announces the reblog page to the original's site. The reblog page
 * (`/reblogs/<site>/<id>`) is plain HTML with microformats (h-entry, u-repost-of), so a
 * receiving server reads it without running scripts.
 *
 *   POST /api/v1/reblogs            {post, target, commentary?, pageTitle?, excerpt?}  (signed-in owner of target)
 *   POST /api/v1/reblogs/undo       {site, id}  removes the reblog and its response
 *   GET  /api/v1/reblogs?site=      a blog's reblogs, newest first (to embed)
 *   GET  /api/v1/reblogs/count?post=
 *   GET  /api/v1/reblogs/targets?post=  the signed-in user's blogs (with their reblog of the post, if any)
 *   GET  /reblogs/<site>/<id>       the reblog page
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Sessions } from '../auth/sessions.js';
import { randomToken } from '../auth/tokens.js';
import type { Limits } from '../config.js';
import { canonicalPostUrl, httpUrl } from '../domain/post-url.js';
import { Parser } from 'htmlparser2';
import { errorSchema, HttpError } from '../http/errors.js';
import type { GuardedFetch } from '../http/guarded-fetch.js';
import { applyCors, ownOrigin, type SiteDirectory } from '../http/sites.js';
import type { Reblog, Site, Store } from '../store/store.js';
import { userAvatar } from './auth.js';

/** Longest commentary and excerpt, in characters. */
export const COMMENTARY_MAX_CHARS = 5_000;
export const EXCERPT_MAX_CHARS = 1_000;
/** Most reblogs listed at once. */
const LIST_MAX = 100;

export interface ReblogRoutesOptions {
  store: Store;
  sites: SiteDirectory;
  sessions: Sessions;
  limits: Limits;
  secret: string;
  now: () => Date;
  /** This server's public base URL (reblog page links); default: the request's own origin. */
  publicUrl?: string;
  /** Announces a reblog of a post on another server (a Webmention from `source` to `target`). */
  announce?: (source: string, target: string) => void;
  /** The guarded outbound fetch, to look at a blog address that is not a blog on this server. */
  fetch?: GuardedFetch;
}

/**
 * The blogtalk server a blog's page uses, if any: a `<link rel="blogtalk" href="<server>">`, else
 * the widget's `<script src=".../blogtalk.js">` (its `data-server`, else the script's origin).
 * Null when the page names none or cannot be read (through the guarded fetch: public addresses,
 * time and size bounded).
 */
export async function discoverBlogtalkServer(fetch: GuardedFetch, address: string): Promise<string | null> {
  let html: string;
  let base: string;
  try {
    const res = await fetch(address, { headers: { accept: 'text/html' } });
    if (!res.ok || !/html/i.test(res.headers.get('content-type') ?? '')) return null;
    base = res.url || address;
    html = await res.text();
  } catch {
    return null;
  }
  let linked: string | null = null;
  let widget: string | null = null;
  const parser = new Parser({
    onopentag(name, attributes) {
      const at = (value: string | undefined) => {
        try {
          return value ? httpUrl(new URL(value, base).href) : null;
        } catch {
          return null;
        }
      };
      const rel = (attributes['rel'] ?? '').toLowerCase().split(/\s+/);
      if (name === 'link' && rel.includes('blogtalk')) linked ??= at(attributes['href']);
      const src = name === 'script' ? at(attributes['src']) : null;
      if (src && /\/blogtalk(\.esm)?\.js$/.test(new URL(src).pathname)) widget ??= at(attributes['data-server']) ?? src;
    },
  });
  parser.end(html);
  const found: string | null = linked ?? widget;
  return found && new URL(found).origin;
}

const siteSchema = {
  type: 'object',
  required: ['id', 'name', 'origin'],
  properties: { id: { type: 'string' }, name: { type: 'string' }, origin: { type: 'string' } },
} as const;

/** A blog to reblog on, and its reblog of the post when there is one already (to offer Undo). */
const targetSchema = {
  ...siteSchema,
  properties: {
    ...siteSchema.properties,
    reblog: { type: 'object', required: ['id', 'url'], properties: { id: { type: 'string' }, url: { type: 'string' } } },
  },
} as const;

const reblogSchema = {
  type: 'object',
  required: ['id', 'site', 'blogName', 'url', 'post', 'title', 'excerpt', 'commentary', 'author', 'created'],
  properties: {
    id: { type: 'string' },
    site: { type: 'string' },
    blogName: { type: 'string' },
    url: { type: 'string' },
    post: { type: 'string' },
    title: { type: ['string', 'null'] },
    excerpt: { type: ['string', 'null'] },
    commentary: { type: 'string' },
    author: {
      type: 'object',
      required: ['name', 'url'],
      properties: { name: { type: 'string' }, url: { type: ['string', 'null'] } },
    },
    created: { type: 'string', format: 'date-time' },
  },
} as const;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Trimmed, at most `max` code points; null when empty. */
function clip(text: string | undefined, max: number): string | null {
  const trimmed = text?.trim();
  return trimmed ? [...trimmed].slice(0, max).join('') : null;
}

/** The reblog page: plain HTML, no script, every value escaped, microformats for Webmention readers. */
export function reblogPage(reblog: Reblog, site: Site, url: string): string {
  const e = escapeHtml;
  const title = reblog.title ?? reblog.postUrl;
  const author = reblog.authorUrl
    ? `<a class="p-author h-card" href="${e(reblog.authorUrl)}">${e(reblog.authorName)}</a>`
    : `<span class="p-author h-card">${e(reblog.authorName)}</span>`;
  const paragraphs = reblog.commentary
    .split(/\n{2,}/)
    .filter((p) => p.trim())
    .map((p) => `<p>${e(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)} — ${e(site.name)}</title>
<link rel="canonical" href="${e(url)}">
</head>
<body>
<header class="h-card"><a class="p-name u-url" href="${e(site.origin)}">${e(site.name)}</a></header>
<main>
<article class="h-entry">
<h1 class="p-name">${e(title)}</h1>
<p>Reblogged by ${author} on <a class="u-url" href="${e(url)}"><time class="dt-published" datetime="${reblog.created.toISOString()}">${reblog.created.toISOString().slice(0, 10)}</time></a></p>
<div class="e-content">${paragraphs}</div>
<blockquote class="u-repost-of h-cite">
<p><a class="p-name u-url" href="${e(reblog.postUrl)}">${e(title)}</a></p>
${reblog.excerpt ? `<p class="p-summary">${e(reblog.excerpt)}</p>` : ''}
</blockquote>
</article>
</main>
</body>
</html>
`;
}

export async function reblogRoutes(app: FastifyInstance, opts: ReblogRoutesOptions): Promise<void> {
  const { store, sites, sessions, limits, secret, now } = opts;

  const pageUrl = (request: FastifyRequest, siteId: string, id: string) =>
    `${(opts.publicUrl ?? ownOrigin(request)).replace(/\/+$/, '')}/reblogs/${encodeURIComponent(siteId)}/${encodeURIComponent(id)}`;

  const wire = (request: FastifyRequest, r: Reblog, site: Site) => ({
    id: r.id,
    site: site.id,
    blogName: site.name,
    url: pageUrl(request, site.id, r.id),
    post: r.postUrl,
    title: r.title,
    excerpt: r.excerpt,
    commentary: r.commentary,
    author: { name: r.authorName, url: r.authorUrl },
    created: r.created.toISOString(),
  });

  /** The post's canonical URL and its site on this server (null when it lives elsewhere). */
  async function original(raw: string): Promise<{ url: string; site: Site | null }> {
    const url = canonicalPostUrl(raw);
    if (!url) throw new HttpError(400, 'invalid_post_url', 'The post must be an http(s) URL.');
    return { url: url.href, site: await sites.byOrigin(url.origin) };
  }

  /** CORS for a request about a post: its own site's allowlist, else the reblogging blog's. */
  function cors(site: Site | null, fallback: Site | null, request: FastifyRequest, reply: FastifyReply): void {
    const chosen = site ?? fallback;
    if (chosen) applyCors(chosen, request, reply);
    else if (request.headers.origin !== undefined && !reply.hasHeader('Access-Control-Allow-Origin')) {
      throw new HttpError(403, 'origin_not_allowed', `Pages on ${request.headers.origin} may not use this comment server.`);
    }
  }

  /**
   * Why a blog is not here, and what the reader can do instead: reblog on the blogtalk server
   * their blog uses (found on its page), or repost from their blog itself by Webmention.
   */
  async function notHere(request: FastifyRequest, named: string, address: string | null, post: string, origin: Site | null): Promise<HttpError> {
    const server = address && opts.fetch ? await discoverBlogtalkServer(opts.fetch, address) : null;
    const self = (opts.publicUrl ?? ownOrigin(request)).replace(/\/+$/, '');
    const endpoint = origin ? ` This post's site receives them at ${self}/webmention.` : '';
    const repost =
      `To repost from your own blog, publish a post there that links to ${post} with class="u-repost-of" (in an h-entry), ` +
      `and send a Webmention (your blog's Webmention plugin does it).${endpoint}`;
    if (server && server !== new URL(self).origin) {
      // Its own pages run the widget from its server, where the reader can reblog: `#blogtalk-reblog=` opens the dialog there.
      const there = new URL(address!);
      there.hash = `blogtalk-reblog=${encodeURIComponent(post)}`;
      return new HttpError(
        404,
        'blog_elsewhere',
        `${address} uses another blogtalk server (${server}), so it cannot be reblogged on from here. Reblog it from your blog: ` +
          `${there.href} opens the Reblog dialog there. Or: ${repost}`,
      );
    }
    return new HttpError(404, 'unknown_blog', `There is no blog at ${named} on this server. ${repost}`);
  }

  async function signedIn(request: FastifyRequest, reply: FastifyReply, action: string) {
    const state = await sessions.current(request, reply);
    if (state.kind !== 'user') throw new HttpError(401, 'sign_in_required', `Sign in to ${action}.`);
    return state.user;
  }

  app.post<{ Body: { post: string; target: string; commentary?: string; pageTitle?: string; excerpt?: string } }>(
    '/api/v1/reblogs',
    {
      config: { rateLimit: { max: limits.writesPerMinute, timeWindow: 60_000 } },
      schema: {
        summary: 'Reblog a post on a blog you own (signed in)',
        description: '`target` is the blog: its site id on this server, or its address.',
        tags: ['reblogs'],
        body: {
          type: 'object',
          required: ['post', 'target'],
          additionalProperties: false,
          properties: {
            post: { type: 'string', maxLength: limits.postUrlMaxChars },
            target: { type: 'string', minLength: 1, maxLength: limits.websiteMaxChars },
            commentary: { type: 'string', maxLength: COMMENTARY_MAX_CHARS },
            pageTitle: { type: 'string', maxLength: limits.titleMaxChars },
            excerpt: { type: 'string', maxLength: EXCERPT_MAX_CHARS },
          },
        },
        response: { 201: reblogSchema, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { url: post, site: origin } = await original(body.post);
      const address = httpUrl(body.target.trim());
      const target = address ? await sites.byOrigin(new URL(address).origin) : await store.getSite(body.target);
      cors(origin, target, request, reply);
      const user = await signedIn(request, reply, 'reblog');
      if (!target) throw await notHere(request, body.target, address, post, origin);
      if (!(await store.isSiteOwner(target.id, user.id))) {
        throw new HttpError(403, 'not_owner', `You can only reblog to a blog you own, and you do not own ${target.name}.`);
      }
      if (origin?.id === target.id) throw new HttpError(400, 'same_blog', `This post is already on ${target.name}.`);

      const stored = origin ? await store.getPost(origin.id, post) : null;
      const reblog: Reblog = {
        id: randomToken(12),
        siteId: target.id,
        postUrl: post,
        title: stored?.title ?? clip(body.pageTitle, limits.titleMaxChars),
        excerpt: clip(body.excerpt, EXCERPT_MAX_CHARS),
        commentary: clip(body.commentary, COMMENTARY_MAX_CHARS) ?? '',
        userId: user.id,
        authorName: user.name,
        authorUrl: user.website ? httpUrl(user.website) : null,
        created: now(),
        responseSiteId: null,
        responseId: null,
      };
      const url = pageUrl(request, target.id, reblog.id);
      const result = await store.createReblog(
        reblog,
        origin && {
          siteId: origin.id,
          postUrl: post,
          postTitle: reblog.title,
          id: `rb-${reblog.id}`,
          requestHash: createHash('sha256').update(url).digest('hex'),
          parentId: null,
          kind: 'reblog',
          status: 'published',
          authorName: user.name,
          authorEmail: null,
          authorWebsite: reblog.authorUrl,
          avatar: userAvatar(secret, origin.id, user),
          body: reblog.commentary,
          reblogBlogName: target.name,
          reblogUrl: url,
          created: reblog.created,
          userId: user.id,
          authorPicture: user.picture,
        },
      );
      if (!result.ok) throw new HttpError(409, 'already_reblogged', `You already reblogged this post on ${target.name}.`);
      if (!origin) opts.announce?.(url, post);
      return reply.code(201).send(wire(request, result.reblog, target));
    },
  );

  app.post<{ Body: { site: string; id: string } }>(
    '/api/v1/reblogs/undo',
    {
      config: { rateLimit: { max: limits.writesPerMinute, timeWindow: 60_000 } },
      schema: {
        summary: 'Undo a reblog: removes it and its response on the original (signed-in owner of its blog)',
        tags: ['reblogs'],
        body: {
          type: 'object',
          required: ['site', 'id'],
          additionalProperties: false,
          properties: { site: { type: 'string', maxLength: 100 }, id: { type: 'string', maxLength: 100 } },
        },
        response: { 200: { type: 'object', properties: { removed: { type: 'boolean' } } }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { site: siteId, id } = request.body;
      const site = await store.getSite(siteId);
      const reblog = site && (await store.getReblog(site.id, id));
      if (!site || !reblog) throw new HttpError(404, 'reblog_not_found', 'There is no such reblog.');
      cors((await original(reblog.postUrl)).site, site, request, reply);
      const user = await signedIn(request, reply, 'undo a reblog');
      if (!(await store.isSiteOwner(site.id, user.id))) {
        throw new HttpError(403, 'not_owner', `Only an owner of ${site.name} can undo its reblogs.`);
      }
      const removed = await store.deleteReblog(site.id, id, now());
      // A reblog of a post elsewhere: announce again; its page now answers 410 Gone.
      if (removed && !removed.responseId) opts.announce?.(pageUrl(request, site.id, id), removed.postUrl);
      return { removed: removed !== null };
    },
  );

  app.get<{ Querystring: { site: string } }>(
    '/api/v1/reblogs',
    {
      schema: {
        summary: "A blog's reblogs, newest first",
        tags: ['reblogs'],
        querystring: { type: 'object', required: ['site'], properties: { site: { type: 'string', maxLength: 100 } } },
        response: { 200: { type: 'object', properties: { reblogs: { type: 'array', items: reblogSchema } } }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const site = await store.getSite(request.query.site);
      if (!site) throw new HttpError(404, 'unknown_site', `There is no site ${request.query.site}.`);
      applyCors(site, request, reply);
      reply.header('Cache-Control', 'no-cache');
      return { reblogs: (await store.listReblogs(site.id, LIST_MAX)).map((r) => wire(request, r, site)) };
    },
  );

  app.get<{ Querystring: { post: string } }>(
    '/api/v1/reblogs/count',
    {
      schema: {
        summary: 'How often a post was reblogged',
        tags: ['reblogs'],
        querystring: { type: 'object', required: ['post'], properties: { post: { type: 'string', maxLength: limits.postUrlMaxChars } } },
        response: { 200: { type: 'object', properties: { count: { type: 'integer' } } }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { site, url } = await sites.resolvePost(request.query.post);
      applyCors(site, request, reply);
      reply.header('Cache-Control', 'no-cache');
      return { count: await store.reblogCount(site.id, url) };
    },
  );

  app.get<{ Querystring: { post: string } }>(
    '/api/v1/reblogs/targets',
    {
      schema: {
        summary: 'The blogs the signed-in user owns, to reblog on',
        description: 'A blog that already reblogged the post carries `reblog` (its id and page), so it can be undone.',
        tags: ['reblogs'],
        querystring: { type: 'object', required: ['post'], properties: { post: { type: 'string', maxLength: limits.postUrlMaxChars } } },
        response: { 200: { type: 'object', properties: { sites: { type: 'array', items: targetSchema } } }, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { site, url: post } = await original(request.query.post);
      cors(site, null, request, reply);
      const user = await signedIn(request, reply, 'reblog');
      reply.header('Cache-Control', 'no-store');
      const owned = (await store.sitesOwnedBy(user.id)).filter((s) => s.id !== site?.id);
      return {
        sites: await Promise.all(
          owned.map(async ({ id, name, origin }) => {
            const made = await store.findReblog(id, post);
            return { id, name, origin, ...(made && { reblog: { id: made.id, url: pageUrl(request, id, made.id) } }) };
          }),
        ),
      };
    },
  );

  app.get<{ Params: { site: string; id: string } }>(
    '/reblogs/:site/:id',
    { schema: { hide: true } },
    async (request, reply) => {
      const site = await store.getSite(request.params.site);
      const reblog = site && (await store.getReblog(site.id, request.params.id));
      reply
        .header('Content-Security-Policy', "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        .header('X-Content-Type-Options', 'nosniff')
        .header('Referrer-Policy', 'no-referrer')
        .type('text/html; charset=utf-8');
      if (!site || !reblog) {
        // Reblog ids are random: on a known blog, an unknown one is taken to be an undone reblog
        // (410 Gone, which tells Webmention receivers to remove what it made).
        return reply
          .code(site ? 410 : 404)
          .send('<!doctype html><html lang="en"><title>Not found</title><p>There is no such reblog.</p></html>\n');
      }
      reply.header('Cache-Control', 'public, max-age=60');
      return reblogPage(reblog, site, pageUrl(request, site.id, reblog.id));
    },
  );
}
