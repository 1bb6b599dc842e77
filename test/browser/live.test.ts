/**
 * Live updates: a comment posted, edited or deleted elsewhere reaches an open thread without a
 * reload.
 */
import { expect, fixture, html } from '@open-wc/testing';
import '../../src/index.js';
import type { Comment } from '../../src/data/api-types.js';
import type { CommentThreadElement } from '../../src/index.js';
import { $, $$, bodies, heading, newPost, seed, server, text, until, writeComment } from './helpers.js';

/** Every stream the widget opens. */
const sources: EventSource[] = [];
const NativeEventSource = EventSource;
window.EventSource = class extends NativeEventSource {
  constructor(url: string | URL, init?: EventSourceInit) {
    super(url, init);
    sources.push(this);
  }
};
const streamOpen = () =>
  until(() => sources.at(-1)?.readyState === NativeEventSource.OPEN, 'the live stream open');

/**
 * Run once a thread's page of comments has been read by the server and before the thread has
 * it (so before its stream opens): what happens then is in the gap between page and stream.
 */
let inGap: ((post: string) => Promise<void>) | null = null;
const nativeFetch = window.fetch.bind(window);
window.fetch = async (input, init) => {
  const res = await nativeFetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input), location.href);
  const post = url.pathname === '/api/v1/comments' ? url.searchParams.get('post') : null;
  const gap = inGap;
  if (post && gap) {
    inGap = null;
    await gap(post);
  }
  return res;
};

/** Another reader's comment, posted as a guest through the API; with its edit token. */
async function seedEditable(post: string, body: string, parent: string | null = null) {
  const token = crypto.randomUUID().replaceAll('-', ''); // 32 base64url characters, as a browser makes one
  const res = await fetch(`${server}/api/v1/comments`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
    body: JSON.stringify({ post, parent, author: { name: 'Carol', email: 'carol@example.org' }, body, editToken: token }),
  });
  if (res.status !== 201) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
  return { comment: (await res.json()) as Comment, token };
}

