import { html, nothing, type TemplateResult } from 'lit';
import { forgetGuest, loadGuest, saveGuest } from '../data/guest-store.js';
import { checkGuest, type GuestDetails, type Problem } from '../data/validate.js';
import { define } from '../internal/define.js';
import { BlogtalkElement } from '../internal/element.js';
import { styles } from './login-picker.styles.js';

export type { GuestDetails } from '../data/validate.js';

/** A sign-in provider the server offers (used from the next issue on). */
export interface LoginProvider {
  id: string;
  name: string;
}

type Field = keyof GuestDetails;
const FIELDS: readonly [Field, type: string, autocomplete: string][] = [
  ['name', 'text', 'name'],
  ['email', 'email', 'email'],
  ['website', 'url', 'url'],
];

/**
 * Says who is commenting. For now this is the guest form: name, email (required, never
 * shown) and website, and whether to remember them in this browser. The composer of
 * `<comment-thread>` reads the details through `guest`, `reportValidity()` and `remember()`.
 * Sign-in providers (from `server`) come later; the line "Fill in your details below or click
 * an icon to log in:" shows only when there are some.
 *
 * @summary The guest details (and, later, sign-in) of a comment's writer.
 * @tagname login-picker
 *
 * @csspart guest - The guest details: the fields and the "save my details" choice.
 * @csspart input - Each text field.
 * @csspart provider-button - A sign-in provider's button (not yet shown).
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
    theme: { reflect: true },
    providers: { attribute: false },
    _details: { state: true },
    _remember: { state: true },
    _problems: { state: true },
  };

  /** The blogtalk server that offers sign-in providers (used from the next issue on). */
  server?: string;

  /** `light`, `dark` or `auto` for a palette of its own; unset inherits the page's colours. */
  theme?: 'light' | 'dark' | 'auto';

  /** Sign-in providers to offer next to the guest form. */
  providers: readonly LoginProvider[] = [];

  private _details: GuestDetails = { name: '', email: '', website: '' };
  private _remember = false;
  private _problems: Partial<Record<Field, Problem>> = {};

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.hasUpdated) {
      const saved = loadGuest();
      if (saved) {
        this._details = saved;
        this._remember = true;
      }
    }
  }

  /** The guest details as typed, trimmed. */
  get guest(): GuestDetails {
    const { name, email, website } = this._details;
    return { name: name.trim(), email: email.trim(), website: website.trim() };
  }

  /**
   * Checks the guest details and shows a message next to each field with a problem. Moves
   * focus to the first such field when `focus` is true. Returns whether all is well.
   */
  reportValidity(focus = true): boolean {
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
    return html`${this.providers.length ? html`<p class="note">${l.t('fillIn')}</p>` : nothing}
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
