import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { avatar } from '../comment-thread/avatar.js';
import { forgetGuest, loadGuest, saveGuest } from '../data/guest-store.js';
import { resolveServer } from '../data/server.js';
import {
  emailLink,
  getProviders,
  getSession,
  logout,
  myData,
  dataLink,
  newHandoff,
  newNonce,
  redeem,
  SessionError,
  startRedirect,
  startUrl,
  takeReturnedCode,
  waitForCode,
  type LoginProvider,
  type ProviderList,
  type SessionUser,
} from '../data/session.js';
import { checkGuest, type GuestDetails, type Problem } from '../data/validate.js';
import { LoginEvent, LogoutEvent } from '../events.js';
import { define } from '../internal/define.js';
import { BlogtalkElement } from '../internal/element.js';
import { styles } from './login-picker.styles.js';
import { pickerMessages } from './messages.js';

export type { GuestDetails } from '../data/validate.js';
export type { LoginProvider, SessionUser } from '../data/session.js';

type Field = keyof GuestDetails;
const FIELDS: readonly [Field, type: string, autocomplete: string][] = [
  ['name', 'text', 'name'],
  ['email', 'email', 'email'],
  ['website', 'url', 'url'],
];

/**
 * Says who is commenting: a guest (name, email — required, never shown — and website, and
 * whether to remember them in this browser), or a reader signed in with one of the providers
 * the server offers ("Fill in your details below or click an icon to log in:"). A provider's
 * button opens its sign-in in a popup (a full-page round trip when popups are blocked); once
 * signed in it shows "You are commenting using your X account. (Log Out / Change)", and "Your
 * data: Download · Erase" (the server's JSON document as a file; erasing asks first, then signs out).
 * The composer of `<comment-thread>` reads `user`, or else the guest details through `guest`,
 * `reportValidity()` and `remember()`.
 *
 * @summary The guest details or the signed-in account of a comment's writer.
 * @tagname login-picker
 *
 * @fires login - The reader signed in (`detail`: the provider, the name and the rest of `user`).
 * @fires logout - The reader logged out.
 *
 * @csspart guest - The guest details: the fields and the "save my details" choice.
 * @csspart input - Each text field.
 * @csspart provider-button - A sign-in provider's button.
 * @csspart user - The signed-in reader: avatar, account and Log Out / Change.
 *
 * @cssprop --blogtalk-accent - Focus rings and the themes' link colour. Default `#0675c4`.
 * @cssprop --blogtalk-font - Font family. Default: inherited from the page.
 * @cssprop --blogtalk-text - Text colour. Default: inherited from the page.
 * @cssprop --blogtalk-muted - Secondary text colour.
 * @cssprop --blogtalk-surface - Background. Default: transparent.
 * @cssprop --blogtalk-border - Field borders. Default: mixed from the text colour.
 * @cssprop --blogtalk-radius - Corner radius. Default `4px`.
 *
 * It has no slots: everything it shows comes from the server and the writer.
 */
export class LoginPickerElement extends BlogtalkElement {
  static override styles = styles;

  // `static properties` rather than decorators, to keep the bundle small.
  static override properties = {
    server: {},
    post: {},
    theme: { reflect: true },
    _details: { state: true },
    _remember: { state: true },
    _problems: { state: true },
    _offer: { state: true },
    _user: { state: true },
    _changing: { state: true },
    _status: { state: true },
    _error: { state: true },
    _asking: { state: true },
    _mailing: { state: true },
    _erasing: { state: true },
    _dataMail: { state: true },
  };

  /** The blogtalk server that offers sign-in (else the loading script's `data-server` or origin). */
  server?: string;

  /**
   * The post being commented on (its URL), which names the site to sign in for; default: the
   * `post` of the `<comment-thread>` this picker is in.
   */
  post?: string;

  /** `light`, `dark` or `auto` for a palette of its own; unset inherits the page's colours. */
  theme?: 'light' | 'dark' | 'auto';

