import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface AssetRoutesOptions {
  /**
   * The built widget folder; `/blogtalk.js` (the loader), its hashed chunks `/chunks/<name>-<hash>.js`,
   * `/blogtalk.esm.js`, `/custom-elements.json` and the widget's translations `/i18n/<lang>.json`
   * (fetched by the widget on demand) come from it.
   */
  distDir?: string | undefined;
  /** The demo page folder (demo mode only): `/` is its index.html. */
  demoDir?: string | undefined;
}

interface Asset {
  body: Buffer;
  etag: string;
  type: string;
  cacheControl: string;
  /** Extra headers, e.g. the demo page's Content-Security-Policy. */
  headers?: Record<string, string>;
}

/**
 * The demo page runs under the strict policy that DESIGN.md promises the widget works with:
 * no inline script, no eval, Trusted Types enforced.
 */
export const demoContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "require-trusted-types-for 'script'",
].join('; ');

/** The moderation page (`/admin`): its own script only, same-origin API calls, never framed. */
export const adminContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
].join('; ');

const adminPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Moderation · blogtalk</title>
<script src="/admin.js" defer></script>
</head>
<body>
<main><blogtalk-moderation></blogtalk-moderation></main>
</body>
</html>
`;

const widgetFiles: Record<string, string> = {
  '/blogtalk.js': 'blogtalk.js',
  '/blogtalk.esm.js': 'blogtalk.esm.js',
  '/custom-elements.json': 'custom-elements.json',
};

const types: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

async function load(path: string, cacheControl: string, headers?: Record<string, string>): Promise<Asset | null> {
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch {
    return null;
  }
  const ext = path.slice(path.lastIndexOf('.'));
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  return { body, etag, type: types[ext] ?? 'application/octet-stream', cacheControl, ...(headers ? { headers } : {}) };
}

function send(asset: Asset, request: FastifyRequest, reply: FastifyReply) {
  reply.header('ETag', asset.etag).header('Cache-Control', asset.cacheControl).header('X-Content-Type-Options', 'nosniff');
  if (asset.headers) reply.headers(asset.headers);
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.type).send(asset.body);
}

/**
 * The widget script, served by the comment server itself so a blog embeds it from there, and
 * in demo mode the demo page. Files are read once at start: a rebuild needs a restart.
 */
export async function assetRoutes(app: FastifyInstance, opts: AssetRoutesOptions): Promise<void> {
  if (opts.distDir) {
    const catalogs = await readdir(join(opts.distDir, 'i18n')).catch(() => [] as string[]);
    const files = { ...widgetFiles };
    for (const name of catalogs) if (/^[a-z]{2,3}\.json$/.test(name)) files[`/i18n/${name}`] = `i18n/${name}`;
    // Scripts and translations are public: any blog's page may load them (module scripts and
    // fetches from another origin need CORS; CORP lets cross-origin-isolated pages embed them).
    const publicHeaders = { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' };
    for (const [route, file] of Object.entries(files)) {
      // Short cache with revalidation: blogs embed this unversioned URL, so updates must reach them.
      const asset = await load(join(opts.distDir, file), 'public, max-age=300, stale-while-revalidate=86400', publicHeaders);
      if (!asset) continue;
      app.get(route, { schema: { hide: true } }, (request, reply) => send(asset, request, reply));
    }
    // The chunks the loader imports: their names change with their content, so they are cached for good.
    const chunks = await readdir(join(opts.distDir, 'chunks')).catch(() => [] as string[]);
    for (const name of chunks) {
      if (!/^[\w-]+-[\w-]{8}\.js$/.test(name)) continue;
      const asset = await load(join(opts.distDir, 'chunks', name), 'public, max-age=31536000, immutable', publicHeaders);
      if (asset) app.get(`/chunks/${name}`, { schema: { hide: true } }, (request, reply) => send(asset, request, reply));
    }
  }
  if (opts.distDir) {
    const script = await load(join(opts.distDir, 'admin.js'), 'no-cache');
    if (script) {
      const headers = { 'Content-Security-Policy': adminContentSecurityPolicy, 'X-Frame-Options': 'DENY' };
      const body = Buffer.from(adminPage);
      const page: Asset = { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"`, type: types['.html']!, cacheControl: 'no-cache', headers };
      app.get('/admin.js', { schema: { hide: true } }, (request, reply) => send(script, request, reply));
      app.get('/admin', { schema: { hide: true } }, (request, reply) => send(page, request, reply));
    }
  }
  if (opts.demoDir) {
    const demoHeaders = { 'Content-Security-Policy': demoContentSecurityPolicy };
    const pages: Record<string, string> = { '/': 'index.html', '/demo.css': 'demo.css' };
    for (const [route, file] of Object.entries(pages)) {
      const asset = await load(join(opts.demoDir, file), 'no-cache', demoHeaders);
      if (!asset) throw new Error(`demo file missing: ${join(opts.demoDir, file)}`);
      app.get(route, { schema: { hide: true } }, (request, reply) => send(asset, request, reply));
    }
  }
}
