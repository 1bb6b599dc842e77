/**
 * Email notifications, sent through the job queue (never while a request waits):
 *
 * - reply subscriptions with double opt-in: a writer who ticks "Notify me of follow-up comments"
 *   gets a confirmation email; once confirmed, each published reply to their comment (not their
 *   own, never a held or spam one; an approved one when it is approved) is mailed to them;
 * - owners: each new published comment, or a daily digest, or nothing; and comments held for
 *   moderation (unless turned off). An owner is mailed about one comment at most once.
 *
 * Every comment stored or approved (by any instance: `Store.onComment`) queues a `notify-comment`
 * job, deduplicated per comment and status, whose handler queues one `mail` job per recipient
 * (deduplicated too). A `mail` job renders its message when it runs — so a reader who
 * unsubscribed or was erased in between gets nothing — and sends it by SMTP; a failure (SMTP
 * down, 4xx, 5xx) is retried by the runner with backoff. The `digest` job runs once a day (UTC).
 */
import { randomUUID } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { EmailOptions } from '../auth/email.js';
import { hashToken } from '../auth/tokens.js';
import type { JobHandler, JobRunner } from '../jobs/runner.js';
import type { CommentEvent, Store, StoredComment } from '../store/store.js';
import { confirmMessage, digestMessage, ownerMessage, replyMessage, type Message } from './messages.js';
import { CONFIRM_SECONDS, confirmToken, unsubscribeToken, type Unsubscribe } from './tokens.js';

export const UNSUBSCRIBE_PATH = '/api/v1/unsubscribe';
export const CONFIRM_PATH = '/api/v1/subscriptions/confirm';
/** Most comments listed in one digest. */
const DIGEST_MAX = 200;
const DAY_MS = 24 * 3600_000;
/** At most one confirmation email per address and site in this time (per instance). */
const CONFIRM_EVERY_MS = 60_000;

type MailJob =
  | { type: 'confirm'; base: string; subscriptionId: string }
  | { type: 'reply'; base: string; subscriptionId: string; siteId: string; commentId: string }
  | { type: 'owner'; base: string; siteId: string; userId: string; commentId: string; held: boolean }
  | { type: 'digest'; base: string; siteId: string; userId: string; day: string };

interface CommentJob {
  siteId: string;
  commentId: string;
  base: string;
}

export interface NotifierOptions {
  store: Store;
  secret: string;
  now: () => Date;
  email: EmailOptions;
  /** This server's public base URL for links; else the origin of the latest request seen. */
  publicUrl?: string;
  log?: { warn(object: object, message: string): void; error(object: object, message: string): void };
}

/** The dedupe key of a comment's notifications at one status (queued once per status it reaches). */
const notifyKey = (siteId: string, commentId: string, status: string) => `notify:${siteId}:${commentId}:${status}`;

/** `YYYY-MM-DD` of a time, in UTC. */
const dayOf = (time: Date) => time.toISOString().slice(0, 10);

export class Notifier {
  readonly #store: Store;
  readonly #secret: string;
  readonly #now: () => Date;
  readonly #from: string;
  readonly #transport: Transporter;
  readonly #log: NotifierOptions['log'];
  #runner: JobRunner | null = null;
  #base: string | null;
  /** Comment events being turned into jobs (awaited by `settled()`). */
  readonly #pending = new Set<Promise<unknown>>();
  #unlisten: (() => void) | null = null;
  /** Whether `#base` came from the configuration (else from requests). */
  readonly #fixedBase: boolean;
  /** When each (site, address) was last sent a confirmation by this instance: one a minute, so nobody is flooded. */
  readonly #lastConfirm = new Map<string, number>();
  /** Comments (with the status) whose notifications this instance queued lately: the announcement of them adds nothing. */
  readonly #queued = new Set<string>();

  constructor(options: NotifierOptions) {
    this.#store = options.store;
    this.#secret = options.secret;
    this.#now = options.now;
    this.#from = options.email.from;
    this.#transport = nodemailer.createTransport(options.email.smtpUrl);
    this.#base = options.publicUrl?.replace(/\/+$/, '') ?? null;
    this.#log = options.log;
    this.#fixedBase = options.publicUrl !== undefined;
  }

  /** The runner's handlers for notification jobs. */
  handlers(): Record<string, JobHandler> {
    return {
      'notify-comment': (payload) => this.#onComment(payload as CommentJob),
      mail: (payload) => this.#mail(payload as MailJob),
      'notify-digest': (payload) => this.#digest((payload as { day: string }).day),
    };
  }

