/**
 * Turns imported comment HTML (WordPress, Disqus, Webmention content) into blogtalk's text
 * form: paragraphs separated by a blank line, line breaks kept, links written out as
 * "text (https://…)" so the widget can link them again. Nothing of the markup survives.
 */
import { Parser } from 'htmlparser2';

const BLOCKS = new Set([
  'p', 'div', 'blockquote', 'pre', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'tr', 'hr',
  'section', 'article', 'figure', 'figcaption', 'dl', 'dt', 'dd',
]);
const SKIPPED = new Set(['script', 'style', 'template', 'head', 'title', 'iframe', 'object', 'noscript']);

export interface HtmlToTextOptions {
  /**
   * Treat newlines in text as meaningful, as WordPress does for comment content (a blank line
   * is a paragraph, a newline a line break). Otherwise white space collapses as in HTML.
   */
  newlinesAreBreaks?: boolean;
}

export function htmlToText(html: string, options: HtmlToTextOptions = {}): string {
  let out = '';
  let skipping = 0;
  let pre = 0;
  const links: { href: string | null; start: number }[] = [];
  const breakLine = () => {
    out = out.replace(/[ \t]+$/, '');
    out += '\n';
  };
  const breakParagraph = () => {
    out = out.replace(/\s+$/, '');
    if (out) out += '\n\n';
  };

  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (SKIPPED.has(name)) skipping += 1;
        if (skipping) return;
        if (name === 'br') breakLine();
        else if (BLOCKS.has(name)) breakParagraph();
        if (name === 'pre') pre += 1;
        if (name === 'li') out += '• ';
        if (name === 'img' && attrs.alt) out += attrs.alt;
        if (name === 'a') links.push({ href: attrs.href ?? null, start: out.length });
      },
      ontext(text) {
        if (skipping) return;
        if (pre || options.newlinesAreBreaks) {
          out += text.replace(/\r\n?/g, '\n').replace(/[ \t]+/g, (m) => (pre ? m : ' '));
        } else {
          out += text.replace(/\s+/g, ' ');
        }
      },
      onclosetag(name) {
        if (SKIPPED.has(name)) {
          skipping = Math.max(0, skipping - 1);
          return;
        }
        if (skipping) return;
        if (name === 'pre') pre = Math.max(0, pre - 1);
        if (name === 'a') {
          const link = links.pop();
          const href = link?.href?.trim();
          if (link && href && /^https?:\/\//i.test(href)) {
            const text = out.slice(link.start).trim();
            if (!text) out += href;
            else if (text !== href) out += ` (${href})`;
          }
        }
        if (BLOCKS.has(name)) breakParagraph();
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();

  return out
    .split(/\n{2,}/)
    .map((paragraph) =>
      paragraph
        .split('\n')
        .map((line) => line.replace(/^[ \t]+|[ \t]+$/g, ''))
        .join('\n')
        .trim(),
    )
    .filter(Boolean)
    .join('\n\n');
}
