/**
 * "N bloggers like this:" and the Like buttons of <comment-thread>, against the real server: a
 * reader signs in for real (a hand-off code redeemed for the session cookie, as after the
 * provider's popup), other readers' likes arrive through the API.
 */
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import type { LikeSummary } from '../../src/data/api-types.js';
import { HttpBackend } from '../../src/data/http-backend.js';
import { logout, redeem } from '../../src/data/session.js';
import { LoginEvent } from '../../src/events.js';
import '../../src/index.js';
import type { CommentThreadElement } from '../../src/index.js';
import { $, $$, bodies, deepActiveElement, heading, newPost, seed, server, text, until } from './helpers.js';

/** Signs `name` in, in this browser: the session cookie is set by the server's redeem endpoint. */
async function signIn(name: string): Promise<void> {
  const code = await executeServerCommand<string, { name: string; origin: string }>('blogtalk-auth', {
    name,
    origin: location.origin,
  });
  await redeem(server, code, null);
}

/** Another reader likes the post (or a comment) through the API. */
async function likedBy(name: string, post: string, comment: string | null = null, website: string | null = null): Promise<void> {
  await executeServerCommand('blogtalk-auth', { like: { name, post, comment, website } });
}

/** What the server has, read without this browser's session. */
async function stored(post: string): Promise<LikeSummary> {
  const response = await fetch(`${server}/api/v1/likes?post=${encodeURIComponent(post)}`);
  return response.json();
}

async function thread(post: string, options: { lang?: string; backend?: HttpBackend } = {}): Promise<CommentThreadElement> {
  const element = await fixture<CommentThreadElement>(
    html`<comment-thread post=${post} server=${server} lang=${options.lang ?? 'en'} .backend=${options.backend}></comment-thread>`,
  );
  await until(() => element.shadowRoot!.querySelector('[part~="likes"]'), 'the likes row');
  return element;
}

/** "N bloggers like this:" as a reader sees it. */
const likesLine = (element: CommentThreadElement) => text($(element, '#likes-heading'));
const likeButton = (element: CommentThreadElement) => $<HTMLButtonElement>(element, '[part~="likes"] [part~="like-button"]');
/** The likers' avatars, by their accessible names. */
const likers = (element: CommentThreadElement) =>
  $$(element, '.likers [title]').map((face) => face.getAttribute('title'));
const likesStatus = (element: CommentThreadElement) => text($(element, '[part~="likes"] [role="status"]'));

