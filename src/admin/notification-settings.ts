/**
 * `<blogtalk-notification-settings>`: on the owners' `/admin` page, the signed-in owner's email
 * choices for one site — each new comment, a daily digest, or none; and comments held for
 * moderation. Talks to `/api/v1/admin/notifications` on its own origin with the page's CSRF token.
 * Part of `dist/admin.js` only, never of the widget. English only, like the page.
 */
import { css, html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { define } from '../internal/define.js';

type CommentMail = 'each' | 'digest' | 'off';

interface MailSettings {
  comments: CommentMail;
  held: boolean;
  /** The server sends email at all. */
  mail: boolean;
  /** The owner's account has an address. */
  address: boolean;
}

const API = '/api/v1/admin/notifications';
const choices: [CommentMail, string][] = [
  ['each', 'Each new comment'],
  ['digest', 'A daily digest'],
  ['off', 'No email about new comments'],
];

/**
 * @summary An owner's email notification choices for one site.
 * @tagname blogtalk-notification-settings
 */
export class NotificationSettingsElement extends LitElement {
  static override styles = css`
    :host { display: block; }
    fieldset { border: 1px solid #c3c4c7; border-radius: 4px; margin: .5rem 0; }
    label { display: block; }
    button { font: inherit; padding: .25rem .75rem; border: 1px solid #2271b1; border-radius: 4px; background: #fff; color: #135e96; cursor: pointer; }
    :focus-visible { outline: 2px solid #2271b1; outline-offset: 2px; }
    .error { color: #b32d2e; }
  `;

  static override properties = {
    site: {},
    csrf: {},
    _settings: { state: true },
    _status: { state: true },
    _error: { state: true },
  };

  /** The site's id. */
  site = '';
  /** The moderation page's CSRF token (`GET /api/v1/admin/session`). */
  csrf = '';
  private _settings: MailSettings | null = null;
  private _status = '';
  private _error = false;

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('site') && this.site) void this.#load();
  }

  async #load(): Promise<void> {
    this._settings = null;
    await this.#call(fetch(`${API}?${new URLSearchParams({ site: this.site })}`, { credentials: 'same-origin' }));
  }

  async #save(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const body = { site: this.site, comments: form.get('comments'), held: form.get('held') === 'on' };
    const saved = await this.#call(
      fetch(API, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-csrf-token': this.csrf },
        body: JSON.stringify(body),
      }),
    );
    if (saved) this._status = 'Email settings saved.';
  }

  async #call(request: Promise<Response>): Promise<boolean> {
    this._status = '';
    this._error = false;
    try {
      const res = await request;
      const answer = (await res.json().catch(() => null)) as (MailSettings & { error?: { message: string } }) | null;
      if (!res.ok || !answer) throw new Error(answer?.error?.message ?? `The server answered ${res.status}.`);
      this._settings = answer;
      return true;
    } catch (error) {
      this._error = true;
      this._status = (error as Error).message;
      return false;
    }
  }

  protected override render(): TemplateResult {
    const s = this._settings;
    const status = html`<p role="status" class=${this._error ? 'error' : ''}>${this._status}</p>`;
    if (!s) return html`<section aria-labelledby="mail-title"><h2 id="mail-title">Email me</h2>${status}</section>`;
    const note = !s.mail
      ? 'This server sends no email (BLOGTALK_SMTP_URL is not set): these choices take effect once it does.'
      : !s.address
        ? 'Your account has no email address, so nothing can be sent to you.'
        : null;
    return html`<section aria-labelledby="mail-title">
      <h2 id="mail-title">Email me</h2>
      ${note ? html`<p>${note}</p>` : nothing}
      <form @submit=${(event: SubmitEvent) => void this.#save(event)}>
        <fieldset>
          <legend>New comments</legend>
          ${choices.map(
            ([value, label]) =>
              html`<label><input type="radio" name="comments" value=${value} .checked=${s.comments === value} /> ${label}</label>`,
          )}
        </fieldset>
        <label><input type="checkbox" name="held" .checked=${s.held} /> Each comment held for moderation</label>
        <button type="submit">Save email settings</button>
      </form>
      ${status}
    </section>`;
  }
}

define('blogtalk-notification-settings', NotificationSettingsElement);

declare global {
  interface HTMLElementTagNameMap {
    'blogtalk-notification-settings': NotificationSettingsElement;
  }
}
