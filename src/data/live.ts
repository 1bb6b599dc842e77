/**
 * Live updates from a blogtalk server — new, edited and deleted comments, and like counts: one `EventSource` per
 * server and site, shared by every thread of that site on the page. It opens from the event id
 * its threads' first pages are current up to (the list's `events`), so nothing posted, edited or
 * deleted while a page was on its way is missed. It resumes from the last event id after a drop
 * (the browser's own reconnect) and after a pause: a hidden tab lets its stream go after a
 * minute and opens a new one, from where it left off, when it is shown again.
 */
import type { Comment, Liker } from './api-types.js';

/** `event: likes`: a like count as it now is (`comment` null: the post, with its newest likers). */
export interface LiveLikes {
  post: string;
  comment: string | null;
  count: number;
  likers?: Liker[];
}

export interface LiveListener {
  /** The canonical URL of the post whose comments this listener wants. */
  post: string;
  /** The event id its first page is current up to (the list's `events`): nothing after it is missed. */
  from?: number;
  comment(comment: Comment): void;
  /** A comment was edited or deleted: how it now reads, or null when it is gone. */
  change(id: string, comment: Comment | null): void;
  /** Too much was missed to replay: reload the thread. */
  reload(): void;
  /** A like count changed (someone liked or unliked the post or one of its comments). */
  likes?(likes: LiveLikes): void;
}

type Data = Comment & { comment?: Comment } & Partial<LiveLikes>;

/** How long a hidden tab keeps its stream open. */
const HIDDEN_GRACE_MS = 60_000;
/** After the server refuses the stream (not a drop: an error status), wait this long at first. */
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 5 * 60_000;
/** How many recent events to keep for a thread that joins an open stream, to catch up from its page. */
const RECENT_MAX = 200;
/** Streams that were told to reload: their threads' pages are too old to resume from. */
const reloaded = new Set<string>();

function deliver(listener: LiveListener, type: string, data: Data): void {
  if (listener.post !== data.post) return;
  if (type === 'likes') listener.likes?.(data as unknown as LiveLikes);
  else if (type === 'comment') listener.comment(data);
  else listener.change(data.id, type === 'edit' ? data : (data.comment ?? null));
}

class LiveChannel {
  readonly listeners = new Set<LiveListener>();
  #source: EventSource | null = null;
  #lastId = '';
  /** The events since `#from` this connection delivered, in order: a joining thread catches up from them. */
  #recent: [seq: number, type: string, data: Data][] = [];
  #from = Infinity;
  #retryMs = FIRST_RETRY_MS;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #hiddenTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly onEmpty: () => void,
  ) {}

  add(listener: LiveListener): void {
    this.listeners.add(listener);
    // Resume from the listener's page (the earliest page when several wait): what was posted,
    // edited or deleted since its page was read is replayed. Comments a listener already has
    // are dropped by its thread; an edit or delete applied twice reads the same.
    const from = reloaded.has(this.url) ? undefined : listener.from;
    let open = this.listeners.size === 1;
    if (from !== undefined) {
      if (!this.#source) {
        if (!this.#lastId || from < +this.#lastId) this.#lastId = String(from);
      } else if (from < this.#from) {
        // The open stream started after this page was read: start again from the page.
        this.#lastId = String(from);
        this.#source.close();
        this.#source = null;
        open = true;
      } else {
        for (const [seq, type, data] of this.#recent) if (seq > from) deliver(listener, type, data);
      }
    }
    if (this.listeners.size === 1) document.addEventListener('visibilitychange', this.#onVisibility);
    if (open && !document.hidden) this.#open();
  }

  remove(listener: LiveListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size) return;
    document.removeEventListener('visibilitychange', this.#onVisibility);
    this.#close();
    this.onEmpty();
  }

  #onVisibility = (): void => {
    clearTimeout(this.#hiddenTimer);
    if (document.hidden) this.#hiddenTimer = setTimeout(() => this.#close(), HIDDEN_GRACE_MS);
    else if (!this.#source) this.#open();
  };

  #open(): void {
    clearTimeout(this.#retryTimer);
    const resume = this.#lastId ? `&last-event-id=${encodeURIComponent(this.#lastId)}` : '';
    const source = (this.#source = new EventSource(this.url + resume));
    this.#from = this.#lastId ? +this.#lastId : Infinity;
    this.#recent = [];
    source.addEventListener('open', () => {
      this.#retryMs = FIRST_RETRY_MS;
    });
    // `comment` (a new one), `edit` (as it now reads), `delete` (`{id, post, comment?}`) and `likes`.
    for (const type of ['comment', 'edit', 'delete', 'likes']) {
      source.addEventListener(type, (event) => {
        const message = event as MessageEvent<string>;
        if (message.lastEventId) this.#lastId = message.lastEventId;
        let data: Data;
        try {
          data = JSON.parse(message.data);
        } catch {
          return;
        }
        this.#recent.push([+message.lastEventId, type, data]);
        if (this.#recent.length > RECENT_MAX) this.#from = Math.max(this.#from, this.#recent.shift()![0]);
        for (const listener of this.listeners) deliver(listener, type, data);
      });
    }
    source.addEventListener('reload', () => {
      reloaded.add(this.url);
      for (const listener of this.listeners) listener.reload();
    });
    source.addEventListener('error', () => {
      // A dropped connection is retried by the browser (readyState CONNECTING). A refusal
      // (an error status, a CORS failure) closes the source: retry ourselves, slower each time.
      if (source.readyState !== EventSource.CLOSED || this.#source !== source) return;
      this.#source = null;
      const delay = this.#retryMs * (0.8 + Math.random() * 0.4);
      this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
      this.#retryTimer = setTimeout(() => {
        if (this.listeners.size && !document.hidden) this.#open();
      }, delay);
    });
  }

  #close(): void {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#hiddenTimer);
    this.#source?.close();
    this.#source = null;
  }
}

const channels = new Map<string, LiveChannel>();

/**
 * Listens for new comments on `listener.post`, through the one stream of the post's site on
 * `server`. Returns the function that stops listening. Does nothing where `EventSource` is
 * missing.
 */
export function listenLive(server: string, listener: LiveListener): () => void {
  if (typeof EventSource === 'undefined') return () => {};
  let site: string;
  try {
    site = new URL(listener.post).origin;
  } catch {
    return () => {};
  }
  const url = `${server.replace(/\/$/, '')}/api/v1/events?site=${encodeURIComponent(site)}`;
  let channel = channels.get(url);
  if (!channel) {
    channel = new LiveChannel(url, () => channels.delete(url));
    channels.set(url, channel);
  }
  const joined = channel;
  joined.add(listener);
  return () => joined.remove(listener);
}
