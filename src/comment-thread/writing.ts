/**
 * What `<comment-thread>` needs to write, in one chunk loaded on first use (see
 * `comment-thread.ts`): the composer (with `<login-picker>`), the outbox, and how the thread
 * follows the outbox.
 */
import type { Comment } from '../data/api-types.js';
import { outboxFor, type Outbox } from '../data/outbox.js';
import { CommentFailedEvent, CommentPostedEvent } from '../events.js';
import { Composer, queuedComment } from './composer.js';
import { writing } from './parts.js';

export { Composer, outboxFor, queuedComment };

/** The thread, as `syncOutbox` sees it. */
export interface OutboxFollower {
  /** The post shown. */
  post: string;
  /** The state each outbox record of this post was last seen in, to tell what changed. */
  seen: Map<string, string>;
  /** Events are fired on it. */
  host: HTMLElement;
  /** Shows the server's copy of the writer's comment (until a reload lists it). */
  own(comment: Comment): void;
  /** Moves a guest's edit token from the outbox record to the token store. */
  keep(comment: Comment, token: string): Promise<void>;
  /** The server stored the writer's comment: the composer says so. */
  posted(comment: Comment): void;
}

/**
 * Follows the outbox: a record of this post that the server now has becomes the server's copy
 * (the record is then removed); changes seen here are announced as events.
 */
export function syncOutbox(outbox: Outbox, thread: OutboxFollower): void {
  for (const record of outbox.records()) {
    if (record.post !== thread.post) continue;
    const before = thread.seen.get(record.id);
    thread.seen.set(record.id, record.state);
    if (record.state === 'sent' && record.comment) {
      const { comment } = record;
      thread.own(comment);
      const token = record.request.editToken;
      const kept = token ? thread.keep(comment, token) : Promise.resolve();
      // A held comment stays (until the sent records expire) so its writer still sees it,
      // "awaiting moderation", after a reload; the thread shows the server's copy once approved.
      if (comment.status !== 'pending') void kept.then(() => outbox.remove(record.id));
      if (before && before !== 'sent') {
        thread.posted(comment);
        thread.host.dispatchEvent(new CommentPostedEvent(comment));
      }
    } else if (record.state === 'failed' && before && before !== 'failed') {
      const { status, code, message } = record.lastError ?? { status: 0, code: 'expired', message: '' };
      thread.host.dispatchEvent(new CommentFailedEvent({ id: record.id, status, code, message }));
    }
  }
}

writing.provide({ Composer, outboxFor, queuedComment, syncOutbox });
