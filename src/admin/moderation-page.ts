/**
 * `<blogtalk-moderation>`: the site owners' moderation page, served by the comment server at
 * `/admin` as its own small bundle (`dist/admin.js`, never part of `blogtalk.js`). It talks
 * only to `/api/v1/admin/…` on its own origin, sending the session's CSRF token with every
 * change. English only for now.
 */
import { html, css, LitElement, nothing, type TemplateResult } from 'lit';
import type { Comment, CommentStatus } from '../data/api-types.js';
import { define } from '../internal/define.js';
import '../login-picker/login-picker.js';
import './notification-settings.js';

type Filter = CommentStatus | 'all' | 'reported';
type Action = 'approve' | 'reject' | 'spam' | 'delete' | 'dismiss';
/** A queue item: a comment, with its readers' reports when it has any. */
type QueuedComment = Comment & { reports?: { count: number; reasons: { reason: string; created: string }[] } };
type Policy = 'publish' | 'hold-first-time' | 'hold-all';
interface Settings {
  policy: Policy | null;
  maxLinks: number | null;
  closed: boolean;
}
interface OwnedSite {
  id: string;
  name: string;
  origin: string;
}
interface AdminSession {
  user: { name: string } | null;
  sites: OwnedSite[];
  csrfToken?: string;
}

const API = '/api/v1/admin';
const actionLabels: Record<Action, string> = {
  approve: 'Approve',
  spam: 'Spam',
  reject: 'Reject',
  delete: 'Delete',
  dismiss: 'Dismiss reports',
};
const done: Record<Action, string> = {
  approve: 'Approved',
  spam: 'Marked as spam:',
  reject: 'Rejected',
  delete: 'Deleted',
  dismiss: 'Dismissed the reports of',
};
const policyLabels: Record<Policy, string> = {
  publish: 'Publish at once',
  'hold-first-time': 'Hold first-time authors',
  'hold-all': 'Hold every comment',
};
const statusLabels: Record<Filter, string> = { pending: 'Pending', published: 'Published', spam: 'Spam', all: 'All', reported: 'Reported' };

/**
 * @summary The moderation queue of the sites the signed-in owner owns.
 * @tagname blogtalk-moderation
 */
export class ModerationPageElement extends LitElement {
  static override styles = css`
    :host { display: block; font: 16px/1.5 system-ui, sans-serif; max-width: 72rem; margin: 0 auto; padding: 1rem; color: #1d2327; }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: start; vertical-align: top; padding: .5rem; border-bottom: 1px solid #c3c4c7; }
    td.body { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 30rem; }
    form, .bar { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: .75rem 0; }
    label { display: flex; flex-direction: column; font-size: .875rem; }
    input, select, button { font: inherit; }
    button { padding: .25rem .75rem; border: 1px solid #2271b1; border-radius: 4px; background: #fff; color: #135e96; cursor: pointer; }
    button[aria-disabled='true'] { opacity: .6; cursor: default; }
    :focus-visible { outline: 2px solid #2271b1; outline-offset: 2px; }
    .error { color: #b32d2e; }
    .muted { color: #50575e; font-size: .875rem; }
    .reports { margin: .5rem 0 0; padding: .25rem .5rem; border-inline-start: 3px solid #b32d2e; white-space: normal; }
    .reports ul { margin: .25rem 0 0; padding-inline-start: 1.25rem; }
    .badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; background: #b32d2e; color: #fff; font-size: .875rem; }
  `;

  static override properties = {
    _session: { state: true },
    _site: { state: true },
    _comments: { state: true },
    _next: { state: true },
    _selected: { state: true },
    _filter: { state: true },
    _settings: { state: true },
    _post: { state: true },
    _message: { state: true },
    _error: { state: true },
  };

  private _session: AdminSession | null = null;
  private _site: OwnedSite | null = null;
  private _comments: QueuedComment[] = [];
  private _next: number | null = null;
  private _selected = new Set<string>();
  private _filter: { status: Filter; q: string; post: string } = { status: 'pending', q: '', post: '' };
  private _settings: Settings | null = null;
  /** The filtered post's own settings, when a post is filtered on. */
  private _post: Settings | null = null;
  private _message = '';
  private _error = '';

