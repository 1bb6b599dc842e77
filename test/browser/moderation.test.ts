/**
 * The composer's spam checks, against the real server: the hidden field a person never sees
 * (a comment with it filled in waits, shown to its writer alone), and the writing time measured
 * from focusing the composer to queueing the comment — not to sending it, so a comment written
 * offline and sent later is not taken for a hasty one.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { Comment, NewCommentRequest } from '../../src/data/api-types.js';
import { HttpBackend } from '../../src/data/http-backend.js';
import '../../src/index.js';
import type { CommentThreadElement } from '../../src/index.js';
import { $, bodies, ControlledBackend, heading, newPost, notice, server, until, writeComment } from './helpers.js';

/** Records what the widget sent, then lets the real server have it. */
class RecordingBackend extends ControlledBackend {
  sent: NewCommentRequest[] = [];
  override post(request: NewCommentRequest, key: string, signal?: AbortSignal): Promise<Comment> {
    this.sent.push(request);
    return super.post(request, key, signal);
  }
}

async function thread(post: string, backend: RecordingBackend): Promise<CommentThreadElement> {
  const element = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server} .backend=${backend}></comment-thread>`);
  await until(() => heading(element) !== '', 'loaded');
  return element;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('spam checks in the composer', () => {
  it('sends the time from focusing the composer to queueing, not to sending, and an empty hidden field', async () => {
    const backend = new RecordingBackend();
    backend.failPosts = 1; // offline at first
    const element = await thread(newPost(), backend);
    const before = Date.now();
    await writeComment(element, 'Written with care');
    await pause(120); // still writing
    const queuedAt = Date.now();
    $(element, '[part~="submit-button"]').click();
    await until(() => backend.sent.length === 1, 'a first attempt');
    await pause(300); // the comment waits in the outbox
    dispatchEvent(new Event('online'));
    await until(() => backend.sent.length === 2 && notice(element) === 'Your comment was posted.', 'sent later');
    const [first, second] = backend.sent as [NewCommentRequest, NewCommentRequest];
    expect(second.writingMs).to.equal(first.writingMs, 'measured once, when queued');
    expect(first.writingMs).to.be.at.least(120);
    expect(first.writingMs).to.be.at.most(queuedAt - before + 50);
    expect(first).not.to.have.property('honeypot');
  });

  it('keeps the hidden field out of reach: not in the tab order, hidden from assistive technology', async () => {
    const element = await thread(newPost(), new RecordingBackend());
    const trap = $<HTMLInputElement>(element, '[name=honeypot]');
    expect(trap.tabIndex).to.equal(-1);
    const hidden = trap.closest('[aria-hidden="true"]');
    expect(hidden).to.not.equal(null);
    expect(hidden!.getBoundingClientRect().width).to.be.at.most(1);
    await expect(element).to.be.accessible();
  });

  it('a comment with the hidden field filled in (as a bot does) waits: its writer sees "awaiting moderation", no one else sees it', async () => {
    const post = newPost();
    const backend = new RecordingBackend();
    const element = await thread(post, backend);
    await writeComment(element, 'Cheap pills');
    $<HTMLInputElement>(element, '[name=honeypot]').value = 'https://cheap.example';
    $(element, '[part~="submit-button"]').click();
    await until(() => notice(element) === 'Your comment is awaiting moderation.', 'held');
    expect(backend.sent[0]?.honeypot).to.equal('https://cheap.example');
    expect(bodies(element)).to.deep.equal(['Cheap pills']);
    const page = await new HttpBackend(server).list(post);
    expect(page.total).to.equal(0);
    expect(page.comments).to.deep.equal([]);
    await sendKeys({ press: 'Tab' }); // nothing breaks on the keyboard afterwards

    // After a reload its writer still sees it waiting (kept in this browser, not sent again).
    element.remove();
    const again = await thread(post, backend);
    await until(() => bodies(again).includes('Cheap pills'), 'still shown after a reload');
    expect($(again, '.comment .status').textContent?.trim()).to.equal('Your comment is awaiting moderation.');
    expect(backend.sent).to.have.length(1);
  });
});
