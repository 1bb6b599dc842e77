import { css } from 'lit';
import { base } from '../internal/styles.js';

export const styles = [
  base,
  css`
    .thread {
      line-height: 1.5;
    }
    h2,
    h3 {
      font-size: 1.25em;
      line-height: 1.3;
      margin: 0 0 0.75em;
    }
    ol {
      list-style: none;
      margin: 0;
      padding: 0;
    }
    .children {
      margin-inline-start: clamp(0.75em, 4vw, 2.5em);
      padding-inline-start: 0.75em;
      border-inline-start: 2px solid var(--_border);
    }
    .comment {
      display: grid;
      grid-template-columns: 2.5em minmax(0, 1fr);
      column-gap: 0.75em;
      padding: 0.75em 0.5em;
      border-block-end: 1px solid var(--_border);
      border-radius: var(--_radius);
      scroll-margin: 4em;
    }
    .comment > :not(.avatar) {
      grid-column: 2;
    }
    .avatar {
      grid-row: 1 / span 3;
      width: 2.5em;
      height: 2.5em;
      border-radius: var(--_radius);
    }
    .target {
      background: color-mix(in srgb, var(--_accent) 12%, transparent);
      box-shadow: inset 3px 0 0 var(--_accent);
    }
    .sending {
      opacity: 0.75;
    }
    .meta {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      column-gap: 0.75em;
    }
    .author {
      font-weight: 600;
    }
    .date {
      color: var(--_muted);
      font-size: 0.875em;
    }
    .body {
      overflow-wrap: anywhere;
    }
    .deleted {
      font-style: italic;
    }
    .body p {
      margin: 0.4em 0;
      white-space: pre-wrap;
    }
    .actions {
      display: flex;
      flex-wrap: wrap;
      gap: 0.75em;
      align-items: baseline;
    }
    .comment .actions button,
    .like {
      padding: 0.1em 0.6em;
      font-size: 0.875em;
    }
    .status {
      color: var(--_muted);
      font-size: 0.9em;
      margin: 0.25em 0;
    }
    .state {
      margin: 0 0 1.5em;
    }
    .older {
      margin: 0 0 1em;
    }
    .trap {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
    }
    .composer {
      margin-block-start: 2em;
    }
    .reply-title {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      column-gap: 1em;
    }
    .reply-title button {
      font-size: 0.875em;
      padding: 0.1em 0.6em;
    }
    textarea {
      min-height: 8em;
      resize: vertical;
    }
    [part~='submit-button'] {
      background: var(--_accent);
      border-color: var(--_accent);
      color: #fff;
      font-weight: 600;
    }
    .notice:empty {
      margin: 0;
    }
    /* Where the guest form of <login-picker> will be, until the composer's chunk is loaded. */
    .picker-space {
      min-height: 17.9em;
      margin: 0;
    }
    .likes,
    .likers {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.5em;
      margin: 1.5em 0 0;
      padding: 0;
      list-style: none;
    }
    .likers {
      gap: 0.25em;
      margin: 0;
    }
    .likers .avatar {
      width: 2em;
      height: 2em;
    }
    .like[aria-pressed='true']::before {
      content: '★ ' / '';
      color: var(--_accent);
    }
  `,
];
