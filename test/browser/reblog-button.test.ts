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
import { $, $$, heading, newPost, server, text, until } from './helpers.js';

type Button = ReblogButtonElement;

const dialog = (button: Button) => $<HTMLDialogElement>(button, 'dialog');
const focused = (button: Button) => button.shadowRoot!.activeElement;

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

    await openWithKeyboard(button, 'Reblog on');
    $(button, 'button[type="submit"]').click();
    const alert = () => text(dialog(button).querySelector('[role="alert"]'));
    await until(() => alert() !== '', 'the refusal shows');
    expect(alert()).to.equal('You already reblogged this post on Blog B.');
    expect(dialog(button).open).to.equal(true);
    await expect(button).to.be.accessible();
    $(button, 'dialog button[type="button"]').click(); // Cancel
    await until(() => !dialog(button).open, 'Cancel closes the dialog');

    $(button, '[role="status"] button').focus();
    await sendKeys({ press: 'Enter' }); // Undo
    await until(() => text($(button, '[role="status"]')) === '', 'the reblog is undone');
    expect(text($(button, '[part="reblog-button"]'))).to.equal('Reblog');
    expect(focused(button)).to.equal($(button, '[part="reblog-button"]'));
    expect(await responses(post, 0)).to.deep.equal([]);
  });
});
