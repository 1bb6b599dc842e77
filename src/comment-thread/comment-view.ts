/**
 * How one response looks, and how a page of them becomes nested threads. Template functions,
 * not an element: the comments live in `<comment-thread>`'s shadow root, so their parts are
 * the thread's parts. Everything from the server is bound as text or as a checked http(s) href.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { Comment } from '../data/api-types.js';
import type { OutboxRecord } from '../data/outbox.js';
import type { Localizer } from '../internal/i18n.js';
import { formatBody, safeHttpUrl } from '../internal/text.js';
import { absoluteTime, relativeTime } from '../internal/time.js';
import { avatar } from './avatar.js';
import type { Editor } from './editor.js';

/** A response placed in its thread. `queued` is the outbox record of the writer's copy not yet stored. */
export interface CommentNode {
  comment: Comment;
  queued: OutboxRecord | undefined;
  children: CommentNode[];
}

/** What the writer can do with a comment that could not be posted. */
export type QueuedAction = 'edit' | 'discard' | 'retry';

export interface ViewContext {
  l: Localizer;
  /** The time relative dates are measured from. */
  now: number;
  /** Id of the comment the page's URL points at, if any. */
  target: string | null;
  /** The page's URL without its fragment, for permalinks. */
  page: string;
  reply(comment: Comment): void;
  act(record: OutboxRecord, action: QueuedAction): void;
  /** Edit and Delete on the reader's own comments. */
  editor: Editor;
  /** A response's Like button (from `likes-row.ts`). */
  like?(comment: Comment): unknown;
  /** The comment server, which `author.picture` paths are on. */
  server?: string | null;
  /** A response's Report button or form (from `report.ts`). */
  report?(comment: Comment): unknown;
}

/**
 * Nests comments under their parents, in the order given (parents before their replies, as
 * the server sends them). A reply whose parent is not loaded is shown as a thread of its own.
 */
export function buildThreads(comments: Comment[], queued: ReadonlyMap<string, OutboxRecord>): CommentNode[] {
  const nodes = new Map<string, CommentNode>();
  const roots: CommentNode[] = [];
  for (const comment of comments) {
    if (nodes.has(comment.id)) continue;
    const node: CommentNode = { comment, queued: queued.get(comment.id), children: [] };
    nodes.set(comment.id, node);
    const parent = comment.parent === null ? undefined : nodes.get(comment.parent);
    (parent ? parent.children : roots).push(node);
  }
  return roots;
}

export function renderThreads(nodes: CommentNode[], ctx: ViewContext, nested = false): TemplateResult {
  // Threads the owner pinned come first, whatever the order or how many older pages were loaded.
  if (!nested) nodes = [...nodes.filter((n) => pinned(n.comment)), ...nodes.filter((n) => !pinned(n.comment))];
  // Plain map, not repeat(): nothing in a comment's DOM holds state worth keying (focus is
  // found again by id), and it keeps the bundle smaller.
  return html`<ol class=${nested ? 'children' : 'comments'}>
    ${nodes.map(
      (node) => html`<li>
        ${renderComment(node, ctx)} ${node.children.length ? renderThreads(node.children, ctx, true) : nothing}
      </li>`,
    )}
  </ol>`;
}

/** Pinned by the blog's owner (a field of the server's wire comment). */
const pinned = (comment: Comment): boolean => (comment as Comment & { pinned?: boolean }).pinned === true;