describe('likes', function () {
  this.timeout(20_000);

  beforeEach(() => logout(server).catch(() => {}));
  after(() => logout(server).catch(() => {}));

  it('asks a signed-out reader who presses Like to sign in, and stores nothing', async () => {
    const post = newPost('signed-out');
    await likedBy('Zed', post);
    const element = await thread(post);
    await until(() => likesLine(element) === 'One blogger likes this:', 'one like');
    let changes = 0;
    element.addEventListener('like-change', () => changes++);
    performance.clearResourceTimings();

    likeButton(element).focus();
    await sendKeys({ press: 'Enter' });
    await until(() => likesStatus(element) === 'Log in below to like this.', 'asked to sign in');
    expect(likeButton(element).getAttribute('aria-pressed')).to.equal('false');
    expect(likesLine(element)).to.equal('One blogger likes this:');
    expect((await stored(post)).count).to.equal(1);
    expect(changes).to.equal(0);
    const sent = performance.getEntriesByType('resource').filter((entry) => entry.name.startsWith(`${server}/api/v1/likes`));
    expect(sent.length).to.equal(1, 'only the read of what is stored: no like was sent');
    await expect(element).to.be.accessible();
  });

  it('shows the reader’s own earlier like once they sign in', async () => {
    const post = newPost('sign-in');
    await likedBy('Eve', post);
    const element = await thread(post);
    await until(() => likesLine(element) === 'One blogger likes this:', 'one like');
    expect(likeButton(element).getAttribute('aria-pressed')).to.equal('false');
    await signIn('Eve');
    // What <login-picker> announces once the reader is signed in.
    $(element, 'login-picker').dispatchEvent(new LoginEvent({ provider: 'test', name: 'Eve' }));
    await until(() => likeButton(element).getAttribute('aria-pressed') === 'true', 'pressed');
    expect(likesLine(element)).to.equal('One blogger likes this:');
  });

  it('says "Be the first to like this." on a post nobody likes; a signed-in reader likes it, sees their avatar, and takes it back', async () => {
    await signIn('Ann Liker');
    const post = newPost('first');
    const element = await thread(post);
    await until(() => likesLine(element) === 'Be the first to like this.', 'empty');
    expect(likers(element)).to.deep.equal([]);
    const picker = $(element, 'login-picker') as HTMLElement & { user: unknown };
    await until(() => picker.user, 'signed in');
    await expect(element).to.be.accessible();

    const liked = oneEvent(element, 'like-change');
    likeButton(element).focus();
    await sendKeys({ press: 'Space' });
    expect(likeButton(element).getAttribute('aria-pressed')).to.equal('true');
    const { detail } = await liked;
    expect(detail).to.deep.equal({ post, comment: null, liked: true, count: 1 });
    await until(() => likesLine(element) === 'One blogger likes this:', 'counted');
    expect(likers(element)).to.deep.equal(['Ann Liker']);
    expect((await stored(post)).count).to.equal(1);
    await expect(element).to.be.accessible();

    // Twice is still one like; pressing again takes it back.
    const unliked = oneEvent(element, 'like-change');
    await sendKeys({ press: 'Enter' });
    expect((await unliked).detail).to.deep.equal({ post, comment: null, liked: false, count: 0 });
    await until(() => likesLine(element) === 'Be the first to like this.', 'taken back');
    expect(likeButton(element).getAttribute('aria-pressed')).to.equal('false');
    expect(likers(element)).to.deep.equal([]);
    expect((await stored(post)).count).to.equal(0);
  });

  it('counts another reader’s like with the reader’s own, newest first, each liker once', async () => {
    const post = newPost('two');
    await likedBy('Zed', post, null, 'https://zed.example/');
    await likedBy('Mal', post, null, 'javascript:alert(1)');
    await signIn('Bea');
    const element = await thread(post);
    await until(() => likesLine(element) === '2 bloggers like this:', 'two likes');
    expect(likeButton(element).getAttribute('aria-pressed')).to.equal('false');
    // Only an http(s) website becomes a link.
    expect($$(element, '.likers a').map((a) => [a.getAttribute('title'), a.getAttribute('href')])).to.deep.equal([
      ['Zed', 'https://zed.example/'],
    ]);
    await until(() => ($(element, 'login-picker') as HTMLElement & { user: unknown }).user, 'signed in');
    const liked = oneEvent(element, 'like-change');
    likeButton(element).click();
    expect((await liked).detail.count).to.equal(3);
    await until(() => likesLine(element) === '3 bloggers like this:', 'three likes');
    expect(likers(element)).to.deep.equal(['Bea', 'Mal', 'Zed']);

    // Reloaded, the reader's like is still pressed.
    const again = await thread(post);
    await until(() => likesLine(again) === '3 bloggers like this:', 'reloaded');
    expect(likeButton(again).getAttribute('aria-pressed')).to.equal('true');
  });

  it('shows 20 avatars and "+ 5 more" when 25 bloggers like a post', async () => {
    const post = newPost('many');
    for (let i = 1; i <= 25; i++) await likedBy(`Reader ${i}`, post);
    const element = await thread(post);
    await until(() => likesLine(element) === '25 bloggers like this:', '25 likes');
    const names = likers(element);
    expect(names.length).to.equal(20);
    expect(names[0]).to.equal('Reader 25');
    expect(text($(element, '[part~="likes"]'))).to.match(/^Like 25 bloggers like this: (R ){20}\+ 5 more$/);
    await expect(element).to.be.accessible();
  });

  it('speaks the plural forms of English, German and Arabic', async () => {
    const post = newPost('plural');
    await likedBy('One', post);
    const element = await thread(post);
    await until(() => likesLine(element) === 'One blogger likes this:', 'en one');
    element.setAttribute('lang', 'de');
    await until(() => likesLine(element) === 'Einem Blogger gefällt das:', 'de one');
    expect(text(likeButton(element))).to.equal('Gefällt mir');
    element.setAttribute('lang', 'ar');
    await until(() => likesLine(element) === 'مدوّن واحد معجب بهذا:', 'ar one');

    await likedBy('Two', post);
    const two = await thread(post, { lang: 'ar' });
    await until(() => likesLine(two) === 'مدوّنان معجبان بهذا:', 'ar two');
    expect(two.shadowRoot!.querySelector('.thread')!.getAttribute('dir')).to.equal('rtl');
    await likedBy('Three', post);
    const three = await thread(post, { lang: 'ar' });
    const n = new Intl.NumberFormat('ar').format(3);
    await until(() => likesLine(three) === `${n} مدوّنين معجبون بهذا:`, 'ar few');
    const german = await thread(post, { lang: 'de' });
    await until(() => likesLine(german) === '3 Bloggern gefällt das:', 'de other');
    const english = await thread(post);
    await until(() => likesLine(english) === '3 bloggers like this:', 'en other');
  });

  it('shows the like at once, and takes it back with a message when it cannot be saved', async () => {
    await signIn('Cy');
    /** The real server, except that likes are held until released, then fail as if offline. */
    class Unsaved extends HttpBackend {
      release!: () => void;
      override async like(...args: Parameters<HttpBackend['like']>): Promise<LikeSummary> {
        await new Promise<void>((resolve) => (this.release = resolve));
        return new HttpBackend('http://127.0.0.1:9').like(...args);
      }
    }
    const backend = new Unsaved(server);
    const post = newPost('unsaved');
    await likedBy('Zed', post);
    const element = await thread(post, { backend });
    await until(() => likesLine(element) === 'One blogger likes this:', 'one like');
    await until(() => ($(element, 'login-picker') as HTMLElement & { user: unknown }).user, 'signed in');
    let changes = 0;
    element.addEventListener('like-change', () => changes++);

    likeButton(element).click();
    await until(() => likesLine(element) === '2 bloggers like this:', 'shown at once');
    expect(likers(element)).to.deep.equal(['Cy', 'Zed']);
    expect(likeButton(element).getAttribute('aria-pressed')).to.equal('true');
    backend.release();
    await until(() => likesStatus(element) === 'Your like was not saved. Please try again.', 'the message');
    expect(likesLine(element)).to.equal('One blogger likes this:');
    expect(likers(element)).to.deep.equal(['Zed']);
    expect(likeButton(element).getAttribute('aria-pressed')).to.equal('false');
    expect(changes).to.equal(0);
    await expect(element).to.be.accessible();
  });

  it('likes a comment with its own button and count, all counts read in one request', async () => {
    const post = newPost('comments');
    const first = await seed(post, { body: 'Liked by two' });
    const nobody = await seed(post, { body: 'Liked by nobody' });
    const reply = await seed(post, { body: 'A liked reply', parent: first.id });
    await likedBy('Zed', post, first.id);
    await likedBy('Mal', post, first.id);
    await likedBy('Zed', post, reply.id);
    await signIn('Dee');
    performance.clearResourceTimings();
    const element = await thread(post);
    await until(() => bodies(element).length === 3 && heading(element) !== '', 'the responses');
    const button = (i: number) => $$<HTMLButtonElement>(element, '[part~="comment"] [part~="like-button"]')[i]!;
    await until(() => text(button(0)) === 'Like 2', 'the counts');
    // Threads in order: the first response, its reply, the second response.
    expect(bodies(element)).to.deep.equal(['Liked by two', 'A liked reply', 'Liked by nobody']);
    expect([0, 1, 2].map((i) => text(button(i)))).to.deep.equal(['Like 2', 'Like 1', 'Like']);
    const reads = performance
      .getEntriesByType('resource')
      .map((entry) => new URL(entry.name))
      .filter((url) => url.pathname.startsWith('/api/v1/likes'));
    expect(reads.map((url) => url.pathname)).to.deep.equal(['/api/v1/likes']);
    expect(reads.some((url) => url.searchParams.has('comment'))).to.equal(false);
    await until(() => ($(element, 'login-picker') as HTMLElement & { user: unknown }).user, 'signed in');

    const liked = oneEvent(element, 'like-change');
    button(2).focus();
    await sendKeys({ press: 'Enter' });
    expect((await liked).detail).to.deep.equal({ post, comment: nobody.id, liked: true, count: 1 });
    expect(text(button(2))).to.equal('Like 1');
    expect(button(2).getAttribute('aria-pressed')).to.equal('true');
    expect(deepActiveElement()).to.equal(button(2));
    await expect(element).to.be.accessible();
    const unliked = oneEvent(element, 'like-change');
    await sendKeys({ press: 'Enter' });
    expect((await unliked).detail.liked).to.equal(false);
    expect(text(button(2))).to.equal('Like');
    expect(likesLine(element)).to.equal('Be the first to like this.', 'the post’s own likes are apart');
  });
});
