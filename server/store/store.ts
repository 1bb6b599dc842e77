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
  /** The signed-in user who wrote it (null or absent for guests and imports). */
  userId?: string | null;
  /** When its author last edited it, if ever. */
  edited?: Date | null;
  /** Deleted by its author but kept, emptied, because it has replies. */
  deleted?: boolean;
  /** The signed-in author's provider picture (http/https URL), when the provider gave one. */
  authorPicture?: string | null;
  /**
   * The writer's network address, kept only for the site's retention period (see
   * `OwnerToolsStore.purgeAddresses`). For the site's owners and the author's own export only.
   */
  authorIp?: string | null;
  /** Pinned by an owner: a pinned top-level thread comes first. */
  pinned?: boolean;
}

/** A stored comment with what an export needs to recreate it exactly. */
export interface ExportedComment extends StoredComment {
  postTitle: string | null;
  requestHash: string;
  originalHtml: string | null;
  /** SHA-256 (hex) of a guest's edit token, if it has one. */
  editTokenHash?: string | null;
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
  /** The signed-in user writing it; absent or null for guests. */
  userId?: string | null;
  /** SHA-256 (hex) of the guest's edit token; only its hash is stored. */
  editTokenHash?: string | null;
  /** The signed-in author's provider picture, if any. */
  authorPicture?: string | null;
  /** Imports: when its author last edited it. */
  edited?: Date | null;
  /** Imports: deleted by its author, kept emptied for its replies. */
  deleted?: boolean;
  /** The writer's network address (`request.ip`), when the site keeps addresses. */
  authorIp?: string | null;
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
  /**
   * Absent for a new comment. Otherwise an edit of a published comment, or its delete, which
   * `removed` it or `emptied` it (kept, for its replies); `seq` is then a fresh value of the
   * comment sequence taken by that change.
   */
  change?: 'edited' | 'removed' | 'emptied' | 'liked';
  /**
   * `liked`: the likes of the post (`commentId` '') or of its comment `commentId` changed (a like
   * or an unlike), under a fresh value of the comment sequence that nothing else takes.
   */
  /** The comment's post, with `change` (a removed comment can no longer be looked up). */
  postUrl?: string;
}

/** An edit or delete of a published comment, kept so that live clients can replay it. */
export interface CommentChange extends CommentEvent {
  change: 'edited' | 'removed' | 'emptied';
  postUrl: string;
  created: Date;
}

export type CommentListener = (event: CommentEvent) => void;

/** Someone who likes a post or a comment, as shown in "N bloggers like this". */
export interface Liker {
  name: string;
  avatar: string;
  picture: string | null;
  website: string | null;
}

export interface NewLike extends Liker {
  siteId: string;
  /** Canonical post URL; the post record is created if missing. */
  postUrl: string;
  /** The liked comment's id, or null for the post itself. */
  commentId: string | null;
  /** Who likes it, counted once: `user:<id>` for a signed-in user, `wm:<source>` for a Webmention. */
  likerKey: string;
  created: Date;
}

export interface LikeSummary {
  count: number;
  /** The most recent likers, newest first (at most `limit`). */
  likers: Liker[];
  /** Whether the given liker is among them (false when none was given). */
  liked: boolean;
}

/** How many like one comment of a post, and whether the asking liker does. */
export interface CommentLikeCount {
  commentId: string;
  count: number;
  liked: boolean;
}

/** Counts hits per key in fixed windows; shared by every instance using the same database. */
export interface HitCounter {
  hit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
}