function renderComment({ comment, queued }: CommentNode, ctx: ViewContext): TemplateResult {
  const { l } = ctx;
  const { author } = comment;
  const website = safeHttpUrl(author.website);
  const name = html`<bdi part="comment-author" class="author" id="author-${comment.id}"
    >${website ? externalLink(website, author.name) : author.name}</bdi
  >`;
  const created = new Date(comment.created);
  const targeted = ctx.target === comment.id;
  const edited = comment.edited && !comment.deleted ? new Date(comment.edited) : null;
  const form = queued ? null : ctx.editor.form(comment, l);
  return html`<article
    id="comment-${comment.id}"
    part="comment"
    class="comment depth-${comment.depth} ${targeted ? 'target' : ''} ${queued ? (queued.state === 'failed' ? 'failed' : 'sending') : ''}"
    tabindex="-1"
    aria-labelledby="author-${comment.id}"
  >
    ${avatar(author.avatar, author.name, author.picture, ctx.server)}
    <header class="meta">
      ${comment.deleted ? nothing : html`<span class="says">${l.parts(l.messages.says, { name })}</span>`}
      ${queued || Number.isNaN(created.getTime())
        ? nothing
        : html`<a part="comment-date" class="date" href="${ctx.page}#comment-${comment.id}"
            ><time datetime=${created.toISOString()} title=${absoluteTime(created, l.lang)}
              >${relativeTime(created, l.lang, ctx.now)}</time
            ></a
          >`}
      ${edited ? html`<span class="date" title=${absoluteTime(edited, l.lang)}>${l.t('edited')}</span>` : nothing}
      ${pinned(comment) ? html`<span class="date pinned">${l.t('pinned')}</span>` : nothing}
    </header>
    ${form ??
    html`<div part="comment-body" class="body" dir="auto">
      ${comment.kind === 'reblog' && comment.reblog ? renderReblog(comment.reblog, l) : nothing}
      ${comment.deleted ? html`<p class="deleted">${l.t('deleted')}</p>` : renderBody(comment.body)}
    </div>`}
    ${queued
      ? renderQueued(queued, ctx)
      : html`<div class="actions">
          <button
            part="reply-button"
            class="reply"
            type="button"
            aria-describedby="author-${comment.id}"
            @click=${() => ctx.reply(comment)}
          >
            ${l.t('reply')}
          </button>
          ${ctx.like?.(comment)}
          ${comment.status === 'pending' ? html`<span class="status">${l.t('pending')}</span>` : nothing}
          ${ctx.editor.actions(comment, l, ctx.now)} ${ctx.report?.(comment)}
        </div>`}
  </article>`;
}

/** Where a comment in the outbox is: sending, waiting to be sent again, or refused (with what to do). */
function renderQueued(record: OutboxRecord, { l, act }: ViewContext): TemplateResult {
  const { state, lastError: error } = record;
  if (state !== 'failed') {
    return html`<p part="status" class="status" role="status">
      ${l.t(state === 'pending' && error ? 'waiting' : 'sending')}
    </p>`;
  }
  const reason = error?.code === 'expired' || !error ? l.t('expired') : error.message;
  return html`<p part="status" class="status error" role="status">${l.t('notPosted', { reason })}</p>
    <p class="actions">
      ${(['edit', 'discard', 'retry'] as const).map(
        (action) => html`<button type="button" @click=${() => act(record, action)}>${l.t(action)}</button>`,
      )}
    </p>`;
}

function renderReblog(reblog: NonNullable<Comment['reblog']>, l: Localizer): TemplateResult {
  const url = safeHttpUrl(reblog.url);
  const blog = html`<bdi>${url ? externalLink(url, reblog.blogName) : reblog.blogName}</bdi>`;
  return html`<p class="reblog">${l.parts(l.messages.rebloggedOn, { blog })}</p>`;
}

/** Paragraphs, line breaks and http(s) links, as elements; every character of text kept. */
export function renderBody(body: string): TemplateResult[] {
  // No whitespace inside <p>: the body keeps spaces as typed (white-space: pre-wrap).
  return formatBody(body).map(
    (paragraph) =>
      html`<p>${paragraph.map(
        (line, i) =>
          html`${i ? html`<br />` : nothing}${line.map(({ href, text }) => (href ? externalLink(href, text) : text))}`,
      )}</p>`,
  );
}

function externalLink(href: string, text: string): TemplateResult {
  return html`<a href=${href} rel="nofollow ugc noopener" target="_blank">${text}</a>`;
}
