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
    .note {
      margin: 0 0 0.75em;
    }
  `,
];