  private _details: GuestDetails = { name: '', email: '', website: '' };
  private _remember = false;
  private _problems: Partial<Record<Field, Problem>> = {};
  private _offer: ProviderList = { providers: [], email: false };
  private _user: SessionUser | null = null;
  /** Signed in, but choosing another way (Change). */
  private _changing = false;
  /** "Connecting to X…" or "Check your email…". */
  private _status = '';
  private _error = '';
  /** The Mastodon-kind provider whose instance is being asked for. */
  private _asking: LoginProvider | null = null;
  private _mailing = false;
  /** Asking "Erase everything?". */
  private _erasing = false;
  /** A guest asking for their data by email. */
  private _dataMail = false;
  #load?: AbortController;
  #signIn?: AbortController;
  /** The next popup sign-in's secret and nonce (`newHandoff`). */
  #handoff: [string, string] | null = null;

  #prepare(): void {
    this.#handoff = null;
    void newHandoff().then((handoff) => (this.#handoff = handoff));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#prepare();
    if (!this.hasUpdated) {
      const saved = loadGuest();
      if (saved) {
        this._details = saved;
        this._remember = true;
      }
    } else void this.#restore();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#load?.abort();
    this.#signIn?.abort();
  }

  /**
   * The signed-in reader, or null for a guest (also while they choose another way after
   * Change). A comment from a signed-in reader is sent with credentials and without `author`.
   */
  get user(): SessionUser | null {
    return this._changing ? null : this._user;
  }

  /** Whether the server sends email (sign-in links, reply notifications). */
  get mails(): boolean {
    return this._offer.email;
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (!this.#load || changed.has('server')) void this.#restore();
    // For the composer around it, which offers "Notify me" by what the server and account allow.
    const seen = changed as Map<PropertyKey, unknown>;
    if (seen.has('_offer') || seen.has('_user') || seen.has('_changing')) this.dispatchEvent(new Event('offer-change'));
  }

  get #server(): string | null {
    return resolveServer(this.server);
  }

  get #post(): string | undefined {
    return this.post ?? ((this.getRootNode() as ShadowRoot).host as { post?: string } | undefined)?.post;
  }

  /** Loads the providers, redeems a code the redirect flow or an email link brought back, else restores the session. */
  async #restore(): Promise<void> {
    this.#load?.abort();
    const controller = (this.#load = new AbortController());
    const { signal } = controller;
    const server = this.#server;
    if (!server) return;
    getProviders(server, signal).then(
      (offer) => Array.isArray(offer.providers) && (this._offer = offer),
      () => {}, // no sign-in offered: the guest form is all there is
    );
    const returned = takeReturnedCode();
    try {
      if (returned?.code) {
        this.scrollIntoView({ block: 'center' });
        this.#signedIn(await redeem(server, returned.code, returned.nonce, signal));
      } else {
        if (returned && returned.error !== 'cancelled') this._error = this.#m.failed;
        const user = await getSession(server, this.#post, signal);
        this._user ??= user ?? null;
      }
    } catch (error) {
      if (!signal.aborted && returned) this.#fail(error);
    }
  }

  get #m() {
    return pickerMessages(this.localizer.lang);
  }

