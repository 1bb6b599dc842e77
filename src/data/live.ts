/**
 * Live updates from a blogtalk server — new, edited and deleted comments: one `EventSource` per
 * server and site, shared by every thread of that site on the page. It resumes from the last event id after a drop (the
 * browser's own reconnect) and after a pause: a hidden tab lets its stream go after a minute
 * and opens a new one, from where it left off, when it is shown again.
 */
import type { Comment } from './api-types.js';

export interface LiveListener {
  /** The canonical URL of the post whose comments this listener wants. */
  post: string;
  comment(comment: Comment): void;
  /** A comment was edited or deleted: how it now reads, or null when it is gone. */
  change(id: string, comment: Comment | null): void;
  /** Too much was missed to replay: reload the thread. */
  reload(): void;
}

/** How long a hidden tab keeps its stream open. */
const HIDDEN_GRACE_MS = 60_000;
/** After the server refuses the stream (not a drop: an error status), wait this long at first. */
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 5 * 60_000;
/** How many comment ids to remember for dropping the replays a resume may repeat. */
const SEEN_MAX = 2_000;

class LiveChannel {
  readonly listeners = new Set<LiveListener>();
  #source: EventSource | null = null;
  #lastId = '';
  #seen = new Set<string>();
  #retryMs = FIRST_RETRY_MS;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #hiddenTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly onEmpty: () => void,
  ) {}

  add(listener: LiveListener): void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) {
      document.addEventListener('visibilitychange', this.#onVisibility);
      if (!document.hidden) this.#open();
    }
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
    source.addEventListener('open', () => {
      this.#retryMs = FIRST_RETRY_MS;
    });
    // `comment` (a new one), `edit` (as it now reads) and `delete` (`{id, post, comment?}`).
    for (const type of ['comment', 'edit', 'delete']) {
      source.addEventListener(type, (event) => {
        const message = event as MessageEvent<string>;
        if (message.lastEventId) this.#lastId = message.lastEventId;
        let data: Comment & { comment?: Comment };
        try {
          data = JSON.parse(message.data);
        } catch {
          return;
        }
        const { id } = data;
        if (type === 'comment') {
          if (this.#seen.has(id)) return;
          this.#seen.add(id);
          if (this.#seen.size > SEEN_MAX) this.#seen.delete(this.#seen.values().next().value!);
        }
        for (const listener of this.listeners) {
          if (listener.post !== data.post) continue;
          if (type === 'comment') listener.comment(data);
          else listener.change(id, type === 'edit' ? data : (data.comment ?? null));
        }
      });
    }
    source.addEventListener('reload', () => {
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
