/**
 * The offline outbox: a comment is written here first (under its client id, which is also its
 * `Idempotency-Key`), then sent, and kept until the server has it — across reloads, crashes and
 * days offline. Everything it depends on (the store, the backend, the clock, timers, randomness,
 * Web Locks, BroadcastChannel) comes in as an argument, after idb-keyval's style, so tests give
 * it a real IndexedDB and a real server, or a failing one, and a clock they advance.
 *
 * States: pending → sending → sent | failed. Temporary refusals (no answer, 408, 409, 429, 5xx)
 * go back to pending with a backoff (2 s doubling to 5 min, ±20 % jitter, or the server's
 * `Retry-After`); a permanent 4xx is failed with the server's reason, kept until the writer
 * edits, retries or discards it. One tab flushes at a time (Web Locks); the others learn every
 * change through a BroadcastChannel. When IndexedDB cannot be used, records live in memory
 * and `durable` turns false so the composer can say so.
 */
import { createStore, promisifyRequest } from 'idb-keyval';
import type { Comment, NewCommentRequest } from './api-types.js';
import { BackendError, type Backend } from './backend.js';
import { sendComment } from './send.js';

/** Bumped when the record shape changes; records of another version are skipped, not read. */
export const OUTBOX_VERSION = 1;
const DAY = 86_400_000;
/** A comment still unsent this long after it was written stops retrying and is shown as failed. */
export const GIVE_UP_AFTER = 30 * DAY;
/**
 * A sent record no thread has cleared (its post was not opened again) is deleted this long after
 * it was sent: the server has the comment, and a week covers the writer coming back to the post.
 */
export const SENT_KEPT = 7 * DAY;
const FIRST_RETRY = 2_000;
const MAX_RETRY = 300_000;

export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed';

export interface OutboxError {
  /** HTTP status, 0 when no answer came. */
  status: number;
  /** The server's code, or `network_error`, `timeout`, `expired` (30 days unsent). */
  code: string;
  message: string;
}

export interface OutboxRecord {
  version: number;
  /** Client id, also the idempotency key. */
  id: string;
  /** The blogtalk server it goes to (a page may flush another post's leftovers). */
  server: string;
  post: string;
  request: NewCommentRequest;
  /** Depth in its thread, for showing it in place before the server has it. */
  depth: number;
  state: OutboxState;
  attempts: number;
  /** Epoch ms of the next automatic attempt. */
  nextAttemptAt: number;
  createdAt: number;
  lastError: OutboxError | null;
  /** The server's copy, once sent. */
  comment?: Comment;
  /** Epoch ms it was sent. */
  sentAt?: number;
  /** The signed-in writer's name, shown until the server's copy arrives (guests: `request.author`). */
  authorName?: string;
}

/**
 * Where records are kept: IndexedDB through idb-keyval, or memory. Keys are ids (strings) or
 * composer drafts (arrays).
 */
export interface OutboxStore {
  all(): Promise<[IDBValidKey, unknown][]>;
  /**
   * Reads `key` and writes what `fn` makes of it in one transaction (read-modify-write, never
   * get-then-set); when `fn` returns undefined nothing is written. Resolves with `fn`'s result.
   */
  modify<T>(key: IDBValidKey, fn: (old: unknown) => T | undefined): Promise<T | undefined>;
  /** Deletes `key`; resolves true when there was something to delete. */
  del(key: IDBValidKey): Promise<boolean>;
}

