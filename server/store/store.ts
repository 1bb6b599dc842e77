/**
 * The storage interface of the reference server. It speaks in domain types; SQL lives only
 * in the adapters (`sqlite.ts`, `postgres.ts`). One contract suite
 * (`test/server/store-contract.test.ts`) runs against every adapter.
 */
import type { CommentKind, CommentStatus } from '../../src/data/api-types.js';

export interface Site {
  /** Short stable id, e.g. "demo". */
  id: string;
  name: string;
  /** The blog's own origin (scheme://host[:port]); posts whose URL has this origin belong here. */
  origin: string;
  /** Origins whose pages may call the API for this site (CORS). */
  allowedOrigins: string[];
}

export interface Post {
  id: number;
  siteId: string;
  /** Canonical URL. */
  url: string;
  title: string | null;
  created: Date;
}

export interface StoredComment {
  id: string;
  siteId: string;
  postUrl: string;
  parentId: string | null;
  depth: number;
  kind: CommentKind;
  status: CommentStatus;
  authorName: string;
  /** Kept server-side only; never leaves the server. */
  authorEmail: string | null;
  authorWebsite: string | null;
  /** Salted-HMAC avatar seed (hex). */
  avatar: string;
  body: string;
  created: Date;
  reblogBlogName: string | null;
  reblogUrl: string | null;
  /** Increases with every stored comment in the whole store; used for ETags and ordering. */
  seq: number;
}

/** A stored comment with what an export needs to recreate it exactly. */
export interface ExportedComment extends StoredComment {
  postTitle: string | null;
  requestHash: string;
  originalHtml: string | null;
}

export interface NewComment {
  siteId: string;
  /** Canonical post URL; the post record is created if missing. */
  postUrl: string;
  /** Title stored if this comment creates the post. */
  postTitle: string | null;
  /** The client's id; unique per site. Doubles as the idempotency key. */
  id: string;
  /** SHA-256 (hex) of the canonical request, to tell a replay from a different body. */
  requestHash: string;
  parentId: string | null;
  kind: CommentKind;
  status: CommentStatus;
  authorName: string;
  authorEmail: string | null;
  authorWebsite: string | null;
  avatar: string;
  body: string;
  reblogBlogName: string | null;
  reblogUrl: string | null;
  /**
   * For comments imported as HTML (WordPress, Disqus): the original, kept for export; `body`
   * holds its text form. Null for comments written as text.
   */
  originalHtml?: string | null;
  /** Server time to record (injectable for tests). */
  created: Date;
}

export type CreateResult =
  /** Stored now (`replayed: false`), or stored earlier with the same request (`replayed: true`). */
  | { ok: true; comment: StoredComment; replayed: boolean }
  /** The same id was stored earlier with a different request. */
  | { ok: false; reason: 'idempotency_mismatch' }
  /** The parent does not exist on this post. */
  | { ok: false; reason: 'parent_not_found' }
  /** The parent is already at the maximum depth. */
  | { ok: false; reason: 'too_deep' };

export interface ThreadPageQuery {
  siteId: string;
  postUrl: string;
  /** Number of top-level threads per page (1..1000). */
  pageSize: number;
  /**
   * Cursor from a previous page's `older`: only threads older than it. Absent for the
   * newest page.
   */
  before?: string | null;
}

export interface ThreadStamp {
  total: number;
  version: number;
}

export interface ThreadPage {
  post: Post | null;
  /** Published responses on the post, replies included. */
  total: number;
  /** Top-level threads oldest first, each followed depth-first by its replies, oldest first. */
  comments: StoredComment[];
  /** Cursor for the page before this one, or null. */
  older: string | null;
  /** Highest `seq` among the post's comments (0 if none): changes whenever the thread does. */
  version: number;
}

/** A comment just stored, as announced (after its commit) to every instance sharing the database. */
export interface CommentEvent {
  siteId: string;
  commentId: string;
  seq: number;
}

export type CommentListener = (event: CommentEvent) => void;

export interface Store {
  /** Creates or upgrades the schema. Idempotent; run on every start. */
  migrate(): Promise<void>;
  /**
   * Calls `listener` after every new comment is committed, by this or any other instance
   * sharing the database. Returns the function that stops it.
   */
  onComment(listener: CommentListener): () => void;
  /** Waits for queued writes, then releases connections. */
  close(): Promise<void>;

