/** Pages of comments, switching posts, several threads, permalinks and languages. */
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../../src/index.js';
import type { CommentThreadElement } from '../../src/index.js';
import {
  $,
  $$,
  bodies,
  ControlledBackend,
  deepActiveElement,
  heading,
  newPost,
  seed,
  seedMany,
  server,
  text,
  until,
  writeComment,
} from './helpers.js';

function olderButton(element: CommentThreadElement): HTMLButtonElement | null {
  return element.shadowRoot!.querySelector<HTMLButtonElement>('.older button');
}

describe('<comment-thread> navigation', function () {
  this.timeout(20_000);

  afterEach(() => {
    history.replaceState(null, '', location.pathname + location.search);
  });

  it('loads older threads with “Older comments” and puts them before the newer ones', async () => {
    const post = newPost();
    const [first] = await seedMany(post, ['c1', 'c2', 'c3', 'c4', 'c5']);
    await seed(post, { parent: first!.id, body: 'reply to c1' });
    const element = await fixture<CommentThreadElement>(
      html`<comment-thread post=${post} server=${server} page-size="2"></comment-thread>`,
    );
    await until(() => bodies(element).length === 2, 'the newest page');
    expect(bodies(element)).to.deep.equal(['c4', 'c5']);
    expect(heading(element)).to.equal(`6 Responses to “${document.title}”`);
    expect(text(olderButton(element))).to.equal('Older comments');

    olderButton(element)!.focus();
    await sendKeys({ press: 'Enter' });
    await until(() => bodies(element).length === 4, 'one older page');
    expect(bodies(element)).to.deep.equal(['c2', 'c3', 'c4', 'c5']);
    expect(text(deepActiveElement()?.querySelector('[part~="comment-body"]'))).to.equal('c2');

    olderButton(element)!.click();
    await until(() => bodies(element).length === 6, 'the oldest page');
    expect(bodies(element)).to.deep.equal(['c1', 'reply to c1', 'c2', 'c3', 'c4', 'c5']);
    expect(olderButton(element)).to.equal(null);
  });

  it('shows the newest threads first with sort="newest"', async () => {
    const post = newPost();
    await seedMany(post, ['old', 'new']);
    const element = await fixture<CommentThreadElement>(
      html`<comment-thread post=${post} server=${server} sort="newest"></comment-thread>`,
    );
    await until(() => bodies(element).length === 2, 'both');
    expect(bodies(element)).to.deep.equal(['new', 'old']);
  });

  it('shows the new post’s thread when post changes, aborting the old load', async () => {
    const a = newPost('a');
    const b = newPost('b');
    await seed(a, { body: 'alpha' });
    await seed(b, { body: 'beta' });
    const element = await fixture<CommentThreadElement>(html`<comment-thread post=${a} server=${server}></comment-thread>`);
    await until(() => bodies(element)[0] === 'alpha', 'post a');
    element.setAttribute('post', b);
    await until(() => bodies(element)[0] === 'beta', 'post b');
    expect(bodies(element)).to.deep.equal(['beta']);

    const backend = new ControlledBackend();
    backend.holdLists = true;
    const slow = await fixture<CommentThreadElement>(html`<comment-thread post=${a} .backend=${backend}></comment-thread>`);
    await until(() => backend.lists === 1, 'loading a');
    slow.post = b;
    await until(() => backend.lists === 2, 'loading b');
    expect(backend.signals[0]!.aborted).to.equal(true);
    expect(backend.signals[1]!.aborted).to.equal(false);
    backend.release();
    await until(() => bodies(slow).length === 1, 'b shown');
    expect(bodies(slow)).to.deep.equal(['beta']);
  });

  it('keeps two threads on one page apart', async () => {
    const a = newPost('a');
    const b = newPost('b');
    await seed(a, { body: 'only in a' });
    const page = await fixture<HTMLElement>(html`<div>
      <comment-thread post=${a} server=${server}></comment-thread>
      <comment-thread post=${b} server=${server}></comment-thread>
    </div>`);
    const [first, second] = [...page.querySelectorAll('comment-thread')];
    await until(() => bodies(first!).length === 1 && heading(second!) === 'No responses yet', 'both loaded');

    await writeComment(second!, 'only in b');
    const posted = oneEvent(second!, 'comment-posted');
    $(second!, '[part~="submit-button"]').click();
    await posted;
    await until(() => bodies(second!).length === 1, 'b shows its comment');
    expect(bodies(first!)).to.deep.equal(['only in a']);
    expect(bodies(second!)).to.deep.equal(['only in b']);
    expect(text(first!.shadowRoot!.querySelector('#composer-status'))).to.equal('');
  });

  it('scrolls to and highlights the comment in the URL’s #comment-<id>, loading older pages to find it', async () => {
    const post = newPost();
    const comments = await seedMany(post, ['p1', 'p2', 'p3', 'p4', 'p5']);
    history.replaceState(null, '', `#comment-${comments[0]!.id}`);
    const element = await fixture<CommentThreadElement>(html`<div style="height: 150vh"></div>
      <comment-thread post=${post} server=${server} page-size="2"></comment-thread>`);
    const thread = element.parentElement!.querySelector('comment-thread')!;
    await until(() => thread.shadowRoot!.querySelector('.target'), 'highlighted');
    const target = $(thread, '.target');
    expect(target.id).to.equal(`comment-${comments[0]!.id}`);
    expect(bodies(thread)).to.deep.equal(['p1', 'p2', 'p3', 'p4', 'p5']);
    expect(deepActiveElement()).to.equal(target);
    const box = target.getBoundingClientRect();
    expect(box.top).to.be.greaterThanOrEqual(0);
    expect(box.bottom).to.be.lessThanOrEqual(innerHeight);

    // A permalink click (a hash change) moves the highlight.
    const permalink = $<HTMLAnchorElement>(thread, `#comment-${comments[3]!.id} [part~="comment-date"]`);
    expect(permalink.hash).to.equal(`#comment-${comments[3]!.id}`);
    permalink.click();
    await until(() => $(thread, '.target').id === `comment-${comments[3]!.id}`, 'the highlight follows the hash');
    expect($$(thread, '.target')).to.have.length(1);
  });

  it('speaks Arabic right to left, German from an ancestor’s lang, and follows lang changes', async () => {
    const post = newPost();
    await seed(post, { name: 'سارة', body: 'مرحبا بالعالم' });
    const element = await fixture<CommentThreadElement>(
      html`<comment-thread lang="ar" post=${post} server=${server} page-title="عنوان"></comment-thread>`,
    );
    await until(() => bodies(element).length === 1, 'loaded');
    // The Arabic catalog is fetched on demand (English, left to right, meanwhile).
    await until(() => heading(element) === 'رد واحد على «عنوان»', 'the Arabic catalog');
    const part = $(element, '[part~="thread"]');
    expect(part.getAttribute('dir')).to.equal('rtl');
    expect(part.getAttribute('lang')).to.equal('ar');
    expect(heading(element)).to.equal('رد واحد على «عنوان»');
    expect(text($(element, '#reply-title'))).to.equal('اترك رداً');
    expect(text($(element, '[part~="submit-button"]'))).to.equal('أرسل التعليق');
    expect(text($($(element, 'login-picker'), 'label[for="name"]'))).to.equal('الاسم (مطلوب)');
    expect(getComputedStyle($(element, '.comment')).direction).to.equal('rtl');

    element.setAttribute('lang', 'en');
    await until(() => heading(element) === 'One Response to “عنوان”', 'English after lang changes');
    await until(() => text($($(element, 'login-picker'), 'label[for="name"]')) === 'Name (required)', 'picker follows');

    const wrapper = await fixture(html`<section lang="de-CH"><comment-thread post=${post} server=${server}></comment-thread></section>`);
    const german = wrapper.querySelector('comment-thread')!;
    await until(() => bodies(german).length === 1, 'loaded');
    // The German catalog is fetched on demand too.
    await until(() => text($(german, '#reply-title')) === 'Schreibe einen Kommentar', 'the German catalog');
    expect(text($(german, '[part~="reply-button"]'))).to.equal('Antworten');
  });
});
