/**
 * Editing and deleting one's own comments in `<comment-thread>`: the real server on loopback,
 * the browser's real IndexedDB holding a guest's edit tokens, driven with the keyboard and the
 * mouse as a person would.
 */
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import { clear, createStore, keys } from 'idb-keyval';
import type { CommentPage } from '../../src/data/api-types.js';
import { HttpBackend } from '../../src/data/http-backend.js';
import { createOutbox, idbStore, type Outbox } from '../../src/data/outbox.js';
import '../../src/index.js';
import type { CommentThreadElement } from '../../src/index.js';
import {
  $,
  $$,
  bodies,
  Clock,
  deepActiveElement,
  heading,
  newPost,
  proxy,
  seed,
  server,
  text,
  textarea,
  typeInto,
  until,
  writeComment,
} from './helpers.js';

const tokens = createStore('blogtalk-edit', 'tokens');
const WINDOW_CLOSED = 'Comments can be changed only within 15 minutes of posting.';

const list = (post: string): Promise<CommentPage> => new HttpBackend(server).list(post);
const shiftServerClock = (ms: number) => executeServerCommand('blogtalk-clock', { shift: ms });
const fault = (payload: object) => executeServerCommand('blogtalk-fault', payload);

async function open(post: string): Promise<CommentThreadElement> {
  const element = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
  await until(() => heading(element) !== '', 'the thread is loaded');
  return element;
}

/** The article of the comment whose body includes `body`. */
function article(element: CommentThreadElement, body: string): HTMLElement {
  const found = $$(element, '[part~="comment"]').find((a) => text(a.querySelector('[part~="comment-body"]')).includes(body));
  if (!found) throw new Error(`no comment says ${body}`);
  return found;
}

function button(scope: ParentNode, name: string): HTMLButtonElement | undefined {
  return [...scope.querySelectorAll('button')].find((b) => text(b) === name);
}

/** Writes and posts a guest comment; resolves once the server's copy shows with its buttons. */
async function post(element: CommentThreadElement, body: string): Promise<HTMLElement> {
  await writeComment(element, body);
  const posted = oneEvent(element, 'comment-posted');
  $(element, '[part~="submit-button"]').click();
  await posted;
  await until(() => button(article(element, body), 'Edit'), 'Edit is offered on the comment just posted');
  return article(element, body);
}

/** Selects everything in the focused field and types over it. */
async function retype(value: string): Promise<void> {
  await sendKeys({ down: 'Control' });
  await sendKeys({ press: 'a' });
  await sendKeys({ up: 'Control' });
  await sendKeys({ type: value });
}

