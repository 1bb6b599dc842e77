/**
 * Every DOM event the blogtalk elements fire. Each is an `Event` subclass (via `CustomEvent`,
 * so `event.detail` works too) that bubbles and crosses shadow roots (`composed`), and is
 * declared in `GlobalEventHandlersEventMap` so `addEventListener('comment-posted', …)` is typed.
 *
 * Events are fired only for a person's actions and their asynchronous results — never because
 * a page set a property or attribute.
 */
import type { Comment, NewCommentRequest } from './data/api-types.js';

abstract class BlogtalkEvent<T> extends CustomEvent<T> {
  constructor(type: string, detail: T, cancelable = false) {
    super(type, { detail, bubbles: true, composed: true, cancelable });
  }
}

/** What the writer is about to send: the client id (also the idempotency key) and the request. */
export interface CommentSubmitDetail {
  id: string;
  request: NewCommentRequest;
}

/**
 * `comment-submit` — the writer pressed "Post Comment" and the client checks passed; nothing is
 * stored or sent yet. Cancelable: `preventDefault()` stops the comment (nothing is stored or sent).
 */
export class CommentSubmitEvent extends BlogtalkEvent<CommentSubmitDetail> {
  constructor(detail: CommentSubmitDetail) {
    super('comment-submit', detail, true);
  }
}

/**
 * `comment-queued` — the comment is kept in the offline outbox (IndexedDB, or memory where that
 * cannot be used) and is being sent; it will be sent again until the server has it.
 */
export class CommentQueuedEvent extends BlogtalkEvent<CommentSubmitDetail> {
  constructor(detail: CommentSubmitDetail) {
    super('comment-queued', detail);
  }
}

/** `comment-posted` — the server accepted the comment; `detail` is the server's copy. */
export class CommentPostedEvent extends BlogtalkEvent<Comment> {
  constructor(comment: Comment) {
    super('comment-posted', comment);
  }
}

export interface CommentFailedDetail {
  /** The client id of the rejected comment. */
  id: string;
  /** HTTP status of the rejection. */
  status: number;
  /** The server's stable error code, e.g. `body_too_long`. */
  code: string;
  /** The server's sentence for the writer. */
  message: string;
}

/**
 * `comment-failed` — the server rejected the comment for good (a 4xx that retrying cannot fix),
 * or it stayed unsent for 30 days (`code` is `expired`, `status` 0). It stays in the thread
 * with Edit / Discard / Retry until the writer chooses.
 */
export class CommentFailedEvent extends BlogtalkEvent<CommentFailedDetail> {
  constructor(detail: CommentFailedDetail) {
    super('comment-failed', detail);
  }
}

export interface LoginDetail {
  /** The provider signed in with, e.g. `mastodon`. */
  provider: string;
  /** The name shown for the signed-in person. */
  name: string;
}

/** `login` — the person signed in with a provider. */
export class LoginEvent extends BlogtalkEvent<LoginDetail> {
  constructor(detail: LoginDetail) {
    super('login', detail);
  }
}

/** `logout` — the person signed out. */
export class LogoutEvent extends BlogtalkEvent<null> {
  constructor() {
    super('logout', null);
  }
}

export interface LikeChangeDetail {
  post: string;
  /** The liked comment's id, or null for the post itself. */
  comment: string | null;
  liked: boolean;
  /** Number of likes after the change. */
  count: number;
}

/** `like-change` — the person liked or unliked the post or one of its comments, and the server has it. */
export class LikeChangeEvent extends BlogtalkEvent<LikeChangeDetail> {
  constructor(detail: LikeChangeDetail) {
    super('like-change', detail);
  }
}

export interface ReblogDetail {
  post: string;
  /** Where the reblog was published. */
  target: { blogName: string; url: string };
}

/** `reblog` — a reblog was made. */
export class ReblogEvent extends BlogtalkEvent<ReblogDetail> {
  constructor(detail: ReblogDetail) {
    super('reblog', detail);
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'comment-submit': CommentSubmitEvent;
    'comment-queued': CommentQueuedEvent;
    'comment-posted': CommentPostedEvent;
    'comment-failed': CommentFailedEvent;
    login: LoginEvent;
    logout: LogoutEvent;
    'like-change': LikeChangeEvent;
    reblog: ReblogEvent;
  }
}
