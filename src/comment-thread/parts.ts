/**
 * The parts of `<comment-thread>` that its first paint does without, each loaded on first use
 * (see `internal/lazy.ts`). A part imported statically (`index.ts` imports `writing.ts`)
 * provides itself here, so the thread has it from the start.
 */
import { lazy } from '../internal/lazy.js';
import type * as Writing from './writing.js';

/** The composer with `<login-picker>`, and the outbox: when idle after the first paint, or on first use. */
export const writing = lazy<typeof Writing>(() => import('./writing.js'));