describe('editing and deleting own comments', function () {
  this.timeout(20_000);

  beforeEach(() => clear(tokens));
  afterEach(async () => {
    await shiftServerClock(0);
    await clear(tokens);
  });

  it('lets a guest edit their comment (Edit, Save) and still shows it edited, with Edit, in a new element', async () => {
    const where = newPost('edit');
    const element = await open(where);
    const mine = await post(element, 'Teh first words');
    const edit = button(mine, 'Edit')!;
    edit.focus();
    await sendKeys({ press: 'Enter' });
    const field = $<HTMLTextAreaElement>(element, '.edit-form textarea');
    expect(deepActiveElement()).to.equal(field);
    expect(text(element.shadowRoot!.querySelector(`label[for="${field.id}"]`))).to.equal('Edit your comment');
    expect(field.value).to.equal('Teh first words');
    await expect(element).to.be.accessible();

    await retype('The first words');
    button($(element, '.edit-form'), 'Save')!.click();
    await until(() => bodies(element).includes('The first words'), 'the edited text replaces the old one');
    const edited = article(element, 'The first words');
    const marker = [...edited.querySelectorAll('header span')].find((s) => text(s) === '(edited)');
    expect(marker, 'an (edited) marker').to.exist;
    expect(marker!.getAttribute('title')).to.match(/\d/);
    expect(deepActiveElement()).to.equal(button(edited, 'Edit'));
    expect((await list(where)).comments.map((c) => c.body)).to.deep.equal(['The first words']);

    element.remove();
    const again = await open(where);
    const reloaded = article(again, 'The first words');
    expect([...reloaded.querySelectorAll('header span')].some((s) => text(s) === '(edited)')).to.be.true;
    await until(() => button(reloaded, 'Edit'), 'the token kept in IndexedDB still offers Edit');
  });

  it('Escape leaves the edit unchanged and puts focus back on Edit', async () => {
    const element = await open(newPost('escape'));
    const mine = await post(element, 'Keep me');
    button(mine, 'Edit')!.click();
    await until(() => element.shadowRoot!.querySelector('.edit-form'), 'the edit form');
    await sendKeys({ type: ' and more' });
    await sendKeys({ press: 'Escape' });
    await until(() => !element.shadowRoot!.querySelector('.edit-form'), 'the form is gone');
    expect(bodies(element)).to.deep.equal(['Keep me']);
    expect(deepActiveElement()).to.equal(button(article(element, 'Keep me'), 'Edit'));
  });

  it('offers nothing on comments this browser holds no token for, and the server refuses a forged one', async () => {
    const where = newPost('other');
    const theirs = await seed(where, { body: 'Another reader wrote this' });
    const element = await open(where);
    await post(element, 'Mine for now');
    expect(button(article(element, 'Another reader wrote this'), 'Edit')).to.be.undefined;
    await until(async () => (await keys(tokens)).length === 1, 'the token is kept in IndexedDB');

    element.remove();
    // Another browser profile: no tokens, and no outbox either (a record the first page has not
    // cleared yet would hand its token back).
    await Promise.all([clear(tokens), clear(createStore('blogtalk', 'outbox'))]);
    const elsewhere = await open(where);
    await until(() => bodies(elsewhere).length === 2, 'both comments');
    expect($$(elsewhere, 'button').filter((b) => ['Edit', 'Delete'].includes(text(b)))).to.have.length(0);

    const forged = await fetch(`${server}/api/v1/comments/${theirs.id}/edit`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ post: where, body: 'Forged', editToken: 'f'.repeat(32) }),
    });
    expect(forged.status).to.equal(403);
    expect((await list(where)).comments.map((c) => c.body)).to.include('Another reader wrote this');
  });

  it('asks inline before deleting; a comment with replies becomes "This comment was deleted." and the replies stay', async () => {
    const where = newPost('delete');
    const element = await open(where);
    const mine = await post(element, 'Regrettable');
    const id = mine.id.replace(/^comment-/, '');
    await seed(where, { body: 'A reply to it', parent: id, name: 'Carol' });
    element.remove();
    const thread = await open(where);
    await until(() => button(article(thread, 'Regrettable'), 'Delete'), 'Delete on my comment');

    button(article(thread, 'Regrettable'), 'Delete')!.click();
    await until(() => thread.shadowRoot!.querySelector('[role="group"]'), 'the inline question');
    const group = $(thread, '[role="group"]');
    expect(text(thread.shadowRoot!.getElementById(group.getAttribute('aria-labelledby')!))).to.equal('Delete this comment?');
    expect(deepActiveElement()).to.equal(button(group, 'Cancel'));
    await expect(thread).to.be.accessible();
    await sendKeys({ press: 'Escape' });
    await until(() => !thread.shadowRoot!.querySelector('[role="group"]'), 'the question is gone');
    expect(deepActiveElement()).to.equal(button(article(thread, 'Regrettable'), 'Delete'));

    button(article(thread, 'Regrettable'), 'Delete')!.click();
    await until(() => thread.shadowRoot!.querySelector('[role="group"]'), 'the inline question again');
    button($(thread, '[role="group"]'), 'Delete')!.click();
    await until(() => bodies(thread).includes('This comment was deleted.'), 'the emptied comment');
    expect(bodies(thread)).to.deep.equal(['This comment was deleted.', 'A reply to it']);
    // The live stream may show the emptied comment a moment before the answer to the click
    // closes the question; then nothing is left to edit or delete.
    await until(() => !$$(thread, 'button').some((b) => ['Edit', 'Delete'].includes(text(b))), 'no Edit or Delete left');
    const stored = (await list(where)).comments;
    expect(stored.map((c) => [c.body, c.deleted ?? false])).to.deep.equal([
      ['This comment was deleted.', true],
      ['A reply to it', false],
    ]);
  });

  it('removes a deleted comment without replies', async () => {
    const where = newPost('remove');
    const element = await open(where);
    const mine = await post(element, 'Gone soon');
    button(mine, 'Delete')!.click();
    await until(() => element.shadowRoot!.querySelector('[role="group"]'), 'the inline question');
    button($(element, '[role="group"]'), 'Delete')!.click();
    await until(() => bodies(element).length === 0, 'the comment is gone');
    expect(heading(element)).to.equal('No responses yet');
    expect((await list(where)).total).to.equal(0);
  });

  it("shows the server's sentence when the edit window has closed on the server", async () => {
    const element = await open(newPost('late'));
    const mine = await post(element, 'Almost in time');
    button(mine, 'Edit')!.click();
    await until(() => element.shadowRoot!.querySelector('.edit-form'), 'the edit form');
    await shiftServerClock(16 * 60_000);
    await retype('Too late');
    button($(element, '.edit-form'), 'Save')!.click();
    await until(() => $$(element, '[role="status"]').some((s) => text(s) === WINDOW_CLOSED), 'the refusal is shown');
    expect(element.shadowRoot!.querySelector('.edit-form'), 'the form stays to copy the text').to.exist;
    await shiftServerClock(0);
  });

  it('takes the buttons away when the window closes on the thread’s clock', async () => {
    const element = await open(newPost('clock'));
    const mine = await post(element, 'Brief chance');
    expect(button(mine, 'Delete')).to.exist;
    const start = Date.now();
    element.now = () => start + 15 * 60_000 + 1;
    element.requestUpdate();
    await element.updateComplete;
    expect(button(article(element, 'Brief chance'), 'Edit')).to.be.undefined;
    expect(button(article(element, 'Brief chance'), 'Delete')).to.be.undefined;
  });

  it('keeps a guest able to edit when the answer to the first send was lost and the outbox sent it again', async () => {
    const where = newPost('lost');
    const clock = new Clock();
    const backend = new HttpBackend(proxy, { timeout: 2_000 });
    const outbox: Outbox = createOutbox({
      backend,
      server: proxy,
      store: idbStore(createStore('blogtalk', 'outbox')),
      now: clock.now,
      schedule: clock.schedule,
      random: () => 0.5,
    });
    try {
      await fault({ fault: { mode: 'none' }, up: true });
      const element = await fixture<CommentThreadElement>(
        html`<comment-thread post=${where} server=${server} .backend=${backend} .outbox=${outbox}></comment-thread>`,
      );
      await until(() => heading(element) !== '', 'loaded');
      await fault({ fault: { mode: 'drop-response', count: 1 } });
      const before = (await fault({})) as { faulted: number; posts: number };
      await writeComment(element, 'Lost in the post');
      const posted = oneEvent(element, 'comment-posted');
      $(element, '[part~="submit-button"]').click();
      // Sent again by the outbox's retry (or by the browser itself, on a dropped connection).
      await until(() => {
        if (clock.next() !== null) clock.advance(clock.next()!);
        return !outbox.records().some((r) => r.state !== 'sent');
      }, 'sent again after the lost answer');
      await posted;
      const after = (await fault({})) as { faulted: number; posts: number };
      expect(after.faulted - before.faulted, 'one answer was lost').to.equal(1);
      expect(after.posts - before.posts, 'and the comment was sent again').to.be.at.least(2);
      expect((await list(where)).total).to.equal(1);
      await until(() => button(article(element, 'Lost in the post'), 'Edit'), 'Edit after the replay');
      button(article(element, 'Lost in the post'), 'Edit')!.click();
      await until(() => element.shadowRoot!.querySelector('.edit-form'), 'the edit form');
      await typeInto($<HTMLTextAreaElement>(element, '.edit-form textarea'), ', found');
      button($(element, '.edit-form'), 'Save')!.click();
      await until(() => bodies(element).includes('Lost in the post, found'), 'the edit is saved');
      expect((await list(where)).comments[0]!.edited).to.be.a('string');
    } finally {
      outbox.close();
      await fault({ fault: { mode: 'none' } });
      await clear(createStore('blogtalk', 'outbox'));
    }
  });

  it('leaves the composer working while a comment is being edited', async () => {
    const element = await open(newPost('both'));
    const mine = await post(element, 'First');
    button(mine, 'Edit')!.click();
    await until(() => element.shadowRoot!.querySelector('.edit-form'), 'the edit form');
    await typeInto(textarea(element), 'Second');
    expect(textarea(element).value).to.equal('Second');
    expect($<HTMLTextAreaElement>(element, '.edit-form textarea').value).to.equal('First');
  });
});