/** The outbox's own IndexedDB database and store (`blogtalk` / `outbox`), not idb-keyval's default. */
export function idbStore(use = createStore('blogtalk', 'outbox')): OutboxStore {
  return {
    // idb-keyval's entries() and del(), without their fallbacks for browsers older than our floor.
    all: () =>
      use('readonly', (store) =>
        Promise.all([promisifyRequest(store.getAllKeys()), promisifyRequest(store.getAll())]).then(([keys, values]) =>
          keys.map((key, i): [IDBValidKey, unknown] => [key, values[i]]),
        ),
      ),
    // idb-keyval's update() always writes; this is the same one transaction, but may skip the write.
    modify: (key, fn) =>
      use('readwrite', (store) => {
        let result: ReturnType<typeof fn>;
        let failure: unknown;
        store.get(key).onsuccess = ({ target }) => {
          try {
            result = fn((target as IDBRequest).result);
            if (result !== undefined) store.put(result, key);
          } catch (error) {
            failure = error;
            store.transaction.abort();
          }
        };
        return promisifyRequest(store.transaction).then(
          () => result,
          (error) => Promise.reject(failure ?? error),
        );
      }),
    del: (key) =>
      use('readwrite', (store) => {
        let found = false;
        store.count(key).onsuccess = ({ target }) => {
          if ((found = (target as IDBRequest<number>).result > 0)) store.delete(key);
        };
        return promisifyRequest(store.transaction).then(() => found);
      }),
  };
}

/** Whether `value` is a record this version can read (anything else is skipped and reported). */
export function isRecord(value: unknown): value is OutboxRecord {
  const r = value as OutboxRecord | null;
  return (
    r?.version === OUTBOX_VERSION &&
    [r.id, r.server, r.post, r.request?.body].every((s) => typeof s === 'string') &&
    ['pending', 'sending', 'sent', 'failed'].includes(r.state) &&
    [r.attempts, r.nextAttemptAt, r.createdAt, r.depth].every(Number.isFinite)
  );
}

/** Milliseconds before attempt `attempts + 1`: 2 s doubling to 5 min, ±20 % jitter. */
export function backoff(attempts: number, random: () => number): number {
  return Math.min(FIRST_RETRY * 2 ** Math.max(0, attempts - 1), MAX_RETRY) * (0.8 + 0.4 * random());
}

export interface OutboxOptions {
  backend: Backend;
  /** The server URL records are filed under (a page flushes only its own server's). */
  server: string;
  /** Null or omitted: records live in memory only (`durable` is false). */
  store?: OutboxStore | null;
  now?: () => number;
  random?: () => number;
  /** Runs `fn` after `ms`; returns a cancel function. */
  schedule?: (fn: () => void, ms: number) => () => void;
  /** Web Locks, or null where missing (the server's idempotency still keeps one copy). */
  locks?: LockManager | null;
  /** Null: no other tabs are told. */
  channel?: BroadcastChannel | null;
  /** Called for every corrupt or foreign record skipped. */
  report?: (key: IDBValidKey, value: unknown) => void;
  /** Sends at once when this window comes online or its document becomes visible. */
  window?: Window | null;
}

export interface Outbox {
  readonly server: string;
  /** False once IndexedDB failed: records are in memory and do not survive the page. */
  readonly durable: boolean;
  /** Resolves once the records kept from earlier visits are loaded. */
  readonly ready: Promise<void>;
  /** Every record of this server, oldest first. */
  records(): OutboxRecord[];
  /** Keeps a new comment (the caller then flushes, after announcing it). */
  add(id: string, request: NewCommentRequest, depth: number, authorName?: string): Promise<OutboxRecord>;
  /** Sends everything due (`force`: everything waiting, at once). */
  flush(force?: boolean): Promise<void>;
  /** A failed comment goes back to pending and is sent now. */
  retry(id: string): Promise<void>;
  /** Forgets a record (discarded, edited, or sent and shown). */
  remove(id: string): Promise<void>;
  /** Calls `fn` whenever any record changes; returns the unsubscribe function. */
  subscribe(fn: () => void): () => void;
  /** The store (for the composer's draft), null when memory is all there is. */
  readonly store: OutboxStore | null;
  close(): void;
}

type Message = { server: string; id: string; record: OutboxRecord | null };

const waiting = (r: OutboxRecord) => r.state === 'pending' || r.state === 'sending';

