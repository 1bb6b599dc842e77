/**
 * The embedded store: one SQLite file through better-sqlite3 (WAL, `synchronous=FULL`).
 *
 * Writes are grouped: every `createComment`/`putSite` call is queued, and the queue is run
 * on the next turn of the event loop inside ONE transaction (a savepoint per call, so one
 * failing call does not undo the others). Each caller's promise settles after the COMMIT,
 * so durability costs one fsync per batch instead of one per comment.
 */
import Database from 'better-sqlite3';
import {
  commentExtras,
  ownerExtras,
  type Block,
  type BlockKind,
  NO_SPAM_SETTINGS,
  type PinResult,
  type SpamSettings,
  type AuthorData,
  type AuthorRef,
  type ErasureResult,
  containsPattern,
  NO_MODERATION_SETTINGS,
  type ModerationPolicy,
  type ModerationQuery,
  type ModerationSettings,
  type NewReport,
  type ReportSummary,
  encodeCursor,
  type AuthTransaction,
  type CommentAuthorship,
  type OneTimeCode,
  type OneTimePurpose,
  type RegisteredClient,
  type Session,
  type User,
  type UserProfile,
  orderThreads,
  storedComment,
  parsePageQuery,
  type CommentChange,
  type CommentEvent,
  type CommentListener,
  type CreateResult,
  type CommentLikeCount,
  type LikeSummary,
  type Liker,
  type NewLike,
  type LikeChange,
  type ExportedComment,
  type NewComment,
  type Post,
  type Site,
  type Store,
  type StoredComment,
  type ThreadPage,
  type ThreadPageQuery,
  type ThreadStamp,
  type Reblog,
  type ReblogResult,
  DEFAULT_OWNER_MAIL,
  type Job as QueuedJob,
  type JobState,
  type NewJob,
  type NewSubscription,
  type OwnerMailSettings,
  type Subscription,
} from './store.js';
import type { CommentKind, CommentStatus } from '../../src/data/api-types.js';

/** Most calls committed together in one transaction. */
const MAX_BATCH = 500;

/** Schema versions, applied in order; entry `i` upgrades version `i` to `i + 1`. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sites (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    origin          TEXT NOT NULL UNIQUE,
    allowed_origins TEXT NOT NULL -- JSON array of origins
  ) STRICT;

  CREATE TABLE posts (
    id      INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites (id),
    url     TEXT NOT NULL,
    title   TEXT,
    created INTEGER NOT NULL, -- ms since the epoch
    UNIQUE (site_id, url)
  ) STRICT;

  CREATE TABLE comments (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, so "highest seq" only grows
    site_id          TEXT NOT NULL,
    id               TEXT NOT NULL,
    post_id          INTEGER NOT NULL REFERENCES posts (id),
    parent_id        TEXT,
    root_id          TEXT NOT NULL, -- own id for a top-level comment, else the parent's root_id
    depth            INTEGER NOT NULL CHECK (depth >= 0),
    kind             TEXT NOT NULL CHECK (kind IN ('comment', 'reblog')),
    status           TEXT NOT NULL CHECK (status IN ('published', 'pending')),
    author_name      TEXT NOT NULL,
    author_email     TEXT,
    author_website   TEXT,
    avatar           TEXT NOT NULL,
    body             TEXT NOT NULL,
    created          INTEGER NOT NULL, -- ms since the epoch
    reblog_blog_name TEXT,
    reblog_url       TEXT,
    request_hash     TEXT NOT NULL,
    UNIQUE (site_id, id),
    FOREIGN KEY (site_id, parent_id) REFERENCES comments (site_id, id)
  ) STRICT;

  -- A page of a post's published top-level threads, newest first from a cursor.
  CREATE INDEX comments_threads ON comments (post_id, created, seq)
    WHERE parent_id IS NULL AND status = 'published';
  -- All replies of a page's threads in one lookup.
  CREATE INDEX comments_roots ON comments (post_id, root_id);
  -- A post's total (published) and version (highest seq).
  CREATE INDEX comments_post_seq ON comments (post_id, seq, status);
  `,
  // 2: imported comments keep their original HTML for export.
  `ALTER TABLE comments ADD COLUMN original_html TEXT;`,
  // 3: sign-in (users, sessions, one-time codes, OAuth transactions, owners); edit/delete.
  `
  CREATE TABLE users (
    id      TEXT PRIMARY KEY,
    issuer  TEXT NOT NULL,
    subject TEXT NOT NULL,
    name    TEXT NOT NULL,
    picture TEXT,
    website TEXT,
    email   TEXT,
    created INTEGER NOT NULL,
    UNIQUE (issuer, subject)
  ) STRICT;

  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY, -- SHA-256 of the session id; the id itself is never stored
    user_id TEXT NOT NULL REFERENCES users (id),
    provider TEXT, -- the configured provider signed in with, for "your X account"
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    revoked INTEGER
  ) STRICT;
  CREATE INDEX sessions_expires ON sessions (expires);

  CREATE TABLE one_time_codes (
    hash    TEXT PRIMARY KEY, -- SHA-256 of the code
    purpose TEXT NOT NULL CHECK (purpose IN ('handoff', 'email', 'owner-setup')),
    site_id TEXT,
    user_id TEXT,
    origin  TEXT,
    nonce   TEXT,
    data    TEXT,
    expires INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX one_time_codes_expires ON one_time_codes (expires);

  CREATE TABLE auth_transactions (
    state_hash    TEXT PRIMARY KEY, -- SHA-256 of the OAuth state
    provider      TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    site_id       TEXT NOT NULL,
    return_origin TEXT NOT NULL,
    return_url    TEXT,
    client_nonce  TEXT NOT NULL,
    data          TEXT,
    expires       INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX auth_transactions_expires ON auth_transactions (expires);

  CREATE TABLE registered_clients (
    key           TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    client_secret TEXT,
    created       INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE site_owners (
    site_id TEXT NOT NULL REFERENCES sites (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (site_id, user_id)
  ) STRICT;

  ALTER TABLE comments ADD COLUMN user_id TEXT REFERENCES users (id);
  ALTER TABLE comments ADD COLUMN edit_token_hash TEXT;
  ALTER TABLE comments ADD COLUMN author_picture TEXT;
  ALTER TABLE comments ADD COLUMN edited INTEGER;
  ALTER TABLE comments ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
  -- Edits and deletes take a fresh value from the comment sequence, so a post's version grows.
  ALTER TABLE posts ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
  `,
  // 4: likes of posts and comments, once per liker.
  `CREATE TABLE likes (
    post_id   INTEGER NOT NULL REFERENCES posts (id),
    target    TEXT NOT NULL, -- '' for the post itself, else a comment id
    liker     TEXT NOT NULL,
    name      TEXT NOT NULL,
    avatar    TEXT NOT NULL,
    picture   TEXT,
    website   TEXT,
    created   INTEGER NOT NULL,
    PRIMARY KEY (post_id, target, liker)
  ) STRICT;
  CREATE INDEX likes_recent ON likes (post_id, target, created);`,
  // 5 (privacy): one-time codes may also be a guest's emailed export/erase link. SQLite cannot
  // alter a CHECK, so the (short-lived) codes table is rebuilt.
  `CREATE TABLE one_time_codes_new (
    hash    TEXT PRIMARY KEY, -- SHA-256 of the code
    purpose TEXT NOT NULL CHECK (purpose IN ('handoff', 'email', 'owner-setup', 'privacy')),
    site_id TEXT,
    user_id TEXT,
    origin  TEXT,
    nonce   TEXT,
    data    TEXT,
    expires INTEGER NOT NULL
  ) STRICT;
  INSERT INTO one_time_codes_new SELECT hash, purpose, site_id, user_id, origin, nonce, data, expires FROM one_time_codes;
  DROP TABLE one_time_codes;
  ALTER TABLE one_time_codes_new RENAME TO one_time_codes;
  CREATE INDEX one_time_codes_expires ON one_time_codes (expires);`,
  // reblogs: a post quoted on one of its owner's blogs, once per (blog, post).
  `CREATE TABLE reblogs (
    site_id          TEXT NOT NULL REFERENCES sites (id),
    id               TEXT NOT NULL,
    post_url         TEXT NOT NULL,
    title            TEXT,
    excerpt          TEXT,
    commentary       TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    author_name      TEXT NOT NULL,
    author_url       TEXT,
    created          INTEGER NOT NULL,
    response_site_id TEXT,
    response_id      TEXT,
    PRIMARY KEY (site_id, id),
    UNIQUE (site_id, post_url)
  ) STRICT;
  CREATE INDEX reblogs_recent ON reblogs (site_id, created);`,
  // 5: edits and deletes of published comments, kept for live replay (Last-Event-ID).
  `CREATE TABLE comment_changes (
    seq        INTEGER PRIMARY KEY, -- the fresh value of the comment sequence the change took
    site_id    TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    post_url   TEXT NOT NULL,
    change     TEXT NOT NULL CHECK (change IN ('edited', 'removed', 'emptied')),
    created    INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX comment_changes_site ON comment_changes (site_id, seq);`,
  // +1: moderation — per-site ('' post) and per-post settings; spam kept (as a flag: the status
  // CHECK of a STRICT table cannot be altered in place); the owner's queue and first-time checks.
  `CREATE TABLE moderation_settings (
    site_id   TEXT NOT NULL REFERENCES sites (id),
    post_url  TEXT NOT NULL, -- '' for the site's defaults
    policy    TEXT CHECK (policy IN ('publish', 'hold-first-time', 'hold-all')), -- NULL: inherit
    max_links INTEGER, -- NULL: inherit
    closed    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, post_url)
  ) STRICT;
  ALTER TABLE comments ADD COLUMN spam INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX comments_moderation ON comments (site_id, status, seq);
  CREATE INDEX comments_published_user ON comments (site_id, user_id) WHERE status = 'published';
  CREATE INDEX comments_published_email ON comments (site_id, lower(author_email)) WHERE status = 'published';`,
  // +1: reports — readers flag a comment for the owner, once per reader ('user:<id>', or for a
  // guest 'guest:<HMAC of the address>', forgotten after a week).
  `CREATE TABLE reports (
    site_id    TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    reporter   TEXT NOT NULL,
    reason     TEXT,
    created    INTEGER NOT NULL,
    PRIMARY KEY (site_id, comment_id, reporter)
  ) STRICT;
  CREATE INDEX reports_reporter ON reports (reporter);`,
  // +1: owner tools — the writer's address (kept for the site's retention, then NULL), pinned
  // threads (when pinned), blocks, and per-site address retention and Akismet settings.
  `ALTER TABLE comments ADD COLUMN author_ip TEXT;
  ALTER TABLE comments ADD COLUMN pinned INTEGER; -- ms since the epoch when pinned, NULL when not
  CREATE INDEX comments_addresses ON comments (created) WHERE author_ip IS NOT NULL;
  CREATE INDEX comments_pinned ON comments (post_id, pinned) WHERE pinned IS NOT NULL;
  ALTER TABLE moderation_settings ADD COLUMN ip_retention_days INTEGER; -- NULL: the default
  ALTER TABLE moderation_settings ADD COLUMN akismet_key TEXT;
  ALTER TABLE moderation_settings ADD COLUMN akismet_blog TEXT;
  CREATE TABLE blocks (
    site_id TEXT NOT NULL REFERENCES sites (id),
    key     TEXT NOT NULL, -- kind ':' value
    kind    TEXT NOT NULL CHECK (kind IN ('user', 'email', 'address')),
    value   TEXT NOT NULL,
    label   TEXT,
    created INTEGER NOT NULL,
    PRIMARY KEY (site_id, key)
  ) STRICT;`,
  // +1: the job queue (emails now, Webmentions later), reply subscriptions, owners' email choices.
  `CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL, -- JSON
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    lease_until  INTEGER,
    last_error   TEXT,
    dedupe_key   TEXT UNIQUE,
    created      INTEGER NOT NULL,
    finished     INTEGER
  ) STRICT;
  CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
  CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
  CREATE INDEX jobs_finished ON jobs (finished) WHERE state IN ('done', 'dead');

  CREATE TABLE reply_subscriptions (
    id              TEXT PRIMARY KEY,
    site_id         TEXT NOT NULL,
    comment_id      TEXT NOT NULL,
    email           TEXT NOT NULL,
    user_id         TEXT,
    active          INTEGER NOT NULL DEFAULT 0,
    confirm_hash    TEXT UNIQUE, -- SHA-256 of the emailed token; NULL once used
    confirm_expires INTEGER,
    created         INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX reply_subscriptions_comment ON reply_subscriptions (site_id, comment_id);
  CREATE INDEX reply_subscriptions_user ON reply_subscriptions (user_id);
  CREATE INDEX reply_subscriptions_email ON reply_subscriptions (site_id, lower(email));

  CREATE TABLE owner_mail_settings (
    site_id  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    comments TEXT NOT NULL CHECK (comments IN ('each', 'digest', 'off')),
    held     INTEGER NOT NULL,
    PRIMARY KEY (site_id, user_id)
  ) STRICT;`,
  // +1: likes, live — each like or unlike that changed a count, under a fresh value of the
  // comment sequence ('' comment_id: the post itself), for live replay (Last-Event-ID).
  `CREATE TABLE like_changes (
    seq        INTEGER PRIMARY KEY,
    site_id    TEXT NOT NULL,
    post_url   TEXT NOT NULL,
    comment_id TEXT NOT NULL,
    created    INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX like_changes_site ON like_changes (site_id, seq);`,
];

interface ReblogRow {
  site_id: string;
  id: string;
  post_url: string;
  title: string | null;
  excerpt: string | null;
  commentary: string;
  user_id: string;
  author_name: string;
  author_url: string | null;
  created: number;
  response_site_id: string | null;
  response_id: string | null;
}

function toReblog(row: ReblogRow): Reblog {
  return {
    id: row.id,
    siteId: row.site_id,
    postUrl: row.post_url,
    title: row.title,
    excerpt: row.excerpt,
    commentary: row.commentary,
    userId: row.user_id,
    authorName: row.author_name,
    authorUrl: row.author_url,
    created: new Date(row.created),
    responseSiteId: row.response_site_id,
    responseId: row.response_id,
  };
}

interface JobRow {
  id: number;
  kind: string;
  payload: string;
  state: JobState;
  run_at: number;
  attempts: number;
  max_attempts: number;
  lease_until: number | null;
  last_error: string | null;
  dedupe_key: string | null;
  created: number;
  finished: number | null;
}

function toJob(row: JobRow): QueuedJob {
  return {
    id: row.id,
    kind: row.kind,
    payload: JSON.parse(row.payload) as unknown,
    state: row.state,
    runAt: new Date(row.run_at),
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    leaseUntil: row.lease_until === null ? null : new Date(row.lease_until),
    lastError: row.last_error,
    dedupeKey: row.dedupe_key,
    created: new Date(row.created),
    finished: row.finished === null ? null : new Date(row.finished),
  };
}

interface SubscriptionRow {
  id: string;
  site_id: string;
  comment_id: string;
  email: string;
  user_id: string | null;
  active: number;
  created: number;
}

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    siteId: row.site_id,
    commentId: row.comment_id,
    email: row.email,
    userId: row.user_id,
    active: row.active === 1,
    created: new Date(row.created),
  };
}

const SUBSCRIPTION_COLUMNS = 'id, site_id, comment_id, email, user_id, active, created';

interface UserRow {
  id: string;
  issuer: string;
  subject: string;
  name: string;
  picture: string | null;
  website: string | null;
  email: string | null;
  created: number;
}

interface CodeRow {
  hash: string;
  purpose: OneTimePurpose;
  site_id: string | null;
  user_id: string | null;
  origin: string | null;
  nonce: string | null;
  data: string | null;
  expires: number;
}

interface TransactionRow {
  state_hash: string;
  provider: string;
  nonce: string;
  code_verifier: string;
  site_id: string;
  return_origin: string;
  return_url: string | null;
  client_nonce: string;
  data: string | null;
  expires: number;
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    issuer: row.issuer,
    subject: row.subject,
    name: row.name,
    picture: row.picture,
    website: row.website,
    email: row.email,
    created: new Date(row.created),
  };
}

interface SiteRow {
  id: string;
  name: string;
  origin: string;
  allowed_origins: string;
}

interface PostRow {
  id: number;
  site_id: string;
  url: string;
  title: string | null;
  created: number;
}

interface CommentRow {
  seq: number;
  site_id: string;
  id: string;
  post_id: number;
  post_url: string;
  parent_id: string | null;
  root_id: string;
  depth: number;
  kind: CommentKind;
  status: CommentStatus;
  author_name: string;
  author_email: string | null;
  author_website: string | null;
  avatar: string;
  body: string;
  created: number;
  reblog_blog_name: string | null;
  reblog_url: string | null;
  request_hash: string;
  original_html: string | null;
  user_id: string | null;
  author_picture: string | null;
  edited: number | null;
  deleted: number;
  spam: number;
  author_ip: string | null;
  pinned: number | null;
}

/** A queued write: `run` inside the batch transaction, then exactly one of `done`/`fail`. */
interface Job {
  run(): void;
  done(): void;
  fail(error: unknown): void;
}

