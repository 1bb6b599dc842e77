import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { BackendError, type MadeReblog, type ReblogTarget } from '../data/backend.js';
import { httpBackendFor } from '../data/http-backend.js';
import { resolveServer } from '../data/server.js';
import { ReblogEvent } from '../events.js';
import { define } from '../internal/define.js';
import { BlogtalkElement } from '../internal/element.js';
import { linkify, safeHttpUrl } from '../internal/text.js';
import { styles } from './reblog-button.styles.js';

/**
 * "Reblog" and how often the post was reblogged. The button opens a dialog (a modal `<dialog>`:
 * focus stays inside it, Escape closes it) where a signed-in reader picks one of their blogs on
 * the comment server, or types its address, adds commentary if they like and confirms. Signed
 * out, the dialog offers `<login-picker>` first and continues once they are signed in. The
 * server's refusals (say, "You already reblogged this post on …") show in the dialog; after a
 * reblog, "Reblogged on <Blog>" links to it, with Undo (after a reload, the dialog shows it so
 * for each of the reader's blogs that already reblogged the post). The dialog's share menu serves
 * readers without a blog: the system's share sheet where there is one, "Copy link", and compose
 * links for Mastodon (on a server the reader names) and Bluesky. It speaks the language of its
 * `lang` (or its page's): English, German or Arabic.
 *
 * @summary Reblog a post on one of your own blogs.
 * @tagname reblog-button
 *
 * @fires reblog - A reblog was made (`detail`: the post, and the blog name and page of the reblog).
 * @fires login - The reader signed in from the dialog.
 *
 * @csspart reblog-button - The "Reblog" button with the count.
 * @csspart dialog - The dialog.
 * @csspart provider-button - A sign-in provider's button in the dialog (from `<login-picker>`).
 *
 * @cssprop --blogtalk-accent - Focus rings and links. Default `#0675c4`.
 * @cssprop --blogtalk-text - Text colour. Default: inherited (the dialog: the system's `CanvasText`).
 * @cssprop --blogtalk-surface - The dialog's background. Default: the system's `Canvas`.
 * @cssprop --blogtalk-border - Borders. Default: mixed from the text colour.
 * @cssprop --blogtalk-radius - Corner radius. Default `4px`.
 */
/** Buttons opened for a post that is not this page's (`#blogtalk-reblog=`). */
const away = new WeakSet<Element>();

export class ReblogButtonElement extends BlogtalkElement {
  static override styles = styles;

  static override properties = {
    post: {},
    server: {},
    pageTitle: { attribute: 'page-title' },
    theme: { reflect: true },
    _count: { state: true },
    _targets: { state: true },
    _signedOut: { state: true },
    _error: { state: true },
    _busy: { state: true },
    _done: { state: true },
    _copied: { state: true },
    _server: { state: true },
  };

  /** The post to reblog (its canonical URL). */
  post?: string;
  /** The blogtalk server (else the loading script's `data-server` or origin). */
  server?: string;
  /** The post's title for the reblog; default: the page's `<title>`. */
  pageTitle?: string;
  /** `light`, `dark` or `auto` for a palette of its own; unset inherits the page's colours. */
  theme?: 'light' | 'dark' | 'auto';

  private _count = 0;
  /** The reader's blogs, once loaded. */
  private _targets: ReblogTarget[] | null = null;
  private _signedOut = false;
  private _error = '';
  private _busy = false;
  private _done: MadeReblog | null = null;
  /** What "Copy link" did, for the status region. */
  private _copied = '';
  /** The Mastodon server typed for "Share on Mastodon". */
  private _server = '';

