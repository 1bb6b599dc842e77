/**
 * Shared by the browser tests: where the real server is, seeding comments through its API,
 * and reading and driving `<comment-thread>` as a person would.
 */
import { waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { blog, proxy, server } from '/__blogtalk__/server.js';
import type { Comment, CommentPage, NewCommentRequest } from '../../src/data/api-types.js';
import type { Backend, ListOptions } from '../../src/data/backend.js';
import { HttpBackend } from '../../src/data/http-backend.js';
// Every part of the thread from the start, as with dist/blogtalk.esm.js (tests that load dist/blogtalk.js
// see it loaded on first use instead).
import '../../src/comment-thread/eager.js';

export { blog, proxy, server };

/** A post of its own for one test, so tests never see each other's comments. */
export function newPost(name = 'post'): string {
  return `${blog}/t/${name}-${crypto.randomUUID()}`;
}

export interface Seed {
  name?: string;
  email?: string;
  website?: string;
  body?: string;
  parent?: string | null;
  pageTitle?: string;
}

/** Posts a comment through the real API, as another reader would have. */
export async function seed(post: string, options: Seed = {}): Promise<Comment> {
  const { name = 'Alice', email = 'alice@example.org', body = 'Hello', ...rest } = options;
  const author = { name, email, ...(rest.website ? { website: rest.website } : {}) };
  const request: NewCommentRequest = { post, author, body };
  if (rest.parent) request.parent = rest.parent;
  if (rest.pageTitle) request.pageTitle = rest.pageTitle;
  const response = await fetch(`${server}/api/v1/comments`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
    body: JSON.stringify(request),
  });
  if (response.status !== 201) throw new Error(`seeding failed: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Seeds several comments one after another (so their order is the order given). */
export async function seedMany(post: string, bodies: string[], extra: Seed = {}): Promise<Comment[]> {
  const comments: Comment[] = [];
  for (const body of bodies) comments.push(await seed(post, { ...extra, body }));
  return comments;
}

type Root = Element & { shadowRoot: ShadowRoot | null };

/** The first match inside an element's shadow root. */
export function $<E extends Element = HTMLElement>(host: Root, selector: string): E {
  const found = host.shadowRoot?.querySelector<E>(selector);
  if (!found) throw new Error(`nothing matches ${selector}`);
  return found;
}

export function $$<E extends Element = HTMLElement>(host: Root, selector: string): E[] {
  return [...(host.shadowRoot?.querySelectorAll<E>(selector) ?? [])];
}

/** Visible text (line breaks count as spaces), whitespace collapsed. */
export function text(node: Node | null | undefined): string {
  const visible = node instanceof HTMLElement ? node.innerText : node?.textContent;
  return (visible ?? '').replace(/\s+/g, ' ').trim();
}

export function heading(thread: Root): string {
  return text(thread.shadowRoot?.querySelector('[part~="heading"]'));
}

/** The rendered responses, in page order, as the text of their bodies. */
export function bodies(thread: Root): string[] {
  return $$(thread, '[part~="comment-body"]').map((body) => text(body));
}

export async function until(condition: () => unknown, message: string, timeout = 5000): Promise<void> {
  await waitUntil(async () => Boolean(await condition()), message, { timeout, interval: 20 });
}

/** Presses a key with Control held (Ctrl+Enter and the like). */
export async function pressWithControl(key: string): Promise<void> {
  await sendKeys({ down: 'Control' });
  await sendKeys({ press: key });
  await sendKeys({ up: 'Control' });
}

/** Focuses a field the way a person would (click / tab) and types into it with the keyboard. */
export async function typeInto(field: HTMLInputElement | HTMLTextAreaElement, value: string): Promise<void> {
  field.focus();
  await sendKeys({ type: value });
}

/** The guest fields of the thread's composer (inside `<login-picker>`). */
export function guestField(thread: Root, name: 'name' | 'email' | 'website'): HTMLInputElement {
  return $<HTMLInputElement>($(thread, 'login-picker'), `#${name}`);
}

export function textarea(thread: Root): HTMLTextAreaElement {
  return $<HTMLTextAreaElement>(thread, '[part~="textarea"]');
}

/** Types the guest details and a comment, as a person would. */
export async function writeComment(
  thread: Root,
  body: string,
  { name = 'Bob', email = 'bob@example.org', website = '' } = {},
): Promise<void> {
  await typeInto(guestField(thread, 'name'), name);
  await typeInto(guestField(thread, 'email'), email);
  if (website) await typeInto(guestField(thread, 'website'), website);
  await typeInto(textarea(thread), body);
}

/** The composer's notice (role=status, part=status). */
export function notice(thread: Root): string {
  return text(thread.shadowRoot?.querySelector('#composer-status'));
}

/** The element that has focus, looking through shadow roots. */
export function deepActiveElement(): Element | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}

/**
 * The real server's backend with hooks: each call can be held until released (to look at the
 * "Sending…" or loading state) or made to fail. Everything else goes to the real server.
 */
export class ControlledBackend implements Backend {
  readonly http = new HttpBackend(server);
  /** How many of the next list / post calls fail as if the network were down. */
  failLists = 0;
  failPosts = 0;
  /** The signal of every list call, in order. */
  signals: (AbortSignal | undefined)[] = [];
  #holds: (() => void)[] = [];
  holdPosts = false;
  holdLists = false;
  lists = 0;
  posts = 0;

  async list(post: string, options?: ListOptions): Promise<CommentPage> {
    this.lists++;
    this.signals.push(options?.signal);
    if (this.holdLists) await new Promise<void>((resolve) => this.#holds.push(resolve));
    if (this.failLists > 0) {
      this.failLists--;
      return new HttpBackend('http://127.0.0.1:9').list(post, options);
    }
    return this.http.list(post, options);
  }

  async post(request: NewCommentRequest, key: string, signal?: AbortSignal): Promise<Comment> {
    this.posts++;
    if (this.holdPosts) await new Promise<void>((resolve) => this.#holds.push(resolve));
    if (this.failPosts > 0) {
      this.failPosts--;
      return new HttpBackend('http://127.0.0.1:9').post(request, key, signal);
    }
    return this.http.post(request, key, signal);
  }

  /** Lets every held call go on. */
  release(): void {
    this.holdLists = this.holdPosts = false;
    for (const resolve of this.#holds.splice(0)) resolve();
  }
}

/** Timers that run only when the test advances the clock. */
export class Clock {
  time = Date.now();
  timers: { at: number; fn: () => void }[] = [];
  now = () => this.time;
  schedule = (fn: () => void, ms: number) => {
    const timer = { at: this.time + ms, fn };
    this.timers.push(timer);
    return () => void (this.timers = this.timers.filter((t) => t !== timer));
  };
  /** Delay of the next timer from now, or null. */
  next(): number | null {
    return this.timers.length ? Math.min(...this.timers.map((t) => t.at)) - this.time : null;
  }
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const timer of due) timer.fn();
  }
}
