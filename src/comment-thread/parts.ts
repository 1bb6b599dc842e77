/**
 * The parts of `<comment-thread>` that its first paint does without, each loaded on first use
 * (see `internal/lazy.ts`). `eager.ts` (imported by `index.ts`, so `blogtalk.esm.js`) provides
 * every part at once instead.
 */
import { lazy } from '../internal/lazy.js';
import type * as Writing from './writing.js';

/** The likes row and Like buttons: fetched alongside the first page, shown once both are in. */
export const likes = lazy(() => import('./likes-row.js'));
/** Live updates: once the first page is shown (its `events` id says where the stream resumes). */
export const live = lazy(() => import('../data/live.js'));
/** Edit and Delete on the reader's own comments, Report on the others: when the browser is idle. */
export const commentActions = lazy(() => Promise.all([import('./editor.js'), import('./report.js')] as const));
/** The composer with `<login-picker>`, and the outbox: when idle after the first paint, or on first use. */
export const writing = lazy<typeof Writing>(() => import('./writing.js'));
