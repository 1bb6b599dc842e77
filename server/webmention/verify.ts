/**
 * Reads a Webmention's source page (microformats2) and says what it is about the target:
 * a repost (u-repost-of), a reply (u-in-reply-to), a like (u-like-of), or nothing at all.
 * Pure: no network; the receiver fetches the page through the guarded outbound fetch.
 */
import { mf2 } from 'microformats-parser';
import { htmlToText } from '../domain/html-to-text.js';

export type Mention =
  | { kind: 'repost' | 'reply' | 'like'; authorName: string; authorUrl: string | null; blogName: string; content: string; url: string }
  | { kind: 'none' };

type Mf2Value = string | { value?: string; html?: string; type?: string[]; properties?: Record<string, Mf2Value[]> };

function first(values: Mf2Value[] | undefined): Mf2Value | undefined {
  return values?.[0];
}

function text(value: Mf2Value | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return value.value ?? '';
}

/** A property's URLs, whether plain strings or embedded h-cite objects. */
function urls(values: Mf2Value[] | undefined): string[] {
  return (values ?? []).flatMap((v) => (typeof v === 'string' ? [v] : [text(first(v.properties?.url)) || text(v)]));
}

/** Compares URLs the way posts are keyed: no fragment, no query, host lowercased. */
function sameUrl(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    x.hash = y.hash = x.search = y.search = '';
    return x.href === y.href;
  } catch {
    return false;
  }
}

type Mf2Item = { type?: string[]; properties?: Record<string, Mf2Value[]>; children?: Mf2Item[] };

function* entries(items: Mf2Item[]): Generator<Mf2Item> {
  for (const item of items) {
    if (item.type?.includes('h-entry')) yield item;
    yield* entries(item.children ?? []);
  }
}

/** The blog's name from a top-level h-card (as a blog's header often carries), if any. */
function siteName(items: Mf2Item[]): string | null {
  const card = items.find((item) => item.type?.includes('h-card'));
  return card ? text(first(card.properties?.name)).trim() || null : null;
}

export function readMention(html: string, sourceUrl: string, target: string): Mention {
  const parsed = mf2(html, { baseUrl: sourceUrl }) as unknown as { items: Mf2Item[] };
  const source = new URL(sourceUrl);
  for (const entry of entries(parsed.items)) {
    const p = entry.properties ?? {};
    const kind = urls(p['repost-of']).some((u) => sameUrl(u, target))
      ? 'repost'
      : urls(p['in-reply-to']).some((u) => sameUrl(u, target))
        ? 'reply'
        : urls(p['like-of']).some((u) => sameUrl(u, target))
          ? 'like'
          : null;
    if (!kind) continue;
    const author = first(p.author);
    const authorProps = typeof author === 'object' ? author.properties : undefined;
    const authorName = (authorProps ? text(first(authorProps.name)) : text(author)).trim() || source.hostname;
    const authorUrl = (authorProps && text(first(authorProps.url))) || null;
    const content = first(p.content);
    const body = typeof content === 'object' && content.html !== undefined ? htmlToText(content.html) : text(content);
    return {
      kind,
      authorName,
      authorUrl,
      blogName: siteName(parsed.items) ?? source.hostname,
      content: body.trim(),
      url: text(first(p.url)) || sourceUrl,
    };
  }
  return { kind: 'none' };
}
