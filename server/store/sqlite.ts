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
  encodeCursor,
  orderThreads,
  storedComment,
  parsePageQuery,
  type CommentListener,
  type CreateResult,
  type ExportedComment,
  type NewComment,
  type Post,
  type Site,
  type Store,
  type StoredComment,
  type ThreadPage,
  type ThreadPageQuery,
  type ThreadStamp,
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
];

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
}

/** A queued write: `run` inside the batch transaction, then exactly one of `done`/`fail`. */
interface Job {
  run(): void;
  done(): void;
  fail(error: unknown): void;
}

const COMMENT_COLUMNS = `c.seq, c.site_id, c.id, c.post_id, p.url AS post_url, c.parent_id, c.root_id,
  c.depth, c.kind, c.status, c.author_name, c.author_email, c.author_website, c.avatar, c.body,
  c.created, c.reblog_blog_name, c.reblog_url, c.request_hash, c.original_html`;

/** Prepares every statement the store runs (after the schema exists). */
function prepareStatements(db: Database.Database) {
  const pageSql = (where: string) => `
    SELECT ${COMMENT_COLUMNS} FROM comments c JOIN posts p ON p.id = c.post_id
    WHERE c.post_id = ? AND c.parent_id IS NULL AND c.status = 'published' ${where}
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
        string | null,
      ],
      { seq: number }
    >(`
      INSERT INTO comments (site_id, id, post_id, parent_id, root_id, depth, kind, status,
        author_name, author_email, author_website, avatar, body, created, reblog_blog_name,
        reblog_url, request_hash, original_html)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      RETURNING seq`),
    exportPage: db.prepare<[string, number, number], CommentRow & { post_title: string | null }>(`
      SELECT ${COMMENT_COLUMNS}, p.title AS post_title FROM comments c JOIN posts p ON p.id = c.post_id
      WHERE c.site_id = ? AND c.seq > ? ORDER BY c.seq LIMIT ?`),
    newestThreads: db.prepare<[number, number], CommentRow>(pageSql('')),
    olderThreads: db.prepare<[number, number, number, number], CommentRow>(
      pageSql('AND (c.created, c.seq) < (?, ?)'),
    ),
    replies: db.prepare<[number, string], CommentRow>(`
      SELECT ${COMMENT_COLUMNS} FROM comments c JOIN posts p ON p.id = c.post_id
      WHERE c.post_id = ? AND c.root_id IN (SELECT value FROM json_each(?))
        AND c.parent_id IS NOT NULL AND c.status = 'published'`),
    totals: db.prepare<[number, number], { total: number; version: number }>(`
      SELECT
        (SELECT count(*) FROM comments WHERE post_id = ? AND status = 'published') AS total,
        (SELECT coalesce(max(seq), 0) FROM comments WHERE post_id = ?) AS version`),
  };
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
    status: row.status,
    authorName: row.author_name,
    authorEmail: row.author_email,
    authorWebsite: row.author_website,
    avatar: row.avatar,
    body: row.body,
    created: new Date(row.created),
    reblogBlogName: row.reblog_blog_name,
    reblogUrl: row.reblog_url,
    seq: row.seq,
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
    return post ? this.#stmts.totals.get(post.id, post.id)! : { total: 0, version: 0 };
  }

  async exportComments(siteId: string, afterSeq: number, limit: number): Promise<ExportedComment[]> {
    return this.#stmts.exportPage
      .all(siteId, afterSeq, limit)
      .map((row) => ({
        ...toComment(row),
        postTitle: row.post_title,
        requestHash: row.request_hash,
        originalHtml: row.original_html,
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
      const replies = s.replies.all(postRow.id, JSON.stringify(page.map((c) => c.id))).map(toComment);
      const { total, version } = s.totals.get(postRow.id, postRow.id)!;
      const comments = orderThreads(page.reverse(), replies);
      return { post: toPost(postRow), total, comments, older, version };
    })();
  }

  async createComment(input: NewComment, maxDepth: number): Promise<CreateResult> {
    const result = await this.#enqueue(() => this.#insertComment(input, maxDepth));
    if (result.ok && !result.replayed) {
      const event = { siteId: input.siteId, commentId: input.id, seq: result.comment.seq };
      for (const listener of this.#listeners) listener(event);
    }
    return result;
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
      input.siteId, input.id, post.id, input.parentId, rootId, depth, input.kind, input.status,
      input.authorName, input.authorEmail, input.authorWebsite, input.avatar, input.body,
      input.created.getTime(), input.reblogBlogName, input.reblogUrl, input.requestHash,
      input.originalHtml ?? null,
    )!;
    return { ok: true, comment: storedComment(input, depth, seq), replayed: false };
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