export function createOutbox(options: OutboxOptions): Outbox {
  const { backend, server, now = Date.now, random = Math.random, locks, channel, report, window: win } = options;
  const schedule =
    options.schedule ??
    ((fn, ms) => {
      const timer = setTimeout(fn, ms);
      return () => clearTimeout(timer);
    });
  /** IndexedDB, until it fails once; then null, and the mirror is all there is. */
  let store = options.store ?? null;
  const mirror = new Map<string, OutboxRecord>();
  const listeners = new Set<() => void>();
  let cancelTimer: (() => void) | undefined;
  let pausedUntil = 0;
  /** Flushes run one after another. */
  let queue = Promise.resolve();
  let closed = false;

  const notify = () => listeners.forEach((fn) => fn());
  const apply = (id: string, record: OutboxRecord | null) => {
    if (record) mirror.set(id, record);
    else mirror.delete(id);
    notify();
  };
  const publish = (id: string, record: OutboxRecord | null) => {
    apply(id, record);
    channel?.postMessage({ server, id, record } satisfies Message);
  };
  const records = () => [...mirror.values()].sort((a, b) => a.createdAt - b.createdAt);
  /** The mirror as text, in key order (entries sort by their key: ids are unique). */
  const snapshot = () => JSON.stringify([...mirror].sort());

  /**
   * Makes the mirror this server's records in the store (other tabs' changes included, their
   * removals too), and says whether that changed it. With memory only, the mirror is all there
   * is and stays as it is.
   */
  async function load(): Promise<boolean> {
    let all: [IDBValidKey, unknown][];
    try {
      if (!store) return false;
      all = await store.all();
    } catch {
      store = null;
      return false;
    }
    const before = snapshot();
    mirror.clear();
    for (const [key, value] of all) {
      if (Array.isArray(key)) continue; // a composer draft
      if (!isRecord(value) || value.id !== key) report?.(key, value);
      else if (value.server === server) mirror.set(key, value);
    }
    return snapshot() !== before;
  }

  /**
   * Moves a record on in one transaction (`fn` sees the stored record; `fresh` is written when
   * there is none). When IndexedDB fails, it is given up for memory, and the change made there.
   */
  async function change(
    id: string,
    fn: (r: OutboxRecord) => OutboxRecord | undefined,
    fresh?: OutboxRecord,
  ): Promise<OutboxRecord | undefined> {
    const step = (old: unknown) => (isRecord(old) ? fn(old) : fresh);
    let record: OutboxRecord | undefined;
    try {
      record = store ? await store.modify(id, step) : step(mirror.get(id));
    } catch {
      store = null;
      record = step(mirror.get(id));
    }
    if (record) publish(id, record);
    return record;
  }

  /** One attempt; resolves with the reason when the server (or the network) asks to wait. */
  async function send(id: string): Promise<OutboxError | null> {
    const claimed = await change(id, (r) => (waiting(r) ? { ...r, state: 'sending', attempts: r.attempts + 1 } : undefined));
    if (!claimed) return null;
    const outcome = await sendComment(backend, id, claimed.request);
    const time = now();
    let wait = 0;
    const after = await change(id, (r) => {
      if (r.state === 'sent') return undefined;
      if (!(outcome instanceof BackendError)) return { ...r, state: 'sent', comment: outcome, sentAt: time, lastError: null };
      const { status, code, message, retryAfter } = outcome;
      const lastError = { status, code, message };
      if (!outcome.temporary) return { ...r, state: 'failed', lastError };
      wait = retryAfter !== null ? Math.max(retryAfter * 1000, 500) : backoff(r.attempts, random);
      return { ...r, state: 'pending', nextAttemptAt: time + wait, lastError };
    });
    if (!wait) return null;
    pausedUntil = time + wait;
    return after!.lastError;
  }

  async function run(force: boolean): Promise<void> {
    // Threads are told only of what changed: each re-renders every comment it shows.
    if (await load()) notify();
    const time = now();
    if (force) pausedUntil = 0;
    /** Why the flush paused (a temporary refusal: the server, or the network, is not ready). */
    let paused: OutboxError | null = null;
    for (const { id, createdAt, nextAttemptAt, ...r } of records()) {
      if (closed) break;
      if (r.state === 'sent' && time - (r.sentAt ?? createdAt) > SENT_KEPT) await remove(id);
      if (!waiting(r as OutboxRecord)) continue;
      if (time - createdAt > GIVE_UP_AFTER) {
        await change(id, (r) => (r.state === 'sent' ? undefined : { ...r, state: 'failed', lastError: { status: 0, code: 'expired', message: '' } }));
      } else if (paused) {
        // Not tried now: waiting for the same reason (said once; the pause holds it back).
        const lastError = paused;
        if (!r.lastError) await change(id, (r) => (waiting(r) && !r.lastError ? { ...r, state: 'pending', lastError } : undefined));
      } else if (force || (time >= pausedUntil && nextAttemptAt <= time)) {
        paused = await send(id);
      }
    }
  }

  async function remove(id: string): Promise<void> {
    // Every tab's thread removes a record it sees sent: only the one that deleted it says so.
    let gone = mirror.has(id);
    try {
      if (store) gone = await store.del(id);
    } catch {
      store = null;
    }
    (gone ? publish : apply)(id, null);
  }

  function rearm(): void {
    cancelTimer?.();
    const due = records().filter(waiting);
    if (closed || !due.length) return;
    const next = Math.max(pausedUntil, Math.min(...due.map((r) => r.nextAttemptAt)));
    cancelTimer = schedule(() => void flush(), Math.max(0, next - now()));
  }

  function flush(force = false): Promise<void> {
    const body = () => run(force).catch(() => {});
    return (queue = queue.then(async () => void (await (locks ? locks.request('blogtalk-outbox', body) : body()))).then(rearm));
  }

  const onMessage = ({ data }: MessageEvent<Message>) => {
    if (data?.server !== server) return;
    apply(data.id, data.record);
    rearm();
  };
  channel?.addEventListener('message', onMessage);
  const wake = () => win?.document.visibilityState === 'visible' && void flush(true);
  win?.addEventListener('online', wake);
  win?.document.addEventListener('visibilitychange', wake);

  return {
    server,
    get durable() {
      return !!store;
    },
    get store() {
      return store;
    },
    ready: load().then(notify),
    records,
    async add(id, request, depth, authorName) {
      const time = now();
      const record: OutboxRecord = {
        authorName,
        version: OUTBOX_VERSION,
        id,
        server,
        post: request.post,
        request,
        depth,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: time,
        createdAt: time,
        lastError: null,
      };
      await change(id, () => undefined, record);
      return record;
    },
    flush,
    async retry(id) {
      const time = now();
      await change(id, (r) =>
        r.state === 'failed' ? { ...r, state: 'pending', attempts: 0, nextAttemptAt: time, createdAt: time, lastError: null } : undefined,
      );
      await flush(true);
    },
    remove,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close() {
      closed = true;
      cancelTimer?.();
      channel?.removeEventListener('message', onMessage);
      win?.removeEventListener('online', wake);
      win?.document.removeEventListener('visibilitychange', wake);
    },
  };
}

const shared = new Map<Backend, Outbox>();

/**
 * The page's outbox for a backend (one per server, shared by every element that talks to it),
 * on IndexedDB with Web Locks and a BroadcastChannel where the browser has them. Flushes what
 * earlier visits left, and again when the browser comes online or the tab becomes visible.
 */
export function outboxFor(backend: Backend, server: string): Outbox {
  let outbox = shared.get(backend);
  if (!outbox) {
    let store: OutboxStore | null = null;
    try {
      if (globalThis.indexedDB) store = idbStore();
    } catch {
      // No IndexedDB here: memory only.
    }
    outbox = createOutbox({
      backend,
      server,
      store,
      locks: navigator.locks ?? null,
      channel: typeof BroadcastChannel === 'function' ? new BroadcastChannel('blogtalk-outbox') : null,
      report: (key) => console.warn('blogtalk: unreadable outbox record', key),
      window,
    });
    shared.set(backend, outbox);
    const box = outbox;
    void box.ready.then(() => box.flush());
  }
  return outbox;
}
