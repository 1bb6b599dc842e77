/**
 * Another tab of the same origin, for outbox tests: a same-origin iframe whose Web Locks,
 * BroadcastChannel, IndexedDB connection and fetch an outbox uses, as another tab's would.
 * Closing it (removing the iframe) ends them all as closing a tab does: the locks it holds are
 * released, its channel and its database connection close, its requests are cut off. The
 * outbox's own code still runs in this page's realm; closing the tab also closes the outbox.
 */
import { promisifyRequest, type UseStore } from 'idb-keyval';

export interface Tab {
  win: Window;
  locks: LockManager;
  channel: BroadcastChannel;
  /** The `blogtalk` / `outbox` store, through the tab's own database connection. */
  store: UseStore;
  fetch: typeof fetch;
  close(): void;
}

export function openTab(): Tab {
  const frame = document.createElement('iframe');
  frame.hidden = true;
  document.body.append(frame);
  const win = frame.contentWindow as Window & typeof globalThis;
  const open = win.indexedDB.open('blogtalk');
  open.onupgradeneeded = () => open.result.createObjectStore('outbox');
  const db = promisifyRequest(open);
  return {
    win,
    locks: win.navigator.locks,
    channel: new win.BroadcastChannel('blogtalk-outbox'),
    store: (mode, callback) => db.then((db) => callback(db.transaction('outbox', mode).objectStore('outbox'))),
    fetch: (...args) => win.fetch(...args),
    close: () => frame.remove(),
  };
}