const COMMENT_COLUMNS = `c.seq, c.site_id, c.id, c.post_id, p.url AS post_url, c.parent_id, c.root_id,
  c.depth, c.kind, c.status, c.author_name, c.author_email, c.author_website, c.avatar, c.body,
  c.created, c.reblog_blog_name, c.reblog_url, c.request_hash, c.original_html, c.user_id, c.edited,
  c.deleted, c.author_picture, c.spam, c.author_ip, c.pinned`;

/** Prepares every statement the store runs (after the schema exists). */
function prepareStatements(db: Database.Database) {
  const pageSql = (where: string) => `
    SELECT ${COMMENT_COLUMNS} FROM comments c JOIN posts p ON p.id = c.post_id
    WHERE c.post_id = ? AND c.parent_id IS NULL AND c.status = 'published' AND c.pinned IS NULL ${where}
    ORDER BY c.created DESC, c.seq DESC LIMIT ?`;
  return {
    putSite: db.prepare<[string, string, string, string]>(`
      INSERT INTO sites (id, name, origin, allowed_origins) VALUES (?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET
        name = excluded.name, origin = excluded.origin, allowed_origins = excluded.allowed_origins`),
    siteById: db.prepare<[string], SiteRow>('SELECT * FROM sites WHERE id = ?'),
    siteByOrigin: db.prepare<[string], SiteRow>('SELECT * FROM sites WHERE origin = ?'),
    sites: db.prepare<[], SiteRow>('SELECT * FROM sites ORDER BY id'),
    post: db.prepare<[string, string], PostRow>('SELECT * FROM posts WHERE site_id = ? AND url = ?'),
    insertPost: db.prepare<[string, string, string | null, number], PostRow>(
      'INSERT INTO posts (site_id, url, title, created) VALUES (?, ?, ?, ?) RETURNING *',
    ),
    comment: db.prepare<[string, string], CommentRow>(`
      SELECT ${COMMENT_COLUMNS} FROM comments c JOIN posts p ON p.id = c.post_id
      WHERE c.site_id = ? AND c.id = ?`),
    insertComment: db.prepare<
      [
        string, string, number, string | null, string, number, string, string, string,
        string | null, string | null, string, string, number, string | null, string | null, string,
        string | null, string | null, string | null, string | null, number | null, number, number, string | null,
      ],
      { seq: number }
    >(`
      INSERT INTO comments (site_id, id, post_id, parent_id, root_id, depth, kind, status,
        author_name, author_email, author_website, avatar, body, created, reblog_blog_name,
        reblog_url, request_hash, original_html, user_id, edit_token_hash, author_picture, edited, deleted, spam, author_ip)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      RETURNING seq`),
    exportPage: db.prepare<[string, number, number], CommentRow & { post_title: string | null; edit_token_hash: string | null }>(`
      SELECT ${COMMENT_COLUMNS}, p.title AS post_title, c.edit_token_hash FROM comments c JOIN posts p ON p.id = c.post_id
      WHERE c.site_id = ? AND c.seq > ? ORDER BY c.seq LIMIT ?`),
    newestThreads: db.prepare<[number, number], CommentRow>(pageSql('')),
    pinnedThreads: db.prepare<[number], CommentRow>(`
      SELECT ${COMMENT_COLUMNS} FROM comments c JOIN posts p ON p.id = c.post_id
      WHERE c.post_id = ? AND c.pinned IS NOT NULL AND c.parent_id IS NULL AND c.status = 'published'
      ORDER BY c.pinned, c.seq`),
    olderThreads: db.prepare<[number, number, number, number], CommentRow>(
      pageSql('AND (c.created, c.seq) < (?, ?)'),
    ),
    replies: db.prepare<[number, string], CommentRow>(`
      SELECT ${COMMENT_COLUMNS} FROM comments c JOIN posts p ON p.id = c.post_id
      WHERE c.post_id = ? AND c.root_id IN (SELECT value FROM json_each(?))
        AND c.parent_id IS NOT NULL AND c.status = 'published'`),
    totals: db.prepare<[number, number, number], { total: number; version: number }>(`
      SELECT
        (SELECT count(*) FROM comments WHERE post_id = ? AND status = 'published') AS total,
        max((SELECT coalesce(max(seq), 0) FROM comments WHERE post_id = ?),
            (SELECT revision FROM posts WHERE id = ?)) AS version`),

    upsertUser: db.prepare<[string, string, string, string, string | null, string | null, string | null, number], UserRow>(`
      INSERT INTO users (id, issuer, subject, name, picture, website, email, created)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (issuer, subject) DO UPDATE SET
        name = excluded.name, picture = excluded.picture, website = excluded.website, email = excluded.email
      RETURNING *`),
    userById: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
    userByIdentity: db.prepare<[string, string], UserRow>('SELECT * FROM users WHERE issuer = ? AND subject = ?'),
    insertSession: db.prepare<[string, string, string | null, number, number]>(
      'INSERT INTO sessions (id_hash, user_id, provider, created, expires) VALUES (?, ?, ?, ?, ?)',
    ),
    session: db.prepare<[string, number], { user_id: string; provider: string | null; created: number; expires: number }>(
      'SELECT user_id, provider, created, expires FROM sessions WHERE id_hash = ? AND revoked IS NULL AND expires > ?',
    ),
    revokeSession: db.prepare<[number, string, number]>(
      'UPDATE sessions SET revoked = ? WHERE id_hash = ? AND revoked IS NULL AND expires > ?',
    ),
    insertCode: db.prepare<[string, string, string | null, string | null, string | null, string | null, string | null, number]>(
      `INSERT INTO one_time_codes (hash, purpose, site_id, user_id, origin, nonce, data, expires)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    takeCode: db.prepare<[string], CodeRow>('DELETE FROM one_time_codes WHERE hash = ? RETURNING *'),
    insertTransaction: db.prepare<
      [string, string, string, string, string, string, string | null, string, string | null, number]
    >(`INSERT INTO auth_transactions (state_hash, provider, nonce, code_verifier, site_id, return_origin,
         return_url, client_nonce, data, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    takeTransaction: db.prepare<[string], TransactionRow>('DELETE FROM auth_transactions WHERE state_hash = ? RETURNING *'),
    client: db.prepare<[string], { key: string; client_id: string; client_secret: string | null; created: number }>(
      'SELECT * FROM registered_clients WHERE key = ?',
    ),
    insertClient: db.prepare<[string, string, string | null, number]>(
      `INSERT INTO registered_clients (key, client_id, client_secret, created) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO NOTHING`,
    ),
    addOwner: db.prepare<[string, string]>('INSERT OR IGNORE INTO site_owners (site_id, user_id) VALUES (?, ?)'),
    removeOwner: db.prepare<[string, string]>('DELETE FROM site_owners WHERE site_id = ? AND user_id = ?'),
    isOwner: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM site_owners WHERE site_id = ? AND user_id = ?'),
    purgeCodes: db.prepare<[number]>('DELETE FROM one_time_codes WHERE expires <= ?'),
    purgeTransactions: db.prepare<[number]>('DELETE FROM auth_transactions WHERE expires <= ?'),
    purgeSessions: db.prepare<[number]>('DELETE FROM sessions WHERE expires <= ?'),
    authorship: db.prepare<[string, string], { user_id: string | null; edit_token_hash: string | null; created: number; deleted: number }>(
      'SELECT user_id, edit_token_hash, created, deleted FROM comments WHERE site_id = ? AND id = ?',
    ),
    nextSeq: db.prepare<[], { seq: number }>(
      "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'comments' RETURNING seq",
    ),
    bumpPost: db.prepare<[number, number]>('UPDATE posts SET revision = ? WHERE id = ?'),
    editComment: db.prepare<[string, number, string, string]>(
      'UPDATE comments SET body = ?, edited = ? WHERE site_id = ? AND id = ? AND deleted = 0',
    ),
    hasReplies: db.prepare<[string, string], { one: number }>(
      'SELECT 1 AS one FROM comments WHERE site_id = ? AND parent_id = ? LIMIT 1',
    ),
    emptyComment: db.prepare<[number, string, string]>(`
      UPDATE comments SET deleted = 1, edited = ?, body = '', author_name = '', author_email = NULL,
        author_website = NULL, edit_token_hash = NULL, original_html = NULL, author_picture = NULL, author_ip = NULL
      WHERE site_id = ? AND id = ?`),
    removeComment: db.prepare<[string, string]>('DELETE FROM comments WHERE site_id = ? AND id = ?'),
    insertChange: db.prepare<[number, string, string, string, string, number]>(
      'INSERT INTO comment_changes (seq, site_id, comment_id, post_url, change, created) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    changes: db.prepare<
      [string, number, number],
      { seq: number; comment_id: string; post_url: string; change: CommentChange['change']; created: number }
    >('SELECT * FROM comment_changes WHERE site_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    moderationSettings: db.prepare<[string, string], { policy: ModerationPolicy | null; max_links: number | null; closed: number }>(
      'SELECT policy, max_links, closed FROM moderation_settings WHERE site_id = ? AND post_url = ?',
    ),
    anyBlock: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM blocks WHERE site_id = ? LIMIT 1'),
    isBlocked: db.prepare<[string, string], { one: number }>(
      'SELECT 1 AS one FROM blocks WHERE site_id = ? AND key IN (SELECT value FROM json_each(?)) LIMIT 1',
    ),
    spamSettings: db.prepare<[string], { ip_retention_days: number | null; akismet_key: string | null; akismet_blog: string | null }>(
      "SELECT ip_retention_days, akismet_key, akismet_blog FROM moderation_settings WHERE site_id = ? AND post_url = ''",
    ),
    eventsHead: db.prepare<[string, string, string], { seq: number }>(`
      SELECT max((SELECT coalesce(max(seq), 0) FROM comments WHERE site_id = ?),
                 (SELECT coalesce(max(seq), 0) FROM comment_changes WHERE site_id = ?),
                 (SELECT coalesce(max(seq), 0) FROM like_changes WHERE site_id = ?)) AS seq`),
  };
}

/** The stored `status` column: spam is kept as `pending` with the `spam` flag set. */
function dbStatus(status: CommentStatus): 'published' | 'pending' {
  return status === 'spam' ? 'pending' : status;
}

function toSite(row: SiteRow): Site {
  return {
    id: row.id,
    name: row.name,
    origin: row.origin,
    allowedOrigins: JSON.parse(row.allowed_origins) as string[],
  };
}

function toPost(row: PostRow): Post {
  return { id: row.id, siteId: row.site_id, url: row.url, title: row.title, created: new Date(row.created) };
}

function toComment(row: CommentRow): StoredComment {
  return {
    id: row.id,
    siteId: row.site_id,
    postUrl: row.post_url,
    parentId: row.parent_id,
    depth: row.depth,
    kind: row.kind,
    status: row.spam ? 'spam' : row.status,
    authorName: row.author_name,
    authorEmail: row.author_email,
    authorWebsite: row.author_website,
    avatar: row.avatar,
    body: row.body,
    created: new Date(row.created),
    reblogBlogName: row.reblog_blog_name,
    reblogUrl: row.reblog_url,
    seq: row.seq,
    ...commentExtras(row.user_id, row.edited === null ? null : new Date(row.edited), row.deleted === 1, row.author_picture),
    ...ownerExtras(row.author_ip ?? null, row.pinned != null),
  };
}

/** The `Store` on one SQLite file (or `':memory:'`), with group commit for writes. */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  #statements: ReturnType<typeof prepareStatements> | undefined;
  #queue: Job[] = [];
  #flushTimer: NodeJS.Immediate | undefined;
  #closed = false;
  /** One process owns the file, so announcing a comment is a local call. */
  readonly #listeners = new Set<CommentListener>();
  /** Runs a batch of jobs in one IMMEDIATE transaction, each in its own savepoint. */
  readonly #runBatch: Database.Transaction<(jobs: Job[], failures: Map<Job, unknown>) => void>;

  /** Opens (creating if needed) the database file; call `migrate()` before use. */
  constructor(file: string) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    const runOne = this.#db.transaction((job: Job) => job.run());
    this.#runBatch = this.#db.transaction((jobs: Job[], failures: Map<Job, unknown>) => {
      for (const job of jobs) {
        try {
          runOne(job); // nested: a savepoint, rolled back alone if the job throws
        } catch (error) {
          failures.set(job, error);
        }
      }
    });
  }

  async migrate(): Promise<void> {
    this.#db
      .transaction(() => {
        this.#db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
          version INTEGER PRIMARY KEY,
          applied INTEGER NOT NULL -- ms since the epoch
        ) STRICT`);
        const { current } = this.#db
          .prepare<[], { current: number }>('SELECT coalesce(max(version), 0) AS current FROM schema_version')
          .get()!;
        if (current > MIGRATIONS.length) {
          throw new Error(`schema version ${current} is newer than this server knows (${MIGRATIONS.length})`);
        }
        const apply = this.#db.prepare<[number, number]>(
          'INSERT INTO schema_version (version, applied) VALUES (?, ?)',
        );
        for (let version = current; version < MIGRATIONS.length; version++) {
          this.#db.exec(MIGRATIONS[version]!);
          apply.run(version + 1, Date.now());
        }
      })
      .immediate();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#flushTimer) clearImmediate(this.#flushTimer);
    while (this.#queue.length > 0) this.#flushBatch();
    this.#db.close();
  }

  /** An online backup to `file` (a consistent copy while the server keeps running). */
  async backup(file: string): Promise<void> {
    await this.#db.backup(file);
  }

  putSite(site: Site): Promise<void> {
    return this.#enqueue(() => {
      this.#stmts.putSite.run(site.id, site.name, site.origin, JSON.stringify(site.allowedOrigins));
    });
  }

  async getSite(id: string): Promise<Site | null> {
    const row = this.#stmts.siteById.get(id);
    return row ? toSite(row) : null;
  }

  async getSiteByOrigin(origin: string): Promise<Site | null> {
    const row = this.#stmts.siteByOrigin.get(origin);
    return row ? toSite(row) : null;
  }

  async listSites(): Promise<Site[]> {
    return this.#stmts.sites.all().map(toSite);
  }

  async getPost(siteId: string, url: string): Promise<Post | null> {
    const row = this.#stmts.post.get(siteId, url);
    return row ? toPost(row) : null;
  }

  async threadStamp(siteId: string, postUrl: string): Promise<ThreadStamp> {
    const post = this.#stmts.post.get(siteId, postUrl);
    return post ? this.#stmts.totals.get(post.id, post.id, post.id)! : { total: 0, version: 0 };
  }

  async exportComments(siteId: string, afterSeq: number, limit: number): Promise<ExportedComment[]> {
    return this.#stmts.exportPage
      .all(siteId, afterSeq, limit)
      .map((row) => ({
        ...toComment(row),
        postTitle: row.post_title,
        requestHash: row.request_hash,
        originalHtml: row.original_html,
        editTokenHash: row.edit_token_hash,
      }));
  }

  async getComment(siteId: string, id: string): Promise<StoredComment | null> {
    const row = this.#stmts.comment.get(siteId, id);
    return row ? toComment(row) : null;
  }

  async listThreads(query: ThreadPageQuery): Promise<ThreadPage> {
    const before = parsePageQuery(query);
    const s = this.#stmts;
    // One read transaction, so the page, total and version agree with each other.
    return this.#db.transaction((): ThreadPage => {
      const postRow = s.post.get(query.siteId, query.postUrl);
      if (!postRow) return { post: null, total: 0, comments: [], older: null, version: 0 };
      const limit = query.pageSize + 1; // one more tells whether an older page exists
      const newestFirst = before
        ? s.olderThreads.all(postRow.id, before.created, before.seq, limit)
        : s.newestThreads.all(postRow.id, limit);
      const page = newestFirst.slice(0, query.pageSize).map(toComment);
      const oldest = page.at(-1);
      const older =
        newestFirst.length > query.pageSize && oldest
          ? encodeCursor({ created: oldest.created.getTime(), seq: oldest.seq })
          : null;
      const pinned = before ? [] : s.pinnedThreads.all(postRow.id).map(toComment);
      const roots = [...pinned, ...page.reverse()];
      const replies = s.replies.all(postRow.id, JSON.stringify(roots.map((c) => c.id))).map(toComment);
      const { total, version } = s.totals.get(postRow.id, postRow.id, postRow.id)!;
      const comments = orderThreads(roots, replies);
      return { post: toPost(postRow), total, comments, older, version };
    })();
  }

  async createComment(input: NewComment, maxDepth: number): Promise<CreateResult> {
    const result = await this.#enqueue(() => this.#insertComment(input, maxDepth));
    if (result.ok && !result.replayed) {
      this.#announce({ siteId: input.siteId, commentId: input.id, seq: result.comment.seq });
    }
    return result;
  }

  async setLike(like: NewLike, on: boolean, limit: number): Promise<LikeSummary> {
    let event: CommentEvent | undefined;
    const summary = await this.#enqueue(() => {
      const s = this.#stmts;
      const target = like.commentId ?? '';
      let post = s.post.get(like.siteId, like.postUrl);
      let changed = 0;
      if (on) {
        post ??= s.insertPost.get(like.siteId, like.postUrl, null, like.created.getTime())!;
        changed = this.#db
          .prepare(
            `INSERT INTO likes (post_id, target, liker, name, avatar, picture, website, created)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          )
          .run(post.id, target, like.likerKey, like.name, like.avatar, like.picture, like.website, like.created.getTime()).changes;
      } else if (post) {
        changed = this.#db.prepare('DELETE FROM likes WHERE post_id = ? AND target = ? AND liker = ?').run(post.id, target, like.likerKey).changes;
      }
      // Before the first comment the sequence has no row yet: start it.
      const next = changed
        ? (s.nextSeq.get() ?? this.#db.prepare<[], { seq: number }>("INSERT INTO sqlite_sequence (name, seq) VALUES ('comments', 1) RETURNING seq").get())
        : undefined;
      if (next) {
        this.#db
          .prepare('INSERT INTO like_changes (seq, site_id, post_url, comment_id, created) VALUES (?, ?, ?, ?, ?)')
          .run(next.seq, like.siteId, like.postUrl, target, like.created.getTime());
        event = { siteId: like.siteId, commentId: target, seq: next.seq, change: 'liked', postUrl: like.postUrl };
      }
      return post ? this.#likeSummary(post.id, target, like.likerKey, limit) : { count: 0, likers: [], liked: false };
    });
    this.#announce(event);
    return summary;
  }

  async likeChanges(siteId: string, afterSeq: number, limit: number): Promise<LikeChange[]> {
    return this.#db
      .prepare<[string, number, number], { seq: number; post_url: string; comment_id: string; created: number }>(
        'SELECT seq, post_url, comment_id, created FROM like_changes WHERE site_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .all(siteId, afterSeq, limit)
      .map((row) => ({ siteId, postUrl: row.post_url, commentId: row.comment_id, seq: row.seq, created: new Date(row.created) }));
  }


  async likes(siteId: string, postUrl: string, commentId: string | null, likerKey: string | null, limit: number): Promise<LikeSummary> {
    const post = this.#stmts.post.get(siteId, postUrl);
    return post ? this.#likeSummary(post.id, commentId ?? '', likerKey, limit) : { count: 0, likers: [], liked: false };
  }

  async commentLikes(siteId: string, postUrl: string, likerKey: string | null, limit: number): Promise<CommentLikeCount[]> {
    const post = this.#stmts.post.get(siteId, postUrl);
    if (!post) return [];
    return this.#db
      .prepare<[string | null, number, number], { commentId: string; count: number; liked: number }>(
        `SELECT target AS commentId, count(*) AS count, coalesce(max(liker = ?), 0) AS liked FROM likes
         WHERE post_id = ? AND target <> '' GROUP BY target ORDER BY count DESC, target LIMIT ?`,
      )
      .all(likerKey, post.id, limit)
      .map((row) => ({ ...row, liked: row.liked === 1 }));
  }

  #likeSummary(postId: number, target: string, likerKey: string | null, limit: number): LikeSummary {
    const { count } = this.#db
      .prepare<[number, string], { count: number }>('SELECT count(*) AS count FROM likes WHERE post_id = ? AND target = ?')
      .get(postId, target)!;
    const likers = this.#db
      .prepare<[number, string, number], Liker>(
        `SELECT name, avatar, picture, website FROM likes WHERE post_id = ? AND target = ?
         ORDER BY created DESC, rowid DESC LIMIT ?`,
      )
      .all(postId, target, limit);
    const liked =
      likerKey !== null &&
      this.#db.prepare('SELECT 1 FROM likes WHERE post_id = ? AND target = ? AND liker = ?').get(postId, target, likerKey) !==
        undefined;
    return { count, likers, liked };
  }

  sharedHitCounter(): null {
    return null;
  }

  onComment(listener: CommentListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The body of `createComment`; runs inside a batch's savepoint. */
  #insertComment(input: NewComment, maxDepth: number): CreateResult {
    const s = this.#stmts;
    const existing = s.comment.get(input.siteId, input.id);
    if (existing) {
      return existing.request_hash === input.requestHash
        ? { ok: true, comment: toComment(existing), replayed: true }
        : { ok: false, reason: 'idempotency_mismatch' };
    }
    let post = s.post.get(input.siteId, input.postUrl);
    let depth = 0;
    let rootId = input.id;
    if (input.parentId !== null) {
      const parent = post ? s.comment.get(input.siteId, input.parentId) : undefined;
      if (!post || !parent || parent.post_id !== post.id) return { ok: false, reason: 'parent_not_found' };
      if (parent.depth + 1 > maxDepth) return { ok: false, reason: 'too_deep' };
      depth = parent.depth + 1;
      rootId = parent.root_id;
    }
    post ??= s.insertPost.get(input.siteId, input.postUrl, input.postTitle, input.created.getTime())!;
    const { seq } = s.insertComment.get(
      input.siteId, input.id, post.id, input.parentId, rootId, depth, input.kind, dbStatus(input.status),
      input.authorName, input.authorEmail, input.authorWebsite, input.avatar, input.body,
      input.created.getTime(), input.reblogBlogName, input.reblogUrl, input.requestHash,
      input.originalHtml ?? null, input.userId ?? null, input.editTokenHash ?? null,
      input.authorPicture ?? null, input.edited?.getTime() ?? null, input.deleted ? 1 : 0, input.status === 'spam' ? 1 : 0,
      input.authorIp ?? null,
    )!;
    return { ok: true, comment: storedComment(input, depth, seq), replayed: false };
  }

  // --- identity -------------------------------------------------------------------------------

  async upsertUser(profile: UserProfile, newId: string, now: Date): Promise<User> {
    const row = await this.#enqueue(() =>
      this.#stmts.upsertUser.get(
        newId, profile.issuer, profile.subject, profile.name, profile.picture, profile.website, profile.email,
        now.getTime(),
      )!,
    );
    return toUser(row);
  }

  async getUser(id: string): Promise<User | null> {
    const row = this.#stmts.userById.get(id);
    return row ? toUser(row) : null;
  }

  async getUserByIdentity(issuer: string, subject: string): Promise<User | null> {
    const row = this.#stmts.userByIdentity.get(issuer, subject);
    return row ? toUser(row) : null;
  }

  async createSession(idHash: string, session: Session): Promise<void> {
    await this.#enqueue(() => {
      this.#stmts.insertSession.run(idHash, session.userId, session.provider, session.created.getTime(), session.expires.getTime());
    });
  }

  async getSession(idHash: string, now: Date): Promise<Session | null> {
    const row = this.#stmts.session.get(idHash, now.getTime());
    return row ? { userId: row.user_id, provider: row.provider, created: new Date(row.created), expires: new Date(row.expires) } : null;
  }

  async revokeSession(idHash: string, now: Date): Promise<boolean> {
    return this.#enqueue(() => this.#stmts.revokeSession.run(now.getTime(), idHash, now.getTime()).changes > 0);
  }

  async putOneTimeCode(code: OneTimeCode): Promise<void> {
    await this.#enqueue(() => {
      this.#stmts.insertCode.run(
        code.hash, code.purpose, code.siteId, code.userId, code.origin, code.nonce, code.data, code.expires.getTime(),
      );
    });
  }

  async consumeOneTimeCode(hash: string, purpose: OneTimePurpose, now: Date): Promise<OneTimeCode | null> {
    const row = await this.#enqueue(() => this.#stmts.takeCode.get(hash));
    if (!row || row.purpose !== purpose || row.expires <= now.getTime()) return null;
    return {
      hash: row.hash,
      purpose: row.purpose,
      siteId: row.site_id,
      userId: row.user_id,
      origin: row.origin,
      nonce: row.nonce,
      data: row.data,
      expires: new Date(row.expires),
    };
  }

  async putAuthTransaction(t: AuthTransaction): Promise<void> {
    await this.#enqueue(() => {
      this.#stmts.insertTransaction.run(
        t.stateHash, t.provider, t.nonce, t.codeVerifier, t.siteId, t.returnOrigin, t.returnUrl, t.clientNonce,
        t.data, t.expires.getTime(),
      );
    });
  }

  async takeAuthTransaction(stateHash: string, now: Date): Promise<AuthTransaction | null> {
    const row = await this.#enqueue(() => this.#stmts.takeTransaction.get(stateHash));
    if (!row || row.expires <= now.getTime()) return null;
    return {
      stateHash: row.state_hash,
      provider: row.provider,
      nonce: row.nonce,
      codeVerifier: row.code_verifier,
      siteId: row.site_id,
      returnOrigin: row.return_origin,
      returnUrl: row.return_url,
      clientNonce: row.client_nonce,
      data: row.data,
      expires: new Date(row.expires),
    };
  }

  async getRegisteredClient(key: string): Promise<RegisteredClient | null> {
    const row = this.#stmts.client.get(key);
    return row
      ? { key: row.key, clientId: row.client_id, clientSecret: row.client_secret, created: new Date(row.created) }
      : null;
  }

  async putRegisteredClient(client: RegisteredClient): Promise<RegisteredClient> {
    await this.#enqueue(() => {
      this.#stmts.insertClient.run(client.key, client.clientId, client.clientSecret, client.created.getTime());
    });
    return (await this.getRegisteredClient(client.key))!;
  }

  async setSiteOwner(siteId: string, userId: string, owner: boolean): Promise<void> {
    await this.#enqueue(() => {
      if (owner) this.#stmts.addOwner.run(siteId, userId);
      else this.#stmts.removeOwner.run(siteId, userId);
    });
  }

  async isSiteOwner(siteId: string, userId: string): Promise<boolean> {
    return this.#stmts.isOwner.get(siteId, userId) !== undefined;
  }

  async purgeExpiredAuth(now: Date): Promise<void> {
    await this.#enqueue(() => {
      this.#stmts.purgeCodes.run(now.getTime());
      this.#stmts.purgeTransactions.run(now.getTime());
      this.#stmts.purgeSessions.run(now.getTime());
    });
  }

  async getCommentAuthorship(siteId: string, id: string): Promise<CommentAuthorship | null> {
    const row = this.#stmts.authorship.get(siteId, id);
    return row
      ? { userId: row.user_id, editTokenHash: row.edit_token_hash, created: new Date(row.created), deleted: row.deleted === 1 }
      : null;
  }

  async editComment(siteId: string, id: string, body: string, now: Date): Promise<StoredComment | null> {
    const done = await this.#enqueue(() => {
      const s = this.#stmts;
      const existing = s.comment.get(siteId, id);
      if (!existing || existing.deleted) return null;
      s.editComment.run(body, now.getTime(), siteId, id);
      return { comment: toComment(s.comment.get(siteId, id)!), event: this.#changed(existing, 'edited', now) };
    });
    this.#announce(done?.event);
    return done?.comment ?? null;
  }

  async deleteComment(siteId: string, id: string, now: Date): Promise<'removed' | 'emptied' | null> {
    const done = await this.#enqueue(() => {
      const s = this.#stmts;
      const existing = s.comment.get(siteId, id);
      if (!existing || existing.deleted) return null;
      const outcome = s.hasReplies.get(siteId, id) !== undefined ? 'emptied' : 'removed';
      if (outcome === 'emptied') s.emptyComment.run(now.getTime(), siteId, id);
      else s.removeComment.run(siteId, id);
      return { outcome, event: this.#changed(existing, outcome, now) } as const;
    });
    this.#announce(done?.event);
    return done?.outcome ?? null;
  }

  // --- privacy --------------------------------------------------------------------------------

  async exportAuthor(author: AuthorRef): Promise<AuthorData> {
    const db = this.#db;
    // One read transaction, so the parts agree with each other.
    return db.transaction((): AuthorData => {
      const select = `SELECT ${COMMENT_COLUMNS}, p.title AS post_title FROM comments c JOIN posts p ON p.id = c.post_id`;
      const rows =
        'userId' in author
          ? db.prepare<[string], CommentRow & { post_title: string | null }>(`${select} WHERE c.user_id = ? ORDER BY c.seq`).all(author.userId)
          : db
              .prepare<[string, string], CommentRow & { post_title: string | null }>(
                `${select} WHERE c.site_id = ? AND c.user_id IS NULL AND lower(c.author_email) = ? ORDER BY c.seq`,
              )
              .all(author.siteId, author.email.toLowerCase());
      const comments = rows.map((row) => ({ ...toComment(row), postTitle: row.post_title }));
      const subscriptions = (
        'userId' in author
          ? db.prepare<[string], SubscriptionRow>(`SELECT ${SUBSCRIPTION_COLUMNS} FROM reply_subscriptions WHERE user_id = ? ORDER BY created, id`).all(author.userId)
          : db
              .prepare<[string, string], SubscriptionRow>(
                `SELECT ${SUBSCRIPTION_COLUMNS} FROM reply_subscriptions WHERE site_id = ? AND user_id IS NULL AND lower(email) = ? ORDER BY created, id`,
              )
              .all(author.siteId, author.email.toLowerCase())
      ).map(({ site_id, comment_id, email, active, created }) => ({
        siteId: site_id,
        commentId: comment_id,
        email,
        active: active === 1,
        created: new Date(created),
      }));
      if (!('userId' in author)) return { user: null, sessions: [], comments, likes: [], reblogs: [], ...(subscriptions.length ? { subscriptions } : {}) };
      const user = this.#stmts.userById.get(author.userId);
      const sessions = db
        .prepare<[string], { provider: string | null; created: number; expires: number; revoked: number | null }>(
          'SELECT provider, created, expires, revoked FROM sessions WHERE user_id = ? ORDER BY created, rowid',
        )
        .all(author.userId)
        .map((r) => ({
          provider: r.provider,
          created: new Date(r.created),
          expires: new Date(r.expires),
          revoked: r.revoked === null ? null : new Date(r.revoked),
        }));
      const likes = db
        .prepare<[string], { site_id: string; url: string; target: string; created: number }>(
          `SELECT p.site_id, p.url, l.target, l.created FROM likes l JOIN posts p ON p.id = l.post_id
           WHERE l.liker = ? ORDER BY l.created, l.rowid`,
        )
        .all(`user:${author.userId}`)
        .map((r) => ({ siteId: r.site_id, postUrl: r.url, commentId: r.target || null, created: new Date(r.created) }));
      const reblogs = db
        .prepare<[string], ReblogRow>('SELECT * FROM reblogs WHERE user_id = ? ORDER BY created DESC, rowid DESC')
        .all(author.userId)
        .map(toReblog);
      const reports = db
        .prepare<[string], { site_id: string; comment_id: string; reason: string | null; created: number }>(
          'SELECT site_id, comment_id, reason, created FROM reports WHERE reporter = ? ORDER BY created, rowid',
        )
        .all(`user:${author.userId}`)
        .map((r) => ({ siteId: r.site_id, commentId: r.comment_id, reason: r.reason, created: new Date(r.created) }));
      return { user: user ? toUser(user) : null, sessions, comments, likes, reblogs, reports, ...(subscriptions.length ? { subscriptions } : {}) };
    })();
  }

  async eraseAuthor(author: AuthorRef, now: Date): Promise<ErasureResult> {
    return this.#enqueue((): ErasureResult => {
      const db = this.#db;
      const s = this.#stmts;
      type Row = { site_id: string; id: string; post_id: number; deleted: number };
      // Deepest first, so an author's replies to themselves go before the comment they answer.
      const order = 'ORDER BY depth DESC, seq DESC';
      const rows =
        'userId' in author
          ? db.prepare<[string], Row>(`SELECT site_id, id, post_id, deleted FROM comments WHERE user_id = ? ${order}`).all(author.userId)
          : db
              .prepare<[string, string], Row>(
                `SELECT site_id, id, post_id, deleted FROM comments
                 WHERE site_id = ? AND user_id IS NULL AND lower(author_email) = ? ${order}`,
              )
              .all(author.siteId, author.email.toLowerCase());
      const empty = db.prepare<[number, string, string]>(`
        UPDATE comments SET deleted = 1, edited = ?, body = '', author_name = '', author_email = NULL,
          author_website = NULL, edit_token_hash = NULL, original_html = NULL, author_picture = NULL, user_id = NULL,
          author_ip = NULL
        WHERE site_id = ? AND id = ?`);
      const unlike = db.prepare<[number, string]>('DELETE FROM likes WHERE post_id = ? AND target = ?');
      const result: ErasureResult = { removed: 0, emptied: 0, likes: 0, sessions: 0, user: false };
      const posts = new Set<number>();
      for (const row of rows) {
        posts.add(row.post_id);
        if (s.hasReplies.get(row.site_id, row.id)) {
          empty.run(now.getTime(), row.site_id, row.id);
          if (!row.deleted) result.emptied += 1;
        } else {
          unlike.run(row.post_id, row.id); // likes of a comment that is gone
          s.removeComment.run(row.site_id, row.id);
          result.removed += 1;
        }
      }
      for (const post of posts) this.#bumpPost(post);
      if ('userId' in author) {
        db.prepare<[string]>('DELETE FROM reply_subscriptions WHERE user_id = ?').run(author.userId);
        db.prepare<[string]>('DELETE FROM owner_mail_settings WHERE user_id = ?').run(author.userId);
      }
      else {
        db.prepare<[string, string]>('DELETE FROM reply_subscriptions WHERE site_id = ? AND user_id IS NULL AND lower(email) = ?').run(
          author.siteId,
          author.email.toLowerCase(),
        );
      }
      if ('userId' in author) {
        const id = author.userId;
        result.likes = db.prepare<[string]>('DELETE FROM likes WHERE liker = ?').run(`user:${id}`).changes;
        result.sessions = db.prepare<[string]>('DELETE FROM sessions WHERE user_id = ?').run(id).changes;
        db.prepare<[string]>('DELETE FROM reblogs WHERE user_id = ?').run(id); // their responses went with their comments
        db.prepare<[string]>('DELETE FROM site_owners WHERE user_id = ?').run(id);
        db.prepare<[string]>('DELETE FROM one_time_codes WHERE user_id = ?').run(id);
        db.prepare<[string]>('DELETE FROM reports WHERE reporter = ?').run(`user:${id}`);
        result.user = db.prepare<[string]>('DELETE FROM users WHERE id = ?').run(id).changes > 0;
      }
      return result;
    });
  }

  // --- reblogs --------------------------------------------------------------------------------

  async createReblog(reblog: Reblog, response: NewComment | null): Promise<ReblogResult> {
    const result = await this.#enqueue((): ReblogResult => {
      const taken = this.#db.prepare('SELECT 1 FROM reblogs WHERE site_id = ? AND post_url = ?').get(reblog.siteId, reblog.postUrl);
      if (taken) return { ok: false, reason: 'already_reblogged' };
      let stored: StoredComment | null = null;
      if (response) {
        const created = this.#insertComment(response, 1);
        if (!created.ok) throw new Error(`reblog response not stored: ${created.reason}`);
        stored = created.comment;
      }
      const r = reblog;
      this.#db
        .prepare(
          `INSERT INTO reblogs (site_id, id, post_url, title, excerpt, commentary, user_id, author_name, author_url,
             created, response_site_id, response_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          r.siteId, r.id, r.postUrl, r.title, r.excerpt, r.commentary, r.userId, r.authorName, r.authorUrl,
          r.created.getTime(), response?.siteId ?? null, response?.id ?? null,
        );
      return { ok: true, reblog: { ...r, responseSiteId: response?.siteId ?? null, responseId: response?.id ?? null }, response: stored };
    });
    if (result.ok && result.response) {
      const event = { siteId: result.response.siteId, commentId: result.response.id, seq: result.response.seq };
      for (const listener of this.#listeners) listener(event);
    }
    return result;
  }

  async getReblog(siteId: string, id: string): Promise<Reblog | null> {
    const row = this.#db.prepare<[string, string], ReblogRow>('SELECT * FROM reblogs WHERE site_id = ? AND id = ?').get(siteId, id);
    return row ? toReblog(row) : null;
  }

  async findReblog(siteId: string, postUrl: string): Promise<Reblog | null> {
    const row = this.#db.prepare<[string, string], ReblogRow>('SELECT * FROM reblogs WHERE site_id = ? AND post_url = ?').get(siteId, postUrl);
    return row ? toReblog(row) : null;
  }

  async listReblogs(siteId: string, limit: number): Promise<Reblog[]> {
    return this.#db
      .prepare<[string, number], ReblogRow>('SELECT * FROM reblogs WHERE site_id = ? ORDER BY created DESC, rowid DESC LIMIT ?')
      .all(siteId, limit)
      .map(toReblog);
  }

  deleteReblog(siteId: string, id: string, now: Date): Promise<Reblog | null> {
    return this.#enqueue(() => {
      const row = this.#db.prepare<[string, string], ReblogRow>('DELETE FROM reblogs WHERE site_id = ? AND id = ? RETURNING *').get(siteId, id);
      if (!row) return null;
      const s = this.#stmts;
      const response = row.response_site_id && row.response_id ? s.comment.get(row.response_site_id, row.response_id) : undefined;
      if (response && !response.deleted) {
        if (s.hasReplies.get(response.site_id, response.id)) {
          s.emptyComment.run(now.getTime(), response.site_id, response.id);
          // Kept for its replies, it no longer says "Reblogged this on" nor links to the gone reblog.
          this.#db
            .prepare("UPDATE comments SET kind = 'comment', reblog_blog_name = NULL, reblog_url = NULL WHERE site_id = ? AND id = ?")
            .run(response.site_id, response.id);
        } else s.removeComment.run(response.site_id, response.id);
        this.#bumpPost(response.post_id);
      }
      return toReblog(row);
    });
  }

  async reblogCount(siteId: string, postUrl: string): Promise<number> {
    return this.#db
      .prepare<[string, string], { count: number }>(
        `SELECT count(*) AS count FROM comments c JOIN posts p ON p.id = c.post_id
         WHERE p.site_id = ? AND p.url = ? AND c.kind = 'reblog' AND c.status = 'published' AND c.deleted = 0`,
      )
      .get(siteId, postUrl)!.count;
  }

  async sitesOwnedBy(userId: string): Promise<Site[]> {
    return this.#db
      .prepare<[string], SiteRow>('SELECT s.* FROM sites s JOIN site_owners o ON o.site_id = s.id WHERE o.user_id = ? ORDER BY s.name, s.id')
      .all(userId)
      .map(toSite);
  }

  // --- moderation -----------------------------------------------------------------------------

  async moderationSettings(siteId: string, postUrl: string | null): Promise<ModerationSettings> {
    // Read on every new comment (twice): a prepared statement, not one prepared per call.
    const row = this.#stmts.moderationSettings.get(siteId, postUrl ?? '');
    return row ? { policy: row.policy, maxLinks: row.max_links, closed: row.closed === 1 } : { ...NO_MODERATION_SETTINGS };
  }

  putModerationSettings(siteId: string, postUrl: string | null, settings: ModerationSettings): Promise<void> {
    return this.#enqueue(() => {
      this.#db
        .prepare<[string, string, string | null, number | null, number]>(
          `INSERT INTO moderation_settings (site_id, post_url, policy, max_links, closed) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (site_id, post_url) DO UPDATE SET
             policy = excluded.policy, max_links = excluded.max_links, closed = excluded.closed`,
        )
        .run(siteId, postUrl ?? '', settings.policy, settings.maxLinks, settings.closed ? 1 : 0);
      if (postUrl === null) return;
      const post = this.#stmts.post.get(siteId, postUrl) ?? this.#stmts.insertPost.get(siteId, postUrl, null, Date.now())!;
      this.#bumpPost(post.id);
    });
  }

  async hasPublishedComment(siteId: string, author: { userId: string | null; email: string | null }): Promise<boolean> {
    const row = author.userId
      ? this.#db
          .prepare("SELECT 1 FROM comments WHERE site_id = ? AND user_id = ? AND status = 'published' LIMIT 1")
          .get(siteId, author.userId)
      : author.email
        ? this.#db
            .prepare("SELECT 1 FROM comments WHERE site_id = ? AND lower(author_email) = lower(?) AND status = 'published' LIMIT 1")
            .get(siteId, author.email)
        : undefined;
    return row !== undefined;
  }

  async listForModeration(q: ModerationQuery): Promise<StoredComment[]> {
    const where = ['c.site_id = ?'];
    const params: (string | number)[] = [q.siteId];
    if (q.status) {
      where.push('c.status = ?', 'c.spam = ?');
      params.push(dbStatus(q.status), q.status === 'spam' ? 1 : 0);
    }
    if (q.postUrl) {
      where.push('p.url = ?');
      params.push(q.postUrl);
    }
    if (q.search) {
      const like = (column: string) => `${column} LIKE ? ESCAPE '\\'`;
      where.push(`(${['c.body', 'c.author_name', 'c.author_email', 'p.url'].map(like).join(' OR ')})`);
      const pattern = containsPattern(q.search);
      params.push(pattern, pattern, pattern, pattern);
    }
    const reports = '(SELECT count(*) FROM reports r WHERE r.site_id = c.site_id AND r.comment_id = c.id)';
    if (q.reported) where.push('c.deleted = 0', `${reports} > 0`);
    else if (q.beforeSeq !== null) {
      where.push('c.seq < ?');
      params.push(q.beforeSeq);
    }
    params.push(q.limit);
    return this.#db
      .prepare<(string | number)[], CommentRow>(
        `SELECT ${COMMENT_COLUMNS} FROM comments c JOIN posts p ON p.id = c.post_id
         WHERE ${where.join(' AND ')} ORDER BY ${q.reported ? `${reports} DESC, ` : ''}c.seq DESC LIMIT ?`,
      )
      .all(...params)
      .map(toComment);
  }

  async setCommentStatus(siteId: string, id: string, status: CommentStatus): Promise<StoredComment | null> {
    const result = await this.#enqueue(() => {
      const s = this.#stmts;
      const existing = s.comment.get(siteId, id);
      if (!existing) return null;
      this.#db
        .prepare<[string, number, string, string]>('UPDATE comments SET status = ?, spam = ? WHERE site_id = ? AND id = ?')
        .run(dbStatus(status), status === 'spam' ? 1 : 0, siteId, id);
      this.#bumpPost(existing.post_id);
      return { before: toComment(existing).status, comment: toComment(s.comment.get(siteId, id)!) };
    });
    if (!result) return null;
    if (status === 'published' && result.before !== 'published') {
      const event = { siteId, commentId: id, seq: result.comment.seq };
      for (const listener of this.#listeners) listener(event);
    }
    return result.comment;
  }

  /** Gives a post a fresh version (a new value from the comment sequence). */
  #bumpPost(postId: number): void {
    const next = this.#stmts.nextSeq.get();
    if (next) this.#stmts.bumpPost.run(next.seq, postId);
  }

  // --- reports --------------------------------------------------------------------------------

  addReport(report: NewReport): Promise<boolean> {
    return this.#enqueue(
      () =>
        this.#db
          .prepare<[string, string, string, string | null, number]>(
            'INSERT OR IGNORE INTO reports (site_id, comment_id, reporter, reason, created) VALUES (?, ?, ?, ?, ?)',
          )
          .run(report.siteId, report.commentId, report.reporterKey, report.reason, report.created.getTime()).changes > 0,
    );
  }

  async reportSummaries(siteId: string, commentIds: string[], reasons: number): Promise<Map<string, ReportSummary>> {
    const summaries = new Map<string, ReportSummary>();
    if (!commentIds.length) return summaries;
    const rows = this.#db
      .prepare<(string | number)[], { comment_id: string; count: number; reason: string | null; created: number; rank: number }>(
        `SELECT comment_id, count(*) OVER w AS count, reason, created,
           row_number() OVER (PARTITION BY comment_id ORDER BY reason IS NULL, created DESC, rowid DESC) AS rank
         FROM reports WHERE site_id = ? AND comment_id IN (${commentIds.map(() => '?').join(', ')})
         WINDOW w AS (PARTITION BY comment_id)`,
      )
      .all(siteId, ...commentIds);
    for (const row of rows) {
      const summary = summaries.get(row.comment_id) ?? { count: row.count, reasons: [] };
      summaries.set(row.comment_id, summary);
      if (row.reason !== null && row.rank <= reasons) summary.reasons.push({ reason: row.reason, created: new Date(row.created) });
    }
    for (const summary of summaries.values()) summary.reasons.sort((a, b) => b.created.getTime() - a.created.getTime());
    return summaries;
  }

  dismissReports(siteId: string, commentIds: string[]): Promise<number> {
    return this.#enqueue(() => {
      const remove = this.#db.prepare<[string, string]>('DELETE FROM reports WHERE site_id = ? AND comment_id = ?');
      return commentIds.reduce((n, id) => n + remove.run(siteId, id).changes, 0);
    });
  }

  purgeReports(before: Date): Promise<void> {
    return this.#enqueue(() => {
      this.#db
        .prepare<[number]>(`UPDATE reports SET reporter = 'forgotten:' || rowid WHERE reporter LIKE 'guest:%' AND created < ?`)
        .run(before.getTime());
      this.#db.exec(
        'DELETE FROM reports WHERE NOT EXISTS (SELECT 1 FROM comments c WHERE c.site_id = reports.site_id AND c.id = reports.comment_id AND c.deleted = 0)',
      );
    });
  }

  purgeCommentChanges(before: Date): Promise<number> {
    return this.#enqueue(
      () =>
        this.#db.prepare<[number]>('DELETE FROM comment_changes WHERE created < ?').run(before.getTime()).changes +
        this.#db.prepare<[number]>('DELETE FROM like_changes WHERE created < ?').run(before.getTime()).changes,
    );
  }

  // --- owner tools ----------------------------------------------------------------------------

  addBlock(block: Block): Promise<boolean> {
    return this.#enqueue(
      () =>
        this.#db
          .prepare<[string, string, string, string, string | null, number]>(
            'INSERT OR IGNORE INTO blocks (site_id, key, kind, value, label, created) VALUES (?, ?, ?, ?, ?, ?)',
          )
          .run(block.siteId, `${block.kind}:${block.value}`, block.kind, block.value, block.label, block.created.getTime()).changes > 0,
    );
  }

  removeBlock(siteId: string, kind: BlockKind, value: string): Promise<boolean> {
    return this.#enqueue(
      () => this.#db.prepare<[string, string]>('DELETE FROM blocks WHERE site_id = ? AND key = ?').run(siteId, `${kind}:${value}`).changes > 0,
    );
  }

  async listBlocks(siteId: string, limit: number): Promise<Block[]> {
    return this.#db
      .prepare<[string, number], { kind: BlockKind; value: string; label: string | null; created: number }>(
        'SELECT kind, value, label, created FROM blocks WHERE site_id = ? ORDER BY created DESC, rowid DESC LIMIT ?',
      )
      .all(siteId, limit)
      .map((row) => ({ siteId, kind: row.kind, value: row.value, label: row.label, created: new Date(row.created) }));
  }

  async isBlocked(siteId: string, keys: { kind: BlockKind; value: string }[]): Promise<boolean> {
    // Read on every new comment: prepared statements, and most sites block no one.
    if (!keys.length || !this.#stmts.anyBlock.get(siteId)) return false;
    return this.#stmts.isBlocked.get(siteId, JSON.stringify(keys.map((k) => `${k.kind}:${k.value}`))) !== undefined;
  }

  setPinned(siteId: string, id: string, pinned: boolean, maxPerPost: number, now: Date): Promise<PinResult> {
    return this.#enqueue((): PinResult => {
      const s = this.#stmts;
      const existing = s.comment.get(siteId, id);
      if (!existing || existing.deleted || existing.status !== 'published' || existing.spam) return 'not_found';
      if (existing.parent_id !== null) return 'not_top_level';
      if (pinned && existing.pinned === null) {
        const { count } = this.#db
          .prepare<[number], { count: number }>('SELECT count(*) AS count FROM comments WHERE post_id = ? AND pinned IS NOT NULL')
          .get(existing.post_id)!;
        if (count >= maxPerPost) return 'too_many';
      }
      if (pinned !== (existing.pinned !== null)) {
        this.#db
          .prepare<[number | null, string, string]>('UPDATE comments SET pinned = ? WHERE site_id = ? AND id = ?')
          .run(pinned ? now.getTime() : null, siteId, id);
        this.#bumpPost(existing.post_id);
      }
      return toComment(s.comment.get(siteId, id)!);
    });
  }

  async spamSettings(siteId: string): Promise<SpamSettings> {
    const row = this.#stmts.spamSettings.get(siteId);
    return row
      ? { ipRetentionDays: row.ip_retention_days, akismetKey: row.akismet_key, akismetBlog: row.akismet_blog }
      : { ...NO_SPAM_SETTINGS };
  }

  putSpamSettings(siteId: string, settings: SpamSettings): Promise<void> {
    return this.#enqueue(() => {
      this.#db
        .prepare<[string, number | null, string | null, string | null]>(
          `INSERT INTO moderation_settings (site_id, post_url, ip_retention_days, akismet_key, akismet_blog) VALUES (?, '', ?, ?, ?)
           ON CONFLICT (site_id, post_url) DO UPDATE SET
             ip_retention_days = excluded.ip_retention_days, akismet_key = excluded.akismet_key, akismet_blog = excluded.akismet_blog`,
        )
        .run(siteId, settings.ipRetentionDays, settings.akismetKey, settings.akismetBlog);
    });
  }

  purgeAddresses(now: Date, defaultDays: number): Promise<number> {
    return this.#enqueue(
      () =>
        this.#db
          .prepare<[number, number]>(
            `UPDATE comments SET author_ip = NULL WHERE author_ip IS NOT NULL AND created <= ? - 86400000 * coalesce(
               (SELECT m.ip_retention_days FROM moderation_settings m WHERE m.site_id = comments.site_id AND m.post_url = ''), ?)`,
          )
          .run(now.getTime(), defaultDays).changes,
    );
  }

  async eventsHead(siteId: string): Promise<number> {
    return this.#stmts.eventsHead.get(siteId, siteId, siteId)!.seq;
  }

  async commentChanges(siteId: string, afterSeq: number, limit: number): Promise<CommentChange[]> {
    return this.#stmts.changes.all(siteId, afterSeq, limit).map((row) => ({
      siteId,
      commentId: row.comment_id,
      seq: row.seq,
      change: row.change,
      postUrl: row.post_url,
      created: new Date(row.created),
    }));
  }

  /**
   * After an edit or delete: gives the post a fresh version (a new value from the comment
   * sequence) and, for a published comment, keeps the change for live replay under that value.
   */
  #changed(before: CommentRow, change: CommentChange['change'], now: Date): CommentEvent | undefined {
    const next = this.#stmts.nextSeq.get();
    if (!next) return undefined;
    this.#stmts.bumpPost.run(next.seq, before.post_id);
    if (before.status !== 'published') return undefined;
    this.#stmts.insertChange.run(next.seq, before.site_id, before.id, before.post_url, change, now.getTime());
    return { siteId: before.site_id, commentId: before.id, seq: next.seq, change, postUrl: before.post_url };
  }

  /** Tells the listeners (after the commit). */
  #announce(event: CommentEvent | undefined): void {
    if (event) for (const listener of this.#listeners) listener(event);
  }

  // --- jobs -----------------------------------------------------------------------------------

  enqueueJob(job: NewJob, now: Date): Promise<number | null> {
    return this.#enqueue(() => {
      const row = this.#db
        .prepare<[string, string, number, number, string | null, number], { id: number }>(
          `INSERT INTO jobs (kind, payload, state, run_at, max_attempts, dedupe_key, created)
           VALUES (?, ?, 'queued', ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
        )
        .get(job.kind, JSON.stringify(job.payload ?? null), job.runAt.getTime(), job.maxAttempts ?? 8, job.dedupeKey ?? null, now.getTime());
      return row?.id ?? null;
    });
  }

  claimJobs(now: Date, leaseMs: number, limit: number): Promise<QueuedJob[]> {
    // Inside the write batch (an IMMEDIATE transaction): no other claim interleaves.
    return this.#enqueue(() =>
      this.#db
        .prepare<[{ lease: number; now: number; limit: number }], JobRow>(
          `UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = @lease
           WHERE id IN (SELECT id FROM jobs
                        WHERE (state = 'queued' AND run_at <= @now) OR (state = 'running' AND lease_until <= @now)
                        ORDER BY run_at, id LIMIT @limit)
           RETURNING *`,
        )
        .all({ lease: now.getTime() + leaseMs, now: now.getTime(), limit })
        .map(toJob)
        .sort((a, b) => a.runAt.getTime() - b.runAt.getTime() || a.id - b.id),
    );
  }

  completeJob(id: number, attempt: number, now: Date): Promise<boolean> {
    return this.#enqueue(
      () =>
        this.#db
          .prepare<[number, number, number]>(
            `UPDATE jobs SET state = 'done', finished = ?, lease_until = NULL WHERE id = ? AND attempts = ? AND state = 'running'`,
          )
          .run(now.getTime(), id, attempt).changes > 0,
    );
  }

  failJob(id: number, attempt: number, error: string, retryAt: Date | null, now: Date): Promise<boolean> {
    return this.#enqueue(
      () =>
        this.#db
          .prepare<[string, number | null, number | null, string, number, number]>(
            `UPDATE jobs SET state = ?, run_at = coalesce(?, run_at), finished = ?, last_error = ?, lease_until = NULL
             WHERE id = ? AND attempts = ? AND state = 'running'`,
          )
          .run(retryAt ? 'queued' : 'dead', retryAt?.getTime() ?? null, retryAt ? null : now.getTime(), error.slice(0, 2000), id, attempt)
          .changes > 0,
    );
  }

  async getJob(id: number): Promise<QueuedJob | null> {
    const row = this.#db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE id = ?').get(id);
    return row ? toJob(row) : null;
  }

  async listJobs(state: JobState, limit: number): Promise<QueuedJob[]> {
    return this.#db.prepare<[string, number], JobRow>('SELECT * FROM jobs WHERE state = ? ORDER BY id LIMIT ?').all(state, limit).map(toJob);
  }

  purgeJobs(before: Date): Promise<number> {
    return this.#enqueue(
      () => this.#db.prepare<[number]>(`DELETE FROM jobs WHERE state IN ('done', 'dead') AND finished < ?`).run(before.getTime()).changes,
    );
  }

  // --- notifications --------------------------------------------------------------------------

  createSubscription(sub: NewSubscription): Promise<void> {
    return this.#enqueue(() => {
      this.#db
        .prepare<[string, string, string, string, string | null, string, number, number]>(
          `INSERT INTO reply_subscriptions (id, site_id, comment_id, email, user_id, active, confirm_hash, confirm_expires, created)
           VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)`,
        )
        .run(sub.id, sub.siteId, sub.commentId, sub.email, sub.userId, sub.confirmHash, sub.confirmExpires.getTime(), sub.created.getTime());
    });
  }

  confirmSubscription(confirmHash: string, now: Date): Promise<Subscription | null> {
    return this.#enqueue(() => {
      const row = this.#db
        .prepare<[string, number], SubscriptionRow>(
          `UPDATE reply_subscriptions SET active = 1, confirm_hash = NULL, confirm_expires = NULL
           WHERE confirm_hash = ? AND confirm_expires > ? RETURNING ${SUBSCRIPTION_COLUMNS}`,
        )
        .get(confirmHash, now.getTime());
      return row ? toSubscription(row) : null;
    });
  }

  async getSubscription(id: string): Promise<Subscription | null> {
    const row = this.#db.prepare<[string], SubscriptionRow>(`SELECT ${SUBSCRIPTION_COLUMNS} FROM reply_subscriptions WHERE id = ?`).get(id);
    return row ? toSubscription(row) : null;
  }

  deleteSubscription(id: string): Promise<boolean> {
    return this.#enqueue(() => this.#db.prepare<[string]>('DELETE FROM reply_subscriptions WHERE id = ?').run(id).changes > 0);
  }

  async replySubscriptions(siteId: string, commentId: string): Promise<Subscription[]> {
    return this.#db
      .prepare<[string, string], SubscriptionRow>(
        `SELECT ${SUBSCRIPTION_COLUMNS} FROM reply_subscriptions WHERE site_id = ? AND comment_id = ? AND active = 1 ORDER BY created, id`,
      )
      .all(siteId, commentId)
      .map(toSubscription);
  }

  purgeSubscriptions(now: Date): Promise<void> {
    return this.#enqueue(() => {
      this.#db.prepare<[number]>('DELETE FROM reply_subscriptions WHERE active = 0 AND confirm_expires <= ?').run(now.getTime());
    });
  }

  async ownerMailSettings(siteId: string, userId: string): Promise<OwnerMailSettings> {
    const row = this.#db
      .prepare<[string, string], { comments: OwnerMailSettings['comments']; held: number }>(
        'SELECT comments, held FROM owner_mail_settings WHERE site_id = ? AND user_id = ?',
      )
      .get(siteId, userId);
    return row ? { comments: row.comments, held: row.held === 1 } : { ...DEFAULT_OWNER_MAIL };
  }

  putOwnerMailSettings(siteId: string, userId: string, settings: OwnerMailSettings): Promise<void> {
    return this.#enqueue(() => {
      this.#db
        .prepare<[string, string, string, number]>(
          `INSERT INTO owner_mail_settings (site_id, user_id, comments, held) VALUES (?, ?, ?, ?)
           ON CONFLICT (site_id, user_id) DO UPDATE SET comments = excluded.comments, held = excluded.held`,
        )
        .run(siteId, userId, settings.comments, settings.held ? 1 : 0);
    });
  }

  async siteOwners(siteId: string): Promise<User[]> {
    return this.#db
      .prepare<[string], UserRow>('SELECT u.* FROM site_owners o JOIN users u ON u.id = o.user_id WHERE o.site_id = ? ORDER BY u.created, u.id')
      .all(siteId)
      .map(toUser);
  }

  async publishedBetween(siteId: string, from: Date, to: Date, limit: number): Promise<StoredComment[]> {
    return this.#db
      .prepare<[string, number, number, number], CommentRow>(
        `SELECT ${COMMENT_COLUMNS} FROM comments c JOIN posts p ON p.id = c.post_id
         WHERE c.site_id = ? AND c.status = 'published' AND c.deleted = 0 AND c.created >= ? AND c.created < ?
         ORDER BY c.created, c.seq LIMIT ?`,
      )
      .all(siteId, from.getTime(), to.getTime(), limit)
      .map(toComment);
  }

  get #stmts(): ReturnType<typeof prepareStatements> {
    return (this.#statements ??= prepareStatements(this.#db));
  }

  /** Queues a write for the next batch; settles after that batch commits (or fails). */
  #enqueue<T>(work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      let result: T;
      this.#queue.push({
        run: () => {
          result = work();
        },
        done: () => resolve(result),
        fail: reject,
      });
      // Flush on the next turn, after every caller of this turn has queued its write.
      this.#flushTimer ??= setImmediate(() => this.#onFlushTimer());
    });
  }

  /** Flushes one batch per event-loop turn, so reads are served between batches. */
  #onFlushTimer(): void {
    this.#flushTimer = undefined;
    this.#flushBatch();
    if (this.#queue.length > 0) this.#flushTimer = setImmediate(() => this.#onFlushTimer());
  }

  /** Commits up to MAX_BATCH queued jobs in one transaction, then settles their callers. */
  #flushBatch(): void {
    const jobs = this.#queue.splice(0, MAX_BATCH);
    const failures = new Map<Job, unknown>();
    try {
      this.#runBatch.immediate(jobs, failures);
    } catch (error) {
      for (const job of jobs) job.fail(error); // the COMMIT itself failed: nothing was stored
      return;
    }
    for (const job of jobs) {
      if (failures.has(job)) job.fail(failures.get(job));
      else job.done();
    }
  }
}

