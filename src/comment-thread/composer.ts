/**
 * The "Leave a Reply" form of `<comment-thread>`: the draft, the reply target, the client-side
 * checks and the send. Part of the thread rather than an element of its own, so its parts
 * (`composer`, `textarea`, `submit-button`, `status`) are the thread's parts. Sending goes
 * through `data/send.ts`, where the offline outbox will slot in.
 */
import { html, nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import type { Comment, NewCommentRequest } from '../data/api-types.js';
import type { Backend } from '../data/backend.js';
import { newClientId } from '../data/client-id.js';
import { sendComment } from '../data/send.js';
import { checkBody, type Problem } from '../data/validate.js';
import { CommentFailedEvent, CommentPostedEvent, CommentSubmitEvent } from '../events.js';
import type { Localizer, MessageKey } from '../internal/i18n.js';
import { safeHttpUrl } from '../internal/text.js';
import '../login-picker/login-picker.js';

/** The writer's own comment as the thread shows it: being sent, or stored. */
export interface OwnComment {
  /** The post it was written on (the element's `post` at the time). */
  post: string;
  comment: Comment;
  sending: boolean;
}

export interface ComposerOptions {
  /** Where a comment goes now; null when no server is configured. */
  target(): { backend: Backend; post: string; pageTitle: string } | null;
  /** Shows the writer's comment in the list, or replaces the copy with the same id. */
  show(own: OwnComment): void;
  /** Takes the writer's comment out of the list again. */
  remove(id: string): void;
}

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
  #busy = false;
  /** The last request sent without a definite answer, and its id: an unchanged retry reuses the id. */
  #attempt: { fingerprint: string; id: string } | null = null;

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
    this.#textarea()?.focus();
  }

  /** Stops replying; focus goes back to the Reply button it came from (or the textarea). */
  async cancelReply(): Promise<void> {
    const from = this.#replyTo;
    this.#replyTo = null;
    this.#host.requestUpdate();
    await this.#host.updateComplete;
    const root = this.#host.renderRoot;
    const article = from && root.querySelector(`[id="comment-${CSS.escape(from.id)}"]`);
    const button = article?.querySelector<HTMLElement>("[part~='reply-button']");
    (button ?? this.#textarea())?.focus();
  }

  render(l: Localizer, server: string | undefined): TemplateResult {
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
          ?readonly=${this.#busy}
          aria-invalid=${problem ? 'true' : 'false'}
          aria-describedby="comment-error composer-status"
          @input=${() => {
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
      <login-picker exportparts="guest, input, provider-button" .server=${server} lang=${l.lang}></login-picker>
      <p class="actions">
        <button part="submit-button" type="submit" aria-disabled=${this.#busy ? 'true' : 'false'}>
          ${l.t('postComment')}
        </button>
      </p>
    </form>`;
  }

  /** Checks, announces (`comment-submit`), shows the comment at once and sends it. */
  async submit(): Promise<void> {
    const root = this.#host.renderRoot;
    const picker = root.querySelector('login-picker');
    const target = this.#options.target();
    if (this.#busy || !picker || !target) return;

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

    const { name, email, website } = picker.guest;
    const replyTo = this.#replyTo;
    const request: NewCommentRequest = {
      post: target.post,
      pageTitle: target.pageTitle,
      parent: replyTo?.id ?? null,
      author: website ? { name, email, website } : { name, email },
      body,
    };
    const fingerprint = JSON.stringify(request);
    const id = this.#attempt?.fingerprint === fingerprint ? this.#attempt.id : newClientId();
    const submit = new CommentSubmitEvent({ id, request });
    this.#host.dispatchEvent(submit);
    if (submit.defaultPrevented) return;

    picker.remember();
    this.#attempt = { fingerprint, id };
    this.#setDraft('');
    this.#replyTo = null;
    this.#busy = true;
    this.#options.show({ post: target.post, sending: true, comment: draftComment(id, request, replyTo) });

    const outcome = await sendComment(target.backend, id, request);
    this.#busy = false;
    if (outcome.state === 'sent') {
      this.#attempt = null;
      this.#options.show({ post: target.post, sending: false, comment: outcome.comment });
      this.#notice = { error: false, keys: [outcome.comment.status === 'pending' ? 'pending' : 'posted'] };
      this.#host.dispatchEvent(new CommentPostedEvent(outcome.comment));
    } else {
      const { error } = outcome;
      this.#options.remove(id);
      // The textarea was read-only while sending, so the draft goes back exactly as it was.
      this.#setDraft(request.body);
      this.#replyTo = replyTo;
      if (outcome.state === 'failed') {
        this.#notice = { error: true, text: error.message };
        this.#host.dispatchEvent(
          new CommentFailedEvent({ id, status: error.status, code: error.code, message: error.message }),
        );
      } else {
        this.#notice = { error: true, keys: [error.status === 0 ? 'unreachable' : 'busy', 'notSent'] };
      }
    }
    this.#host.requestUpdate();
  }

  #textarea(): HTMLTextAreaElement | null {
    return this.#host.renderRoot.querySelector('textarea');
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

/** How the comment looks while it is being sent: the server fills in the rest. */
function draftComment(id: string, request: NewCommentRequest, replyTo: Comment | null): Comment {
  return {
    id,
    post: request.post,
    parent: request.parent ?? null,
    depth: replyTo ? replyTo.depth + 1 : 0,
    kind: 'comment',
    status: 'published',
    author: { name: request.author.name, website: safeHttpUrl(request.author.website), avatar: '' },
    body: request.body,
    created: new Date().toISOString(),
    reblog: null,
  };
}