/** That reader edits (with a body) or deletes their comment through the API. */
async function change(target: { comment: Comment; token: string }, body?: string): Promise<void> {
  const action = body === undefined ? 'delete' : 'edit';
  const res = await fetch(`${server}/api/v1/comments/${target.comment.id}/${action}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ post: target.comment.post, editToken: target.token, ...(body === undefined ? {} : { body }) }),
  });
  if (res.status !== 200) throw new Error(`${action} failed: ${res.status} ${await res.text()}`);
}

function showButton(thread: CommentThreadElement): HTMLButtonElement | undefined {
  return $$<HTMLButtonElement>(thread, '.incoming button')[0];
}

describe('live updates', () => {
  it('offers "Show 1 new response" for a comment posted elsewhere, and shows it on request', async () => {
    const post = newPost('live');
    await seed(post, { body: 'first' });
    const thread = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
    await until(() => bodies(thread).length === 1, 'the first comment shown');
    await streamOpen();
    await seed(post, { name: 'Bob', body: 'posted while you read' });
    await until(() => showButton(thread), 'the new-response button', 10_000);
    expect(text(showButton(thread))).to.equal('Show 1 new response');
    expect(bodies(thread)).to.deep.equal(['first'], 'nothing jumps in by itself');
    await expect(thread).to.be.accessible();
    showButton(thread)!.click();
    await until(() => bodies(thread).length === 2, 'the new comment shown');
    expect(bodies(thread)).to.deep.equal(['first', 'posted while you read']);
    expect(heading(thread)).to.contain('2 Responses');
    expect(showButton(thread)).to.equal(undefined);
  });

  it('shows what was posted and edited between the first page and its stream opening, once, without a reload', async () => {
    const post = newPost('live-gap');
    const first = await seedEditable(post, 'as first written');
    const opened = sources.length;
    inGap = async () => {
      expect(sources.length).to.equal(opened, 'no stream open yet');
      await seed(post, { name: 'Bob', body: 'posted in the gap' });
      await change(first, 'edited in the gap');
    };
    const thread = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
    await until(() => bodies(thread)[0] === 'edited in the gap', 'the edit shown', 10_000);
    await until(() => showButton(thread), 'the new-response button', 10_000);
    expect(inGap).to.equal(null, 'the page was held');
    expect(text(showButton(thread))).to.equal('Show 1 new response');
    expect(bodies(thread)).to.deep.equal(['edited in the gap']);
    await expect(thread).to.be.accessible();
    showButton(thread)!.click();
    await until(() => bodies(thread).length === 2, 'the new comment shown');
    expect(bodies(thread)).to.deep.equal(['edited in the gap', 'posted in the gap']);
    expect(heading(thread)).to.contain('2 Responses');
    // Nothing comes twice: the live stream goes on, and a later comment is the only new one.
    await streamOpen();
    await seed(post, { name: 'Dan', body: 'later' });
    await until(() => showButton(thread), 'the next new-response button', 10_000);
    expect(text(showButton(thread))).to.equal('Show 1 new response');
    expect(bodies(thread)).to.deep.equal(['edited in the gap', 'posted in the gap']);
  });

  it('catches up a thread that joins an open stream with what its page missed', async () => {
    const site = newPost('live-join');
    const other = `${site}-other`;
    const thread = await fixture<CommentThreadElement>(html`<comment-thread post=${site} server=${server}></comment-thread>`);
    await streamOpen();
    const opened = sources.length;
    inGap = async () => {
      // The first thread's stream has it before the second thread joins.
      const streamed = new Promise((resolve) => sources.at(-1)!.addEventListener('comment', resolve, { once: true }));
      await seed(other, { name: 'Bob', body: 'posted while the second page was on its way' });
      await streamed;
    };
    const second = await fixture<CommentThreadElement>(html`<comment-thread post=${other} server=${server}></comment-thread>`);
    await until(() => showButton(second), 'the new-response button on the second thread', 10_000);
    expect(text(showButton(second))).to.equal('Show 1 new response');
    expect(sources.length).to.equal(opened, 'one stream for the site');
    expect(showButton(thread)).to.equal(undefined, 'not for the first thread');
  });

  it("does not announce the writer's own comment as new", async () => {
    const post = newPost('live-own');
    await seed(post, { body: 'first' });
    const thread = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
    await until(() => bodies(thread).length === 1, 'the first comment shown');
    await writeComment(thread, 'mine');
    $<HTMLButtonElement>(thread, '[part~="submit-button"]').click();
    await until(() => bodies(thread).includes('mine') && !text(thread.shadowRoot).includes('Sending'), 'posted');
    // Give the live event time to arrive; it must not offer the writer's own comment again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(showButton(thread)).to.equal(undefined);
    expect(bodies(thread).filter((b) => b === 'mine')).to.have.length(1);
  });

  it('shows a comment edited elsewhere with its new text, in place, without offering it as new', async () => {
    const post = newPost('live-edit');
    const first = await seedEditable(post, 'as first written');
    await seed(post, { body: 'second' });
    const thread = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
    await until(() => bodies(thread).length === 2, 'both comments shown');
    await streamOpen();
    await change(first, 'as corrected later');
    await until(() => bodies(thread)[0] === 'as corrected later', 'the edited text shown', 10_000);
    expect(bodies(thread)).to.deep.equal(['as corrected later', 'second']);
    expect(heading(thread)).to.contain('2 Responses');
    expect(showButton(thread)).to.equal(undefined);
    await expect(thread).to.be.accessible();
  });

  it('removes a comment deleted elsewhere, and keeps one with replies as "This comment was deleted."', async () => {
    const post = newPost('live-delete');
    const parent = await seedEditable(post, 'has a reply');
    await seed(post, { name: 'Bob', body: 'the reply', parent: parent.comment.id });
    const lonely = await seedEditable(post, 'alone');
    const thread = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
    await until(() => bodies(thread).length === 3, 'all three shown');
    await streamOpen();
    expect(heading(thread)).to.contain('3 Responses');

    await change(lonely);
    await until(() => !bodies(thread).includes('alone'), 'the deleted comment gone', 10_000);
    expect(bodies(thread)).to.deep.equal(['has a reply', 'the reply']);
    expect(heading(thread)).to.contain('2 Responses');

    await change(parent);
    await until(() => bodies(thread)[0] === 'This comment was deleted.', 'the emptied comment shown', 10_000);
    expect(bodies(thread)).to.deep.equal(['This comment was deleted.', 'the reply']);
    expect(text(thread.shadowRoot)).not.to.contain('has a reply');
    expect(showButton(thread)).to.equal(undefined);
    await expect(thread).to.be.accessible();
  });
});
