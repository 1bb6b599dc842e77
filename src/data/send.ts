/**
 * Sending one comment. The offline outbox (`outbox.ts`) keeps the request, calls `sendComment`
 * again while the answer is temporary (`error.temporary`: no answer, 408, 409, 429, 5xx), and
 * stops on the comment or a permanent refusal.
 */
import type { Comment, NewCommentRequest } from './api-types.js';
import { BackendError, type Backend } from './backend.js';

/** Sends `request` with `id` as its idempotency key: the server's comment, or why not. Never rejects. */
export async function sendComment(backend: Backend, id: string, request: NewCommentRequest): Promise<Comment | BackendError> {
  try {
    return await backend.post(request, id);
  } catch (error) {
    return error instanceof BackendError ? error : new BackendError(0, 'network_error', String(error));
  }
}
