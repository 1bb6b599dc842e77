/** The `Backend` for the blogtalk server's HTTP API (`/api/v1`). */
import type { ApiError, Comment, CommentPage, LikeSummary, NewCommentRequest, PostLikes } from './api-types.js';
import {
  BackendError,
  type Backend,
  type ListOptions,
  type MadeReblog,
  type ReblogBackend,
  type ReblogRequest,
  type ReblogTarget,
} from './backend.js';

export interface HttpBackendOptions {
  /** The fetch to use (tests pass a failing one); defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Milliseconds before a request is given up with a `timeout` error. */
  timeout?: number;
}

export class HttpBackend implements Backend, ReblogBackend {
  /** The server's base URL, without a trailing slash. */
  readonly server: string;
  #fetch: typeof globalThis.fetch;
  #timeout: number;

  constructor(
    server: string,
    { fetch = globalThis.fetch.bind(globalThis), timeout = 15_000 }: HttpBackendOptions = {},
  ) {
    this.server = server.replace(/\/+$/, '');
    this.#fetch = fetch;
    this.#timeout = timeout;
  }

  list(post: string, { pageSize, before, signal }: ListOptions = {}): Promise<CommentPage> {
    const url = this.#url();
    url.searchParams.set('post', post);
    if (pageSize) url.searchParams.set('page-size', String(pageSize));
    if (before) url.searchParams.set('before', before);
    // Revalidate with the ETag every time: a cached page would hide a comment just posted.
    return this.#request<CommentPage>(url, { cache: 'no-cache' }, signal);
  }

  post(request: NewCommentRequest, idempotencyKey: string, signal?: AbortSignal): Promise<Comment> {
    return this.#request<Comment>(
      this.#url(),
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
        body: JSON.stringify(request),
        // A signed-in writer sends no author: the session cookie says who. Guests send no cookie.
        credentials: request.author ? 'omit' : 'include',
      },
      signal,
    );
  }

  // Likes are per reader: the session cookie goes along, so the answer says what they like.
  likes(post: string, signal?: AbortSignal): Promise<PostLikes> {
    const url = this.#url('likes');
    url.searchParams.set('post', post);
    return this.#request<PostLikes>(url, { cache: 'no-cache', credentials: 'include' }, signal);
  }

  like(post: string, comment: string | null, liked: boolean, signal?: AbortSignal): Promise<LikeSummary> {
    return this.#request<LikeSummary>(
      this.#url('likes'),
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ post, comment, liked }),
        credentials: 'include',
      },
      signal,
    );
  }

  report(post: string, id: string, reason: string | null): Promise<unknown> {
    return this.#request(this.#url(`comments/${encodeURIComponent(id)}/report`), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ post, reason }),
      credentials: 'include',
    });
  }

  async change(post: string, id: string, body: string | null, editToken?: string): Promise<Comment | 'removed' | 'emptied'> {
    const result = await this.#request<Comment | { outcome: 'removed' | 'emptied' }>(
      this.#url(`comments/${encodeURIComponent(id)}/${body === null ? 'delete' : 'edit'}`),
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ post, ...(body === null ? {} : { body }), ...(editToken ? { editToken } : {}) }),
        // A guest proves authorship with the token; a signed-in writer with the session cookie.
        credentials: editToken ? 'omit' : 'include',
      },
    );
    return 'outcome' in result ? result.outcome : result;
  }

  #url(path = 'comments', post?: string): URL {
    const url = new URL(`${this.server}/api/v1/${path}`);
    if (post) url.searchParams.set('post', post);
    return url;
  }

  async reblogCount(post: string, signal?: AbortSignal): Promise<number> {
    return (await this.#request<{ count: number }>(this.#url('reblogs/count', post), {}, signal)).count;
  }

  async reblogTargets(post: string, signal?: AbortSignal): Promise<ReblogTarget[]> {
    return (await this.#request<{ sites: ReblogTarget[] }>(this.#url('reblogs/targets', post), { credentials: 'include' }, signal)).sites;
  }

  reblog(request: ReblogRequest, signal?: AbortSignal): Promise<MadeReblog> {
    return this.#send('reblogs', request, signal);
  }

  async undoReblog({ site, id }: MadeReblog, signal?: AbortSignal): Promise<void> {
    await this.#send('reblogs/undo', { site, id }, signal);
  }

  /** A signed-in JSON POST. */
  #send<T>(path: string, body: object, signal?: AbortSignal): Promise<T> {
    const init = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), credentials: 'include' } as const;
    return this.#request<T>(this.#url(path), init, signal);
  }

  async #request<T>(url: URL, init: RequestInit, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeout);
    const forward = () => controller.abort(signal!.reason);
    signal?.addEventListener('abort', forward);
    try {
      let response: Response;
      let text: string;
      try {
        response = await this.#fetch(url, {
          ...init,
          headers: { Accept: 'application/json', ...init.headers },
          mode: 'cors',
          credentials: init.credentials ?? 'omit',
          signal: controller.signal,
        });
        text = await response.text();
      } catch {
        signal?.throwIfAborted();
        throw timedOut
          ? new BackendError(0, 'timeout', 'The server took too long to answer.')
          : new BackendError(0, 'network_error', 'The server could not be reached.');
      }
      let data: unknown = null;
      try {
        data = JSON.parse(text);
      } catch {
        // Not JSON (a proxy's error page, say): reported below by status.
      }
      if (response.ok && data !== null && typeof data === 'object') return data as T;
      const error = (data as Partial<ApiError> | null)?.error;
      throw new BackendError(
        response.ok ? 502 : response.status,
        error?.code ?? (response.ok ? 'invalid_response' : `http_${response.status}`),
        error?.message ?? `The server answered ${response.status} ${response.statusText}`.trim(),
        retryAfter(response.headers.get('Retry-After')),
      );
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    }
  }
}

/** Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date). */
function retryAfter(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

const shared = new Map<string, HttpBackend>();

/** One backend per server URL, shared by every element on the page that talks to it. */
export function httpBackendFor(server: string): HttpBackend {
  let backend = shared.get(server);
  if (!backend) shared.set(server, (backend = new HttpBackend(server)));
  return backend;
}
