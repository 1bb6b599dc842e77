/**
 * The secrets that let a guest edit or delete their own comments: made here (`newEditToken`),
 * sent with the comment (the server keeps only a SHA-256), and kept in this browser's
 * IndexedDB (`blogtalk-edit` / `tokens`, keyed by comment id) until the edit window closes.
 * Each change is one transaction; reading prunes the expired ones in the same transaction. When
 * IndexedDB cannot be used, the tokens live in memory for this page.
 */
import { createStore, del, promisifyRequest, set, type UseStore } from 'idb-keyval';
import { newNonce } from './session.js';

export interface EditToken {
  token: string;
  /** Epoch ms when the edit window closes. */
  until: number;
}

let db: UseStore | null | undefined;
const memory = new Map<string, EditToken>();

function use(): UseStore {
  if (db === undefined) db = globalThis.indexedDB ? createStore('blogtalk-edit', 'tokens') : null;
  if (!db) throw 0;
  return db;
}

/**
 * A new token: 24 random bytes (`crypto.getRandomValues`, which plain-HTTP pages have too),
 * base64url. Undefined if the browser has no randomness at all: the comment is posted, not editable.
 */
export function newEditToken(): string | undefined {
  try {
    return newNonce();
  } catch {
    return undefined;
  }
}

/** The tokens still valid at `now`, by comment id; expired ones are deleted on the way. */
export async function loadEditTokens(now: number): Promise<Map<string, EditToken>> {
  const found = new Map<string, EditToken>();
  try {
    await use()('readwrite', (store) => {
      store.openCursor().onsuccess = ({ target }) => {
        const cursor = (target as IDBRequest<IDBCursorWithValue | null>).result;
        if (!cursor) return;
        const entry = cursor.value as EditToken | null;
        if (typeof entry?.token === 'string' && entry.until > now) found.set(String(cursor.key), entry);
        else cursor.delete();
        cursor.continue();
      };
      return promisifyRequest(store.transaction);
    });
    return found;
  } catch {
    db = null;
    for (const [id, entry] of memory) if (entry.until > now) found.set(id, entry);
    return found;
  }
}

/** Keeps the token of comment `id` (one transaction; memory if IndexedDB fails). */
export async function keepEditToken(id: string, entry: EditToken): Promise<void> {
  try {
    await set(id, entry, use());
  } catch {
    db = null;
    memory.set(id, entry);
  }
}

/** Forgets the token of a comment that is gone. */
export async function dropEditToken(id: string): Promise<void> {
  memory.delete(id);
  try {
    await del(id, use());
  } catch {
    // Nothing kept, or it expires on its own.
  }
}
