/**
 * What the WordPress and Disqus importers share: checking a foreign comment against the site
 * and turning it into a `NewComment` (text body, original HTML kept, salted avatar).
 */
import { createHash } from 'node:crypto';
import type { Limits } from '../config.js';
import { avatarSeed } from '../domain/avatar.js';
import { htmlToText } from '../domain/html-to-text.js';
import { canonicalPostUrl, httpUrl } from '../domain/post-url.js';
import { findTextProblem } from '../domain/text.js';
import type { NewComment, Site } from '../store/store.js';
import type { ForeignComment } from './writer.js';

export interface ForeignContext {
  site: Site;
  secret: string;
  limits: Limits;
}

/** The comment to store, or the reason it cannot be imported. */
export function fromForeign(c: ForeignComment, ctx: ForeignContext): NewComment | string {
  const post = canonicalPostUrl(c.postUrl);
  if (!post) return `bad post URL ${JSON.stringify(c.postUrl)}`;
  if (post.origin !== ctx.site.origin) return `post ${post.href} is not on ${ctx.site.origin}`;
  if (Number.isNaN(c.created.getTime())) return 'bad date';
  const body = htmlToText(c.html, { newlinesAreBreaks: c.newlinesAreBreaks });
  const name = c.authorName.trim() || 'Anonymous';
  if ([...body].length > ctx.limits.bodyMaxChars) return 'comment longer than the body limit';
  if (findTextProblem([body, name, c.authorEmail, c.authorWebsite, c.html])) return 'contains NUL or invalid Unicode';
  const email = c.authorEmail?.trim() || null;
  const fields = {
    postUrl: post.href,
    parentId: c.parentId,
    status: c.status,
    authorName: name.slice(0, ctx.limits.nameMaxChars),
    authorEmail: email,
    authorWebsite: c.authorWebsite ? httpUrl(c.authorWebsite.trim()) : null,
    body,
    originalHtml: c.html,
    created: c.created,
  };
  return {
    siteId: ctx.site.id,
    id: c.id,
    postTitle: c.postTitle,
    requestHash: createHash('sha256').update(JSON.stringify(fields)).digest('hex'),
    kind: 'comment',
    avatar: avatarSeed(ctx.secret, ctx.site.id, email, name),
    reblogBlogName: null,
    reblogUrl: null,
    ...fields,
  };
}
