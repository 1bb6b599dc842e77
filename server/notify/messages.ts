/**
 * The notification emails: a plain-text part always, and a simple HTML part in which every
 * value (names, excerpts, titles, links) is escaped text. Each carries its one-click
 * unsubscribe address (RFC 8058) in the headers and in the text.
 */
import { escapeHtml } from '../privacy/page.js';
import type { Site, StoredComment } from '../store/store.js';

export interface Message {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `https://…/api/v1/unsubscribe/<token>`: the List-Unsubscribe address. */
  unsubscribe: string;
}

/** Characters of a comment shown in an email. */
const EXCERPT_CHARS = 300;

/** One line, no control characters, at most `max` characters. */
export function oneLine(text: string, max = 120): string {
  const line = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function excerpt(body: string): string {
  return oneLine(body, EXCERPT_CHARS);
}

export function commentLink(comment: StoredComment): string {
  return `${comment.postUrl}#comment-${encodeURIComponent(comment.id)}`;
}

function page(paragraphs: string[]): string {
  return `<!doctype html><html><body style="font-family:sans-serif;line-height:1.4">${paragraphs.map((p) => `<p>${p}</p>`).join('')}</body></html>`;
}

const link = (href: string, label: string) => `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`;
const quote = (text: string) => `<blockquote style="border-left:3px solid #ccc;margin:0;padding-left:1em">${escapeHtml(text)}</blockquote>`;

function footer(unsubscribe: string, why: string): { text: string; html: string } {
  return {
    text: `\n--\n${why}\nUnsubscribe: ${unsubscribe}\n`,
    html: `<small>${escapeHtml(why)} ${link(unsubscribe, 'Unsubscribe')}</small>`,
  };
}

export function confirmMessage(to: string, site: Site, parent: StoredComment, postTitle: string, confirm: string, unsubscribe: string): Message {
  const title = oneLine(postTitle || parent.postUrl);
  const foot = footer(unsubscribe, `You asked for this on ${oneLine(site.name)}.`);
  return {
    to,
    unsubscribe,
    subject: `Confirm: email me replies to my comment on “${title}”`,
    text:
      `Someone (hopefully you) asked to be emailed when someone replies to this comment on “${title}”:\n\n` +
      `  ${excerpt(parent.body)}\n\nTo confirm, open this link and press the button:\n${confirm}\n\n` +
      'If you did not ask for it, ignore this email: nothing will be sent.\n' +
      foot.text,
    html: page([
      `Someone (hopefully you) asked to be emailed when someone replies to this comment on “${escapeHtml(title)}”:`,
      quote(excerpt(parent.body)),
      `To confirm, open ${link(confirm, 'this link')} and press the button.`,
      'If you did not ask for it, ignore this email: nothing will be sent.',
      foot.html,
    ]),
  };
}

export function replyMessage(to: string, site: Site, reply: StoredComment, postTitle: string, unsubscribe: string): Message {
  const title = oneLine(postTitle || reply.postUrl);
  const name = oneLine(reply.authorName, 80);
  const url = commentLink(reply);
  const foot = footer(unsubscribe, `You asked to be emailed about replies to your comment on ${oneLine(site.name)}.`);
  return {
    to,
    unsubscribe,
    subject: `${name} replied to your comment on “${title}”`,
    text: `${name} replied to your comment on “${title}”:\n\n  ${excerpt(reply.body)}\n\nRead it and reply: ${url}\n${foot.text}`,
    html: page([
      `${escapeHtml(name)} replied to your comment on “${escapeHtml(title)}”:`,
      quote(excerpt(reply.body)),
      link(url, 'Read it and reply'),
      foot.html,
    ]),
  };
}

export function ownerMessage(
  to: string,
  site: Site,
  comment: StoredComment,
  postTitle: string,
  held: boolean,
  admin: string,
  unsubscribe: string,
): Message {
  const title = oneLine(postTitle || comment.postUrl);
  const name = oneLine(comment.authorName, 80);
  const what = held ? 'is waiting for your approval' : 'was published';
  const foot = footer(
    unsubscribe,
    held ? `You get these for comments held for moderation on ${oneLine(site.name)}.` : `You get these for new comments on ${oneLine(site.name)}.`,
  );
  return {
    to,
    unsubscribe,
    subject: held ? `Held for moderation: a comment by ${name} on “${title}”` : `New comment by ${name} on “${title}”`,
    text:
      `A comment by ${name} on “${title}” ${what}:\n\n  ${excerpt(comment.body)}\n\n` +
      (held ? `Approve or reject it: ${admin}\n` : `Read it: ${commentLink(comment)}\nModerate: ${admin}\n`) +
      foot.text,
    html: page([
      `A comment by ${escapeHtml(name)} on “${escapeHtml(title)}” ${what}:`,
      quote(excerpt(comment.body)),
      held ? link(admin, 'Approve or reject it') : `${link(commentLink(comment), 'Read it')} · ${link(admin, 'Moderate')}`,
      foot.html,
    ]),
  };
}

export function digestMessage(to: string, site: Site, day: string, comments: { comment: StoredComment; postTitle: string }[], admin: string, unsubscribe: string): Message {
  const count = comments.length;
  const noun = count === 1 ? 'comment' : 'comments';
  const foot = footer(unsubscribe, `You get a daily digest of new comments on ${oneLine(site.name)}.`);
  const lines = comments.map(({ comment, postTitle }) => ({
    head: `${oneLine(comment.authorName, 80)} on “${oneLine(postTitle || comment.postUrl)}”`,
    body: excerpt(comment.body),
    url: commentLink(comment),
  }));
  return {
    to,
    unsubscribe,
    subject: `${count} new ${noun} on ${oneLine(site.name)} (${day})`,
    text:
      `${count} new ${noun} on ${oneLine(site.name)} on ${day} (UTC):\n\n` +
      lines.map((l) => `* ${l.head}\n  ${l.body}\n  ${l.url}\n`).join('\n') +
      `\nModerate: ${admin}\n${foot.text}`,
    html: page([
      `${count} new ${noun} on ${escapeHtml(oneLine(site.name))} on ${escapeHtml(day)} (UTC):`,
      ...lines.map((l) => `<strong>${escapeHtml(l.head)}</strong>${quote(l.body)}${link(l.url, 'Read it')}`),
      link(admin, 'Moderate'),
      foot.html,
    ]),
  };
}
