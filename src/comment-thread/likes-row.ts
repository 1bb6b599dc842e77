/**
 * Likes in `<comment-thread>`: the "N bloggers like this:" row with the newest likers'
 * avatars, "+ N more" and the post's Like button, and the Like button (with its count) of each
 * comment. Part of the thread rather than an element of its own, as the composer is, so its
 * parts (`likes`, `like-button`, `status`) are the thread's. Two reads per post — the post's
 * likers, and every comment's count at once — never one per comment. A press shows the change
 * at once and takes it back, saying so, if the server refuses it. Counts change live, as others
 * like and unlike (the thread's live stream).
 */
import { html, nothing, type ReactiveController, type TemplateResult } from 'lit';
import type { Comment, LikeSummary } from '../data/api-types.js';
import { BackendError, type Backend } from '../data/backend.js';
import type { LiveLikes } from '../data/live.js';
import { LikeChangeEvent } from '../events.js';
import type { Localizer, MessageKey } from '../internal/i18n.js';
import { safeHttpUrl } from '../internal/text.js';
import { avatar } from './avatar.js';
import type { ComposerHost } from './composer.js';

/** Likes of one thing: the post (the key '') or a comment (its id). */
type Likes = Pick<LikeSummary, 'count' | 'liked'> & Partial<LikeSummary>;

export class LikesRow implements ReactiveController {
  #host: ComposerHost;
  /** The backend and post to show likes for now. */
  #target: () => readonly [Backend | null, string];
  /** What the likes shown were loaded for. */
  #for: readonly [Backend | null, string] | null = null;
  #abort: AbortController | null = null;
  /** '' is the post, else a comment id; a comment nobody likes is missing. Empty while loading. */
  #likes = new Map<string, Likes>();
  /** Presses waiting for the server, by key. */
  #busy = new Set<string>();
  #notice: MessageKey | '' = '';

