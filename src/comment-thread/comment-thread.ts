import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { Comment, CommentPage } from '../data/api-types.js';
import { BackendError, type Backend } from '../data/backend.js';
import { httpBackendFor } from '../data/http-backend.js';
import type { Outbox, OutboxRecord } from '../data/outbox.js';
import { resolveServer } from '../data/server.js';
import { define } from '../internal/define.js';
import { BlogtalkElement } from '../internal/element.js';
import type { Localizer } from '../internal/i18n.js';
import { whenIdle } from '../internal/lazy.js';
import { styles } from './comment-thread.styles.js';
import { buildThreads, renderThreads, type QueuedAction, type ViewContext } from './comment-view.js';
import type { Composer } from './composer.js';
import type { Editor } from './editor.js';
import type { LikesRow } from './likes-row.js';
import { commentActions, likes, live, writing } from './parts.js';
import type { Reporter } from './report.js';

/** Edit/Delete until `commentActions` arrives: none. */
const noEditor = { form: () => null, actions: () => nothing } as unknown as Editor;

/** The writer's own comment as the server stored it, shown until a reload lists it. */
interface OwnComment {
  /** The post it was written on (the element's `post` at the time). */
  post: string;
  comment: Comment;
}

/** One load of the newest page. */
interface Load {
  args: readonly unknown[];
  abort: AbortController;
  done?: boolean;
  value?: CommentPage;
  error?: unknown;
}

/** How many older pages a permalink (`#comment-<id>`) may load while looking for its comment. */
const MAX_PERMALINK_PAGES = 10;

/**
 * The responses to one post and the "Leave a Reply" form, like a blog's own comment section:
 * "One Response to “Title”", threaded replies, reblogs, and a composer with guest details.
 * Loads from the blogtalk server named by `server` (else the loading script's `data-server`,
 * else its origin).
 *
 * @summary A post's comments, threaded, with a composer.
 * @tagname comment-thread
 *
 * @csspart thread - The whole section.
 * @csspart heading - "N Responses to “Title”".
 * @csspart comment - One response (without its replies).
 * @csspart comment-author - The author's name (a link when they gave a website).
 * @csspart comment-avatar - The generated avatar.
 * @csspart comment-date - The permalink showing the relative date.
 * @csspart comment-body - The response's text.
 * @csspart reply-button - A response's "Reply" button.
 * @csspart composer - The "Leave a Reply" form.
 * @csspart textarea - The comment field.
 * @csspart submit-button - "Post Comment".
 * @csspart status - Loading, sending, waiting and failure notices (each `role="status"`).
 * @csspart likes - "N bloggers like this:" with the likers' avatars and the post's Like button.
 * @csspart like-button - The Like toggle of the post and of each response (`aria-pressed`).
 * @csspart guest - The guest details in the composer (from `<login-picker>`).
 * @csspart input - The guest detail fields (from `<login-picker>`).
 *
 * @cssprop --blogtalk-accent - Buttons, focus rings and highlights (and links, when set). Default `#0675c4`.
 * @cssprop --blogtalk-font - Font family. Default: inherited from the page.
 * @cssprop --blogtalk-text - Text colour. Default: inherited from the page.
 * @cssprop --blogtalk-muted - Dates and notices. Default: the text colour, lighter.
 * @cssprop --blogtalk-surface - Background. Default: transparent.
 * @cssprop --blogtalk-border - Separators and field borders. Default: mixed from the text colour.
 * @cssprop --blogtalk-radius - Corner radius. Default `4px`.
 *
 * @fires {CommentSubmitEvent} comment-submit - The writer posts a comment; cancel it to store and send nothing.
 * @fires {CommentQueuedEvent} comment-queued - The comment is kept in the offline outbox and is being sent.
 * @fires {CommentPostedEvent} comment-posted - The server stored the comment; `detail` is its copy.
 * @fires {CommentFailedEvent} comment-failed - The server rejected the comment; `detail` has `code` and `message`.
 * @fires {LikeChangeEvent} like-change - The reader liked or unliked the post or a response; `detail` has `post`, `comment`, `liked`, `count`.
 *
 * Comments are kept in an offline outbox (IndexedDB) until the server has them: one written
 * offline is shown as waiting and sent when the connection comes back, also after a reload.
 *
 * It has no slots: everything it shows comes from the server and the writer.
 */
export class CommentThreadElement extends BlogtalkElement {
  static override styles = styles;

