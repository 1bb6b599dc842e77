/**
 * Sending one comment and sorting the result into what the writer needs to know. The offline
 * outbox (`outbox.ts`) keeps the request, calls `sendComment` again after `retry`, and stops on
 * `sent` or `failed`.
 */
import type { Comment, NewCommentRequest } from './api-types.js';
import { BackendError, type Backend } from './backend.js';

export type SendOutcome =
  /** The server stored it (now, or on an earlier attempt with the same id). */
  | { state: 'sent'; comment: Comment }
  /** The server refused it; sending it unchanged will never work. */
  | { state: 'failed'; error: BackendError }
  /** No answer, or a temporary refusal (408, 409, 429, 5xx): the same id may be sent again. */
  | { state: 'retry'; error: BackendError };

/** Sends `request` with `id` as its idempotency key. Rejects only when `signal` aborts it. */
export async function sendComment(
  backend: Backend,
  id: string,
  request: NewCommentRequest,
  signal?: AbortSignal,
): Promise<SendOutcome> {
  try {
    return { state: 'sent', comment: await backend.post(request, id, signal) };
  } catch (error) {
    signal?.throwIfAborted();
    const failure =
      error instanceof BackendError ? error : new BackendError(0, 'network_error', String(error));
    return { state: failure.temporary ? 'retry' : 'failed', error: failure };
  }
}
