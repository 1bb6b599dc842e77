/**
 * Comment bodies are plain text. This splits a body into paragraphs (on blank lines), lines
 * (on single newlines) and segments, where a segment is either text or an `http(s)` link.
 * It returns data, not markup: the element turns it into Lit templates, which escape text.
 */

/** A piece of a line: text as typed, or a link whose `href` is a checked http(s) URL. */
export type Segment = { text: string; href?: undefined } | { text: string; href: string };
export type Line = Segment[];
export type Paragraph = Line[];

// Bidi controls end a URL: a link text may never carry an override into the page.
const BIDI = '\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';
const URL_CANDIDATE = new RegExp(`\\bhttps?://[^\\s<>"${BIDI}]+`, 'gi');
const TRAILING = /[.,;:!?'"’”*_]+$/;

/** The href for a URL-like string, if it is a well-formed http: or https: URL; else null. */
export function safeHttpUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}

/** Drops trailing punctuation that belongs to the sentence, and closing brackets left unopened. */
function trimCandidate(candidate: string): string {
  let url = candidate;
  for (;;) {
    const before = url;
    url = url.replace(TRAILING, '');
    for (const [open, close] of ['()', '[]', '{}']) {
      if (url.endsWith(close!) && count(url, close!) > count(url, open!)) url = url.slice(0, -1);
    }
    if (url === before) return url;
  }
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

/** Splits one line into text and link segments. */
export function linkify(line: string): Line {
  const segments: Line = [];
  let last = 0;
  for (const match of line.matchAll(URL_CANDIDATE)) {
    const text = trimCandidate(match[0]);
    const href = safeHttpUrl(text);
    // A bare scheme ("http://") or an unparsable host stays text.
    if (!href || text.length <= text.indexOf('//') + 2) continue;
    const start = match.index!;
    if (start > last) segments.push({ text: line.slice(last, start) });
    segments.push({ text, href });
    last = start + text.length;
  }
  if (last < line.length) segments.push({ text: line.slice(last) });
  return segments;
}

/**
 * Paragraphs of a body: blank lines (only spaces between two newlines) separate paragraphs;
 * single newlines become line breaks. Leading/trailing blank lines are dropped.
 */
export function formatBody(body: string): Paragraph[] {
  return body
    .replace(/\r\n?/g, '\n')
    .split(/\n(?:[ \t]*\n)+/)
    .filter((paragraph) => paragraph.trim() !== '')
    .map((paragraph) => paragraph.replace(/^\n+|\n+$/g, '').split('\n').map(linkify));
}
