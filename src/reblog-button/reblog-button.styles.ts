import { css } from 'lit';
import { base } from '../internal/styles.js';

export const styles = [
  base,
  css`
    :host {
      display: inline-block;
    }
    .count {
      font-weight: bold;
    }
    .done {
      margin-inline-start: 0.6em;
    }
    .link {
      padding: 0;
      border: 0;
      color: var(--_link);
      text-decoration: underline;
    }
    dialog {
      width: min(30em, calc(100vw - 3em));
      border: 1px solid var(--_border);
      border-radius: var(--_radius);
      color: var(--blogtalk-text, CanvasText);
      background: var(--blogtalk-surface, Canvas);
    }
    h2 {
      font-size: 1.2em;
      margin: 0 0 0.75em;
    }
    h3 {
      font-size: 1em;
      margin: 1.2em 0 0.5em;
    }
    fieldset {
      margin: 0 0 0.9em;
      border: 0;
      padding: 0;
    }
    legend {
      margin-block-end: 0.25em;
    }
    .choice {
      display: flex;
      gap: 0.5em;
      align-items: baseline;
    }
    login-picker::part(guest) {
      display: none;
    }
  `,
];