  /** Inserts or replaces a site by id. */
  putSite(site: Site): Promise<void>;
  getSite(id: string): Promise<Site | null>;
  /** The site whose `origin` equals the given origin exactly. */
  getSiteByOrigin(origin: string): Promise<Site | null>;
  listSites(): Promise<Site[]>;

  getPost(siteId: string, url: string): Promise<Post | null>;
  /** One comment by id within a site, any status. */
  getComment(siteId: string, id: string): Promise<StoredComment | null>;
  /**
   * The post's published total and version (highest `seq`), both 0 for an unknown post: a
   * cheap check of whether a cached page is still current.
   */
  threadStamp(siteId: string, postUrl: string): Promise<ThreadStamp>;
  /** Published comments only. Malformed cursors throw `InvalidCursorError`. */
  listThreads(query: ThreadPageQuery): Promise<ThreadPage>;
  /**
   * A site's comments in `seq` order (so parents come before their replies), any status,
   * `limit` at a time after `afterSeq`: what an export streams.
   */
  exportComments(siteId: string, afterSeq: number, limit: number): Promise<ExportedComment[]>;
  /**
   * Stores a comment exactly once per (siteId, id). Creates the post record on first use.
   * `maxDepth` bounds `parent.depth + 1`.
   */
  createComment(input: NewComment, maxDepth: number): Promise<CreateResult>;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('invalid cursor');
    this.name = 'InvalidCursorError';
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the adapters (no SQL): the page cursor and the depth-first thread order.

/** Where a top-level thread sits in a post's (created, seq) order; what a page cursor encodes. */
export interface ThreadPosition {
  /** `created` in milliseconds since the epoch. */
  created: number;
  seq: number;
}

/** Encodes a thread position as an opaque base64url cursor. */
export function encodeCursor(position: ThreadPosition): string {
  return Buffer.from(`${position.created}.${position.seq}`, 'latin1').toString('base64url');
}

/** Decodes a cursor made by `encodeCursor`; anything else throws `InvalidCursorError`. */
export function decodeCursor(cursor: string): ThreadPosition {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) throw new InvalidCursorError();
  const match = /^(-?\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!match) throw new InvalidCursorError();
  const position = { created: Number(match[1]), seq: Number(match[2]) };
  const canonical =
    Number.isSafeInteger(position.created) &&
    Number.isSafeInteger(position.seq) &&
    encodeCursor(position) === cursor;
  if (!canonical) throw new InvalidCursorError();
  return position;
}

/**
 * Checks a page query (`pageSize` an integer in 1..1000, else `RangeError`) and decodes its
 * `before` cursor: null for the newest page.
 */
export function parsePageQuery(query: ThreadPageQuery): ThreadPosition | null {
  if (!Number.isInteger(query.pageSize) || query.pageSize < 1 || query.pageSize > 1000) {
    throw new RangeError(`pageSize must be an integer from 1 to 1000, got ${query.pageSize}`);
  }
  return query.before == null ? null : decodeCursor(query.before);
}

/**
 * Orders a page: each top-level comment (given oldest first) followed depth-first by its
 * replies, siblings oldest first by (created, seq). Replies whose parent is not in the page
 * are left out.
 */
export function orderThreads(roots: StoredComment[], replies: StoredComment[]): StoredComment[] {
  const children = new Map<string, StoredComment[]>();
  const sorted = [...replies].sort((a, b) => a.created.getTime() - b.created.getTime() || a.seq - b.seq);
  for (const reply of sorted) {
    const siblings = children.get(reply.parentId ?? '');
    if (siblings) siblings.push(reply);
    else children.set(reply.parentId ?? '', [reply]);
  }
  const ordered: StoredComment[] = [];
  const stack = [...roots].reverse();
  for (let next = stack.pop(); next; next = stack.pop()) {
    ordered.push(next);
    stack.push(...(children.get(next.id) ?? []).slice().reverse());
  }
  return ordered;
}

/** The comment an adapter has just inserted, from its input, computed depth and new `seq`. */
export function storedComment(input: NewComment, depth: number, seq: number): StoredComment {
  const { postTitle: _title, requestHash: _hash, originalHtml: _html, created, ...fields } = input;
  return { ...fields, depth, created: new Date(created.getTime()), seq };
}
