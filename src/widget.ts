/**
 * What `dist/blogtalk.js` (the classic loader, `loader.ts`) imports: `<comment-thread>` now,
 * with only what its first paint needs; `<reblog-button>` and `<login-picker>` from chunks of
 * their own, at once when the page has one, else when the browser is idle (a page may add them
 * later). Each definition is guarded, so a second copy of the widget is harmless.
 * Module users who want every element at once import `index.ts` (`dist/blogtalk.esm.js`).
 */
import './comment-thread/comment-thread.js';
import { whenIdle } from './internal/lazy.js';

const later: [string, () => Promise<unknown>][] = [
  ['reblog-button', () => import('./reblog-button/reblog-button.js')],
  ['login-picker', () => import('./login-picker/login-picker.js')],
];
for (const [tag, load] of later) {
  if (document.querySelector(tag)) void load();
  else whenIdle(() => void load());
}
