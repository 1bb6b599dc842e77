/**
 * A generated avatar: the author's initial on a colour read from their hex seed (a salted HMAC
 * the server made, never the email). Inline SVG: no request to a third party, nothing for a
 * Content Security Policy to block. Decorative — the name is right next to it.
 */
import { html, type TemplateResult } from 'lit';
export function avatar(seed: string, name: string): TemplateResult {
  const hue = /^[0-9a-f]{3}/i.test(seed) ? parseInt(seed.slice(0, 3), 16) % 360 : 0;
  const initial = [...name.trim()][0]?.toUpperCase() ?? '';
  return html`<svg part="comment-avatar" class="avatar" viewBox="0 0 2 2" aria-hidden="true" focusable="false">
    <rect width="2" height="2" fill="hsl(${hue} 40% 32%)"></rect>
    <text x="1" y="1.4" text-anchor="middle" font-size="1.1" fill="#fff">${initial}</text>
  </svg>`;
}
