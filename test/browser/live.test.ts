/** Live updates: a comment posted elsewhere reaches an open thread without a reload. */
import { expect, fixture, html } from '@open-wc/testing';
import '../../src/index.js';
import type { CommentThreadElement } from '../../src/index.js';
import { $, $$, bodies, heading, newPost, seed, server, text, until, writeComment } from './helpers.js';

function showButton(thread: CommentThreadElement): HTMLButtonElement | undefined {
  return $$<HTMLButtonElement>(thread, '.incoming button')[0];
}

describe('live updates', () => {
  it('offers "Show 1 new response" for a comment posted elsewhere, and shows it on request', async () => {
    const post = newPost('live');
    await seed(post, { body: 'first' });
    const thread = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
    await until(() => bodies(thread).length === 1, 'the first comment shown');
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
});
