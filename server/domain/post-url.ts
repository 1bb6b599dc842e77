/**
 * A post is identified by its canonical URL: http(s) only, no credentials, fragment dropped,
 * host lowercased, default port dropped, query dropped (sites that need it will opt in).
 * Returns null for anything that is not such a URL.
 */
export function canonicalPostUrl(input: string): URL | null {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password || !url.hostname) return null;
  url.hash = '';
  url.search = '';
  // The URL parser already lowercases the host and drops the scheme's default port.
  return url;
}

/** An http(s) URL as typed by a commenter for their website, normalised; null if not one. */
export function httpUrl(input: string): string | null {
  try {
    const url = new URL(input);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    if (url.username || url.password) return null;
    return url.href;
  } catch {
    return null;
  }
}
