import { css } from 'lit';
import { base } from '../internal/styles.js';

export const styles = [
  base,
  css`
    .remember {
      display: flex;
      gap: 0.5em;
      align-items: baseline;
    }
    .remember label {
      display: inline;
      margin: 0;
    }
    .note,
    .status {
      margin: 0 0 0.75em;
    }
    .status:empty {
      margin: 0;
    }
    .providers {
      display: flex;
      flex-wrap: wrap;
      gap: 0.5em;
      align-items: center;
      margin: 0 0 0.9em;
    }
    [part='provider-button'] {
      padding: 0.3em;
      line-height: 0;
    }
    .link {
      padding: 0;
      border: 0;
      color: var(--_link);
      text-decoration: underline;
    }
    .prompt input {
      width: auto;
      margin-inline-end: 0.5em;
    }
    .user {
      display: flex;
      gap: 0.75em;
      align-items: center;
    }
    .user p {
      margin: 0;
    }
    .avatar {
      flex: none;
      width: 3em;
      height: 3em;
      border-radius: var(--_radius);
    }
  `,
];
