/**
 * Export and import of a site as JSON Lines: a header line, then one comment per line in the
 * order they were stored (parents before replies). Everything is kept, email addresses
 * included, so an export is for the site owner's eyes only. Streaming both ways: memory stays
 * bounded whatever the size of the site.
 */
import { randomToken } from '../auth/tokens.js';
import type { Limits } from '../config.js';
import { findTextProblem } from '../domain/text.js';
import type { ExportedComment, NewComment, Site, Store, UserProfile } from '../store/store.js';
import { ImportWriter, type ImportReport } from './writer.js';

export type { ImportReport } from './writer.js';

export const EXPORT_FORMAT = 'blogtalk-export';
/**
 * 2 added what sign-in brought: `user` (the signed-in author's identity, so they keep their
 * comments on another server), `picture`, `edited`, `deleted` and `editTokenHash`. Version 1
 * files still import (without them).
 */
export const EXPORT_VERSION = 2;

interface Header {
  format: typeof EXPORT_FORMAT;
  version: number;
  exported: string;
  site: Site;
}

/** One comment line of an export (version 2; the fields marked v2 are absent in version 1). */
export interface CommentRecord {
  type: 'comment';
  id: string;
  post: string;
  postTitle: string | null;
  parent: string | null;
  kind: 'comment' | 'reblog';
  status: 'published' | 'pending' | 'spam';
  author: { name: string; email: string | null; website: string | null; avatar: string };
  body: string;
  created: string;
  reblog: { blogName: string; url: string } | null;
  requestHash: string;
  /** For comments imported as HTML: the original (the body is its text form). */
  originalHtml: string | null;
  /** v2: the signed-in author, by identity (not the server's internal id); null for guests. */
  user?: UserProfile | null;
  /** v2: the signed-in author's provider picture. */
  picture?: string | null;
  /** v2: when its author last edited it. */
  edited?: string | null;
  /** v2: deleted by its author, kept emptied for its replies. */
  deleted?: boolean;
  /** v2: SHA-256 (hex) of the guest's edit token (useless after the edit window, kept for fidelity). */
  editTokenHash?: string | null;
}

function toRecord(c: ExportedComment, user: UserProfile | null): CommentRecord {
  return {
    type: 'comment',
    id: c.id,
    post: c.postUrl,
    postTitle: c.postTitle,
    parent: c.parentId,
    kind: c.kind,
    status: c.status,
    author: { name: c.authorName, email: c.authorEmail, website: c.authorWebsite, avatar: c.avatar },
    body: c.body,
    created: c.created.toISOString(),
    reblog: c.reblogUrl ? { blogName: c.reblogBlogName ?? '', url: c.reblogUrl } : null,
    requestHash: c.requestHash,
    originalHtml: c.originalHtml,
    user,
    picture: c.authorPicture ?? null,
    edited: c.edited?.toISOString() ?? null,
    deleted: !!c.deleted,
    editTokenHash: c.editTokenHash ?? null,
  };
}

