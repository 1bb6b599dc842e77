/**
 * What the elements need from a comment service, and nothing more. The blogtalk server is the
 * first implementation (`http-backend.ts`); a WordPress REST API one can follow, so keep this
 * narrow and in domain terms — no URLs, no HTTP.
 */
import type { Comment, CommentPage, LikeSummary, NewCommentRequest, PostLikes } from './api-types.js';

export interface ListOptions {
  /** Top-level threads per page. */
  pageSize?: number;
  /** Cursor from a previous page's `older`: load the page before it. */
  before?: string | null;
  signal?: AbortSignal;
}

export interface Backend {
  /** One page of a post's threads: the newest page, or the one before `before`. */
  list(post: string, options?: ListOptions): Promise<CommentPage>;
  /**
   * Stores a comment once per `idempotencyKey`: sending the same key and request again returns
   * the first result instead of a duplicate.
   */
  post(request: NewCommentRequest, idempotencyKey: string, signal?: AbortSignal): Promise<Comment>;
  /**
   * Changes the writer's own comment within the edit window: the signed-in author (by session),
   * or the guest holding `editToken`. A new `body` edits (resolves with the changed comment);
   * none deletes (resolves `removed`, or `emptied` when replies keep it as "deleted").
   * Optional: a service without it offers no Edit/Delete.
   */
  change?(post: string, id: string, body: string | null, editToken?: string): Promise<Comment | 'removed' | 'emptied'>;
  /**
   * Who likes a post, and how many like each of its comments, in one call (never one per
   * comment). A backend without it shows no likes.
   */
  likes?(post: string, signal?: AbortSignal): Promise<PostLikes>;
  /** Likes (`liked`) or unlikes a post or comment as the signed-in reader; the summary after it. */
  like?(post: string, comment: string | null, liked: boolean, signal?: AbortSignal): Promise<LikeSummary>;
  /** Reports a comment to the blog owner (once per reader; again is not an error). */
  report?(post: string, id: string, reason: string | null): Promise<unknown>;
}

/**
 * A request the service answered with an error, or could not answer. `status` is the HTTP
 * status, or 0 when no response arrived (`code` is then `network_error` or `timeout`).
 * Aborting a request through its signal rejects with the signal's reason instead.
 */
export class BackendError extends Error {
  override name = 'BackendError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds from a `Retry-After` header, if the server sent one. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }

  /** Whether the same request may succeed later: no response, 408, 409, 429 or 5xx. */
  get temporary(): boolean {
    const { status } = this;
    return status === 0 || status === 408 || status === 409 || status === 429 || status >= 500;
  }
}

/** A blog the signed-in person owns and may reblog on. */
export interface ReblogTarget {
  id: string;
  name: string;
  origin: string;
  /** Its reblog of the post, when it already has one (it can be undone). */
  reblog?: { id: string; url: string };
}

export interface ReblogRequest {
  post: string;
  /** One of the person's blogs: its id, or its address. */
  target: string;
  commentary?: string;
  pageTitle?: string;
  excerpt?: string;
}

/** A reblog made: the blog it is on and its page. */
export interface MadeReblog {
  id: string;
  site: string;
  blogName: string;
  url: string;
}

/** Reblogs, beside `Backend` (a service without them simply does not offer the button). */
export interface ReblogBackend {
  reblogCount(post: string, signal?: AbortSignal): Promise<number>;
  /** The signed-in person's blogs; a `BackendError` with status 401 when nobody is signed in. */
  reblogTargets(post: string, signal?: AbortSignal): Promise<ReblogTarget[]>;
  reblog(request: ReblogRequest, signal?: AbortSignal): Promise<MadeReblog>;
  undoReblog(reblog: MadeReblog, signal?: AbortSignal): Promise<void>;
}
