/**
 * Styles shared by every blogtalk element. By default an element inherits the page's font and
 * colours: transparent background, `currentColor` text, borders mixed from the text colour.
 * `theme="light|dark|auto"` opts into a palette of its own. The public knobs are the
 * `--blogtalk-*` custom properties, only ever read (with a fallback), never declared here;
 * `--_*` are private shorthands.
 */
import { css } from 'lit';

export const base = css`
  :host {
    display: block;
    --_text: var(--blogtalk-text, currentColor);
    --_muted: var(--blogtalk-muted, color-mix(in srgb, currentColor 72%, transparent));
    --_surface: var(--blogtalk-surface, transparent);
    --_border: var(--blogtalk-border, color-mix(in srgb, currentColor 20%, transparent));
    --_field: var(--blogtalk-border, color-mix(in srgb, currentColor 55%, transparent));
    --_accent: var(--blogtalk-accent, #0675c4);
    --_link: var(--blogtalk-accent, inherit);
    --_danger: color-mix(in srgb, #d63638 65%, currentColor);
    --_radius: var(--blogtalk-radius, 4px);
    color: var(--_text);
    background: var(--_surface);
    font-family: var(--blogtalk-font, inherit);
  }
  /* Opt-in palettes: light-dark() follows color-scheme. A browser without light-dark()
     finds these values invalid and keeps inheriting the page's colours. */
  :host([theme]) {
    color-scheme: light;
    --_text: var(--blogtalk-text, light-dark(#1e1e1e, #ececec));
    --_muted: var(--blogtalk-muted, light-dark(#595959, #b4b4b4));
    --_surface: var(--blogtalk-surface, light-dark(#fff, #1c1c1e));
    --_link: var(--blogtalk-accent, light-dark(#0675c4, #79b8ff));
    padding: 1em;
    border-radius: var(--_radius);
  }
  :host([theme='dark']) {
    color-scheme: dark;
  }
  :host([theme='auto']) {
    color-scheme: light dark;
  }
  :host([hidden]),
  [hidden] {
    display: none !important;
  }
  a {
    color: var(--_link);
  }
  button,
  input,
  textarea {
    font: inherit;
    color: inherit;
  }
  button {
    cursor: pointer;
    padding: 0.35em 0.9em;
    border: 1px solid var(--_field);
    border-radius: var(--_radius);
    background: transparent;
  }
  button:disabled {
    cursor: default;
    opacity: 0.65;
  }
  input:not([type='checkbox']),
  textarea {
    box-sizing: border-box;
    width: 100%;
    padding: 0.45em 0.6em;
    border: 1px solid var(--_field);
    border-radius: var(--_radius);
    background: transparent;
  }
  [aria-invalid='true'] {
    border-color: var(--_danger);
  }
  :focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: 2px;
  }
  label {
    display: block;
    margin-block-end: 0.25em;
  }
  .field {
    margin: 0 0 0.9em;
  }
  .error {
    color: var(--_danger);
    font-size: 0.9em;
  }
  .error:empty {
    display: none;
  }
`;