  #signedIn(user: SessionUser): void {
    this._user = user;
    this._changing = this._erasing = false;
    this._error = this._status = '';
    this.dispatchEvent(new LoginEvent({ provider: user.provider ?? '', name: user.name }));
  }

  #fail(error: unknown): void {
    this._status = '';
    if ((error as SessionError).code !== 'cancelled') this._error = (error as SessionError).message || this.#m.failed;
  }

  /** In the click handler: the popup must open synchronously, or blockers stop it. */
  #start(provider: LoginProvider, instance?: string): void {
    const server = this.#server;
    const post = this.#post;
    if (!server || !post) return;
    if (provider.kind === 'mastodon' && !instance) {
      this._asking = provider;
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>('#instance')?.focus());
      return;
    }
    // Made ahead (hashing is async; the popup must open now), and replaced after each use.
    const handoff = this.#handoff;
    this.#prepare();
    const nonce = handoff?.[1] ?? newNonce();
    const url = startUrl(server, provider.id, post, nonce, instance);
    const popup = window.open(url, 'blogtalk-login', 'popup,width=520,height=680');
    if (!popup) return startRedirect(url, nonce);
    this.#signIn?.abort();
    const { signal } = (this.#signIn = new AbortController());
    this._asking = null;
    this._error = '';
    this._status = this.#m.connecting.replace('{name}', provider.name);
    waitForCode(server, popup, nonce, signal)
      .then(
        (code) => redeem(server, code, nonce, signal),
        // Closed without a message: the reader gave up, or a COOP page cut the popup off. The
        // secret redeems the server's copy of the hand-off in the second case; else still `cancelled`.
        (error) => {
          if (!handoff || error?.code !== 'cancelled') throw error;
          return redeem(server, handoff[0], nonce, signal).catch(() => Promise.reject(error));
        },
      )
      .then(
        (user) => this.#signedIn(user),
        (error) => signal.aborted || this.#fail(error),
      );
  }

  async #logout(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    try {
      await logout(server);
      this._user = null;
      this._changing = false;
      this._error = '';
      this.dispatchEvent(new LogoutEvent());
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Your data: Download saves the server's JSON document as a file; Erase (confirmed) erases and signs out. */
  async #data(erase?: boolean): Promise<void> {
    const server = this.#server;
    const post = this.#post;
    if (!server || !post) return;
    this._error = '';
    try {
      const data = await myData(server, post, erase);
      if (erase) {
        this._user = null;
        this._erasing = false;
        this._status = this.#m.erased;
        this.dispatchEvent(new LogoutEvent());
        return;
      }
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
      a.download = 'blogtalk-personal-data.json';
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1e4);
    } catch (error) {
      this.#fail(error);
    }
  }

  async #email(address: string): Promise<void> {
    const server = this.#server;
    const post = this.#post;
    if (!server || !post) return;
    this._error = '';
    try {
      await emailLink(server, post, address);
      this._mailing = false;
      this._status = this.#m.emailSent;
    } catch (error) {
      this.#fail(error);
    }
  }

  /** A guest's "Download"/"Erase" by email: the server mails a link to confirm on its own page. */
  #requestData = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const server = this.#server;
    const post = this.#post;
    const email = this.renderRoot.querySelector<HTMLInputElement>('#data-email')!.value.trim();
    if (!server || !post || !email) return;
    this._error = '';
    try {
      await dataLink(server, post, email, (event.submitter as HTMLButtonElement).value);
      this._dataMail = false;
      this._status = this.#m.dataSent;
    } catch (error) {
      this.#fail(error);
    }
  };

  /** Shows the erase question, with focus on its safe answer (Keep). */
  #askErase = () => {
    this._erasing = true;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLButtonElement>('#keep')?.focus());
  };

  /** The guest details as typed, trimmed. */
  get guest(): GuestDetails {
    const { name, email, website } = this._details;
    return { name: name.trim(), email: email.trim(), website: website.trim() };
  }

  /**
   * Checks the guest details and shows a message next to each field with a problem. Moves
   * focus to the first such field when `focus` is true. Returns whether all is well (always
   * true while a reader is signed in).
   */
  reportValidity(focus = true): boolean {
    if (this.user) return true; // signed in: no guest details needed
    this._problems = checkGuest(this._details);
    const first = FIELDS.find(([field]) => this._problems[field]);
    if (first && focus) {
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>(`#${first[0]}`)?.focus());
    }
    return !first;
  }

  /** Remembers the details in this browser if the writer asked to, else forgets them. */
  remember(): void {
    if (this._remember) saveGuest(this.guest);
    else forgetGuest();
  }

  protected override render(): TemplateResult {
    const l = this.localizer;
    const m = this.#m;
    const user = this.user;
    const { providers, email } = this._offer;
    const status = html`<p class="status" role="status">${this._status}</p>
      <p class="error" role="alert">${this._error}</p>`;
    if (user) {
      return html`<div part="user" class="user">
          ${avatar(user.avatar, user.name, user.picture, this.#server)}
          <p>
            <strong><bdi>${user.name}</bdi></strong><br />
            ${l.parts(m.using, { name: html`<bdi>${user.providerName ?? user.provider}</bdi>` })}
            (<button type="button" class="link" @click=${() => this.#logout()}>${m.logOut}</button> / <button
              type="button"
              class="link"
              @click=${() => (this._changing = true)}
            >${m.change}</button>)<br />
            ${m.yourData} <button type="button" class="link" @click=${() => this.#data()}>${m.download}</button> ·
            <button type="button" class="link" aria-expanded=${this._erasing} @click=${this.#askErase}>${m.erase}</button>
          </p>
        </div>
        ${this._erasing
          ? html`<div role="group" aria-labelledby="erase-ask" class="field">
              <p id="erase-ask">${m.eraseAsk}</p>
              <button type="button" @click=${() => this.#data(true)}>${m.eraseYes}</button>
              <button type="button" id="keep" @click=${() => (this._erasing = false)}>${m.keep}</button>
            </div>`
          : nothing}
        ${status}`;
    }
    const asking = this._asking;
    return html`${providers.length || email ? html`<p class="note">${l.t('fillIn')}</p>` : nothing}
      <p class="providers">
        ${providers.map(
          (p) => html`<button
            type="button"
            part="provider-button"
            aria-label=${m.logInWith.replace('{name}', p.name)}
            title=${p.name}
            @click=${() => this.#start(p)}
          >
            <img src=${this.#icon(p.icon)} alt="" width="24" height="24" />
          </button>`,
        )}
        ${email
          ? html`<button type="button" class="link" @click=${() => (this._mailing = !this._mailing)}>${m.emailMe}</button>
              <button type="button" class="link" @click=${() => (this._dataMail = !this._dataMail)}>${m.guestData}</button>`
          : nothing}
      </p>
      ${asking
        ? this.#prompt('instance', 'text', m.instance, (value) => this.#start(asking, value))
        : nothing}
      ${this._mailing ? this.#prompt('login-email', 'email', m.yourEmail, (value) => this.#email(value)) : nothing}
      ${this._dataMail
        ? html`<form class="field prompt" @submit=${this.#requestData}>
            <label for="data-email">${m.yourEmail}</label>
            <input id="data-email" part="input" type="email" required />
            <button value="export">${m.download}</button> <button value="erase">${m.erase}</button>
          </form>`
        : nothing}
      ${status}
      <div part="guest" class="guest">
        ${FIELDS.map(([field, type, autocomplete]) => {
          const problem = this._problems[field];
          return html`<p class="field">
            <label for=${field}>${l.t(field)}</label>
            <input
              id=${field}
              part="input"
              name=${field}
              type=${type}
              autocomplete=${autocomplete}
              ?required=${field !== 'website'}
              .value=${this._details[field]}
              aria-invalid=${problem ? 'true' : 'false'}
              aria-describedby="${field}-error"
              @input=${(event: Event) => this.#edit(field, (event.target as HTMLInputElement).value)}
            />
            <span id="${field}-error" class="error">${problem ? l.t(problem.key, problem.values) : ''}</span>
          </p>`;
        })}
        <p class="field remember">
          <input
            id="remember"
            type="checkbox"
            .checked=${this._remember}
            @change=${(event: Event) => (this._remember = (event.target as HTMLInputElement).checked)}
          />
          <label for="remember">${l.t('saveDetails')}</label>
        </p>
      </div>`;
  }

  /**
   * The server's own icons are fetched from the server address this element uses, which the
   * page's Content Security Policy allows, even when the server calls itself by another name
   * (its public URL); other icons as given.
   */
  #icon(url: string): string {
    const at = url.indexOf('/api/v1/auth/icons/');
    return at < 0 ? url : this.#server + url.slice(at);
  }

  /** A one-field form (Mastodon instance, email for a link); submitting it is a user gesture, so a popup may open. */
  #prompt(id: string, type: string, label: string, done: (value: string) => void): TemplateResult {
    return html`<form
      class="field prompt"
      @submit=${(event: Event) => {
        event.preventDefault();
        const value = (this.renderRoot.querySelector<HTMLInputElement>(`#${id}`)?.value ?? '').trim();
        if (value) done(value);
      }}
    >
      <label for=${id}>${label}</label>
      <input id=${id} part="input" type=${type} required />
      <button type="submit">${this.#m.go}</button>
    </form>`;
  }

  #edit(field: Field, value: string): void {
    this._details = { ...this._details, [field]: value };
    // A message goes away as soon as its field is fixed, never appears while typing.
    if (this._problems[field]) this._problems = { ...this._problems, [field]: checkGuest(this._details)[field] };
  }
}

define('login-picker', LoginPickerElement);

declare global {
  interface HTMLElementTagNameMap {
    'login-picker': LoginPickerElement;
  }
}
