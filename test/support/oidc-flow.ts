/**
 * Drives a sign-in the way a browser popup would, with `fetch` and a small cookie jar: the
 * blogtalk app (reached by `inject`, at its public URL) → the loopback OIDC provider → back.
 */
import type { FastifyInstance } from 'fastify';

/** The app's pretend public URL in tests; the provider redirects here and the harness injects. */
export const PUBLIC_URL = 'https://comments.example.test';

export interface Hop {
  status: number;
  location: string | null;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
}

/** One "browser": cookies per host, manual redirects, app URLs served by `inject`. */
export class Browser {
  readonly #jar = new Map<string, Map<string, string>>();
  /** `hosts` maps made-up host names (e.g. a Mastodon instance) to loopback `host:port`. */
  constructor(
    private readonly app: FastifyInstance,
    private readonly hosts: Record<string, string> = {},
  ) {}

  #cookieHeader(url: URL): string | undefined {
    const jar = this.#jar.get(url.host);
    return jar && jar.size ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  #remember(url: URL, setCookies: string[]): void {
    const jar = this.#jar.get(url.host) ?? new Map<string, string>();
    for (const line of setCookies) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.#jar.set(url.host, jar);
  }

  /** One request, no redirects followed. */
  async request(href: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Hop> {
    const url = new URL(href);
    if (url.origin === PUBLIC_URL) {
      const res = await this.app.inject({ method: (init.method ?? 'GET') as 'GET', url: url.pathname + url.search });
      return {
        status: res.statusCode,
        location: (res.headers.location as string | undefined) ?? null,
        body: res.body,
        headers: res.headers,
      };
    }
    const cookie = this.#cookieHeader(url);
    const target = new URL(url);
    const mapped = this.hosts[url.host];
    if (mapped) target.host = mapped;
    const response = await fetch(target, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    this.#remember(url, response.headers.getSetCookie());
    const headers: Record<string, string> = {};
    response.headers.forEach((v, k) => (headers[k] = v));
    return { status: response.status, location: response.headers.get('location'), body: await response.text(), headers };
  }

  /**
   * Follows redirects from `href`, pressing the dev provider's one button when its page shows,
   * until a URL on the app's callback path is reached; returns that URL (not yet requested).
   */
  async toCallback(href: string, callbackPrefix = `${PUBLIC_URL}/api/v1/auth/callback/`): Promise<string> {
    let next = href;
    for (let hops = 0; hops < 15; hops++) {
      if (next.startsWith(callbackPrefix)) return next;
      const hop = await this.request(next);
      if (hop.location) {
        next = new URL(hop.location, next).href;
        continue;
      }
      const form = /<form method="post" action="([^"]+)"/.exec(hop.body);
      if (hop.status === 200 && form) {
        const posted = await this.request(new URL(form[1]!, next).href, { method: 'POST', form: {} });
        if (!posted.location) throw new Error(`provider answered ${posted.status}: ${posted.body.slice(0, 300)}`);
        next = new URL(posted.location, next).href;
        continue;
      }
      throw new Error(`stuck at ${next}: ${hop.status} ${hop.body.slice(0, 300)}`);
    }
    throw new Error('too many redirects');
  }
}

/** The `data-*` attributes of the callback page's <html> element. */
export function handoffData(html: string): Record<string, string> {
  const tag = /<html([^>]*)>/.exec(html)?.[1] ?? '';
  const data: Record<string, string> = {};
  for (const m of tag.matchAll(/data-([a-z]+)="([^"]*)"/g)) data[m[1]!] = m[2]!.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));
  return data;
}

/** The session cookie's `name=value` from a Set-Cookie header, or null. */
export function sessionCookie(setCookie: string | string[] | number | undefined): string | null {
  const lines = Array.isArray(setCookie) ? setCookie : setCookie ? [String(setCookie)] : [];
  for (const line of lines) {
    const pair = line.split(';')[0]!;
    if (pair.startsWith('blogtalk_session=') && pair.length > 'blogtalk_session='.length) return pair;
  }
  return null;
}