  // `static properties` rather than decorators: the same reactive properties, ~0.4 KB less
  // in the bundle (no decorator runtime, no __decorate calls).
  static override properties = {
    post: {},
    server: {},
    pageTitle: { attribute: 'page-title' },
    sort: { reflect: true },
    pageSize: { attribute: 'page-size', type: Number },
    theme: { reflect: true },
    backend: { attribute: false },
    outbox: { attribute: false },
    _earlier: { state: true },
    _older: { state: true },
    _olderState: { state: true },
    _own: { state: true },
    _incoming: { state: true },
    _target: { state: true },
  };

  /** The post's canonical URL. Defaults to the page's `<link rel="canonical">`, else its URL. */
  post = '';

  /** The blogtalk server's URL. Defaults to the loading script's `data-server`, else its origin. */
  server?: string;

  /**
   * The post's title for the heading (and for the post record). Defaults to the stored title,
   * else `document.title`.
   */
  pageTitle?: string;

  /** `oldest` (default) or `newest` first, for top-level responses. */
  sort: 'oldest' | 'newest' = 'oldest';

  /** Top-level threads per page; more are behind "Older comments". */
  pageSize = 50;

  /** `light`, `dark` or `auto` for a palette of its own; unset inherits the page's colours. */
  theme?: 'light' | 'dark' | 'auto';

  /** Where comments come from, instead of the blogtalk server at `server`. */
  backend?: Backend;

  /** Where comments wait until sent, instead of the page's shared outbox for the backend. */
  outbox?: Outbox;

  /** The clock that dates and edit windows are measured by (tests move it). */
  now = Date.now;

  /** Responses from pages before the newest, oldest first. */
  private _earlier: Comment[] = [];
  /** Cursor of the next older page; undefined means the newest page's. */
  private _older: string | null | undefined = undefined;
  private _olderState: 'idle' | 'loading' | 'error' = 'idle';
  private _own: OwnComment[] = [];
  /** Comments that arrived live, shown when the reader asks (no jump under their eyes). */
  private _incoming: Comment[] = [];
  /** Stops listening for live comments. */
  #unlisten: (() => void) | null = null;
  /** The comment the URL's `#comment-<id>` points at, once shown. */
  private _target: string | null = null;

  #olderAbort: AbortController | null = null;
  /** The outbox watched, and how to stop watching it. */
  #watching: [Outbox, () => void] | null = null;
  /** The state each outbox record of this post was last seen in, to tell what changed. */
  #seen = new Map<string, string>();

  /**
   * The newest page's load: what it was for, its abort, and its result once settled. (Like
   * `@lit/task`, in fewer bytes: the bundle budget is tight.)
   */
  #list: Load | null = null;

  /** Loads the newest page unless it is loaded (or loading) for the same backend, post and size. */
  #load(again = false): void {
    const backend = this.#backend();
    const args = [backend, this.#post(), this.#pageSize()] as const;
    const current = this.#list;
    if (!again && current?.args.every((arg, i) => arg === args[i])) return;
    current?.abort.abort();
    const load: Load = { args, abort: new AbortController() };
    this.#list = load;
    (backend
      ? backend.list(args[1], { pageSize: args[2], signal: load.abort.signal })
      : Promise.reject(new BackendError(0, 'no_server', 'No blogtalk server is configured.'))
    ).then(
      (page) => this.#settle(load, { value: page }),
      (error) => this.#settle(load, { error }),
    );
  }