export interface Store
  extends AuthStore,
    PrivacyStore,
    ReblogStore,
    ModerationStore,
    ReportStore,
    OwnerToolsStore,
    JobStore,
    NotifyStore,
    LikeEventStore {
  /** Creates or upgrades the schema. Idempotent; run on every start. */
  migrate(): Promise<void>;
  /**
   * Calls `listener` after every new comment is committed, by this or any other instance
   * sharing the database. Returns the function that stops it.
   */
  onComment(listener: CommentListener): () => void;
  /** Adds (`on`) or removes a like, once per liker; returns the summary after it. */
  setLike(like: NewLike, on: boolean, limit: number): Promise<LikeSummary>;
  /** Likes of a post (`commentId` null) or one of its comments. */
  likes(siteId: string, postUrl: string, commentId: string | null, likerKey: string | null, limit: number): Promise<LikeSummary>;
  /** Every liked comment of a post (the `limit` most liked), in one read: no request per comment. */
  commentLikes(siteId: string, postUrl: string, likerKey: string | null, limit: number): Promise<CommentLikeCount[]>;
  /**
   * A hit counter shared between instances (for rate limits), or null when one process owns
   * the data (SQLite), where counting in memory is exact.
   */
  sharedHitCounter(): HitCounter | null;
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
  /**
   * Published comments only. Malformed cursors throw `InvalidCursorError`. The newest page
   * (no cursor) starts with the post's pinned threads (oldest pin first); pinned threads are in
   * no other page, so cursors page through the unpinned ones exactly as before.
   */
  listThreads(query: ThreadPageQuery): Promise<ThreadPage>;
  /**
   * A site's comments in `seq` order (so parents come before their replies), any status,
   * `limit` at a time after `afterSeq`: what an export streams.
   */
  exportComments(siteId: string, afterSeq: number, limit: number): Promise<ExportedComment[]>;
  /**
   * A site's edits and deletes of published comments (each announced by `onComment` too) in
   * `seq` order, `limit` at a time after `afterSeq`: what a reconnecting live client missed.
   */
  commentChanges(siteId: string, afterSeq: number, limit: number): Promise<CommentChange[]>;
  /** Forgets edits, deletes and like changes recorded before `before` (live replay reaches back no further); how many. */
  purgeCommentChanges(before: Date): Promise<number>;
  /** The highest `seq` of the site's comments, their changes and like changes (0 for none): its latest live event, or later. */
  eventsHead(siteId: string): Promise<number>;
  /**
   * Stores a comment exactly once per (siteId, id). Creates the post record on first use.
   * `maxDepth` bounds `parent.depth + 1`.
   */
  createComment(input: NewComment, maxDepth: number): Promise<CreateResult>;
}

// ---------------------------------------------------------------------------------------------
// Moderation: per-site and per-post policies, the owner's queue.

/** `publish` at once, hold authors with no published comment on the site yet, or hold everything. */
export type ModerationPolicy = 'publish' | 'hold-first-time' | 'hold-all';

/** The settings stored for a site (its defaults) or for one post; null fields inherit. */
export interface ModerationSettings {
  policy: ModerationPolicy | null;
  /** Hold a comment with more links than this. */
  maxLinks: number | null;
  /** No new comments. */
  closed: boolean;
}

export const NO_MODERATION_SETTINGS: ModerationSettings = { policy: null, maxLinks: null, closed: false };

/** A page of the owner's queue, newest first. */
export interface ModerationQuery {
  siteId: string;
  /** Only comments with this status (any when null). */
  status: CommentStatus | null;
  /** Only this post's (canonical URL), when set. */
  postUrl: string | null;
  /** Only comments whose text, author name, email or post URL contain this, case-insensitively. */
  search: string | null;
  limit: number;
  /** Only comments with a lower `seq` (the next page), when set. */
  beforeSeq: number | null;
  /** Only undeleted comments with at least one report, the most reported first (`beforeSeq` does not apply). */
  reported?: boolean;
}

/** The moderation half of the store; `Store` includes it. */
export interface ModerationStore {
  /** The site's defaults (`postUrl` null) or a post's own settings; all inherit when none are stored. */
  moderationSettings(siteId: string, postUrl: string | null): Promise<ModerationSettings>;
  /**
   * Stores them. For a post, creates its record if needed and gives it a new version, so cached
   * pages of its thread (which say whether it is closed) are renewed.
   */
  putModerationSettings(siteId: string, postUrl: string | null, settings: ModerationSettings): Promise<void>;
  /** Whether the signed-in user (when `userId` is set), else the guest email, has a published comment on the site. */
  hasPublishedComment(siteId: string, author: { userId: string | null; email: string | null }): Promise<boolean>;
  listForModeration(query: ModerationQuery): Promise<StoredComment[]>;
  /**
   * Sets a comment's status and gives its post a new version; a comment that becomes
   * `published` is announced to `onComment` listeners like a new one. Null when not found.
   */
  setCommentStatus(siteId: string, id: string, status: CommentStatus): Promise<StoredComment | null>;
}

