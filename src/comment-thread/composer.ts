/**
 * The "Leave a Reply" form of `<comment-thread>`: the draft, the reply target, the client-side
 * checks and the send. Part of the thread rather than an element of its own, so its parts
 * (`composer`, `textarea`, `submit-button`, `status`) are the thread's parts. A comment goes
 * into the offline outbox (`data/outbox.ts`), which sends it; the draft is saved as it is typed.
 */
import { html, nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import type { Comment, NewCommentRequest } from '../data/api-types.js';
import type { Backend } from '../data/backend.js';
import { newClientId } from '../data/client-id.js';
import { newEditToken } from '../data/edit-tokens.js';
import type { Outbox, OutboxRecord } from '../data/outbox.js';
import { checkBody, type Problem } from '../data/validate.js';
import { CommentQueuedEvent, CommentSubmitEvent } from '../events.js';
import type { Localizer, MessageKey } from '../internal/i18n.js';
import { safeHttpUrl } from '../internal/text.js';
import '../login-picker/login-picker.js';

export interface ComposerTarget {
  backend: Backend;
  outbox: Outbox;
  post: string;
  pageTitle: string;
}

export interface ComposerOptions {
  /** Where a comment goes now; null when no server is configured. */
  target(): ComposerTarget | null;
}

/** The composer's draft as saved in the outbox's database while it is typed. */
interface Draft {
  version: 1;
  body: string;
  replyTo: Comment | null;
}

const draftKey = ({ outbox, post }: ComposerTarget) => ['draft', outbox.server, post];

/** The element a composer lives in. */
export type ComposerHost = ReactiveControllerHost & HTMLElement & { renderRoot: HTMLElement | DocumentFragment };

/** What the composer tells the writer: translated keys, or the server's own sentence. */
type Notice = { error: boolean; keys?: MessageKey[]; text?: string };

export class Composer {
  #host: ComposerHost;
  #options: ComposerOptions;
  #replyTo: Comment | null = null;
  #problem: Problem | null = null;
  #notice: Notice | null = null;
  #saveTimer?: ReturnType<typeof setTimeout>;
  /** When the writer first focused the composer for this comment (0: not yet). */
  #started = 0;

  constructor(host: ComposerHost, options: ComposerOptions) {
    this.#host = host;
    this.#options = options;
  }

  /** Forgets the reply target and notices (the thread now shows another post). */
  reset(): void {
    this.#replyTo = null;
    this.#notice = null;
    this.#host.requestUpdate();
  }

  /** Starts a reply to `comment`, moving focus to the textarea. */
  async startReply(comment: Comment): Promise<void> {
    this.#replyTo = comment;
    this.#host.requestUpdate();
    await this.#host.updateComplete;
    this.#saveDraft();
    this.#textarea()?.focus();
  }

  /** Stops replying; focus goes back to the Reply button it came from (or the textarea). */
  async cancelReply(): Promise<void> {
    const from = this.#replyTo;
    this.#replyTo = null;
    this.#host.requestUpdate();
    await this.#host.updateComplete;
    this.#saveDraft();
    const root = this.#host.renderRoot;
    const article = from && root.querySelector(`[id="comment-${CSS.escape(from.id)}"]`);
    const button = article?.querySelector<HTMLElement>("[part~='reply-button']");
    (button ?? this.#textarea())?.focus();
  }

  render(l: Localizer, server: string | undefined, durable = true): TemplateResult {
    const replyTo = this.#replyTo;
    const notice = this.#notice;
    const problem = this.#problem;
    return html`<form
      part="composer"
      class="composer"
      novalidate
      aria-labelledby="reply-title"
      @submit=${(event: Event) => {
        event.preventDefault();
        void this.submit();
      }}
      @focusin=${() => (this.#started ||= Date.now())}
      @keydown=${(event: KeyboardEvent) => {
        if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          void this.submit();
        }
      }}
    >
      <div class="reply-title">
        <h3 id="reply-title">
          ${replyTo
            ? l.parts(l.messages.replyTo, { name: html`<bdi>${replyTo.author.name}</bdi>` })
            : l.t('leaveReply')}
        </h3>
        ${replyTo
          ? html`<button type="button" class="cancel" @click=${() => this.cancelReply()}>${l.t('cancelReply')}</button>`
          : nothing}
      </div>
      <p class="field">
        <label for="comment">${l.t('comment')}</label>
        <textarea
          id="comment"
          part="textarea"
          name="comment"
          rows="6"
          required
          aria-invalid=${problem ? 'true' : 'false'}
          aria-describedby="comment-error composer-status"
          @input=${() => {
            this.#saveDraft();
            if (this.#problem && !checkBody(this.#draft())) {
              this.#problem = null;
              this.#host.requestUpdate();
            }
          }}
        ></textarea>
        <span id="comment-error" class="error">${problem ? l.t(problem.key, problem.values) : ''}</span>
      </p>
      <p id="composer-status" part="status" role="status" class="notice ${notice?.error ? 'error' : 'status'}">${notice
          ? (notice.text ?? notice.keys!.map((key) => l.t(key)).join(' '))
          : ''}</p>
      ${durable ? nothing : html`<p part="status" class="notice error" role="status">${l.t('notDurable')}</p>`}
      <p class="trap" aria-hidden="true">
        <label>Leave this empty <input name="honeypot" tabindex="-1" autocomplete="off" /></label>
      </p>
      <login-picker
        exportparts="guest, input, provider-button"
        .server=${server}
        lang=${l.lang}
        @offer-change=${() => this.#host.requestUpdate()}
      ></login-picker>
      ${this.#offersNotify()
        ? html`<p class="notify"><label><input type="checkbox" name="subscribe" /> ${l.t('notifyReplies')}</label></p>`
        : nothing}
      <p class="actions">
        <button part="submit-button" type="submit">
          ${l.t('postComment')}
        </button>
      </p>
    </form>`;
  }

  /**
   * Checks, announces (`comment-submit`), keeps the comment in the outbox (`comment-queued`) and
   * starts sending it; the thread shows it in place with its state from then on.
   */
  async submit(): Promise<void> {
    const root = this.#host.renderRoot;
    const picker = root.querySelector('login-picker');
    const target = this.#options.target();
    if (!picker || !target) return;

    const body = this.#draft();
    this.#problem = checkBody(body);
    this.#notice = null;
    const guestOk = picker.reportValidity(!this.#problem);
    this.#host.requestUpdate();
    if (this.#problem) {
      this.#textarea()?.focus();
      return;
    }
    if (!guestOk) return;

    const { user } = picker;
    const { name, email, website } = picker.guest;
    const replyTo = this.#replyTo;
    const honeypot = root.querySelector<HTMLInputElement>('[name=honeypot]')?.value;
    const request: NewCommentRequest = {
      post: target.post,
      pageTitle: target.pageTitle,
      parent: replyTo?.id ?? null,
      // Signed in: the session cookie says who writes. A guest's token (made here, kept with the
      // queued request) lets them edit it later, even if the answer to the first send is lost.
      ...(user ? {} : { author: website ? { name, email, website } : { name, email }, editToken: newEditToken() }),
      body,
      // Spam checks: the hidden field, and the writing time measured here, not when it is sent.
      ...(honeypot ? { honeypot } : {}),
      writingMs: Date.now() - (this.#started || Date.now()),
      // "Notify me": the server emails a confirmation link first (double opt-in).
      ...(this.#offersNotify() && root.querySelector<HTMLInputElement>('[name=subscribe]')?.checked ? { subscribe: true } : {}),
    };
    const id = newClientId();
    const submit = new CommentSubmitEvent({ id, request });
    this.#host.dispatchEvent(submit);
    if (submit.defaultPrevented) return;

    picker.remember();
    this.#started = Date.now(); // the next comment's writing starts now (focus may not move)
    this.#setDraft('');
    this.#replyTo = null;
    const { outbox } = target;
    await outbox.add(id, request, replyTo ? replyTo.depth + 1 : 0, user?.name);
    this.#saveDraft(0);
    this.#host.dispatchEvent(new CommentQueuedEvent({ id, request }));
    void outbox.flush(true);
  }

  focus(): void {
    this.#textarea()?.focus();
  }

  /** The server stored the writer's comment: say so. */
  posted(comment: Comment): void {
    this.#notice = { error: false, keys: [comment.status === 'pending' ? 'pending' : 'posted'] };
    this.#host.requestUpdate();
  }

  /** Puts a queued comment back in the composer to be changed and sent again (with a new id). */
  async edit(body: string, replyTo: Comment | null): Promise<void> {
    this.#replyTo = replyTo;
    this.#notice = null;
    this.#host.requestUpdate();
    await this.#host.updateComplete;
    this.#setDraft(body);
    this.#saveDraft(0);
    this.#textarea()?.focus();
  }

  /** Brings back the draft saved on this post (after a reload or a crash), unless one is typed. */
  async restore(): Promise<void> {
    const target = this.#options.target();
    if (!target) return;
    let draft: Draft | undefined;
    try {
      // A read: `modify` that writes nothing.
      await target.outbox.store?.modify(draftKey(target), (old) => void (draft = old as Draft | undefined));
    } catch {
      return;
    }
    await this.#host.updateComplete;
    if (!draft || typeof draft.body !== 'string' || this.#draft() || this.#options.target()?.post !== target.post) return;
    this.#setDraft(draft.body);
    this.#replyTo = draft.replyTo ?? null;
    this.#host.requestUpdate();
  }

  /** Saves the draft after `delay` ms of no typing (0: now); an empty one is forgotten. */
  #saveDraft(delay = 400): void {
    clearTimeout(this.#saveTimer);
    const target = this.#options.target();
    if (!target) return;
    const body = this.#draft();
    const replyTo = this.#replyTo;
    this.#saveTimer = setTimeout(() => {
      const { store } = target.outbox;
      const key = draftKey(target);
      const draft: Draft = { version: 1, body, replyTo };
      void (body ? store?.modify(key, () => draft) : store?.del(key))?.catch(() => {});
    }, delay);
  }

  /** "Notify me" is offered when the server sends email, to guests and to accounts with an address. */
  #offersNotify(): boolean {
    const picker = this.#host.renderRoot.querySelector('login-picker');
    if (!picker) return false;
    const { user } = picker;
    return user ? !!user.mailable : picker.mails;
  }

  #textarea(): HTMLTextAreaElement | null {
    return this.#host.renderRoot.querySelector('#comment');
  }

  // The textarea holds the draft (no value binding: it would only echo what was typed).
  #draft(): string {
    return this.#textarea()?.value ?? '';
  }

  #setDraft(value: string): void {
    const textarea = this.#textarea();
    if (textarea) textarea.value = value;
  }
}

/** How a queued comment looks until the server has it: the server fills in the rest. */
export function queuedComment({ id, request, depth, createdAt, authorName }: OutboxRecord): Comment {
  return {
    id,
    post: request.post,
    parent: request.parent ?? null,
    depth,
    kind: 'comment',
    status: 'published',
    author: {
      name: request.author?.name ?? authorName ?? '',
      website: safeHttpUrl(request.author?.website),
      avatar: '',
    },
    body: request.body,
    created: new Date(createdAt).toISOString(),
    reblog: null,
  };
}