  #settle(load: Load, result: { value?: CommentPage; error?: unknown }): void {
    if (this.#list !== load) return;
    Object.assign(load, result, { done: true });
    if (result.value) this.#listen(result.value.post.url, result.value.events);
    if (result.value?.editWindow) this.#editWindow = result.value.editWindow;
    if (this.#editor) this.#editor.window = this.#editWindow;
    this.requestUpdate();
    void this.#reveal(true);
    // Once the thread is painted: Edit, Report and the composer (with sign-in and the outbox,
    // which sends what an earlier visit left) when the browser is idle, or at first use.
    void this.updateComplete.then(() =>
      whenIdle(() => {
        void this.#actions();
        void this.#write();
      }),
    );
  }

  /** The "Leave a Reply" form, once its chunk is loaded (a placeholder of its shape until then). */
  #composer?: Composer;
  #editor?: Editor;
  #reporter?: Reporter;
  #editWindow = 900;
  #likes?: LikesRow;

  /** This thread's composer, made once its part is loaded. */
  #composerFrom({ Composer }: NonNullable<typeof writing.value>): Composer {
    return (this.#composer ??= new Composer(this, {
      target: () => {
        const backend = this.#backend();
        const outbox = this.#outbox();
        return backend && outbox && { backend, outbox, post: this.#post(), pageTitle: this.pageTitle || document.title };
      },
    }));
  }

  /**
   * Loads the composer and the outbox (once), then puts this thread's composer in place of the
   * placeholder, keeping what was typed there and the focus.
   */
  async #write(): Promise<Composer> {
    const part = await writing.load();
    if (this.#composer) return this.#composer;
    const root = this.renderRoot as ShadowRoot;
    const field = () => root.querySelector<HTMLTextAreaElement>('#comment');
    const typed = field();
    const focused = root.activeElement;
    const composer = this.#composerFrom(part);
    this.requestUpdate();
    this.#sync();
    await this.updateComplete;
    const textarea = field();
    if (typed?.value && textarea && !textarea.value) {
      textarea.value = typed.value;
      textarea.setSelectionRange(typed.selectionStart, typed.selectionEnd);
      textarea.dispatchEvent(new Event('input')); // saved as the draft
    }
    if (focused === typed) textarea?.focus();
    else if (focused?.part.contains('submit-button')) root.querySelector<HTMLElement>("[part~='submit-button']")?.focus();
    return composer;
  }

  #pickerWatched = false;

  protected override updated(): void {
    const picker = this.renderRoot.querySelector('login-picker');
    if (!picker || this.#pickerWatched) return;
    this.#pickerWatched = true;
    // Whose comments are the reader's changes when the picker learns (or forgets) who is signed in.
    let author: string | undefined;
    picker.addController({
      hostUpdated: () => author !== (author = this.#me()) && this.requestUpdate(),
    });
  }

  /** Loads Edit, Delete and Report (once), then makes this thread's. */
  async #actions(): Promise<Editor> {
    const [{ Editor }, { Reporter }] = await commentActions.load();
    if (!this.#editor) {
      this.#editor = new Editor(this, {
        backend: () => this.#backend(),
        post: () => this.#post(),
        me: () => this.#me(),
        replace: (id, comment) => this.#replace(id, comment),
      });
      this.#editor.window = this.#editWindow;
      this.#reporter = new Reporter(this, () => this.#backend(), () => this.#post());
      await this.#editor.load(this.now());
    }
    return this.#editor;
  }

  /**
   * Before the composer is loaded: its heading, field and button in the same places. Using it
   * (focus, a click) loads the real one, which takes over what was typed and the focus.
   */
  #renderPlaceholder(l: Localizer): TemplateResult {
    return html`<form
      part="composer"
      class="composer"
      aria-labelledby="reply-title"
      @focusin=${() => void this.#write()}
      @pointerdown=${() => void this.#write()}
      @submit=${(event: Event) => {
        event.preventDefault();
        void this.#write().then((composer) => composer.submit());
      }}
    >
      <div class="reply-title"><h3 id="reply-title">${l.t('leaveReply')}</h3></div>
      <p class="field">
        <label for="comment">${l.t('comment')}</label>
        <textarea id="comment" part="textarea" name="comment" rows="6"></textarea>
      </p>
      <p class="picker-space"></p>
      <p class="actions"><button part="submit-button" type="submit">${l.t('postComment')}</button></p>
    </form>`;
  }

  #onHashChange = () => void this.#reveal(false);
  /** Back online after the thread could not be loaded: load it again. */
  #onOnline = () => this.#list?.error && this.#retry();

  /**
   * Signed in (again): send the comments that failed because the session had expired. They
   * waited as "Couldn't post: Your sign-in has expired…" until now.
   */
  #onLogin = () => {
    const outbox = this.#watching?.[0];
    for (const record of outbox?.records() ?? []) {
      if (record.state === 'failed' && record.lastError?.status === 401) void outbox!.retry(record.id);
    }
  };

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('login', this.#onLogin);
    addEventListener('hashchange', this.#onHashChange);
    addEventListener('online', this.#onOnline);
    const likesRow = ({ LikesRow }: NonNullable<typeof likes.value>) => {
      this.#likes ??= new LikesRow(this, () => [this.#backend(), this.#post()]);
      this.requestUpdate();
    };
    if (likes.value) likesRow(likes.value);
    else void likes.load().then(likesRow);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener('login', this.#onLogin);
    removeEventListener('hashchange', this.#onHashChange);
    removeEventListener('online', this.#onOnline);
    this.#watching?.[1]();
    this.#watching = null;
    this.#unlisten?.();
    this.#unlisten = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Another post (or server): forget everything about the old thread; the task aborts its load.
    if (changed.has('post') || changed.has('server') || changed.has('backend') || changed.has('pageSize')) {
      this.#resetThread();
    }
    this.#load();
    if (commentActions.value && !this.#editor) void this.#actions(); // imported statically: no wait
    const outbox = this.#outbox();
    if (outbox !== this.#watching?.[0]) {
      this.#watching?.[1]();
      this.#watching = outbox && [outbox, outbox.subscribe(() => this.#sync())];
      this.#seen.clear();
      this.#sync();
      if (outbox) void Promise.all([this.#write(), outbox.ready]).then(([composer]) => composer.restore());
    }
  }

  /**
   * Follows the outbox: a record of this post that the server now has becomes the server's copy
   * (the record is then removed); changes seen here are announced as events.
   */
  #sync(): void {
    const outbox = this.#watching?.[0];
    if (!outbox || !writing.value) return;
    const post = this.#post();
    writing.value.syncOutbox(outbox, {
      post,
      seen: this.#seen,
      host: this,
      own: (comment) => {
        if (!this._own.some((own) => own.comment.id === comment.id)) this._own = [...this._own, { post, comment }];
      },
      keep: (comment, token) => this.#actions().then((editor) => editor.keep(comment, token)),
      posted: (comment) => this.#composer?.posted(comment),
    });
    this.requestUpdate();
  }

  #act(record: OutboxRecord, action: QueuedAction): void {
    const outbox = this.#watching?.[0];
    if (!outbox) return;
    if (action === 'retry') {
      void outbox.retry(record.id);
      return;
    }
    void outbox.remove(record.id);
    if (action === 'edit') {
      const parent = record.request.parent;
      const loaded = [...this._earlier, ...(this.#list?.value?.comments ?? []), ...this._own.map((own) => own.comment)];
      void this.#composer?.edit(record.request.body, loaded.find((comment) => comment.id === parent) ?? null);
    } else {
      this.#composer?.focus();
    }
  }

  protected override render(): TemplateResult {
    const l = this.localizer;
    const list = this.#list;
    return html`<div part="thread" class="thread" lang=${l.lang} dir=${l.dir}>
      ${list?.done ? this.#renderPage(list, l) : this.#renderLoading(l)} ${this.#likes?.render(l)}
      ${list?.value?.closed
        ? html`<p part="status" class="state">${l.t('closed')}</p>`
        : writing.value
          ? this.#composerFrom(writing.value).render(l, this.server, this.#watching?.[0].durable)
          : this.#renderPlaceholder(l)}
    </div>`;
  }

  #renderLoading(l: Localizer): TemplateResult {
    return html`<p part="status" class="state status" role="status">${l.t('loading')}</p>`;
  }

  #renderError(error: unknown, l: Localizer): TemplateResult {
    // The server's own sentence when it gave one; otherwise (no answer, a proxy's error page) ours.
    const reason =
      error instanceof BackendError && error.status !== 0 && !/^http_|^invalid_response$/.test(error.code)
        ? error.message
        : l.t('unreachable');
    return html`<div class="state">
      <p part="status" class="error" role="status">${l.t('loadFailed')} ${reason}</p>
      <button type="button" @click=${() => this.#retry()}>${l.t('retry')}</button>
    </div>`;
  }

  /** The loaded page, or the error that kept it — with the writer's own comments either way. */
  #renderPage({ value: page, error }: Load, l: Localizer): TemplateResult {
    const post = this.#post();
    const loaded = [...this._earlier, ...(page?.comments ?? [])];
    const ids = new Set(loaded.map((comment) => comment.id));
    const own = this._own.filter((entry) => entry.post === post && !ids.has(entry.comment.id));
    for (const entry of own) ids.add(entry.comment.id);
    // Comments in the outbox are shown once the composer's chunk (which says how) is loaded.
    const queuedComment = writing.value?.queuedComment;
    const queued = new Map(
      ((queuedComment && this.#watching?.[0].records()) || [])
        .filter((record) => record.post === post && record.state !== 'sent' && !ids.has(record.id))
        .map((record) => [record.id, record]),
    );
    const threads = buildThreads(
      [...loaded, ...own.map((entry) => entry.comment), ...[...queued.values()].map((record) => queuedComment!(record))],
      queued,
    );
    if (this.sort === 'newest') threads.reverse();
    const context: ViewContext = {
      l,
      now: this.now(),
      target: this._target,
      page: location.href.split('#')[0]!,
      // At once when the composer is there (focus moves in this turn), else once it is loaded.
      reply: (comment) => void (this.#composer?.startReply(comment) ?? this.#write().then((composer) => composer.startReply(comment))),
      act: (record, action) => this.#act(record, action),
      editor: this.#editor ?? noEditor,
      like: (comment) => this.#likes?.comment(comment, l),
      server: resolveServer(this.server),
      report: (comment) => this.#reporter?.render(comment, l, this.#editor!.owns(comment)),
    };
    const list = threads.length ? renderThreads(threads, context) : nothing;
    if (!page) return html`${this.#renderError(error, l)} ${list}`;

    const total = page.total + own.filter((entry) => entry.comment.status === 'published').length;
    const title = this.pageTitle || page.post.title || document.title;
    const older = this.#olderCursor() ? this.#renderOlder(l) : nothing;
    const heading = total ? l.plural('responses', total, { title: html`<bdi>${title}</bdi>` }) : l.t('noResponses');
    const incoming = this.#renderIncoming(l);
    return html`<h2 part="heading">${heading}</h2>
      ${this.sort === 'newest' ? incoming : older} ${list}
      ${this.sort === 'newest' ? older : incoming}`;
  }

  #renderOlder(l: Localizer): TemplateResult {
    const loading = this._olderState === 'loading';
    return html`<p class="older">
      <button type="button" aria-disabled=${loading ? 'true' : 'false'} @click=${() => void this.#loadOlder(true)}>
        ${l.t(loading ? 'loading' : 'olderComments')}
      </button>
      <span class="error" role="status">${this._olderState === 'error' ? l.t('loadFailed') : ''}</span>
    </p>`;
  }

  #me(): string | undefined {
    return this.renderRoot.querySelector('login-picker')?.user?.author;
  }

  /** The server's copy of an edited or emptied comment takes its place; null removes it. */
  #replace(id: string, comment: Comment | null): void {
    const swap = (list: Comment[]) => list.flatMap((c) => (c.id !== id ? [c] : comment ? [comment] : []));
    const page = this.#list?.value;
    if (page) {
      const before = page.comments.length + this._earlier.length;
      page.comments = swap(page.comments);
      this._earlier = swap(this._earlier);
      page.total -= before - page.comments.length - this._earlier.length;
    }
    this._own = this._own.flatMap((own) => (own.comment.id !== id ? [own] : comment ? [{ ...own, comment }] : []));
  }

  #backend(): Backend | null {
    if (this.backend) return this.backend;
    const server = resolveServer(this.server);
    return server ? httpBackendFor(server) : null;
  }

  #outbox(): Outbox | null {
    if (this.outbox) return this.outbox;
    const backend = this.#backend();
    const outboxFor = writing.value?.outboxFor;
    return backend && outboxFor ? outboxFor(backend, (backend as { server?: string }).server ?? '') : null;
  }

  #post(): string {
    if (this.post) return this.post;
    const canonical = document.querySelector<HTMLLinkElement>('link[rel="canonical"]')?.href;
    return canonical || location.href.split('#')[0]!;
  }

  #pageSize(): number {
    const size = Math.floor(this.pageSize);
    return size >= 1 ? Math.min(size, 1000) : 50;
  }

  #olderCursor(): string | null {
    return this._older === undefined ? (this.#list?.value?.older ?? null) : this._older;
  }

  #resetThread(): void {
    this.#unlisten?.();
    this.#unlisten = null;
    this._incoming = [];
    this.#olderAbort?.abort();
    this.#olderAbort = null;
    this._earlier = [];
    this._older = undefined;
    this._olderState = 'idle';
    this._own = [];
    this._target = null;
    this.#composer?.reset();
  }

  /** New comments on this post from the server's live stream (not with a custom backend). */
  #listen(post: string, from?: number): void {
    this.#unlisten?.();
    this.#unlisten = null;
    const server = this.backend ? null : resolveServer(this.server);
    if (!server) return;
    let stop: (() => void) | null | undefined;
    this.#unlisten = () => (stop ? stop() : (stop = null));
    void live.load().then(({ listenLive }) => {
      if (stop !== null) {
        stop = listenLive(server, {
          post,
          from,
          comment: (comment) => this.#arrive(comment),
          change: (id, comment) => this.#change(id, comment),
          reload: () => this.#retry(),
          likes: (likes) => this.#likes?.live(likes),
        });
      }
    });
  }

  /** A comment edited or deleted elsewhere: shown as it now reads, in place, or gone (null). */
  #change(id: string, comment: Comment | null): void {
    const page = this.#list?.value;
    if (!page) return;
    const swap = (list: Comment[]) => list.flatMap((c) => (c.id !== id ? [c] : comment ? [comment] : []));
    if (!comment && [...page.comments, ...this._earlier].some((c) => c.id === id)) page.total--;
    page.comments = swap(page.comments);
    this._earlier = swap(this._earlier);
    this._incoming = swap(this._incoming);
    this._own = this._own.flatMap((own) => swap([own.comment]).map((c) => ({ ...own, comment: c })));
    this.requestUpdate();
  }

  #arrive(comment: Comment): void {
    const page = this.#list?.value;
    const known = [...this._earlier, ...(page?.comments ?? []), ...this._own.map((own) => own.comment), ...this._incoming];
    // The writer's own comment (still in the outbox, or just posted) is not news to them.
    const own = this.#watching?.[0].records().some((record) => record.id === comment.id);
    if (!page || own || known.some((c) => c.id === comment.id)) return;
    this._incoming = [...this._incoming, comment];
  }

  /** Shows the comments that arrived live, and moves focus to the first of them. */
  async #showIncoming(): Promise<void> {
    const page = this.#list?.value;
    const [first] = this._incoming;
    if (!page || !first) return;
    page.comments = [...page.comments, ...this._incoming];
    page.total += this._incoming.length;
    this._incoming = [];
    await this.updateComplete;
    this.shadowRoot?.getElementById(`comment-${first.id}`)?.focus();
  }

  #renderIncoming(l: Localizer): TemplateResult {
    const n = this._incoming.length;
    return html`<p class="incoming" role="status">
      ${n ? html`<button type="button" @click=${() => void this.#showIncoming()}>${l.plural('newResponses', n)}</button>` : nothing}
    </p>`;
  }

  #retry(): void {
    this.#resetThread();
    this.#load(true);
    this.requestUpdate();
  }

  /**
   * Prepends the next older page. With `focus` (a person pressed the button) focus moves to the
   * first response loaded, since the button may be gone. Resolves whether a page was loaded.
   */
  async #loadOlder(focus = false): Promise<boolean> {
    const backend = this.#backend();
    const before = this.#olderCursor();
    if (!backend || !before || this._olderState === 'loading') return false;
    const abort = (this.#olderAbort = new AbortController());
    this._olderState = 'loading';
    try {
      const page = await backend.list(this.#post(), { pageSize: this.#pageSize(), before, signal: abort.signal });
      this._earlier = [...page.comments, ...this._earlier];
      this._older = page.older;
      this._olderState = 'idle';
      if (focus && page.comments[0]) {
        await this.updateComplete;
        this.shadowRoot?.getElementById(`comment-${page.comments[0].id}`)?.focus();
      }
      return true;
    } catch {
      if (!abort.signal.aborted) this._olderState = 'error';
      return false;
    }
  }

  /**
   * Scrolls to and highlights the comment named by the URL's `#comment-<id>`. With `search`
   * (after the thread loads), older pages are loaded until it is found, within a bound.
   */
  async #reveal(search: boolean): Promise<void> {
    const match = /^#comment-(.+)$/.exec(location.hash);
    const id = match ? decodeURIComponent(match[1]!) : null;
    if (!id) {
      this._target = null;
      return;
    }
    const post = this.#post();
    for (let pages = 0; ; pages++) {
      await this.updateComplete;
      if (post !== this.#post()) return;
      const found = this.shadowRoot?.getElementById(`comment-${id}`);
      if (found) {
        this._target = id;
        await this.updateComplete;
        found.scrollIntoView({ block: 'center' });
        found.focus({ preventScroll: true });
        return;
      }
      if (!search || pages >= MAX_PERMALINK_PAGES || !(await this.#loadOlder())) {
        this._target = null;
        return;
      }
    }
  }
}

define('comment-thread', CommentThreadElement);

declare global {
  interface HTMLElementTagNameMap {
    'comment-thread': CommentThreadElement;
  }
}
