/** What every blogtalk element shares: speaking the language of its `lang` (or its page's). */
import { LitElement } from 'lit';
import { resolveServer } from '../data/server.js';
import { langOf, localizer, type Localizer } from './i18n.js';

export abstract class BlogtalkElement extends LitElement {
  // `lang` stays the native attribute (not a Lit property, which would shadow
  // HTMLElement#lang); watching it is enough to re-render in the new language.
  static override get observedAttributes(): string[] {
    return [...super.observedAttributes, 'lang'];
  }

  override attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    super.attributeChangedCallback(name, old, value);
    if (name === 'lang') this.requestUpdate();
  }

  /** The catalog for this element's language: `lang`, else the closest `[lang]`, else the browser's. */
  protected get localizer(): Localizer {
    // German and Arabic come from the comment server the first time they are needed.
    return localizer(langOf(this), resolveServer((this as { server?: string }).server), () => this.requestUpdate());
  }
}
