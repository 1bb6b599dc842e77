/**
 * An author's face. Their provider picture when the server gave one — a path on the comment
 * server, which fetched it, so the reader's browser asks nobody else — else, or when it fails
 * to load, a generated avatar: the author's initial on a colour read from their hex seed (a
 * salted HMAC the server made, never the email), inline SVG that no Content Security Policy
 * blocks. Decorative either way — the name is right next to it.
 */
import { html, type ReactiveElement, type TemplateResult } from 'lit';
import { safeHttpUrl } from '../internal/text.js';

/** Pictures that did not load: their authors get the generated avatar. */
const failed = new Set<string>();

export function avatar(seed: string, name: string, picture?: string | null, server?: string | null): TemplateResult {
  const src = safeHttpUrl(picture?.[0] == '/' ? server + picture : picture);
  if (src && !failed.has(src)) {
    return html`<img part="comment-avatar" class="avatar" src=${src} alt="" loading="lazy" width="48" height="48"
      referrerpolicy="no-referrer" @error=${function (this: ReactiveElement) {
        failed.add(src);
        this.requestUpdate();
      }} />`;
  }
  const hue = /^[0-9a-f]{3}/i.test(seed) ? parseInt(seed.slice(0, 3), 16) % 360 : 0;
  const initial = [...name.trim()][0]?.toUpperCase() ?? '';
  return html`<svg part="comment-avatar" class="avatar" viewBox="0 0 2 2" aria-hidden="true" focusable="false">
    <rect width="2" height="2" fill="hsl(${hue} 40% 32%)"></rect>
    <text x="1" y="1.4" text-anchor="middle" font-size="1.1" fill="#fff">${initial}</text>
  </svg>`;
}
