/**
 * Report on each response in `<comment-thread>` (not on the reader's own): opens an inline form
 * with an optional reason (Send / Cancel, Escape cancels, focus back on Report), then says
 * "Thanks — the blog owner will review it." in a status region. The server counts one report
 * per reader; a second one is thanked the same.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { Comment } from '../data/api-types.js';
import type { Backend } from '../data/backend.js';
import type { Localizer } from '../internal/i18n.js';
import type { ComposerHost } from './composer.js';

export class Reporter {
  /** The comment whose form is open ('' for none), and the server's refusal of its last send. */
  #open = '';
  #error = '';
  #sent = new Set<string>();

  constructor(
    private readonly host: ComposerHost,
    private readonly backend: () => Backend | null,
    private readonly post: () => string,
  ) {}

  /** The Report button, its form, or the thanks; nothing where reporting makes no sense. */
  render(c: Comment, l: Localizer, own: boolean): TemplateResult | typeof nothing {
    if (own || c.deleted || c.status !== 'published' || !this.backend()?.report) return nothing;
    if (this.#sent.has(c.id)) return html`<span class="status" role="status">${l.t('reportThanks')}</span>`;
    if (this.#open !== c.id) {
      return html`<button type="button" class="report" aria-describedby="author-${c.id}" @click=${() => this.#show(c.id, 'textarea')}>
        ${l.t('report')}
      </button>`;
    }
    const close = () => this.#show('', `#comment-${c.id} .report`);
    return html`<form
      class="report-form"
      @submit=${(event: Event) => {
        event.preventDefault();
        void this.#send(c, (event.target as HTMLFormElement).querySelector('textarea')!.value);
      }}
      @keydown=${(event: KeyboardEvent) => event.key === 'Escape' && (event.preventDefault(), close())}
    >
      <label for="report-${c.id}">${l.t('reportReason')}</label>
      <textarea id="report-${c.id}" rows="2" maxlength="500"></textarea>
      <button type="submit">${l.t('send')}</button>
      <button type="button" @click=${close}>${l.t('cancel')}</button>
      <span class="status error" role="status">${this.#error}</span>
    </form>`;
  }

  async #show(id: string, focus: string): Promise<void> {
    this.#open = id;
    this.#error = '';
    this.host.requestUpdate();
    await this.host.updateComplete;
    this.host.renderRoot.querySelector<HTMLElement>(focus)?.focus();
  }

  async #send(c: Comment, reason: string): Promise<void> {
    try {
      await this.backend()!.report!(this.post(), c.id, reason.trim() || null);
      this.#sent.add(c.id);
      await this.#show('', `#comment-${c.id}`);
    } catch (error) {
      this.#error = (error as Error).message;
      this.host.requestUpdate();
    }
  }
}
