/**
 * The session client's checks on a sign-in hand-off (`src/data/session.ts`): which messages it
 * takes a code from, and the code a redirect or email link leaves in the URL. The full flow —
 * popup, provider, cookie — runs end to end in test/e2e/login.test.ts.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { newNonce, SessionError, startUrl, takeReturnedCode, waitForCode } from '../../src/data/session.js';
import '../../src/login-picker/login-picker.js';
import type { LoginPickerElement } from '../../src/login-picker/login-picker.js';
import { newPost, server } from './helpers.js';

const SERVER = 'https://comments.example.test';
const CODE = 'c'.repeat(43);

/** A window to stand in for the popup: a real one (an iframe's), so `event.source` can name it. */
async function popupWindow(): Promise<Window> {
  const frame = await fixture<HTMLIFrameElement>(html`<iframe></iframe>`);
  return frame.contentWindow!;
}

function deliver(data: unknown, origin: string, source: Window): void {
  window.dispatchEvent(new MessageEvent('message', { data, origin, source }));
}

describe('waitForCode (the popup hand-off)', () => {
  it('takes the code only from the server’s origin, the popup window and the nonce it made', async () => {
    const popup = await popupWindow();
    const nonce = newNonce();
    const waiting = waitForCode(SERVER, popup, nonce);
    deliver({ type: 'blogtalk-login', code: 'from-another-origin', nonce }, 'https://evil.example', popup);
    deliver({ type: 'blogtalk-login', code: 'from-another-window', nonce }, SERVER, window);
    deliver({ type: 'blogtalk-login', code: 'with-another-nonce', nonce: newNonce() }, SERVER, popup);
    deliver({ type: 'something-else', code: 'of-another-type', nonce }, SERVER, popup);
    deliver({ type: 'blogtalk-login', code: CODE, nonce }, SERVER, popup);
    expect(await waiting).to.equal(CODE);
  });

  it('reports the provider’s error when the popup says sign-in failed', async () => {
    const popup = await popupWindow();
    const nonce = newNonce();
    const waiting = waitForCode(SERVER, popup, nonce);
    deliver({ type: 'blogtalk-login-error', error: 'cancelled-by-stranger', nonce: 'x'.repeat(32) }, SERVER, popup);
    deliver({ type: 'blogtalk-login-error', error: 'sign_in_failed', nonce }, SERVER, popup);
    const error = await waiting.then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(SessionError);
    expect((error as SessionError).code).to.equal('sign_in_failed');
  });

  it('stops waiting with `cancelled` when the popup is closed without a code', async () => {
    const closed = { closed: true } as Window;
    const error = await waitForCode(SERVER, closed, newNonce()).then(() => null, (e: unknown) => e);
    expect((error as SessionError).code).to.equal('cancelled');
  });

  it('stops waiting when its signal aborts', async () => {
    const controller = new AbortController();
    const waiting = waitForCode(SERVER, await popupWindow(), newNonce(), controller.signal);
    controller.abort(new Error('gone'));
    const error = await waiting.then(() => null, (e: unknown) => e);
    expect((error as Error).message).to.equal('gone');
  });
});

describe('the sign-in URLs and codes', () => {
  afterEach(() => sessionStorage.removeItem('blogtalk:login-nonce'));

  it('makes nonces the server accepts: base64url, 32 characters, different each time', () => {
    const a = newNonce();
    expect(a).to.match(/^[A-Za-z0-9_-]{32}$/);
    expect(newNonce()).to.not.equal(a);
  });

  it('starts at the server with the post, this page’s origin, the nonce and a Mastodon instance', () => {
    const url = new URL(startUrl(SERVER, 'mastodon', 'https://blog.test/p/', 'n'.repeat(32), 'social.example'));
    expect(url.origin + url.pathname).to.equal(`${SERVER}/api/v1/auth/start/mastodon`);
    expect(Object.fromEntries(url.searchParams)).to.deep.equal({
      post: 'https://blog.test/p/',
      origin: location.origin,
      nonce: 'n'.repeat(32),
      instance: 'social.example',
    });
  });

  it('picks up a code the redirect flow brought back, with its kept nonce, and clears the address', () => {
    const before = location.href;
    sessionStorage.setItem('blogtalk:login-nonce', 'k'.repeat(32));
    history.replaceState(history.state, '', `${location.pathname}${location.search}#blogtalk-code=${CODE}`);
    expect(takeReturnedCode()).to.deep.equal({ code: CODE, nonce: 'k'.repeat(32) });
    expect(location.hash).to.equal('');
    expect(sessionStorage.getItem('blogtalk:login-nonce')).to.equal(null);
    expect(takeReturnedCode()).to.equal(null);
    history.replaceState(history.state, '', before);
  });
});

describe('<login-picker> without sign-in providers', () => {
  it('is the guest form, with no user and no "click an icon" line', async () => {
    const post = newPost('picker');
    const picker = await fixture<LoginPickerElement>(html`<login-picker server=${server} post=${post}></login-picker>`);
    await new Promise((r) => setTimeout(r, 300));
    expect(picker.user).to.equal(null);
    expect(picker.shadowRoot!.querySelector('[part~="provider-button"]')).to.equal(null);
    expect(picker.shadowRoot!.textContent).to.not.include('click an icon');
    expect(picker.reportValidity(false)).to.equal(false);
    expect(picker.guest).to.deep.equal({ name: '', email: '', website: '' });
  });
});
