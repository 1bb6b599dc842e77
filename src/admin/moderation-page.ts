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
type QueuedComment = Comment & {
  reports?: { count: number; reasons: { reason: string; created: string }[] };
  /** The writer's address, while the site keeps it (owners only). */
  ip?: string;
  pinned?: boolean;
  author: Comment['author'] & { user?: string };
};
type BlockKind = 'user' | 'email' | 'address';
interface Block {
  kind: BlockKind;
  value: string;
  label: string | null;
  created: string;
}
interface SpamSettings {
  ipRetentionDays: number;
  akismet: { enabled: boolean; keyHint: string | null; blog: string | null };
}
/** A change waiting for the owner to confirm it. */
interface Confirmation {
  question: string;
  button: string;
  run: () => Promise<void>;
}
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
const blockLabels: Record<BlockKind, string> = { user: 'Account', email: 'Email', address: 'Address' };
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
    .confirm { padding: .5rem; border: 2px solid #b32d2e; border-radius: 4px; }
    textarea { font: inherit; width: 100%; min-height: 5rem; }
    details { margin: .75rem 0; }
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
    _blocks: { state: true },
    _spam: { state: true },
    _editing: { state: true },
    _confirm: { state: true },
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
  private _blocks: Block[] = [];
  private _spam: SpamSettings | null = null;
  /** The comment whose text is being edited. */
  private _editing: string | null = null;
  private _confirm: Confirmation | null = null;

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
      if (this._site) await Promise.all([this.#load(), this.#loadSettings(), this.#loadTools()]);
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

  async #loadTools(): Promise<void> {
    const site = encodeURIComponent(this._site!.id);
    const [blocks, spam] = await Promise.all([
      this.#get<{ blocks: Block[] }>(`/blocks?site=${site}`),
      this.#get<SpamSettings>(`/spam-settings?site=${site}`),
    ]);
    this._blocks = blocks.blocks;
    this._spam = spam;
  }

  /** Runs one change, then says `done` (or the server's reason) in the status line. */
  async #change(work: () => Promise<unknown>, done: string, reload = true): Promise<void> {
    this._confirm = null;
    try {
      await work();
      this._message = done;
      this._error = '';
      if (reload) await Promise.all([this.#load(), this.#loadTools()]);
    } catch (error) {
      this._error = (error as Error).message;
    }
  }

  /** Asks before a change that is hard to undo; the question takes the focus. */
  async #ask(confirmation: Confirmation): Promise<void> {
    this._confirm = confirmation;
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLButtonElement>('.confirm button')?.focus();
  }

  #block(kind: BlockKind, c: QueuedComment): void {
    const what = kind === 'user' ? `the account of ${c.author.name}` : kind === 'email' ? `the email address of ${c.author.name}` : `the address ${c.ip}`;
    void this.#ask({
      question: `Block ${what}? New comments from it will be refused.`,
      button: 'Block',
      run: () => this.#change(() => this.#post('/blocks', { site: this._site!.id, kind, comment: c.id }), `Blocked ${what}.`),
    });
  }

  async #blockTyped(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const kind = data.get('kind') as BlockKind;
    const value = String(data.get('value') ?? '').trim();
    if (!value) return;
    await this.#change(() => this.#post('/blocks', { site: this._site!.id, kind, value }), `Blocked ${value}.`);
    if (!this._error) form.reset();
  }

  async #saveSpam(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const days = String(data.get('days') ?? '').trim();
    const key = String(data.get('akismetKey') ?? '').trim();
    const blog = String(data.get('akismetBlog') ?? '').trim();
    await this.#change(async () => {
      this._spam = await this.#post<SpamSettings>('/spam-settings', {
        site: this._site!.id,
        ipRetentionDays: days === '' ? null : Number(days),
        ...(key ? { akismetKey: key } : {}),
        akismetBlog: blog || null,
      });
    }, 'Spam and privacy settings saved.', false);
  }

  async #saveEdit(event: SubmitEvent, c: QueuedComment): Promise<void> {
    event.preventDefault();
    const body = String(new FormData(event.target as HTMLFormElement).get('body') ?? '');
    await this.#change(() => this.#post('/comments/edit', { site: this._site!.id, id: c.id, body }), `Saved the comment by ${c.author.name}.`);
    if (!this._error) this._editing = null;
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
      ${this.#renderBlogs()} ${status} ${this.#renderConfirm()} ${this.#renderSettings()}
      <blogtalk-notification-settings .site=${this._site.id} .csrf=${this._session.csrfToken ?? ''}></blogtalk-notification-settings>
      ${this.#renderTools()} ${this.#renderFilter()}
      ${this.#renderQueue()}`;
  }

  #renderConfirm(): TemplateResult | typeof nothing {
    const ask = this._confirm;
    if (!ask) return nothing;
    return html`<p class="confirm bar" role="group" aria-label="Confirm">
      ${ask.question}
      <button type="button" @click=${() => void ask.run()}>${ask.button}</button>
      <button type="button" @click=${() => (this._confirm = null)}>Cancel</button>
    </p>`;
  }

  /** Blocks, and how long addresses are kept and Akismet (collapsed: set once, rarely changed). */
  #renderTools(): TemplateResult {
    const spam = this._spam;
    return html`<details>
        <summary>Blocked authors, emails and addresses (${this._blocks.length})</summary>
        ${this._blocks.length
          ? html`<ul aria-label="Blocks">
              ${this._blocks.map(
                (b) => html`<li>
                  ${blockLabels[b.kind]}: ${b.kind === 'user' ? (b.label ?? 'an account') : b.value}${b.label && b.kind !== 'user'
                    ? html` <span class="muted">(${b.label})</span>`
                    : nothing}
                  <button
                    type="button"
                    aria-label="Unblock ${b.kind === 'user' ? (b.label ?? 'account') : b.value}"
                    @click=${() =>
                      void this.#change(
                        () => this.#post('/blocks/remove', { site: this._site!.id, kind: b.kind, value: b.value }),
                        `Unblocked ${b.kind === 'user' ? (b.label ?? 'the account') : b.value}.`,
                      )}
                  >
                    Unblock
                  </button>
                </li>`,
              )}
            </ul>`
          : html`<p>Nobody is blocked.</p>`}
        <form @submit=${(event: SubmitEvent) => void this.#blockTyped(event)}>
          <label
            >Block
            <select name="kind">
              <option value="email">Email</option>
              <option value="address">Address or network</option>
            </select></label
          >
          <label>Email, address or network <input name="value" required maxlength="254" placeholder="203.0.113.0/24" /></label>
          <button type="submit">Add block</button>
        </form>
      </details>
      ${spam
        ? html`<details>
            <summary>Spam check and privacy</summary>
            <form @submit=${(event: SubmitEvent) => void this.#saveSpam(event)}>
              <label
                >Keep commenters' addresses for (days)
                <input name="days" type="number" min="0" max="3650" .value=${String(spam.ipRetentionDays)} />
              </label>
              <label
                >Akismet API key
                <input
                  name="akismetKey"
                  type="password"
                  autocomplete="off"
                  placeholder=${spam.akismet.keyHint ? `set (${spam.akismet.keyHint})` : 'not set'}
                />
              </label>
              <label>Akismet blog URL <input name="akismetBlog" type="url" .value=${spam.akismet.blog ?? `${this._site!.origin}/`} /></label>
              <button type="submit">Save spam and privacy settings</button>
            </form>
            <p class="muted">
              Akismet is ${spam.akismet.enabled ? 'on' : 'off'}. 0 days keeps no addresses.
              ${spam.akismet.enabled
                ? html`<button
                    type="button"
                    @click=${() =>
                      void this.#change(async () => {
                        this._spam = await this.#post<SpamSettings>('/spam-settings', { site: this._site!.id, akismetKey: null });
                      }, 'Akismet is off.', false)}
                  >
                    Turn Akismet off
                  </button>`
                : nothing}
            </p>
          </details>`
        : nothing}`;
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
      <td>
        ${c.author.name}<br /><span class="muted">${new Date(c.created).toLocaleString()}</span>
        ${c.ip ? html`<br /><span class="muted">Address: ${c.ip}</span>` : nothing}
      </td>
      <td class="body">${this._editing === c.id
          ? html`<form @submit=${(event: SubmitEvent) => void this.#saveEdit(event, c)}>
              <label>Edit the text of the ${label} <textarea name="body" required .value=${c.body}></textarea></label>
              <button type="submit">Save</button>
              <button type="button" @click=${() => (this._editing = null)}>Cancel</button>
            </form>`
          : c.body}${c.pinned ? html`<div class="muted">Pinned</div>` : nothing}${reports
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
        ${c.deleted
          ? nothing
          : html`<button type="button" aria-label="Edit ${label}" @click=${() => (this._editing = c.id)}>Edit</button>
              ${c.parent === null && c.status === 'published'
                ? html`<button
                    type="button"
                    aria-label="${c.pinned ? 'Unpin' : 'Pin'} ${label}"
                    @click=${() =>
                      void this.#change(
                        () => this.#post('/comments/pin', { site: this._site!.id, id: c.id, pinned: !c.pinned }),
                        `${c.pinned ? 'Unpinned' : 'Pinned'} the ${label}.`,
                      )}
                  >
                    ${c.pinned ? 'Unpin' : 'Pin'}
                  </button>`
                : nothing}
              ${c.author.user
                ? html`<button type="button" aria-label="Block account of ${c.author.name}" @click=${() => this.#block('user', c)}>Block account</button>`
                : html`<button type="button" aria-label="Block email of ${c.author.name}" @click=${() => this.#block('email', c)}>Block email</button>`}
              ${c.ip
                ? html`<button type="button" aria-label="Block address of ${c.author.name}" @click=${() => this.#block('address', c)}>Block address</button>`
                : nothing}`}
      </td>
    </tr>`;
  }
}

define('blogtalk-moderation', ModerationPageElement);