  constructor(host: ComposerHost, target: () => readonly [Backend | null, string]) {
    this.#host = host;
    this.#target = target;
    host.addController(this);
    // Signed in or out (in the composer's picker): whom the likes are counted for has changed.
    // On the host itself, so nothing outlives it.
    for (const type of ['login', 'logout']) host.addEventListener(type, () => this.#load());
  }

  hostUpdate(): void {
    const [backend, post] = this.#target();
    if (backend !== this.#for?.[0] || post !== this.#for[1]) this.#load();
  }

  async #load(): Promise<void> {
    this.#abort?.abort();
    const target = this.#target();
    const [backend, post] = target;
    // Another post: forget this one's likes. The same one again (signed in or out): keep them
    // shown until the new answer.
    if (backend !== this.#for?.[0] || post !== this.#for[1]) this.#likes = new Map();
    this.#for = target;
    const { signal } = (this.#abort = new AbortController());
    this.#notice = '';
    if (!backend?.likes) return;
    try {
      const likes = await backend.likes(post, signal);
      if (this.#for !== target) return;
      this.#likes.set('', likes);
      for (const { id, ...counts } of likes.comments) this.#likes.set(id, counts);
      this.#host.requestUpdate();
    } catch {
      // Not shown when they cannot be read: the responses say whether the server is reachable.
    }
  }

  /**
   * A count from the live stream (someone liked or unliked elsewhere): shown, keeping whether
   * this reader likes it; not while this reader's own press on it waits for the server.
   */
  live({ comment, count, likers }: LiveLikes): void {
    const key = comment ?? '';
    const known = this.#likes.get(key);
    if (!this.#likes.has('') || this.#busy.has(key)) return;
    this.#likes.set(key, { ...known, liked: known?.liked ?? false, count, ...(likers && { likers }) });
    this.#host.requestUpdate();
  }

  /** The row under the responses; nothing until the post's likes are known. */
  render(l: Localizer): TemplateResult | typeof nothing {
    const likes = this.#likes.get('');
    if (!likes) return nothing;
    const { count, likers = [] } = likes;
    const more = count - likers.length;
    return html`<section part="likes" class="likes" aria-labelledby="likes-heading">
      ${this.#button(l, '', likes)}
      <span id="likes-heading">${count ? l.plural('likers', count) : l.t('likeFirst')}</span>
      ${likers.length
        ? html`<ul class="likers">
            ${likers.map(({ name, avatar: seed, picture, website }) => {
              // Named by their title: the avatar itself is decorative.
              const href = safeHttpUrl(website);
              const face = avatar(seed, name, picture, (this.#for?.[0] as { server?: string } | null)?.server);
              return html`<li>
                ${href
                  ? html`<a href=${href} title=${name} rel="nofollow ugc">${face}</a>`
                  : html`<span role="img" title=${name}>${face}</span>`}
              </li>`;
            })}
          </ul>`
        : nothing}
      ${more > 0 ? html`<span>${l.t('moreLikers', { n: more })}</span>` : nothing}
      <span part="status" class="status" role="status">${this.#notice && l.t(this.#notice)}</span>
    </section>`;
  }

  /** A comment's Like button with its count, once the post's likes are known. */
  comment(comment: Comment, l: Localizer): TemplateResult | typeof nothing {
    if (!this.#likes.has('') || comment.status !== 'published') return nothing;
    return this.#button(l, comment.id, this.#likes.get(comment.id) ?? { count: 0, liked: false });
  }

  #button(l: Localizer, key: string, { count, liked }: Likes): TemplateResult {
    return html`<button
      part="like-button"
      class="like"
      type="button"
      aria-pressed=${liked ? 'true' : 'false'}
      aria-describedby=${key ? `author-${key}` : 'likes-heading'}
      @click=${() => void this.#toggle(key)}
    >
      ${l.t('like')}${key && count ? html` <span class="count">${l.parts('{n}', { n: count })}</span>` : nothing}
    </button>`;
  }

  /** Likes or unlikes: shown at once, sent, then the server's answer (or the old state back). */
  async #toggle(key: string): Promise<void> {
    const target = this.#for;
    const backend = target?.[0];
    const picker = this.#host.renderRoot.querySelector('login-picker');
    const user = picker?.user;
    if (!target || !backend?.like || this.#busy.has(key)) return;
    if (!user) return this.#askSignIn(picker);

    const before = this.#likes.get(key) ?? { count: 0, liked: false };
    const liked = !before.liked;
    const likers = before.likers?.filter((liker) => liker.name !== user.name || liker.avatar !== user.avatar);
    this.#likes.set(key, {
      count: before.count + (liked ? 1 : -1),
      liked,
      ...(likers && { likers: liked ? [user, ...likers].slice(0, 20) : likers }),
    });
    this.#busy.add(key);
    this.#notice = '';
    this.#host.requestUpdate();
    try {
      const after = await backend.like(target[1], key || null, liked);
      if (this.#for !== target) return;
      this.#likes.set(key, key ? { count: after.count, liked: after.liked } : after);
      this.#host.dispatchEvent(new LikeChangeEvent({ post: target[1], comment: key || null, liked: after.liked, count: after.count }));
    } catch (error) {
      if (this.#for !== target) return;
      this.#likes.set(key, before);
      if (error instanceof BackendError && error.status === 401) this.#askSignIn(picker);
      else this.#notice = 'likeFailed';
    } finally {
      this.#busy.delete(key);
      this.#host.requestUpdate();
    }
  }

  /** Only signed-in readers like: say so, and take them to the sign-in buttons in the composer. */
  #askSignIn(picker: HTMLElement | null | undefined): void {
    this.#notice = 'likeSignIn';
    this.#host.requestUpdate();
    const button = picker?.shadowRoot?.querySelector<HTMLElement>('.providers button');
    // Scrolled no further than needed, so the message by the Like button stays in view if it can.
    button?.focus({ preventScroll: true });
    button?.scrollIntoView({ block: 'nearest' });
  }
}
