/**
 * Sending Webmentions (W3C): announces a reblog page (`source`) to the post it reposts
 * (`target`) on another site. The target's endpoint is discovered from its HTTP `Link` header,
 * else the first `<link rel=webmention>` / `<a rel=webmention>` in its HTML, and sent
 * `source` and `target` form-encoded. All through the guarded outbound fetch, in the
 * background (never blocking the reblog request), retried with backoff when the target or its
 * endpoint cannot be reached or answers 5xx / 429.
 */
import type { FastifyBaseLogger } from 'fastify';
import { Parser } from 'htmlparser2';
import type { GuardedFetch } from '../http/guarded-fetch.js';

/** Most announcements waiting on one instance; more are dropped (and logged). */
const QUEUE_MAX = 1_000;
/** Tries per announcement. */
const ATTEMPTS = 4;

interface Job {
  source: string;
  target: string;
  attempt: number;
}

/** A Webmention endpoint for `target`, or null when it advertises none. */
export async function discoverEndpoint(fetch: GuardedFetch, target: string): Promise<string | null> {
  const res = await fetch(target, { headers: { accept: 'text/html' } });
  if (!res.ok) throw new SendError(`target answered ${res.status}`, res.status >= 500 || res.status === 429);
  const base = res.url || target;
  // Link: <https://x/webmention>; rel="webmention", <…>; rel="other"
  for (const link of (res.headers.get('link') ?? '').split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(link);
    const rel = match && /;\s*rel\s*=\s*"?([^";]*)"?/i.exec(match[2]!);
    if (match && rel && rel[1]!.toLowerCase().split(/\s+/).includes('webmention')) return new URL(match[1]!, base).href;
  }
  if (!/html/i.test(res.headers.get('content-type') ?? '')) return null;
  // The first <link> or <a> (in document order) whose rel includes webmention and has an href.
  let found: string | null = null;
  const parser = new Parser({
    onopentag(name, attributes) {
      const rel = (attributes['rel'] ?? '').toLowerCase().split(/\s+/);
      if (found === null && (name === 'link' || name === 'a') && rel.includes('webmention') && attributes['href'] !== undefined) {
        found = new URL(attributes['href'], base).href;
      }
    },
  });
  parser.end(await res.text());
  return found;
}

class SendError extends Error {
  constructor(
    message: string,
    readonly temporary: boolean,
  ) {
    super(message);
  }
}

/** Sends queued Webmentions one at a time, retrying temporary failures with doubling delays. */
export class WebmentionSender {
  readonly #queue: Job[] = [];
  #running = false;
  #stopped = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #idle = new Set<() => void>();

  constructor(
    private readonly fetch: GuardedFetch,
    private readonly log: FastifyBaseLogger,
    /** Delay before retry `n` (1-based), in ms. */
    private readonly retryDelay: (attempt: number) => number = (n) => 30_000 * 2 ** (n - 1),
  ) {}

  /** Queues an announcement; returns at once. */
  send(source: string, target: string): void {
    this.#push({ source, target, attempt: 1 });
  }

  /** Resolves when nothing is queued, running or waiting for a retry (tests). */
  settled(): Promise<void> {
    return this.#busy ? new Promise((done) => this.#idle.add(done)) : Promise.resolve();
  }

  stop(): void {
    this.#stopped = true;
    this.#queue.length = 0;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#check();
  }

  get #busy(): boolean {
    return this.#running || this.#queue.length > 0 || this.#timers.size > 0;
  }

  #push(job: Job): void {
    if (this.#stopped) return;
    if (this.#queue.length >= QUEUE_MAX) return this.log.warn({ ...job }, 'webmention queue full; announcement dropped');
    this.#queue.push(job);
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
      try {
        await this.#deliver(job);
      } catch (error) {
        const temporary = !(error instanceof SendError) || error.temporary;
        if (temporary && job.attempt < ATTEMPTS && !this.#stopped) {
          const timer = setTimeout(() => {
            this.#timers.delete(timer);
            this.#push({ ...job!, attempt: job!.attempt + 1 });
          }, this.retryDelay(job.attempt));
          timer.unref();
          this.#timers.add(timer);
        } else {
          this.log.info({ source: job.source, target: job.target, error: (error as Error).message }, 'webmention not sent');
        }
      }
    }
    this.#running = false;
    this.#check();
  }

  #check(): void {
    if (this.#busy) return;
    for (const done of this.#idle) done();
    this.#idle.clear();
  }

  async #deliver({ source, target }: Job): Promise<void> {
    const endpoint = await discoverEndpoint(this.fetch, target);
    if (!endpoint) return this.log.info({ target }, 'target has no webmention endpoint');
    const res = await this.fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ source, target }).toString(),
    });
    await res.arrayBuffer().catch(() => {});
    if (!res.ok) throw new SendError(`endpoint answered ${res.status}`, res.status >= 500 || res.status === 429);
  }
}
