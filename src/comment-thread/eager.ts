/**
 * Every part of `<comment-thread>` at once, with no chunk to wait for: imported by `index.ts`
 * (so `dist/blogtalk.esm.js` has them all, as before the split) and by the browser tests.
 */
import * as liveUpdates from '../data/live.js';
import * as editor from './editor.js';
import * as likesRow from './likes-row.js';
import { commentActions, likes, live } from './parts.js';
import * as report from './report.js';
import './writing.js';

commentActions.provide([editor, report]);
likes.provide(likesRow);
live.provide(liveUpdates);
