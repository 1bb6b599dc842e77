/**
 * Provider pictures come from the comment server, never from the provider: a reader signed in
 * with a picture (served by a stand-in provider, the test runner on localhost) writes a
 * comment, and both the comment and their own sign-in show an <img> on the comment server.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { logout, redeem } from '../../src/data/session.js';
import '../../src/index.js';
import type { CommentThreadElement } from '../../src/index.js';
import { $, bodies, newPost, server, text, textarea, typeInto, until } from './helpers.js';

/** Signs `name` in, in this browser, as a user whose provider gave `picture`. */
async function signIn(name: string, picture: string): Promise<void> {
  const code = await executeServerCommand<string, { name: string; origin: string; picture: string }>('blogtalk-auth', {
    name,
    origin: location.origin,
    picture,
  });
  await redeem(server, code, null);
}

/** Writes and sends a comment as the signed-in reader, as a person would. */
async function write(thread: CommentThreadElement, body: string): Promise<void> {
  await until(() => thread.shadowRoot!.querySelector('login-picker')?.shadowRoot?.querySelector('[part~="user"]'), 'signed in');
  await typeInto(textarea(thread), body);
  $<HTMLButtonElement>(thread, '[part~="submit-button"]').click();
  await until(() => bodies(thread).includes(body), 'the comment shown');
}

const mount = (post: string) =>
  fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server} lang="en"></comment-thread>`);

describe('provider pictures', function () {
  this.timeout(20_000);
  beforeEach(() => logout(server).catch(() => {}));
  after(() => logout(server).catch(() => {}));

  it('shows a signed-in author’s picture from the comment server, never from the provider', async () => {
    const provider = `${location.origin}/__blogtalk__/picture.png?who=${crypto.randomUUID()}`;
    await signIn(`Pia ${crypto.randomUUID().slice(0, 8)}`, provider);
    performance.clearResourceTimings();
    const thread = await mount(newPost('picture'));
    await write(thread, 'A comment with a face.');

    const face = 'article[part~="comment"] img[part~="comment-avatar"]';
    await until(() => thread.shadowRoot!.querySelector(face), 'the author’s picture, once the server has the comment');
    const img = $<HTMLImageElement>(thread, face);
    expect(img.src.startsWith(`${server}/api/v1/pictures/`), img.src).to.equal(true);
    expect(img.getAttribute('alt')).to.equal('');
    expect(img.getAttribute('referrerpolicy')).to.equal('no-referrer');
    await until(() => img.complete && img.naturalWidth === 1, 'the picture loaded');

    const picker = thread.shadowRoot!.querySelector('login-picker')!;
    const own = $<HTMLImageElement>(picker, '[part~="user"] img');
    expect(own.src).to.equal(img.src, 'the reader’s own picture, through the same path');

    const provided = performance.getEntriesByType('resource').filter((entry) => entry.name.includes('/__blogtalk__/picture.png'));
    expect(provided.map((entry) => entry.name)).to.deep.equal([], 'the browser never asked the provider');
    await expect(thread).to.be.accessible();
  });

  it('shows a liker’s picture from the comment server in "N bloggers like this"', async () => {
    await signIn(`Lee ${crypto.randomUUID().slice(0, 8)}`, `${location.origin}/__blogtalk__/picture.png?who=${crypto.randomUUID()}`);
    const thread = await mount(newPost('liker'));
    await until(() => thread.shadowRoot!.querySelector('login-picker')?.shadowRoot?.querySelector('[part~="user"]'), 'signed in');
    $<HTMLButtonElement>(thread, '[part~="likes"] [part~="like-button"]').click();
    await until(() => text($(thread, '#likes-heading')) === 'One blogger likes this:', 'the like counted');
    await until(() => thread.shadowRoot!.querySelector('.likers img'), 'the liker’s picture');
    const face = $<HTMLImageElement>(thread, '.likers img');
    expect(face.src.startsWith(`${server}/api/v1/pictures/`), face.src).to.equal(true);
    await until(() => face.complete && face.naturalWidth === 1, 'the picture loaded');
    await expect(thread).to.be.accessible();
  });

  it('falls back to the generated avatar when the picture cannot be had', async () => {
    await signIn(`Gus ${crypto.randomUUID().slice(0, 8)}`, `${location.origin}/__blogtalk__/missing.png`);
    const thread = await mount(newPost('no-picture'));
    await write(thread, 'A comment whose face is gone.');
    await until(() => thread.shadowRoot!.querySelector('article[part~="comment"] svg[part~="comment-avatar"]'), 'the generated avatar');
    expect(thread.shadowRoot!.querySelector('article[part~="comment"] img')).to.equal(null);
    const picker = thread.shadowRoot!.querySelector('login-picker')!;
    await until(() => picker.shadowRoot!.querySelector('[part~="user"] svg[part~="comment-avatar"]'), 'the picker’s generated avatar');
    expect(picker.shadowRoot!.querySelector('[part~="user"] img')).to.equal(null);
    await expect(thread).to.be.accessible();
  });
});
