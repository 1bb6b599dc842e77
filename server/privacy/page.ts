/**
 * The small server-rendered pages of the emailed privacy link: no script, no style sheet, no
 * third-party anything; a plain HTML form that posts back to the same address.
 */
import type { FastifyReply } from 'fastify';
import type { PrivacyAction } from './mail.js';

/** Nothing may load, the form may only post here, and no other page may frame it. */
export const PAGE_CSP = "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Sends a page: `body` is trusted markup built here; every value in it was escaped. */
export function sendPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .code(status)
    .header('Content-Security-Policy', PAGE_CSP)
    .header('Cache-Control', 'no-store')
    // Not `no-referrer`: that would make the browser send `Origin: null` with the form post.
    .header('Referrer-Policy', 'same-origin')
    .header('X-Content-Type-Options', 'nosniff')
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
        `<title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`,
    );
}

/** The confirmation form; the code travels in the body as well as in the address. */
export function confirmPage(reply: FastifyReply, code: string, action: PrivacyAction): FastifyReply {
  const erase = action === 'erase';
  return sendPage(
    reply,
    200,
    erase ? 'Erase your comments' : 'Download your comments',
    (erase
      ? '<p>This erases every comment written with your email address on this site. Comments that others replied to ' +
        'are kept as “This comment was deleted.” so the replies keep their context. This cannot be undone.</p>'
      : '<p>This downloads, as a JSON file, every comment written with your email address on this site.</p>') +
      `<form method="post"><input type="hidden" name="code" value="${escapeHtml(code)}">` +
      `<input type="hidden" name="action" value="${action}">` +
      `<button type="submit">${erase ? 'Erase my comments' : 'Download my comments'}</button></form>` +
      '<p>The link works once, for 15 minutes.</p>',
  );
}