/** The lines (without newlines) of a site's export. */
export async function* exportSite(store: Store, siteId: string, now = new Date()): AsyncGenerator<string> {
  const site = await store.getSite(siteId);
  if (!site) throw new Error(`no site with id "${siteId}"`);
  const header: Header = { format: EXPORT_FORMAT, version: EXPORT_VERSION, exported: now.toISOString(), site };
  yield JSON.stringify(header);
  /** Profiles of the signed-in authors seen so far (a site has few). */
  const users = new Map<string, UserProfile | null>();
  for (let after = 0; ; ) {
    const batch = await store.exportComments(siteId, after, 500);
    for (const comment of batch) {
      const id = comment.userId;
      if (id && !users.has(id)) {
        const u = await store.getUser(id);
        users.set(id, u && { issuer: u.issuer, subject: u.subject, name: u.name, picture: u.picture, website: u.website, email: u.email });
      }
      yield JSON.stringify(toRecord(comment, (id && users.get(id)) || null));
    }
    const last = batch.at(-1);
    if (!last) return;
    after = last.seq;
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** Checks one parsed line; returns why it is not a valid comment record, or null. */
function recordProblem(value: unknown, limits: Limits): string | null {
  if (value === null || typeof value !== 'object') return 'not a JSON object';
  const r = value as Partial<CommentRecord>;
  if (r.type !== 'comment') return `unknown record type ${JSON.stringify(r.type)}`;
  const text = findTextProblem(r);
  if (text) return text === 'nul_character' ? 'contains a NUL character' : 'contains invalid Unicode';
  if (!isString(r.id) || !/^[A-Za-z0-9_-]{1,100}$/.test(r.id)) return 'bad id';
  if (!isString(r.post) || !/^https?:\/\//.test(r.post)) return 'bad post URL';
  if (!isNullableString(r.postTitle) || !isNullableString(r.parent)) return 'bad postTitle or parent';
  if (r.kind !== 'comment' && r.kind !== 'reblog') return 'bad kind';
  if (r.status !== 'published' && r.status !== 'pending' && r.status !== 'spam') return 'bad status';
  const a = r.author;
  if (!a || !isString(a.name) || !isNullableString(a.email) || !isNullableString(a.website) || !isString(a.avatar)) {
    return 'bad author';
  }
  if (a.name.length > limits.nameMaxChars) return 'author name too long';
  if (!isString(r.body) || [...r.body].length > limits.bodyMaxChars) return 'bad or too long body';
  if (!isString(r.created) || Number.isNaN(Date.parse(r.created))) return 'bad created time';
  if (r.reblog !== null && (typeof r.reblog !== 'object' || !isString(r.reblog?.url) || !isString(r.reblog?.blogName))) {
    return 'bad reblog';
  }
  if (!isString(r.requestHash)) return 'bad requestHash';
  if (r.originalHtml !== undefined && !isNullableString(r.originalHtml)) return 'bad originalHtml';
  const u = r.user;
  if (u != null && (typeof u !== 'object' || !isString(u.issuer) || !isString(u.subject) || !isString(u.name))) return 'bad user';
  if (u && [u.picture, u.website, u.email].some((v) => v !== undefined && !isNullableString(v))) return 'bad user';
  if (r.picture != null && !isString(r.picture)) return 'bad picture';
  if (r.edited != null && (!isString(r.edited) || Number.isNaN(Date.parse(r.edited)))) return 'bad edited time';
  if (r.deleted !== undefined && typeof r.deleted !== 'boolean') return 'bad deleted';
  if (r.editTokenHash != null && !(isString(r.editTokenHash) && /^[0-9a-f]{64}$/.test(r.editTokenHash))) return 'bad editTokenHash';
  return null;
}

function toNewComment(siteId: string, r: CommentRecord, userId: string | null): NewComment {
  return {
    siteId,
    postUrl: r.post,
    postTitle: r.postTitle,
    id: r.id,
    requestHash: r.requestHash,
    parentId: r.parent,
    kind: r.kind,
    status: r.status,
    authorName: r.author.name,
    authorEmail: r.author.email,
    authorWebsite: r.author.website,
    avatar: r.author.avatar,
    body: r.body,
    reblogBlogName: r.reblog?.blogName ?? null,
    reblogUrl: r.reblog?.url ?? null,
    originalHtml: r.originalHtml ?? null,
    created: new Date(r.created),
    userId,
    authorPicture: r.picture ?? null,
    edited: r.edited ? new Date(r.edited) : null,
    deleted: r.deleted === true,
    editTokenHash: r.editTokenHash ?? null,
  };
}

/** The id on this server of a signed-in author (by identity), made if they never signed in here. */
async function userIdOf(store: Store, user: UserProfile, cache: Map<string, string>, now: Date): Promise<string> {
  const key = `${user.issuer}\n${user.subject}`;
  let id = cache.get(key);
  if (!id) {
    const profile = { ...user, picture: user.picture ?? null, website: user.website ?? null, email: user.email ?? null };
    id = ((await store.getUserByIdentity(user.issuer, user.subject)) ?? (await store.upsertUser(profile, randomToken(16), now))).id;
    cache.set(key, id);
  }
  return id;
}

/**
 * Imports an export's lines into the site its header names (created if missing). Bad lines
 * are reported with their number and skipped; comments already present are left as they are.
 */
export async function importSite(store: Store, lines: AsyncIterable<string>, limits: Limits): Promise<ImportReport> {
  let lineNo = 0;
  let header: Header | null = null;
  let writer: ImportWriter | null = null;
  const users = new Map<string, string>();
  for await (const raw of lines) {
    lineNo += 1;
    const line = raw.trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (!writer) throw new Error(`line ${lineNo}: the first line must be a ${EXPORT_FORMAT} header`);
      writer.problem(lineNo, 'not valid JSON');
      continue;
    }
    if (!header || !writer) {
      const h = value as Partial<Header>;
      if (h?.format !== EXPORT_FORMAT || typeof h.version !== 'number' || !h.site?.id) {
        throw new Error(`line ${lineNo}: the first line must be a ${EXPORT_FORMAT} header`);
      }
      if (h.version > EXPORT_VERSION) {
        throw new Error(`this export is version ${h.version}; this server reads up to version ${EXPORT_VERSION}`);
      }
      header = h as Header;
      writer = new ImportWriter(store, header.site.id);
      if (!(await store.getSite(header.site.id))) await store.putSite(header.site);
      continue;
    }
    const problem = recordProblem(value, limits);
    if (problem) writer.problem(lineNo, problem);
    else {
      const r = value as CommentRecord;
      const userId = r.user ? await userIdOf(store, r.user, users, new Date()) : null;
      await writer.add(lineNo, toNewComment(header.site.id, r, userId));
    }
  }
  if (!writer) throw new Error('the file is empty: no export header');
  return writer.finish();
}
