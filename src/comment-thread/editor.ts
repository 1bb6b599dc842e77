/**
 * Edit and Delete on the reader's own comments in `<comment-thread>`, while the server's edit
 * window is open: a guest's are the ones whose edit token this browser holds
 * (`data/edit-tokens.ts`); a signed-in reader's are those whose `author.user` is their
 * pseudonym on the site. Edit turns the body into a textarea (Save / Cancel, Escape cancels);
 * Delete asks inline first. The server's answer replaces the comment in place; its refusal
 * is shown as its own sentence in a status region.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { Comment } from '../data/api-types.js';
import { BackendError, type Backend } from '../data/backend.js';
import { dropEditToken, keepEditToken, loadEditTokens, type EditToken } from '../data/edit-tokens.js';
import type { Localizer } from '../internal/i18n.js';
import type { ComposerHost } from './composer.js';

export interface EditorOptions {
  backend(): Backend | null;
  post(): string;
  /** The signed-in reader's pseudonym on this site, if signed in. */
  me(): string | undefined;
  /** Puts the server's copy in place of comment `id` (null: it was removed). */
  replace(id: string, comment: Comment | null): void;
}

/** What one own comment is showing: the edit form, or the delete question; and the last refusal. */
interface Mode {
  id: string;
  confirm: boolean;
  error: string;
  busy?: boolean;
}

export class Editor {
  /** Seconds after posting during which a comment may be changed (the page's `editWindow`). */
  window = 900;
  #tokens = new Map<string, EditToken>();
  #mode: Mode | null = null;
  /** Re-renders when the next open window closes, so its buttons go. */
  #timer?: ReturnType<typeof setTimeout>;
  #timerAt = Infinity;

  constructor(
    private readonly host: ComposerHost,
    private readonly options: EditorOptions,
  ) {}

  /** Reads the tokens this browser keeps (after a reload, say). */
  async load(now: number): Promise<void> {
    for (const [id, entry] of await loadEditTokens(now)) this.#tokens.set(id, entry);
    this.host.requestUpdate();
  }

  /** Keeps the token a guest's comment was posted with, until its window closes. */
  keep(comment: Comment, token: string): Promise<void> {
    const entry = { token, until: Date.parse(comment.created) + this.window * 1000 };
    this.#tokens.set(comment.id, entry);
    return keepEditToken(comment.id, entry);
  }

  /** The form that stands in for the body of the comment being edited, or null. */
  form(c: Comment, l: Localizer): TemplateResult | null {
    const mode = this.#mode;
    if (mode?.id !== c.id || mode.confirm) return null;
    const close = () => this.#close(c, '.edit');
    return html`<form
      class="edit-form"
      @submit=${(event: Event) => {
        event.preventDefault();
        void this.#change(c, (event.target as HTMLFormElement).querySelector('textarea')!.value, l);
      }}
      @keydown=${(event: KeyboardEvent) => event.key === 'Escape' && (event.preventDefault(), close())}
    >
      <label for="edit-${c.id}">${l.t('editLabel')}</label>
      <textarea id="edit-${c.id}" rows="4" required aria-describedby="edit-status-${c.id}" .value=${c.body}></textarea>
      <p class="actions">
        <button type="submit">${l.t('save')}</button>
        <button type="button" @click=${close}>${l.t('cancel')}</button>
      </p>
    </form>`;
  }

  /** Whether it is the reader's: a guest's whose edit token this browser holds, or the signed-in reader's. */
  owns(c: Comment): boolean {
    return this.#tokens.has(c.id) || (!!c.author.user && c.author.user === this.options.me());
  }

  /** Edit and Delete (or the delete question) on the reader's own comment while its window is open. */
  actions(c: Comment, l: Localizer, now: number): TemplateResult | typeof nothing {
    const mode = this.#mode?.id === c.id ? this.#mode : null;
    // Cheap checks first: this runs for every comment on every render.
    const own = !c.deleted && this.owns(c);
    const until = own && this.options.backend()?.change ? Date.parse(c.created) + this.window * 1000 : 0;
    if (!mode && until <= now) return nothing;
    if (until > now && until < this.#timerAt) {
      clearTimeout(this.#timer);
      this.#timerAt = until;
      this.#timer = setTimeout(() => ((this.#timerAt = Infinity), this.host.requestUpdate()), Math.min(until - now, 2 ** 31 - 1));
    }
    const status = html`<span id="edit-status-${c.id}" part="status" class="status error" role="status">${mode?.error}</span>`;
    if (mode?.confirm) {
      const cancel = () => this.#close(c, '.delete');
      return html`<span
          class="actions"
          role="group"
          aria-labelledby="confirm-${c.id}"
          @keydown=${(event: KeyboardEvent) => event.key === 'Escape' && cancel()}
        >
          <span id="confirm-${c.id}">${l.t('confirmDelete')}</span>
          <button type="button" @click=${() => void this.#change(c, null, l)}>${l.t('delete')}</button>
          <button type="button" class="cancel" @click=${cancel}>${l.t('cancel')}</button>
        </span>
        ${status}`;
    }
    return html`${mode
      ? nothing
      : html`<button type="button" class="edit" aria-describedby="author-${c.id}" @click=${() => this.#open(c, false)}>
            ${l.t('edit')}
          </button>
          <button type="button" class="delete" aria-describedby="author-${c.id}" @click=${() => this.#open(c, true)}>
            ${l.t('delete')}
          </button>`}
    ${status}`;
  }

  async #open(c: Comment, confirm: boolean): Promise<void> {
    this.#mode = { id: c.id, confirm, error: '' };
    this.host.requestUpdate();
    await this.host.updateComplete;
    this.#find(c.id, confirm ? '.cancel' : 'textarea')?.focus();
  }

  /** Leaves edit or confirm mode; focus goes back to the button it came from. */
  async #close(c: Comment, button: string): Promise<void> {
    this.#mode = null;
    this.host.requestUpdate();
    await this.host.updateComplete;
    this.#find(c.id, button)?.focus();
  }

  #find(id: string, selector: string): HTMLElement | null {
    return this.host.renderRoot.querySelector(`[id="comment-${CSS.escape(id)}"] ${selector}`);
  }

  /** Saves a new `body`, or deletes (`null`); the server's copy takes the comment's place. */
  async #change(c: Comment, body: string | null, l: Localizer): Promise<void> {
    const mode = this.#mode;
    const backend = this.options.backend();
    if (!mode || mode.busy || !backend?.change) return;
    if (body !== null && !body.trim()) {
      mode.error = l.t('bodyRequired');
      this.host.requestUpdate();
      return;
    }
    mode.busy = true;
    try {
      const result = await backend.change(this.options.post(), c.id, body, this.#tokens.get(c.id)?.token);
      this.#mode = null;
      if (result === 'removed') {
        this.#tokens.delete(c.id);
        void dropEditToken(c.id);
        this.options.replace(c.id, null);
      } else {
        this.options.replace(c.id, result === 'emptied' ? { ...c, body: '', deleted: true } : result);
      }
      this.host.requestUpdate();
      await this.host.updateComplete;
      const root = this.host.renderRoot;
      (result === 'removed'
        ? (c.parent && this.#find(c.parent, '')) || root.querySelector<HTMLElement>('#comment')
        : this.#find(c.id, result === 'emptied' ? '' : '.edit') ?? this.#find(c.id, ''))?.focus();
    } catch (error) {
      mode.busy = false;
      // The server's own sentence ("Comments can be changed only within 15 minutes of posting.").
      mode.error = error instanceof BackendError && error.status ? error.message : l.t('unreachable');
      this.host.requestUpdate();
    }
  }
}
