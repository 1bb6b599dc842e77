/**
 * Optional Akismet spam check (https://akismet.com/developers/), per site: the owner sets an API
 * key and the blog URL it was issued for in /admin. A new comment is sent to `comment-check`
 * through the guarded outbound fetch, with a short timeout:
 *
 * - body `true` → spam (with `X-akismet-pro-tip: discard` too: it is kept as spam, never dropped);
 * - body `false` → ham: the site's own policy decides;
 * - anything else (`invalid` with `X-akismet-debug-help`, a 5xx, a timeout, a refused
 *   connection) → held for moderation. A failing spam service never loses a comment.
 *
 * When the owner marks a comment as spam, or approves one that was spam, `submit-spam` /
 * `submit-ham` is sent in the background (`settled()` waits for those, in tests).
 *
 * A new key is checked with `verify-key` when the owner saves it: a key Akismet refuses is not
 * saved (a typo would otherwise hold every comment).
 *
 * The base URL is injectable so that tests talk to a stand-in on loopback; nothing else differs.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { GuardedFetch } from '../http/guarded-fetch.js';
import type { SpamSettings, StoredComment } from '../store/store.js';

/** Akismet keys are short alphanumeric strings; anything else is refused before it reaches a host name. */
export const AKISMET_KEY_PATTERN = /^[A-Za-z0-9]{8,64}$/;

/** The real service: the key is the first label of the host name; `verify-key` has no key in its host. */
export const akismetEndpoint = (key: string | null): string => `https://${key ? `${key}.` : ''}rest.akismet.com/1.1/`;

export type AkismetVerdict = 'spam' | 'ham' | 'unknown';

const USER_AGENT = 'blogtalk | Akismet/1';

/** What is known of a comment (and its request, for a new one). */
export interface AkismetComment {
  permalink: string;
  /** `comment` or `reply`. */
  type: 'comment' | 'reply';
  authorName: string;
  authorEmail: string | null;
  authorUrl: string | null;
  content: string;
  created: Date;
  ip: string | null;
  userAgent: string | null;
  referrer: string | null;
  /** The blog's language, when known (e.g. from the page's `lang`). */
  lang?: string | null;
}

export interface AkismetOptions {
  /** The guarded outbound fetch (its timeout bounds how long a new comment waits). */
  fetch: GuardedFetch;
  /** The API base for a key (null: for `verify-key`); default `akismetEndpoint`. */
  endpoint?: (key: string | null) => string;
  log?: FastifyBaseLogger;
}

/** A site's Akismet credentials, when both are set. */
export function akismetOf(settings: SpamSettings): { key: string; blog: string } | null {
  return settings.akismetKey && settings.akismetBlog ? { key: settings.akismetKey, blog: settings.akismetBlog } : null;
}

/** A stored comment as Akismet fields (for `submit-spam` / `submit-ham`; the user agent is not stored). */
export function fromStored(c: StoredComment): AkismetComment {
  return {
    permalink: c.postUrl,
    type: c.parentId ? 'reply' : 'comment',
    authorName: c.authorName,
    authorEmail: c.authorEmail,
    authorUrl: c.authorWebsite,
    content: c.body,
    created: c.created,
    ip: c.authorIp ?? null,
    userAgent: null,
    referrer: null,
  };
}

export class Akismet {
  readonly #fetch: GuardedFetch;
  readonly #endpoint: (key: string | null) => string;
  readonly #log: FastifyBaseLogger | undefined;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: AkismetOptions) {
    this.#fetch = options.fetch;
    this.#endpoint = options.endpoint ?? akismetEndpoint;
    this.#log = options.log;
  }

  /** Asks `comment-check`; `unknown` for every answer that is neither `true` nor `false`, and every failure. */
  async check(site: { key: string; blog: string }, comment: AkismetComment): Promise<AkismetVerdict> {
    try {
      const res = await this.#call('comment-check', site, comment);
      const text = (await res.text()).trim();
      if (res.status !== 200 || res.headers.has('x-akismet-debug-help')) {
        this.#log?.warn({ status: res.status, help: res.headers.get('x-akismet-debug-help') }, 'akismet: no verdict; comment held');
        return 'unknown';
      }
      if (text === 'true') return 'spam';
      if (text === 'false') return 'ham';
      return 'unknown';
    } catch (error) {
      this.#log?.warn({ err: error }, 'akismet: unreachable; comment held');
      return 'unknown';
    }
  }

  /**
   * Asks `verify-key` whether Akismet accepts the key for the blog: `valid`, `invalid`, or
   * `unknown` when it could not be asked (then the key is kept, and comments are held until it works).
   */
  async verify(site: { key: string; blog: string }): Promise<'valid' | 'invalid' | 'unknown'> {
    try {
      const res = await this.#fetch(new URL('verify-key', this.#endpoint(null)), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'user-agent': USER_AGENT },
        body: new URLSearchParams({ key: site.key, blog: site.blog }),
      });
      const text = (await res.text()).trim();
      if (res.status === 200 && (text === 'valid' || text === 'invalid')) return text;
      return 'unknown';
    } catch (error) {
      this.#log?.warn({ err: error }, 'akismet: verify-key unreachable');
      return 'unknown';
    }
  }

  /** Tells Akismet in the background that it got a comment wrong (or right): never awaited by a request. */
  submit(kind: 'spam' | 'ham', site: { key: string; blog: string }, comment: AkismetComment): void {
    const sending = this.#call(kind === 'spam' ? 'submit-spam' : 'submit-ham', site, comment)
      .then(async (res) => {
        await res.text();
        if (res.status !== 200) this.#log?.warn({ status: res.status }, `akismet: submit-${kind} refused`);
      })
      .catch((error: unknown) => this.#log?.warn({ err: error }, `akismet: submit-${kind} failed`))
      .finally(() => this.#pending.delete(sending));
    this.#pending.add(sending);
  }

  /** Waits for background submissions (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }

  #call(method: string, site: { key: string; blog: string }, c: AkismetComment): Promise<Response> {
    if (!AKISMET_KEY_PATTERN.test(site.key)) return Promise.reject(new Error('malformed Akismet key'));
    const form = new URLSearchParams({
      blog: site.blog,
      permalink: c.permalink,
      comment_type: c.type,
      comment_author: c.authorName,
      comment_content: c.content,
      comment_date_gmt: c.created.toISOString(),
      blog_charset: 'UTF-8',
    });
    const optional: [string, string | null | undefined][] = [
      ['user_ip', c.ip],
      ['user_agent', c.userAgent],
      ['referrer', c.referrer],
      ['comment_author_email', c.authorEmail],
      ['comment_author_url', c.authorUrl],
      ['blog_lang', c.lang],
    ];
    for (const [name, value] of optional) if (value) form.set(name, value);
    return this.#fetch(new URL(method, this.#endpoint(site.key)), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'user-agent': USER_AGENT },
      body: form,
    });
  }
}
