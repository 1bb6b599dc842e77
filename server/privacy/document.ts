/**
 * The personal-data document a commenter downloads: everything the server stores about them,
 * as plain JSON. Session hashes, edit-token hashes and request hashes are never in it.
 */
import type { AuthorData, AuthorRef } from '../store/store.js';

export const DOCUMENT_FORMAT = 'blogtalk-personal-data';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export function personalDataDocument(author: AuthorRef, data: AuthorData, exported: Date): object {
  return {
    format: DOCUMENT_FORMAT,
    version: 1,
    exported: exported.toISOString(),
    // A signed-in account's data is everything of it on this server; a guest's, one site's.
    who: 'userId' in author ? { kind: 'account', id: author.userId } : { kind: 'guest', site: author.siteId, email: author.email },
    account: data.user && {
      id: data.user.id,
      issuer: data.user.issuer,
      subject: data.user.subject,
      name: data.user.name,
      email: data.user.email,
      picture: data.user.picture,
      website: data.user.website,
      created: iso(data.user.created),
    },
    sessions: data.sessions.map((s) => ({
      provider: s.provider,
      created: iso(s.created),
      expires: iso(s.expires),
      revoked: iso(s.revoked),
    })),
    comments: data.comments.map((c) => ({
      id: c.id,
      site: c.siteId,
      post: { url: c.postUrl, title: c.postTitle },
      parentId: c.parentId,
      kind: c.kind,
      status: c.status,
      created: iso(c.created),
      edited: iso(c.edited),
      deleted: c.deleted ?? false,
      authorName: c.authorName,
      authorEmail: c.authorEmail,
      authorWebsite: c.authorWebsite,
      authorPicture: c.authorPicture ?? null,
      // Kept only for the site's retention period (default 30 days), then erased.
      authorIp: c.authorIp ?? null,
      body: c.body,
      reblog: c.kind === 'reblog' ? { blogName: c.reblogBlogName, url: c.reblogUrl } : null,
    })),
    likes: data.likes.map((l) => ({ site: l.siteId, post: l.postUrl, commentId: l.commentId, created: iso(l.created) })),
    subscriptions: (data.subscriptions ?? []).map((s) => ({
      site: s.siteId,
      commentId: s.commentId,
      email: s.email,
      confirmed: s.active,
      created: iso(s.created),
    })),
    reports: (data.reports ?? []).map((r) => ({ site: r.siteId, commentId: r.commentId, reason: r.reason, created: iso(r.created) })),
    reblogs: data.reblogs.map((r) => ({
      site: r.siteId,
      id: r.id,
      post: r.postUrl,
      title: r.title,
      excerpt: r.excerpt,
      commentary: r.commentary,
      created: iso(r.created),
    })),
  };
}
