/**
 * `<reblog-button>` with the real server, which has two blogs: the owner of "Blog B" reblogs a
 * post of the test blog with the keyboard, sees the response on the post's thread, is refused a
 * second time, and undoes it.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import '../../src/comment-thread/comment-thread.js';
import type { CommentThreadElement } from '../../src/comment-thread/comment-thread.js';
import { logout, redeem } from '../../src/data/session.js';
import type { ReblogEvent } from '../../src/events.js';
import '../../src/reblog-button/reblog-button.js';
import type { ReblogButtonElement } from '../../src/reblog-button/reblog-button.js';
import { $, $$, heading, newPost, server, text, typeInto, until } from './helpers.js';

type Button = ReblogButtonElement;

const dialog = (button: Button) => $<HTMLDialogElement>(button, 'dialog');
const focused = (button: Button) => button.shadowRoot!.activeElement;

/** Replaces one of `navigator`'s members for a test; returns the undo. */
function stubNavigator(name: 'clipboard' | 'share', value: unknown): () => void {
  Object.defineProperty(navigator, name, { value, configurable: true });
  return () => delete (navigator as unknown as Record<string, unknown>)[name];
}

/** A button of the share menu, by its text. */
const shareButton = (button: Button, label: string) => $$(button, 'section button').find((b) => text(b) === label)!;

/** The dialog's share menu, open (signed out). */
async function shareMenu(post: string): Promise<Button> {
  const button = await render(post);
  await openWithKeyboard(button, 'Copy link');
  return button;
}

async function render(post: string): Promise<Button> {
  return fixture<Button>(html`<reblog-button post=${post} server=${server} page-title="Kerry and Lavrov"></reblog-button>`);
}

/** Opens the dialog with the keyboard and waits until it shows `what`. */
async function openWithKeyboard(button: Button, what: string): Promise<void> {
  $(button, '[part="reblog-button"]').focus();
  await sendKeys({ press: 'Enter' });
  await until(() => dialog(button).open && text(dialog(button)).includes(what), `the dialog shows "${what}"`);
}

/** The responses of the post's thread as a reader sees them. */
async function responses(post: string, count: number): Promise<string[]> {
  const thread = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
  const shown = () => $$(thread, '[part~="comment"]');
  await until(() => heading(thread) !== '' && shown().length === count, `${count} responses shown`);
  return shown().map((c) => text(c));
}