// ---------------------------------------------------------------------------------------------
// Identity: users, sessions, one-time codes, pending OAuth transactions, site owners.

/** What a provider says about a user. Users are keyed by (issuer, subject), never by email. */
export interface UserProfile {
  issuer: string;
  subject: string;
  name: string;
  /** The provider's picture URL (https), if it gave one. */
  picture: string | null;
  website: string | null;
  /** Kept server-side only (avatars, email login); never linking accounts. */
  email: string | null;
}

export interface User extends UserProfile {
  /** Opaque random id. */
  id: string;
  created: Date;
}

export interface Session {
  userId: string;
  /** Id of the configured provider used to sign in (`email` for email links), if known. */
  provider: string | null;
  created: Date;
  expires: Date;
}

/**
 * `handoff`: popup/redirect sign-in → widget (≤ 60 s); `email`: emailed link (≤ 15 min); `owner-setup`: CLI link;
 * `privacy`: a guest's emailed export/erase link (≤ 15 min).
 */
export type OneTimePurpose = 'handoff' | 'email' | 'owner-setup' | 'privacy';

/** A single-use code; only the SHA-256 of the code itself is stored. */
export interface OneTimeCode {
  hash: string;
  purpose: OneTimePurpose;
  siteId: string | null;
  userId: string | null;
  /** The only origin that may redeem it. */
  origin: string | null;
  /** The widget's nonce, which must come back with the code. */
  nonce: string | null;
  /** Purpose-specific JSON (e.g. the email address of an email link). */
  data: string | null;
  expires: Date;
}

/** A sign-in in progress between `start` and `callback`, keyed by the SHA-256 of its `state`. */
export interface AuthTransaction {
  stateHash: string;
  provider: string;
  /** OIDC nonce sent to the provider. */
  nonce: string;
  /** PKCE code verifier. */
  codeVerifier: string;
  siteId: string;
  /** The embedding page's origin (one of the site's allowed origins). */
  returnOrigin: string;
  /** Redirect fallback: the page to return to, else null (popup). */
  returnUrl: string | null;
  /** The widget's own nonce, echoed in the hand-off. */
  clientNonce: string;
  /** Provider-specific JSON (e.g. the Mastodon instance). */
  data: string | null;
  expires: Date;
}

/** A client registration made at a provider at run time (Mastodon), one per instance. */
export interface RegisteredClient {
  key: string;
  clientId: string;
  clientSecret: string | null;
  created: Date;
}

/** What deciding "may this person edit that comment" needs; never sent to browsers. */
export interface CommentAuthorship {
  userId: string | null;
  editTokenHash: string | null;
  created: Date;
  deleted: boolean;
}

/** The store's identity half; `Store` includes it. */
export interface AuthStore {
  /** Creates the user for (issuer, subject) with `newId`, or refreshes its profile; returns it. */
  upsertUser(profile: UserProfile, newId: string, now: Date): Promise<User>;
  getUser(id: string): Promise<User | null>;
  getUserByIdentity(issuer: string, subject: string): Promise<User | null>;

  createSession(idHash: string, session: Session): Promise<void>;
  /** The session if it exists, is not revoked and has not expired at `now`. */
  getSession(idHash: string, now: Date): Promise<Session | null>;
  /** Revokes a session; true if it was live. */
  revokeSession(idHash: string, now: Date): Promise<boolean>;

  putOneTimeCode(code: OneTimeCode): Promise<void>;
  /**
   * Consumes a code atomically: of any number of concurrent calls (on any instance) at most
   * one gets it. Expired or wrong-purpose codes give null (and are gone).
   */
  consumeOneTimeCode(hash: string, purpose: OneTimePurpose, now: Date): Promise<OneTimeCode | null>;

  putAuthTransaction(transaction: AuthTransaction): Promise<void>;
  /** Takes (deletes and returns) a live transaction; a second take gives null. */
  takeAuthTransaction(stateHash: string, now: Date): Promise<AuthTransaction | null>;