  /** Starts listening for stored and approved comments, and schedules today's digest. */
  async start(runner: JobRunner): Promise<void> {
    this.#runner = runner;
    // On the next turn: the request that stored the comment has queued it by then (no second write).
    this.#unlisten = this.#store.onComment((event) =>
      this.#track(new Promise((resolve) => setImmediate(resolve)).then(() => this.#commentEvent(event))),
    );
    await this.#scheduleDigest(dayOf(this.#now()));
  }

  stop(): void {
    this.#unlisten?.();
    this.#transport.close();
  }

  /** Remembers the server's own origin from a request (when no public URL is configured). */
  seen(origin: string): void {
    if (!this.#fixedBase) this.#base = origin.replace(/\/+$/, '');
  }

  /** Waits until the comment events seen so far have queued their jobs (tests). */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }

  /**
   * A writer asked to be emailed about replies to the comment just stored: keeps an unconfirmed
   * subscription and queues the confirmation email — unless this address was sent one on this
   * site in the last minute (then the request is dropped: no one is flooded by others' comments).
   */
  async subscribe(comment: StoredComment, email: string, userId: string | null): Promise<void> {
    const base = this.#base;
    if (!base) return;
    const now = this.#now();
    const key = `${comment.siteId}\n${email.toLowerCase()}`;
    if ((this.#lastConfirm.get(key) ?? -Infinity) > now.getTime() - CONFIRM_EVERY_MS) return;
    if (this.#lastConfirm.size > 10_000) this.#lastConfirm.clear();
    this.#lastConfirm.set(key, now.getTime());
    const id = randomUUID();
    await this.#store.createSubscription({
      id,
      siteId: comment.siteId,
      commentId: comment.id,
      email,
      userId,
      confirmHash: hashToken(confirmToken(this.#secret, id)),
      confirmExpires: new Date(now.getTime() + CONFIRM_SECONDS * 1000),
      created: now,
    });
    await this.#enqueueMail({ type: 'confirm', base, subscriptionId: id }, `mail:confirm:${id}`);
  }

  unsubscribeUrl(base: string, target: Unsubscribe): string {
    return `${base}${UNSUBSCRIBE_PATH}/${unsubscribeToken(this.#secret, target)}`;
  }

  #track(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => this.#log?.error({ err: error }, 'notifications: queueing failed'));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  /** A comment was stored or approved (by any instance): queue its notifications, unless queued already. */
  async #commentEvent(event: CommentEvent): Promise<void> {
    if (event.change || !this.#runner) return;
    // Queued as published already (by the request that stored it here): nothing to read.
    if (this.#queued.has(notifyKey(event.siteId, event.commentId, 'published'))) return;
    const comment = await this.#store.getComment(event.siteId, event.commentId);
    if (comment) await this.stored(comment);
  }

  /**
   * Queues the notifications of a comment that is new or newly published: once per status it
   * reaches, whether the request that stored it or the announcement of it (on any instance) comes first.
   */
  async stored(comment: StoredComment): Promise<void> {
    if (!this.#runner || !this.#base || comment.deleted || comment.status === 'spam') return;
    const dedupeKey = notifyKey(comment.siteId, comment.id, comment.status);
    if (this.#queued.has(dedupeKey)) return;
    if (this.#queued.size > 10_000) this.#queued.clear();
    this.#queued.add(dedupeKey);
    const payload: CommentJob = { siteId: comment.siteId, commentId: comment.id, base: this.#base };
    try {
      await this.#runner.enqueue({ kind: 'notify-comment', payload, runAt: this.#now(), dedupeKey });
    } catch (error) {
      this.#queued.delete(dedupeKey);
      throw error;
    }
  }

  async #enqueueMail(job: MailJob, dedupeKey: string): Promise<void> {
    await this.#runner?.enqueue({ kind: 'mail', payload: job, runAt: this.#now(), dedupeKey });
  }

  async #onComment({ siteId, commentId, base }: CommentJob): Promise<void> {
    const comment = await this.#store.getComment(siteId, commentId);
    if (!comment || comment.deleted || comment.status === 'spam') return;
    const held = comment.status === 'pending';
    if (!held && comment.parentId) {
      const email = comment.authorEmail?.toLowerCase() ?? null;
      for (const sub of await this.#store.replySubscriptions(siteId, comment.parentId)) {
        const own = (sub.userId !== null && sub.userId === comment.userId) || (email !== null && sub.email.toLowerCase() === email);
        if (own) continue;
        await this.#enqueueMail({ type: 'reply', base, subscriptionId: sub.id, siteId, commentId }, `mail:reply:${siteId}:${commentId}:${sub.id}`);
      }
    }
    for (const owner of await this.#store.siteOwners(siteId)) {
      if (!owner.email || owner.id === comment.userId) continue;
      const settings = await this.#store.ownerMailSettings(siteId, owner.id);
      if (held ? !settings.held : settings.comments !== 'each') continue;
      // One key for both: an owner told about a held comment is not told again when it is approved.
      await this.#enqueueMail({ type: 'owner', base, siteId, userId: owner.id, commentId, held }, `mail:owner:${siteId}:${commentId}:${owner.id}`);
    }
  }

  /** Queues the digest of `day` to run when the day is over (once, whichever instance asks). */
  async #scheduleDigest(day: string): Promise<void> {
    const runAt = new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS);
    await this.#runner?.enqueue({ kind: 'notify-digest', payload: { day }, runAt, dedupeKey: `notify-digest:${day}` });
  }

  async #digest(day: string): Promise<void> {
    const base = this.#base;
    if (base) {
      for (const site of await this.#store.listSites()) {
        for (const owner of await this.#store.siteOwners(site.id)) {
          if (!owner.email || (await this.#store.ownerMailSettings(site.id, owner.id)).comments !== 'digest') continue;
          await this.#enqueueMail({ type: 'digest', base, siteId: site.id, userId: owner.id, day }, `mail:digest:${day}:${site.id}:${owner.id}`);
        }
      }
    }
    await this.#scheduleDigest(dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS)));
  }

  /** Renders a mail job now (nothing when its reason is gone) and sends it. */
  async #mail(job: MailJob): Promise<void> {
    const message = await this.#render(job);
    if (!message) return;
    await this.#transport.sendMail({
      from: this.#from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      headers: {
        'List-Unsubscribe': `<${message.unsubscribe}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    });
  }

  async #postTitle(comment: StoredComment): Promise<string> {
    return (await this.#store.getPost(comment.siteId, comment.postUrl))?.title ?? '';
  }

  async #render(job: MailJob): Promise<Message | null> {
    const store = this.#store;
    const admin = `${job.base}/admin`;
    switch (job.type) {
      case 'confirm': {
        const sub = await store.getSubscription(job.subscriptionId);
        if (!sub || sub.active) return null;
        const [site, parent] = await Promise.all([store.getSite(sub.siteId), store.getComment(sub.siteId, sub.commentId)]);
        if (!site || !parent) return null;
        const confirm = `${job.base}${CONFIRM_PATH}/${confirmToken(this.#secret, sub.id)}`;
        const unsubscribe = this.unsubscribeUrl(job.base, { kind: 'subscription', id: sub.id });
        return confirmMessage(sub.email, site, parent, await this.#postTitle(parent), confirm, unsubscribe);
      }
      case 'reply': {
        const sub = await store.getSubscription(job.subscriptionId);
        if (!sub?.active) return null;
        const [site, reply] = await Promise.all([store.getSite(job.siteId), store.getComment(job.siteId, job.commentId)]);
        if (!site || !reply || reply.status !== 'published' || reply.deleted) return null;
        const unsubscribe = this.unsubscribeUrl(job.base, { kind: 'subscription', id: sub.id });
        return replyMessage(sub.email, site, reply, await this.#postTitle(reply), unsubscribe);
      }
      case 'owner': {
        const [site, owner, comment] = await Promise.all([
          store.getSite(job.siteId),
          store.getUser(job.userId),
          store.getComment(job.siteId, job.commentId),
        ]);
        if (!site || !owner?.email || !comment || comment.deleted || !(await store.isSiteOwner(site.id, owner.id))) return null;
        const settings = await store.ownerMailSettings(site.id, owner.id);
        if (job.held ? !settings.held || comment.status !== 'pending' : settings.comments !== 'each' || comment.status !== 'published') return null;
        const what = job.held ? 'held' : 'comments';
        const unsubscribe = this.unsubscribeUrl(job.base, { kind: 'owner', siteId: site.id, userId: owner.id, what });
        return ownerMessage(owner.email, site, comment, await this.#postTitle(comment), job.held, admin, unsubscribe);
      }
      case 'digest': {
        const [site, owner] = await Promise.all([store.getSite(job.siteId), store.getUser(job.userId)]);
        if (!site || !owner?.email || (await store.ownerMailSettings(site.id, owner.id)).comments !== 'digest') return null;
        const from = new Date(`${job.day}T00:00:00Z`);
        const comments = await store.publishedBetween(site.id, from, new Date(from.getTime() + DAY_MS), DIGEST_MAX);
        if (!comments.length) return null;
        // A day's comments are mostly on a few posts: each post's title is read once.
        const titles = new Map<string, Promise<string>>();
        const titled = [];
        for (const comment of comments) {
          let title = titles.get(comment.postUrl);
          if (!title) titles.set(comment.postUrl, (title = this.#postTitle(comment)));
          titled.push({ comment, postTitle: await title });
        }
        const unsubscribe = this.unsubscribeUrl(job.base, { kind: 'owner', siteId: site.id, userId: owner.id, what: 'comments' });
        return digestMessage(owner.email, site, job.day, titled, admin, unsubscribe);
      }
    }
  }
}
