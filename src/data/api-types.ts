/**
 * The wire format of the blogtalk HTTP API (`/api/v1`), shared by the widget and the
 * reference server. Types only: nothing here exists at run time.
 */

/** How a response came to be: a comment typed in the composer, or a reblog of the post. */
export type CommentKind = 'comment' | 'reblog';

/**
 * `published` is shown to everyone; `pending` waits for moderation (shown only to its writer);
 * `spam` is kept for the owner's queue and never shown.
 */
export type CommentStatus = 'published' | 'pending' | 'spam';

export interface CommentAuthor {
  name: string;
  /** The author's own site (http or https only), or null. */
  website: string | null;
  /**
   * Hex seed for a generated avatar: a salted HMAC of the email address, never the address
   * nor a plain hash of it.
   */
  avatar: string;
  /** Only for a signed-in author: their pseudonym on this site (the session's `user.author`). */
  user?: string;
  /** Only for a signed-in author with a provider picture: a path on the comment server that serves it. */
  picture?: string;
}

/** Where a reblog was made; only set when `kind` is `reblog`. */
export interface ReblogSource {
  /** The reblogging blog's name, e.g. "World Peace Forum". */
  blogName: string;
  /** The reblog post's URL (http or https). */
  url: string;
}

export interface Comment {
  /** The client-generated id (also its idempotency key), or a server-made one for imports. */
  id: string;
  /** Canonical URL of the post it belongs to. */
  post: string;
  /** The comment it replies to, or null for a top-level response. */
  parent: string | null;
  /** 0 for a top-level response, parent's depth + 1 for a reply. */
  depth: number;
  kind: CommentKind;
  status: CommentStatus;
  author: CommentAuthor;
  /**
   * Plain text: paragraphs and line breaks are kept, nothing is HTML. For a reblog, the
   * reblogger's optional commentary (the "Reblogged this on …" line comes from `reblog`).
   */
  body: string;
  /** ISO 8601 time the server stored it. */
  created: string;
  reblog: ReblogSource | null;
  /** ISO 8601 time its author last edited it, if ever. */
  edited?: string;
  /** Deleted by its author but kept for its replies: `body` is "This comment was deleted." */
  deleted?: boolean;
}

/** `GET /api/v1/comments?post=…&page-size=…&before=…` */
export interface CommentPage {
  post: {
    url: string;
    /** Title given when the first comment was made, or null if the post has none yet. */
    title: string | null;
  };
  /** Number of published responses on the post (all pages, replies included). */
  total: number;
  /**
   * One page of threads: top-level responses oldest first, each followed by its replies
   * (depth-first, oldest first).
   */
  comments: Comment[];
  /** Pass as `before` to load the previous (older) page; null when this is the oldest. */
  older: string | null;
  /** Seconds after posting during which an author may edit or delete their comment. */
  editWindow?: number;
  /** True when the post takes no new comments (present only then). */
  closed?: boolean;
  /** The live stream's event id this page is current up to: open the stream from it. */
  events?: number;
}

/** `POST /api/v1/comments` with header `Idempotency-Key: <id>`. */
export interface NewCommentRequest {
  /** The post's URL; the server canonicalises it. */
  post: string;
  /** The page's title, stored when this comment creates the post record. */
  pageTitle?: string;
  /** Id of the comment replied to (same post), or null/absent. */
  parent?: string | null;
  /** Guests only: a signed-in writer sends none (the session cookie says who). */
  author?: {
    name: string;
    /** Required for guests, never shown to anyone. */
    email: string;
    website?: string;
  };
  body: string;
  /** Guests: a random secret made by the browser; only its SHA-256 is stored, and it allows edits. */
  editToken?: string;
  /** The composer's hidden field, which people leave empty (spam check). */
  honeypot?: string;
  /** Milliseconds from focusing the composer to sending (queueing) it; a very quick one waits for moderation. */
  writingMs?: number;
  /** Email replies to this comment to its writer, once they confirm by email (servers that send email only). */
  subscribe?: boolean;
}

/** Every error response. */
export interface ApiError {
  error: {
    /** Stable machine-readable code, e.g. `body_too_long`, `unknown_site`, `idempotency_mismatch`. */
    code: string;
    /** A sentence for the writer. */
    message: string;
  };
}

/** Someone who likes a post or a comment, as shown in "N bloggers like this". */
export interface Liker {
  name: string;
  /** Hex seed of the generated avatar. */
  avatar: string;
  /** The provider's picture, or null. */
  picture: string | null;
  /** Their site (http or https), or null. */
  website: string | null;
}

/** `GET /api/v1/likes?post=…&comment=…`, and the answer to `POST /api/v1/likes` `{post, comment?, liked}`. */
export interface LikeSummary {
  count: number;
  /** The newest likers, at most 20: the rest are "+ N more". */
  likers: Liker[];
  /** Whether the signed-in reader (the session cookie) likes it. */
  liked: boolean;
}

/** `GET /api/v1/likes?post=…`: the post's likes, and every liked comment's count in the same answer. */
export interface PostLikes extends LikeSummary {
  comments: { id: string; count: number; liked: boolean }[];
}