  getRegisteredClient(key: string): Promise<RegisteredClient | null>;
  /** Keeps the first registration stored for `key` and returns it. */
  putRegisteredClient(client: RegisteredClient): Promise<RegisteredClient>;

  setSiteOwner(siteId: string, userId: string, owner: boolean): Promise<void>;
  isSiteOwner(siteId: string, userId: string): Promise<boolean>;

  /** Removes expired codes, transactions and sessions. */
  purgeExpiredAuth(now: Date): Promise<void>;

  getCommentAuthorship(siteId: string, id: string): Promise<CommentAuthorship | null>;
  /** Replaces a comment's body; null if there is no such (undeleted) comment. Bumps the post's version. */
  editComment(siteId: string, id: string, body: string, now: Date): Promise<StoredComment | null>;
  /**
   * Deletes a comment: `removed` when it had no replies, `emptied` when it had (kept as
   * "This comment was deleted." so replies keep their context), null when not found.
   */
  deleteComment(siteId: string, id: string, now: Date): Promise<'removed' | 'emptied' | null>;
}

// ---------------------------------------------------------------------------------------------
// Privacy: everything stored about one author, to export or erase.

/**
 * Whose data: a signed-in user (everything of theirs on this server: the account is not per
 * site), or a guest by the email address given with their comments on one site, compared
 * case-insensitively. Guest lookups never match comments of signed-in users (no linking by email).
 */
export type AuthorRef = { userId: string } | { siteId: string; email: string };

/** One of the author's comments, with its post's title. */
export interface AuthorComment extends StoredComment {
  postTitle: string | null;
}

/** One of the author's likes (signed-in users only). */
export interface AuthorLike {
  siteId: string;
  postUrl: string;
  /** The liked comment, or null for the post itself. */
  commentId: string | null;
  created: Date;
}

/** A session as an export shows it: dates only, never its hash. */
export interface AuthorSession {
  provider: string | null;
  created: Date;
  expires: Date;
  revoked: Date | null;
}

export interface AuthorData {
  /** The account (signed-in authors), else null. */
  user: User | null;
  sessions: AuthorSession[];
  /** Oldest first (by `seq`). */
  comments: AuthorComment[];
  likes: AuthorLike[];
  /** Reblogs they made on their blogs (signed-in authors), newest first. */
  reblogs: Reblog[];
  /** Comments they reported (signed-in authors), oldest first. */
  reports?: AuthorReport[];
  /** Their reply-notification subscriptions (by account, or a guest's address on the site), oldest first; absent when none. */
  subscriptions?: AuthorSubscription[];
}

/** A reply subscription as an export shows it: never its tokens. */
export interface AuthorSubscription {
  siteId: string;
  commentId: string;
  email: string;
  /** False while the emailed confirmation link has not been used. */
  active: boolean;
  created: Date;
}

/** A report the author made. */
export interface AuthorReport {
  siteId: string;
  commentId: string;
  reason: string | null;
  created: Date;
}

export interface ErasureResult {
  /** Comments deleted outright. */
  removed: number;
  /** Comments kept, emptied, as "This comment was deleted." because others replied. */
  emptied: number;
  likes: number;
  sessions: number;
  /** Whether an account was removed. */
  user: boolean;
}

/** The store's privacy half; `Store` includes it. */
export interface PrivacyStore {
  /** Everything stored about the author (nothing about anyone else). */
  exportAuthor(author: AuthorRef): Promise<AuthorData>;
  /**
   * Erases the author in one transaction: each comment removed, or emptied (like
   * `deleteComment`) where replies by others remain; their likes and sessions removed, the
   * account removed. Every post touched gets a fresh version.
   */
  eraseAuthor(author: AuthorRef, now: Date): Promise<ErasureResult>;
}

// ---------------------------------------------------------------------------------------------
// Reblogs: a post quoted on one of its owner's blogs, with a "reblog" response on the original.

