/**
 * Sending Webmentions (W3C): announces a reblog page (`source`) to the post it reposts
 * (`target`) on another site. The target's endpoint is discovered from its HTTP `Link` header,
 * else the first `<link rel=webmention>` / `<a rel=webmention>` in its HTML, and sent
 * `source` and `target` form-encoded. All through the guarded outbound fetch, in the
 * background (never blocking the reblog request): each announcement is a job in the store's
 * durable queue, retried with backoff when the target or its endpoint cannot be reached or
 * answers 5xx / 429.
 */
import type { FastifyBaseLogger } from 'fastify';
import { Parser } from 'htmlparser2';
import type { GuardedFetch } from '../http/guarded-fetch.js';
import type { JobHandler, JobRunner } from '../jobs/runner.js';
import type { JobStore } from '../store/store.js';

/** The job kind of an announcement in the store's durable queue. */
export const WEBMENTION_JOB = 'webmention';
/** Tries per announcement (the job runner's backoff between them: 30 s doubling). */
const ATTEMPTS = 6;

interface Announcement {
  source: string;
  target: string;
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

/**
 * Announces reblog pages through the store's durable job queue (`server/jobs/runner.ts`): an
 * announcement survives a restart, and with several instances exactly one of them sends it.
 * A temporary failure (network, 5xx, 429) is retried with the runner's backoff; a permanent one
 * (4xx, no endpoint) is logged and dropped.
 */
export class WebmentionSender {
  readonly #pending = new Set<Promise<unknown>>();
  #runner: JobRunner | null = null;
  #stopped = false;

  constructor(
    private readonly fetch: GuardedFetch,
    private readonly log: FastifyBaseLogger,
    private readonly store: JobStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The job handler to give the runner. */
  handlers(): Record<string, JobHandler> {
    return { [WEBMENTION_JOB]: (payload) => this.#deliver(payload as Announcement) };
  }

  /** Sends through this runner (it runs the jobs `handlers()` names). */
  start(runner: JobRunner): void {
    this.#runner = runner;
  }

  /** Queues an announcement (durably) and returns at once. */
  send(source: string, target: string): void {
    if (this.#stopped) return;
    const job = { kind: WEBMENTION_JOB, payload: { source, target } satisfies Announcement, runAt: this.now(), maxAttempts: ATTEMPTS };
    const queued = (this.#runner ? this.#runner.enqueue(job) : this.store.enqueueJob(job, this.now()))
      .catch((error: unknown) => this.log.error({ source, target, err: error }, 'webmention not queued'))
      .finally(() => this.#pending.delete(queued));
    this.#pending.add(queued);
  }

  /** Resolves when no announcement is waiting to be queued, queued or being sent (tests). */
  async settled(): Promise<void> {
    for (;;) {
      await Promise.all(this.#pending);
      await this.#runner?.runDue();
      const waiting = [...(await this.store.listJobs('queued', 1_000)), ...(await this.store.listJobs('running', 1_000))];
      if (this.#stopped || !this.#runner || !waiting.some((job) => job.kind === WEBMENTION_JOB)) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Queues nothing more (what is queued stays for the next start). */
  stop(): void {
    this.#stopped = true;
  }

  async #deliver({ source, target }: Announcement): Promise<void> {
    try {
      const endpoint = await discoverEndpoint(this.fetch, target);
      if (!endpoint) return this.log.info({ target }, 'target has no webmention endpoint');
      const res = await this.fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ source, target }).toString(),
      });
      await res.arrayBuffer().catch(() => {});
      if (!res.ok) throw new SendError(`endpoint answered ${res.status}`, res.status >= 500 || res.status === 429);
    } catch (error) {
      // Thrown again, the runner retries it later; a permanent refusal is only logged.
      if (!(error instanceof SendError) || error.temporary) throw error;
      this.log.info({ source, target, error: error.message }, 'webmention not sent');
    }
  }
}