  get #backend() {
    const server = resolveServer(this.server);
    return server && this.post ? httpBackendFor(server) : null;
  }

  get #dialog(): HTMLDialogElement {
    return this.renderRoot.querySelector('dialog')!;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('post') || changed.has('server')) this._done = null;
    if (changed.has('post')) this._copied = '';
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('post') || changed.has('server')) {
      this.#backend?.reblogCount(this.post!).then(
        (count) => (this._count = count),
        () => {}, // no count is shown rather than an error next to a button
      );
    }
  }

  async #open(): Promise<void> {
    if (!this.#backend) return; // no post or no server: nothing to reblog
    // Shown in the dialog when the reader is signed out; its own chunk, loaded on first use.
    void import('../login-picker/login-picker.js');
    this._error = '';
    this.#dialog.showModal();
    await this.#loadTargets();
  }

  /** Loads the reader's blogs (or finds them signed out), then puts focus on the first control. */
  async #loadTargets(): Promise<void> {
    try {
      this._targets = await this.#backend!.reblogTargets(this.post!);
      this._signedOut = false;
    } catch (error) {
      this._signedOut = (error as BackendError).status === 401;
      if (!this._signedOut) this.#fail(error);
    }
    await this.updateComplete;
    const focused = this.shadowRoot!.activeElement;
    if (!focused || focused === this.#dialog) this.#dialog.querySelector<HTMLElement>('input, button')?.focus();
  }

  #fail(error: unknown): void {
    this._targets ??= [];
    this._error = (error as Error).message;
  }

  async #confirm(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const field = (name: string) => String(data.get(name) ?? '').trim();
    const target = field('address') || field('target');
    if (!target) {
      this._error = this.localizer.t('reblogChoose');
      return;
    }
    const post = this.post!;
    // Opened for a post elsewhere (`#blogtalk-reblog=`), this page's title and description are not the post's.
    const here = !away.has(this);
    const excerpt = here ? document.querySelector<HTMLMetaElement>('meta[name=description],meta[property="og:description"]')?.content : '';
    this._busy = true;
    this._error = '';
    try {
      const made = await this.#backend!.reblog({
        post,
        target,
        commentary: field('commentary'),
        pageTitle: [...(this.pageTitle || (here ? document.title : ''))].slice(0, 300).join(''),
        ...(excerpt ? { excerpt: [...excerpt].slice(0, 1000).join('') } : {}),
      });
      this._done = made;
      this._count++;
      this.#dialog.close();
      this.dispatchEvent(new ReblogEvent({ post, target: { blogName: made.blogName, url: made.url } }));
    } catch (error) {
      if ((error as BackendError).status === 401) this._signedOut = true;
      else this.#fail(error);
    } finally {
      this._busy = false;
    }
  }

  async #undo(made: MadeReblog): Promise<void> {
    try {
      await this.#backend!.undoReblog(made);
      if (this._done?.id === made.id) this._done = null;
      this._count--;
      if (this.#dialog.open) return await this.#loadTargets();
      await this.updateComplete;
      this.renderRoot.querySelector('button')!.focus();
    } catch (error) {
      this.#fail(error);
    }
  }

  protected override render(): TemplateResult {
    const l = this.localizer;
    const done = this._done;
    const url = safeHttpUrl(done?.url);
    // The server's explanations may name addresses (another blogtalk server, a Webmention endpoint): links.
    const error = html`<p class="error" role="alert">${linkify(this._error).map(({ text, href }) => (href ? html`<a href=${href}>${text}</a>` : text))}</p>`;
    const close = () => this.#dialog.close();
    return html`<button part="reblog-button" type="button" aria-haspopup="dialog" @click=${this.#open}>
        ${l.t('reblog')}${this._count ? html` <span class="count">${this._count}</span>` : nothing}
      </button>
      <span class="done" role="status"
        >${done
          ? html`${l.parts(l.messages.reblogDone, { blog: url ? html`<a href=${url}>${done.blogName}</a>` : done.blogName })}
              <button type="button" class="link" @click=${() => this.#undo(done)}>${l.t('reblogUndo')}</button>`
          : nothing}</span
      >
      ${done && !this.#dialog?.open ? error : nothing}
      <dialog part="dialog" aria-labelledby="title" @login=${this.#loadTargets} @close=${() => (this._error = '')}>
        <h2 id="title">${l.t('reblogTitle')}</h2>
        ${this._signedOut
          ? html`<p>${l.t('reblogSignIn')}</p>
              <login-picker exportparts="provider-button" .server=${this.server} .post=${this.post}></login-picker>
              ${error}
              <button type="button" @click=${close}>${l.t('reblogCancel')}</button>`
          : this._targets
            ? this.#form(this._targets, error, close)
            : html`<p role="status">${l.t('reblogLoading')}</p>`}
        ${this._signedOut || this._targets ? this.#share() : nothing}
      </dialog>`;
  }

  #form(targets: ReblogTarget[], error: TemplateResult, close: () => void): TemplateResult {
    const l = this.localizer;
    const fresh = targets.filter((t) => !t.reblog);
    return html`${targets.map(({ id, name, reblog }) =>
        reblog
          ? html`<p>
              ${l.parts(l.messages.reblogDone, { blog: html`<a href=${safeHttpUrl(reblog.url) ?? nothing}>${name}</a>` })}
              <button type="button" class="link" @click=${() => this.#undo({ id: reblog.id, site: id, blogName: name, url: reblog.url })}>
                ${l.t('reblogUndo')}
              </button>
            </p>`
          : nothing,
      )}
      <form @submit=${this.#confirm}>
      ${fresh.length
        ? html`<fieldset>
            <legend>${l.t('reblogOn')}</legend>
            ${fresh.map(
              (t, i) => html`<label class="choice"><input type="radio" name="target" value=${t.id} ?checked=${!i} />${t.name}</label>`,
            )}
          </fieldset>`
        : nothing}
      <p class="field">
        <label for="address">${l.t('reblogAddress')}</label>
        <input id="address" name="address" type="url" placeholder="https://" />
      </p>
      <p class="field">
        <label for="commentary">${l.t('reblogCommentary')}</label>
        <textarea id="commentary" name="commentary" rows="3" maxlength="5000"></textarea>
      </p>
      ${error}
      <button type="submit" ?disabled=${this._busy}>${l.t('reblogConfirm')}</button>
      <button type="button" @click=${close}>${l.t('reblogCancel')}</button>
    </form>`;
  }

  /** Copies the post's link, or (no clipboard, or refused) selects it in its field to copy by hand. */
  async #copy(url: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(url);
      this._copied = this.localizer.t('shareCopied');
    } catch {
      const field = this.renderRoot.querySelector<HTMLInputElement>('#link')!;
      field.focus();
      field.select();
      this._copied = this.localizer.t('shareCopyManual');
    }
  }

  /** The share menu: the system's share sheet, copy link, and compose links for Mastodon and Bluesky. */
  #share(): TemplateResult | typeof nothing {
    const l = this.localizer;
    const url = safeHttpUrl(this.post);
    if (!url) return nothing;
    const title = this.pageTitle || document.title;
    const compose = (base: string) => {
      const link = new URL(base);
      link.search = new URLSearchParams({ text: `${title} ${url}` }).toString();
      return link.href;
    };
    const server = this._server;
    // A host name only: letters, digits and hyphens in dot-separated labels (no scheme, path or port).
    const host = /^[a-z\d-]{1,63}(\.[a-z\d-]{1,63})+$/i.test(server);
    const link = (href: string, label: string) =>
      html`<a href=${href} target="_blank" rel="noopener noreferrer">${label}</a>`;
    return html`<section aria-labelledby="share">
      <h3 id="share">${l.t('share')}</h3>
      ${navigator.share
        ? html`<button type="button" @click=${() => navigator.share({ title, url }).catch(() => {})}>${l.t('shareVia')}</button>`
        : nothing}
      <p class="field">
        <label for="link">${l.t('shareLink')}</label>
        <input id="link" readonly .value=${url} />
      </p>
      <button type="button" @click=${() => this.#copy(url)}>${l.t('shareCopy')}</button>
      <span role="status">${this._copied}</span>
      <p class="field">
        <label for="server">${l.t('shareServer')}</label>
        <input id="server" placeholder="mastodon.social" aria-invalid=${server && !host ? 'true' : 'false'} aria-describedby="server-hint"
          @input=${(e: Event) => (this._server = (e.target as HTMLInputElement).value.trim())} />
        <span id="server-hint" class="error">${server && !host ? l.t('shareServerInvalid') : nothing}</span>
        ${host ? link(compose(`https://${server}/share`), l.t('shareMastodon')) : nothing}
      </p>
      <p>${link(compose('https://bsky.app/intent/compose'), l.t('shareBluesky'))}</p>
    </section>`;
  }
}

define('reblog-button', ReblogButtonElement);

// `#blogtalk-reblog=<post>` on a page of the reader's own blog (the link another blogtalk
// server's dialog gives for a blog that uses this one): opens the dialog for that post here.
let asked: string | null = null;
try {
  asked = safeHttpUrl(decodeURIComponent(/[#&]blogtalk-reblog=([^&]+)/.exec(location.hash)?.[1] ?? ''));
} catch {
  // a malformed link: nothing to open
}
if (asked) {
  history.replaceState(null, '', location.pathname + location.search);
  const button = document.createElement('reblog-button');
  away.add(button);
  button.post = asked;
  const open = () => {
    document.body.append(button);
    void button.updateComplete.then(() => button.renderRoot.querySelector('button')!.click());
  };
  if (document.body) open();
  else addEventListener('DOMContentLoaded', open);
}

declare global {
  interface HTMLElementTagNameMap {
    'reblog-button': ReblogButtonElement;
  }
}