  #onHashChange = () => void this.#start();

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('hashchange', this.#onHashChange);
    void this.#start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('hashchange', this.#onHashChange);
  }

  async #start(): Promise<void> {
    this._error = '';
    try {
      this._session = await this.#get<AdminSession>('/session');
      // `?site=<id>` picks one of the owner's blogs; the first is the default.
      let wanted = new URLSearchParams(location.search).get('site');
      // An owner setup link (`npm run cli -- owner-link <site>`) opened here while signed in.
      const setup = /^#blogtalk-owner-setup=([A-Za-z0-9_-]{16,128})$/.exec(location.hash)?.[1];
      if (setup && this._session.user) {
        history.replaceState(null, '', location.pathname + location.search);
        const res = await fetch('/api/v1/auth/owner-setup', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ code: setup }),
        });
        const site = await this.#answer<{ site: string }>(res);
        this._message = `You are now an owner of ${site.site}.`;
        this._session = await this.#get<AdminSession>('/session');
        wanted = site.site;
      }
      const { sites } = this._session;
      this._site = (wanted ? sites.find((s) => s.id === wanted) : sites[0]) ?? null;
      if (this._site) await Promise.all([this.#load(), this.#loadSettings()]);
    } catch (error) {
      this._error = (error as Error).message;
    }
  }

  async #get<T>(path: string): Promise<T> {
    return this.#answer<T>(await fetch(API + path, { credentials: 'same-origin', headers: { accept: 'application/json' } }));
  }

  async #post<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(API + path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': this._session?.csrfToken ?? '' },
      body: JSON.stringify(body),
    });
    return this.#answer<T>(res);
  }

  async #answer<T>(res: Response): Promise<T> {
    const body = (await res.json().catch(() => null)) as (T & { error?: { message: string } }) | null;
    if (!res.ok || !body) throw new Error(body?.error?.message ?? `The server answered ${res.status}.`);
    return body;
  }

  #query(before: number | null): string {
    const { status, q, post } = this._filter;
    const params = new URLSearchParams({ site: this._site!.id, status });
    if (q) params.set('q', q);
    if (post) params.set('post', post);
    if (before !== null) params.set('before', String(before));
    return params.toString();
  }

  async #load(more = false): Promise<void> {
    try {
      const page = await this.#get<{ comments: QueuedComment[]; next: number | null }>(`/comments?${this.#query(more ? this._next : null)}`);
      this._comments = more ? [...this._comments, ...page.comments] : page.comments;
      this._next = page.next;
      if (!more) this._selected = new Set();
      this._error = '';
    } catch (error) {
      this._error = (error as Error).message;
    }
  }

  async #loadSettings(): Promise<void> {
    const post = this._filter.post;
    const answer = await this.#get<{ site: Settings; post?: Settings }>(
      `/settings?${new URLSearchParams({ site: this._site!.id, ...(post ? { post } : {}) })}`,
    );
    this._settings = answer.site;
    this._post = answer.post ?? null;
  }

  async #act(action: Action, ids: string[]): Promise<void> {
    if (!ids.length) return;
    try {
      const { results } = await this.#post<{ results: { id: string; ok: boolean }[] }>('/comments/actions', {
        site: this._site!.id,
        action,
        ids,
      });
      const count = results.filter((r) => r.ok).length;
      this._message = `${done[action]} ${count === 1 ? '1 comment' : `${count} comments`}.`;
      await this.#load();
    } catch (error) {
      this._error = (error as Error).message;
    }
  }

  async #saveSettings(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const links = String(form.get('maxLinks') ?? '').trim();
    try {
      this._settings = await this.#post<Settings>('/settings', {
        site: this._site!.id,
        policy: form.get('policy') as Policy,
        maxLinks: links === '' ? null : Number(links),
      });
      this._message = 'Settings saved.';
    } catch (error) {
      this._error = (error as Error).message;
    }
  }

  async #setClosed(closed: boolean): Promise<void> {
    try {
      this._post = await this.#post<Settings>('/settings', { site: this._site!.id, post: this._filter.post, closed });
      this._message = closed ? 'Comments on this post are closed.' : 'Comments on this post are open.';
    } catch (error) {
      this._error = (error as Error).message;
    }
  }

  async #applyFilter(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    this._filter = {
      status: form.get('status') as Filter,
      q: String(form.get('q') ?? '').trim(),
      post: String(form.get('post') ?? '').trim(),
    };
    await Promise.all([this.#load(), this.#loadSettings().catch(() => {})]);
  }

  #toggle(id: string, on: boolean): void {
    const next = new Set(this._selected);
    if (on) next.add(id);
    else next.delete(id);
    this._selected = next;
  }

  protected override render(): TemplateResult {
    const status = html`<p role="status" class=${this._error ? 'error' : ''}>${this._error || this._message}</p>`;
    if (!this._session) return html`<h1>Moderation</h1>${status}`;
    if (!this._session.user) return this.#renderSignIn(status);
    if (!this._site) {
      return html`<h1>Moderation</h1>
        <p>You are signed in as ${this._session.user.name}. You are not an owner of this site.</p>
        ${this.#renderBlogs()} ${status}`;
    }
    return html`<h1>Moderation: ${this._site.name}</h1>
      <p class="muted">Signed in as ${this._session.user.name}.</p>
      ${this.#renderBlogs()} ${status} ${this.#renderSettings()} <blogtalk-notification-settings .site=${this._site.id} .csrf=${this._session.csrfToken ?? ''}></blogtalk-notification-settings> ${this.#renderFilter()} ${this.#renderQueue()}`;
  }

  /** The owner's blogs to switch between (a plain GET form: `?site=<id>`), when there is a choice. */
  #renderBlogs(): TemplateResult | string {
    const sites = this._session?.sites ?? [];
    if (sites.length < (this._site ? 2 : 1)) return '';
    return html`<form method="get" class="blogs">
      <label
        >Blog
        <select name="site">
          ${sites.map((s) => html`<option value=${s.id} ?selected=${s.id === this._site?.id}>${s.name}</option>`)}
        </select></label
      >
      <button type="submit">Show</button>
    </form>`;
  }

  #renderSignIn(status: TemplateResult): TemplateResult {
    const blog = new URLSearchParams(location.search).get('blog');
    return html`<h1>Moderation</h1>
      <p>Sign in with the account that owns the blog to moderate its comments.</p>
      ${blog
        ? html`<login-picker .server=${location.origin} .post=${blog} @login=${() => void this.#start()}></login-picker>`
        : html`<form method="get">
            <label>Your blog's address <input name="blog" type="url" required placeholder="https://blog.example.org/" /></label>
            <button type="submit">Continue</button>
          </form>`}
      ${status}`;
  }

  #renderSettings(): TemplateResult {
    const settings = this._settings;
    if (!settings) return html``;
    return html`<section aria-labelledby="settings-title">
      <h2 id="settings-title">New comments on this site</h2>
      <form @submit=${(event: SubmitEvent) => void this.#saveSettings(event)}>
        <label
          >Policy
          <select name="policy">
            ${(Object.keys(policyLabels) as Policy[]).map(
              (policy) =>
                html`<option value=${policy} ?selected=${(settings.policy ?? 'publish') === policy}>${policyLabels[policy]}</option>`,
            )}
          </select>
        </label>
        <label
          >Hold comments with more links than
          <input name="maxLinks" type="number" min="0" max="1000" .value=${settings.maxLinks === null ? '' : String(settings.maxLinks)} placeholder="2" />
        </label>
        <button type="submit">Save settings</button>
      </form>
    </section>`;
  }

  #renderFilter(): TemplateResult {
    const f = this._filter;
    return html`<h2>Comments</h2>
      <form role="search" @submit=${(event: SubmitEvent) => void this.#applyFilter(event)}>
        <label
          >Status
          <select name="status">
            ${(Object.keys(statusLabels) as Filter[]).map(
              (s) => html`<option value=${s} ?selected=${f.status === s}>${statusLabels[s]}</option>`,
            )}
          </select>
        </label>
        <label>Search <input name="q" type="search" .value=${f.q} /></label>
        <label>Post address <input name="post" type="url" .value=${f.post} /></label>
        <button type="submit">Filter</button>
      </form>
      ${f.post && this._post
        ? html`<p class="bar">
            ${this._post.closed ? 'Comments on this post are closed.' : 'Comments on this post are open.'}
            <button type="button" @click=${() => void this.#setClosed(!this._post!.closed)}>
              ${this._post.closed ? 'Open comments on this post' : 'Close comments on this post'}
            </button>
          </p>`
        : nothing}`;
  }

  #renderQueue(): TemplateResult {
    const comments = this._comments;
    if (!comments.length) return html`<p>No comments here.</p>`;
    const selected = [...this._selected];
    const all = selected.length === comments.length;
    return html`<div class="bar" role="group" aria-label="With the selected comments">
        ${(Object.keys(actionLabels) as Action[]).map(
          (action) => html`<button
            type="button"
            aria-disabled=${selected.length ? 'false' : 'true'}
            @click=${() => void this.#act(action, selected)}
          >
            ${actionLabels[action]} selected
          </button>`,
        )}
        <span class="muted">${selected.length} selected</span>
      </div>
      <table>
        <thead>
          <tr>
            <th scope="col">
              <input
                type="checkbox"
                aria-label="Select all"
                .checked=${all}
                @change=${(event: Event) =>
                  (this._selected = new Set((event.target as HTMLInputElement).checked ? comments.map((c) => c.id) : []))}
              />
            </th>
            <th scope="col">Author</th>
            <th scope="col">Comment</th>
            <th scope="col">Post</th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          ${comments.map((c) => this.#renderRow(c))}
        </tbody>
      </table>
      ${this._next === null ? nothing : html`<p><button type="button" @click=${() => void this.#load(true)}>Older comments</button></p>`}`;
  }

  #renderRow(c: QueuedComment): TemplateResult {
    const label = `comment by ${c.author.name}`;
    const reports = c.reports;
    return html`<tr>
      <td>
        <input
          type="checkbox"
          aria-label="Select ${label}"
          .checked=${this._selected.has(c.id)}
          @change=${(event: Event) => this.#toggle(c.id, (event.target as HTMLInputElement).checked)}
        />
      </td>
      <td>${c.author.name}<br /><span class="muted">${new Date(c.created).toLocaleString()}</span></td>
      <td class="body">${c.body}${reports
          ? html`<div class="reports">
              <span class="badge">${reports.count === 1 ? '1 report' : `${reports.count} reports`}</span>
              ${reports.reasons.length
                ? html`<ul aria-label="Reasons given">
                    ${reports.reasons.map((r) => html`<li>${r.reason}</li>`)}
                  </ul>`
                : nothing}
            </div>`
          : nothing}</td>
      <td><a href=${/^https?:/.test(c.post) ? c.post : '#'}>${new URL(c.post).pathname}</a></td>
      <td>${statusLabels[c.status]}</td>
      <td>
        ${(Object.keys(actionLabels) as Action[])
          .filter(
            (action) =>
              !(action === 'approve' && c.status === 'published') &&
              !(action === 'spam' && c.status === 'spam') &&
              !(action === 'dismiss' && !reports),
          )
          .map(
            (action) =>
              html`<button type="button" aria-label="${actionLabels[action]} ${label}" @click=${() => void this.#act(action, [c.id])}>
                ${actionLabels[action]}
              </button> `,
          )}
      </td>
    </tr>`;
  }
}

define('blogtalk-moderation', ModerationPageElement);