/** A reblog: the record on the reblogging (target) blog that quotes the original post. */
export interface Reblog {
  /** Random id, unique within its site. */
  id: string;
  /** The blog it was reblogged on. */
  siteId: string;
  /** The original post's canonical URL (on this server or anywhere else). */
  postUrl: string;
  title: string | null;
  excerpt: string | null;
  /** The reblogger's own words ('' for none). */
  commentary: string;
  userId: string;
  authorName: string;
  authorUrl: string | null;
  created: Date;
  /** The "reblog" response on the original's thread (when that is on this server), else null. */
  responseSiteId: string | null;
  responseId: string | null;
}

export type ReblogResult =
  | { ok: true; reblog: Reblog; response: StoredComment | null }
  /** The post was already reblogged on that blog. */
  | { ok: false; reason: 'already_reblogged' };

/** The store's reblog half; `Store` includes it. */
export interface ReblogStore {
  /**
   * Stores a reblog once per (site, post), and in the same transaction its `response` on the
   * original's thread (a `reblog` comment; null when the original is not on this server).
   */
  createReblog(reblog: Reblog, response: NewComment | null): Promise<ReblogResult>;
  getReblog(siteId: string, id: string): Promise<Reblog | null>;
  /** The reblog of `postUrl` on a blog (there is at most one), or null. */
  findReblog(siteId: string, postUrl: string): Promise<Reblog | null>;
  /** A blog's reblogs, newest first. */
  listReblogs(siteId: string, limit: number): Promise<Reblog[]>;
  /** Removes a reblog and its response (emptied instead when it has replies); returns it, or null. */
  deleteReblog(siteId: string, id: string, now: Date): Promise<Reblog | null>;
  /** Published `reblog` responses on a post (local reblogs and received Webmentions alike). */
  reblogCount(siteId: string, postUrl: string): Promise<number>;
  /** The sites a user owns, by id. */
  sitesOwnedBy(userId: string): Promise<Site[]>;
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
  const {
    postTitle: _title,
    requestHash: _hash,
    originalHtml: _html,
    editTokenHash: _token,
    authorIp,
    userId,
    authorPicture,
    created,
    edited,
    deleted,
    ...fields
  } = input;
  return {
    ...fields,
    ...commentExtras(userId ?? null, edited ? new Date(edited.getTime()) : null, !!deleted, authorPicture ?? null),
    ...ownerExtras(authorIp ?? null, false),
    depth,
    created: new Date(created.getTime()),
    seq,
  };
}

/**
 * The optional comment fields, present only when set, so comments written before sign-in
 * existed look exactly as they did.
 */
export function commentExtras(
  userId: string | null,
  edited: Date | null,
  deleted: boolean,
  authorPicture: string | null,
): Pick<StoredComment, 'userId' | 'edited' | 'deleted' | 'authorPicture'> {
  return {
    ...(userId ? { userId } : {}),
    ...(edited ? { edited } : {}),
    ...(deleted ? { deleted } : {}),
    ...(authorPicture ? { authorPicture } : {}),
  };
}

/** The owner-only comment fields, present only when set (as `commentExtras`). */
export function ownerExtras(authorIp: string | null, pinned: boolean): Pick<StoredComment, 'authorIp' | 'pinned'> {
  return { ...(authorIp ? { authorIp } : {}), ...(pinned ? { pinned } : {}) };
}

/** A `LIKE … ESCAPE '\'` pattern that finds `text` anywhere (its `%`, `_` and `\` taken literally). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

// ---------------------------------------------------------------------------------------------
// Reports: readers flag a comment for the owner, once each.

export interface NewReport {
  siteId: string;
  commentId: string;
  /** `user:<id>` for a signed-in reader, `guest:<HMAC of the address>` for a guest. */
  reporterKey: string;
  reason: string | null;
  created: Date;
}

/** A comment's reports: how many, and the most recent reasons given (newest first). */
export interface ReportSummary {
  count: number;
  reasons: { reason: string; created: Date }[];
}