describe('<reblog-button>', () => {
  after(() => logout(server));

  it('signed out, opens a labelled dialog offering sign-in, which Escape closes', async () => {
    const button = await render(newPost('reblog-signed-out'));
    await openWithKeyboard(button, 'Sign in to reblog');
    expect(dialog(button).getAttribute('aria-labelledby')).to.equal('title');
    expect(text($(button, '#title'))).to.equal('Reblog this post');
    expect(dialog(button).querySelector('login-picker')).to.exist;
    await expect(button).to.be.accessible();
    await sendKeys({ press: 'Escape' });
    await until(() => !dialog(button).open, 'Escape closes the dialog');
  });

  it('speaks the language of its lang attribute', async () => {
    const button = await fixture<Button>(html`<reblog-button lang="de" post=${newPost('reblog-de')} server=${server}></reblog-button>`);
    await until(() => text($(button, '[part="reblog-button"]')) === 'Rebloggen', 'the German label');
    expect(text($(button, '#title'))).to.equal('Diesen Beitrag rebloggen');
  });

  it('copies the post’s link from the share menu and says so', async () => {
    const post = newPost('share-copy');
    const copied: string[] = [];
    const restore = stubNavigator('clipboard', { writeText: async (value: string) => void copied.push(value) });
    try {
      const button = await shareMenu(post);
      shareButton(button, 'Copy link').focus();
      expect(text(focused(button))).to.equal('Copy link');
      await sendKeys({ press: 'Enter' });
      await until(() => text($(button, 'section [role="status"]')) === 'Link copied', 'the status says the link was copied');
      expect(copied).to.deep.equal([post]);
      await expect(button).to.be.accessible();
    } finally {
      restore();
    }
  });

  it('selects the link to copy by hand when the clipboard refuses', async () => {
    const restore = stubNavigator('clipboard', { writeText: () => Promise.reject(new DOMException('denied', 'NotAllowedError')) });
    try {
      const post = newPost('share-no-clipboard');
      const button = await shareMenu(post);
      shareButton(button, 'Copy link').click();
      await until(() => text($(button, 'section [role="status"]')) === 'Copy the selected link.', 'the status asks to copy by hand');
      const field = $<HTMLInputElement>(button, '#link');
      expect(focused(button)).to.equal(field);
      expect(field.readOnly).to.equal(true);
      expect(field.value.slice(field.selectionStart!, field.selectionEnd!)).to.equal(post);
    } finally {
      restore();
    }
  });

  it('builds Mastodon and Bluesky compose links with the title and link encoded, and refuses a hostile server', async () => {
    const post = newPost('share-links');
    const button = await shareMenu(post);
    const text_ = encodeURIComponent(`Kerry and Lavrov ${post}`).replace(/%20/g, '+');
    const bluesky = $$<HTMLAnchorElement>(button, 'section a').find((a) => text(a) === 'Share on Bluesky')!;
    expect(bluesky.href).to.equal(`https://bsky.app/intent/compose?text=${text_}`);
    expect([bluesky.target, bluesky.rel]).to.deep.equal(['_blank', 'noopener noreferrer']);

    const field = $<HTMLInputElement>(button, '#server');
    const mastodon = () => $$<HTMLAnchorElement>(button, 'section a').find((a) => text(a) === 'Share on Mastodon');
    const hint = () => text($(button, '#server-hint'));
    expect(mastodon()).to.equal(undefined, 'no link before a server is typed');
    for (const hostile of ['evil.example/../x', 'javascript:alert(1)', 'a b', 'https://mastodon.social']) {
      field.select();
      await sendKeys({ press: 'Backspace' });
      await typeInto(field, hostile);
      await until(() => hint() !== '', `"${hostile}" is refused`);
      expect(hint()).to.equal('Enter a server name such as mastodon.social.');
      expect(field.getAttribute('aria-invalid')).to.equal('true');
      expect(mastodon(), hostile).to.equal(undefined);
    }
    await expect(button).to.be.accessible();
    field.select();
    await sendKeys({ press: 'Backspace' });
    await typeInto(field, 'mastodon.social');
    await until(() => mastodon(), 'the Mastodon link appears');
    expect(hint()).to.equal('');
    expect(mastodon()!.href).to.equal(`https://mastodon.social/share?text=${text_}`);
    expect([mastodon()!.target, mastodon()!.rel]).to.deep.equal(['_blank', 'noopener noreferrer']);
    await sendKeys({ press: 'Tab' });
    expect(focused(button)).to.equal(mastodon(), 'the link is next in the tab order');
    await expect(button).to.be.accessible();
  });

  it('offers the system share sheet only where there is one, with the title and link', async () => {
    let restore = stubNavigator('share', undefined);
    try {
      const without = await shareMenu(newPost('share-none'));
      expect($$(without, 'section button').map(text)).to.deep.equal(['Copy link']);
      await sendKeys({ press: 'Escape' });
    } finally {
      restore();
    }
    const shared: ShareData[] = [];
    restore = stubNavigator('share', async (data: ShareData) => void shared.push(data));
    try {
      const post = newPost('share-native');
      const button = await shareMenu(post);
      shareButton(button, 'Share…').focus();
      await sendKeys({ press: 'Enter' });
      await until(() => shared.length === 1, 'navigator.share is called');
      expect(shared[0]).to.deep.equal({ title: 'Kerry and Lavrov', url: post });
    } finally {
      restore();
    }
  });

  it("lets the owner of blog B reblog a post with the keyboard; the post's thread says so", async () => {
    const code = await executeServerCommand<string, { name: string; owns: string[] }>('blogtalk-sign-in', {
      name: 'daveyone1',
      owns: ['test-b'],
    });
    await redeem(server, code, null);
    const post = newPost('reblog');
    const button = await render(post);
    const events: ReblogEvent[] = [];
    document.addEventListener('reblog', (event) => events.push(event), { once: true });

    await openWithKeyboard(button, 'Reblog on');
    const choice = $<HTMLInputElement>(button, 'input[name="target"]');
    expect(choice.checked).to.equal(true);
    expect(text(choice.parentElement)).to.equal('Blog B');
    expect(focused(button)).to.equal(choice, 'focus moves into the dialog');
    await expect(button).to.be.accessible();
    // Tab past the address to the commentary, write, Tab to Confirm, Enter.
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Tab' });
    expect(focused(button)?.id).to.equal('commentary');
    await sendKeys({ type: 'Worth <b>reading</b>.' });
    await sendKeys({ press: 'Tab' });
    expect(text(focused(button))).to.equal('Confirm');
    await sendKeys({ press: 'Enter' });

    await until(() => text($(button, '[role="status"]')).includes('Reblogged on Blog B'), 'the reblog is confirmed');
    expect(dialog(button).open).to.equal(false);
    expect(text($(button, '[part="reblog-button"]'))).to.equal('Reblog 1');
    expect(events[0]!.detail.post).to.equal(post);
    expect(events[0]!.detail.target.blogName).to.equal('Blog B');
    expect($<HTMLAnchorElement>(button, '[role="status"] a').href).to.equal(events[0]!.detail.target.url);
    await expect(button).to.be.accessible();

    const shown = await responses(post, 1);
    expect(shown).to.have.length(1);
    expect(shown[0]).to.include('daveyone1 Says:');
    expect(shown[0]).to.include('Reblogged this on Blog B. Worth <b>reading</b>.', 'the commentary, as text');
  });

  it('refuses a second reblog to the same blog with the server’s message, and Undo removes it', async () => {
    const code = await executeServerCommand<string, { name: string; owns: string[] }>('blogtalk-sign-in', {
      name: 'Owner Two',
      owns: ['test-b'],
    });
    await redeem(server, code, null);
    const post = newPost('reblog-twice');
    const button = await render(post);
    await openWithKeyboard(button, 'Reblog on');
    $(button, 'button[type="submit"]').click();
    await until(() => text($(button, '[role="status"]')).includes('Reblogged on Blog B'), 'the first reblog');

    await openWithKeyboard(button, 'Reblogged on Blog B');
    expect($$(button, 'input[name="target"]')).to.have.length(0, 'Blog B is not offered again');
    await typeInto($<HTMLInputElement>(button, '#address'), 'https://b.test/');
    $(button, 'button[type="submit"]').click();
    const alert = () => text(dialog(button).querySelector('[role="alert"]'));
    await until(() => alert() !== '', 'the refusal shows');
    expect(alert()).to.equal('You already reblogged this post on Blog B.');
    expect(dialog(button).open).to.equal(true);
    await expect(button).to.be.accessible();
    $$(button, 'form button[type="button"]')[0]!.click(); // Cancel
    await until(() => !dialog(button).open, 'Cancel closes the dialog');

    $(button, '[role="status"] button').focus();
    await sendKeys({ press: 'Enter' }); // Undo
    await until(() => text($(button, '[role="status"]')) === '', 'the reblog is undone');
    expect(text($(button, '[part="reblog-button"]'))).to.equal('Reblog');
    expect(focused(button)).to.equal($(button, '[part="reblog-button"]'));
    expect(await responses(post, 0)).to.deep.equal([]);
  });

  it('after a reload, shows the reader’s reblog in the dialog with Undo, which works', async () => {
    const code = await executeServerCommand<string, { name: string; owns: string[] }>('blogtalk-sign-in', {
      name: 'Owner Three',
      owns: ['test-b'],
    });
    await redeem(server, code, null);
    const post = newPost('reblog-reload');
    const first = await render(post);
    await openWithKeyboard(first, 'Reblog on');
    $(first, 'button[type="submit"]').click();
    await until(() => text($(first, '[role="status"]')).includes('Reblogged on Blog B'), 'the reblog');
    const url = $<HTMLAnchorElement>(first, '[role="status"] a').href;
    first.remove();

    const button = await render(post); // as after a reload
    await until(() => text($(button, '[part="reblog-button"]')) === 'Reblog 1', 'the count');
    expect(text($(button, '[role="status"]'))).to.equal('', 'nothing said outside the dialog');
    await openWithKeyboard(button, 'Reblogged on Blog B');
    const line = $(button, 'dialog > p');
    expect(text(line)).to.equal('Reblogged on Blog B. Undo');
    expect(line.querySelector('a')!.href).to.equal(url);
    expect($$(button, 'input[name="target"]')).to.have.length(0);
    await expect(button).to.be.accessible();

    expect(focused(button)).to.equal(line.querySelector('button'), 'focus on Undo');
    await sendKeys({ press: 'Enter' }); // Undo
    await until(() => $$(button, 'input[name="target"]').length === 1, 'Blog B is offered again');
    expect(text(dialog(button))).not.to.include('Reblogged on');
    expect(text($(button, '[part="reblog-button"]'))).to.equal('Reblog');
    expect(dialog(button).open).to.equal(true);
    expect(await responses(post, 0)).to.deep.equal([]);
  });
});