/** The reports half of the store; `Store` includes it. */
export interface ReportStore {
  /** Adds a report; false (and nothing added) when this reporter has already reported the comment. */
  addReport(report: NewReport): Promise<boolean>;
  /** The reports of each of these comments that has any, with at most `reasons` reasons each. */
  reportSummaries(siteId: string, commentIds: string[], reasons: number): Promise<Map<string, ReportSummary>>;
  /** Removes every report of these comments; how many went. */
  dismissReports(siteId: string, commentIds: string[]): Promise<number>;
  /**
   * Forgets which guest made reports created before `before` (the reports stay, counted), and
   * removes reports whose comment is gone. Run with the periodic purge.
   */
  purgeReports(before: Date): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Owner tools: blocks, pinned threads, commenter addresses (and how long they are kept), Akismet.

/** Whom a block refuses: a signed-in author (user id), a guest email, or an address or network. */
export type BlockKind = 'user' | 'email' | 'address';

export interface Block {
  siteId: string;
  kind: BlockKind;
  /** The user id; the email, lowercased; an address, or a network as `address/prefix` (canonical). */
  value: string;
  /** For the owner's list: the author's name when blocked from a comment, else null. */
  label: string | null;
  created: Date;
}

/** A site's spam and privacy settings (stored with its moderation defaults); null inherits the default. */
export interface SpamSettings {
  /** Days a commenter's address is kept (0: not kept at all); null: the server's default (30). */
  ipRetentionDays: number | null;
  /** Akismet: the API key and the blog URL it was issued for; both set, or the check is off. */
  akismetKey: string | null;
  akismetBlog: string | null;
}

export const NO_SPAM_SETTINGS: SpamSettings = { ipRetentionDays: null, akismetKey: null, akismetBlog: null };

export type PinResult = StoredComment | 'not_found' | 'not_top_level' | 'too_many';

/** The owner tools half of the store; `Store` includes it. */
export interface OwnerToolsStore {
  /** Adds a block; false (nothing changed) when the same one exists. */
  addBlock(block: Block): Promise<boolean>;
  /** Removes a block; false when there was none. */
  removeBlock(siteId: string, kind: BlockKind, value: string): Promise<boolean>;
  /** The site's blocks, newest first. */
  listBlocks(siteId: string, limit: number): Promise<Block[]>;
  /** Whether any of these (kind, value) pairs is blocked on the site (exact matches; networks are listed by the caller). */
  isBlocked(siteId: string, keys: { kind: BlockKind; value: string }[]): Promise<boolean>;
  /**
   * Pins (or unpins) a published top-level comment and gives its post a new version. At most
   * `maxPerPost` pinned threads per post (`too_many` beyond).
   */
  setPinned(siteId: string, id: string, pinned: boolean, maxPerPost: number, now: Date): Promise<PinResult>;
  spamSettings(siteId: string): Promise<SpamSettings>;
  putSpamSettings(siteId: string, settings: SpamSettings): Promise<void>;
  /**
   * Forgets the address of every comment older than its site's retention (`defaultDays` where the
   * site has none) at `now`; returns how many were forgotten. Run by the periodic purge.
   */
  purgeAddresses(now: Date, defaultDays: number): Promise<number>;
}

// Jobs: a durable queue of work done after the request that asked for it (emails, Webmentions).

/** `queued` (waiting for `runAt`), `running` (claimed, until `leaseUntil`), `done`, or `dead` (out of attempts). */
export type JobState = 'queued' | 'running' | 'done' | 'dead';

export interface NewJob {
  /** Names the handler, e.g. `mail`. */
  kind: string;
  /** Anything JSON can hold; handed back parsed. */
  payload: unknown;
  runAt: Date;
  /** While a job with this key is stored (until purged), another with the same key is not added. */
  dedupeKey?: string | null;
  /** Runs at most this often before it is kept as dead (default 8). */
  maxAttempts?: number;
}

export interface Job {
  id: number;
  kind: string;
  payload: unknown;
  state: JobState;
  runAt: Date;
  /** Runs started so far, this one included; also the claim's token for `completeJob`/`failJob`. */
  attempts: number;
  maxAttempts: number;
  leaseUntil: Date | null;
  lastError: string | null;
  dedupeKey: string | null;
  created: Date;
  finished: Date | null;
}

/** The job queue half of the store; `Store` includes it. */
export interface JobStore {
  /** Adds a job; its id, or null when a job with the same `dedupeKey` is already stored. */
  enqueueJob(job: NewJob, now: Date): Promise<number | null>;
  /**
   * Claims up to `limit` due jobs (queued with `runAt` ≤ now, or running with an expired lease),
   * oldest due first, leasing them until now + `leaseMs` and counting an attempt. Atomic: with
   * several instances on one database, a job is claimed by one of them at a time.
   */
  claimJobs(now: Date, leaseMs: number, limit: number): Promise<Job[]>;
  /** Marks a claimed job done; false when the claim (`attempt`) is no longer the job's latest. */
  completeJob(id: number, attempt: number, now: Date): Promise<boolean>;
  /** A claimed job failed: queued again for `retryAt`, or (null) kept as dead; `error` is kept either way. */
  failJob(id: number, attempt: number, error: string, retryAt: Date | null, now: Date): Promise<boolean>;
  getJob(id: number): Promise<Job | null>;
  /** Jobs in one state, oldest first (e.g. the dead ones, for the log). */
  listJobs(state: JobState, limit: number): Promise<Job[]>;
  /** Removes done and dead jobs finished before `before`; how many went. */
  purgeJobs(before: Date): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Notifications: readers' reply subscriptions (double opt-in) and owners' email choices.

export interface NewSubscription {
  /** Random id. */
  id: string;
  siteId: string;
  /** The comment whose replies are mailed. */
  commentId: string;
  email: string;
  /** The signed-in subscriber, else null (a guest). */
  userId: string | null;
  /** SHA-256 of the emailed confirmation token. */
  confirmHash: string;
  confirmExpires: Date;
  created: Date;
}

export interface Subscription {
  id: string;
  siteId: string;
  commentId: string;
  email: string;
  userId: string | null;
  active: boolean;
  created: Date;
}

/** An owner's emails for one site: each new comment, a daily digest, or none; and held comments. */
export type OwnerCommentMail = 'each' | 'digest' | 'off';

export interface OwnerMailSettings {
  comments: OwnerCommentMail;
  held: boolean;
}

/** What an owner gets before choosing. */
export const DEFAULT_OWNER_MAIL: OwnerMailSettings = { comments: 'each', held: true };

/** The notifications half of the store; `Store` includes it. */
export interface NotifyStore {
  createSubscription(subscription: NewSubscription): Promise<void>;
  /** Activates the subscription whose unexpired confirmation hash this is (once); null otherwise. */
  confirmSubscription(confirmHash: string, now: Date): Promise<Subscription | null>;
  getSubscription(id: string): Promise<Subscription | null>;
  /** Removes it; false when there was none. */
  deleteSubscription(id: string): Promise<boolean>;
  /** The active subscriptions to replies to one comment. */
  replySubscriptions(siteId: string, commentId: string): Promise<Subscription[]>;
  /** Removes unconfirmed subscriptions whose link expired before `now`. */
  purgeSubscriptions(now: Date): Promise<void>;
  /** An owner's choices for a site (`DEFAULT_OWNER_MAIL` until they make some). */
  ownerMailSettings(siteId: string, userId: string): Promise<OwnerMailSettings>;
  putOwnerMailSettings(siteId: string, userId: string, settings: OwnerMailSettings): Promise<void>;
  /** The site's owners. */
  siteOwners(siteId: string): Promise<User[]>;
  /** Published, undeleted comments of a site created in [from, to), oldest first, at most `limit`. */
  publishedBetween(siteId: string, from: Date, to: Date, limit: number): Promise<StoredComment[]>;
}

// Likes, live: every like or unlike that changes a count takes a fresh value of the comment
// sequence, is kept for replay and announced (`onComment`, change `liked`), so that live
// streams show it and resume after it like after any other event.

/** A like or unlike, kept so that live clients can replay it. */
export interface LikeChange {
  siteId: string;
  postUrl: string;
  /** '' for the post itself. */
  commentId: string;
  seq: number;
  created: Date;
}

export interface LikeEventStore {
  /** A site's like changes in `seq` order, `limit` at a time after `afterSeq`. */
  likeChanges(siteId: string, afterSeq: number, limit: number): Promise<LikeChange[]>;
}
