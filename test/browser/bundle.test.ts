/**
 * dist/blogtalk.js as a blog uses it: a classic <script>, possibly twice. This file imports no
 * thread or reblog element (helpers.ts does import the composer, with `<login-picker>`), so the
 * bundle is what defines them here. The script is a small loader
 * that imports the widget's chunks (dist/chunks/): what the thread's first paint needs at once,
 * the composer with sign-in and the outbox after that paint or on first use.
 */
import { expect } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { CommentPage } from '../../src/data/api-types.js';
import { HttpBackend } from '../../src/data/http-backend.js';
import { createOutbox, idbStore } from '../../src/data/outbox.js';
import { bodies, heading, newPost, seed, server, until } from './helpers.js';

function loadScript(src: string, attributes: Record<string, string> = {}): Promise<void> {
  const script = document.createElement('script');
  for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
  script.src = src;
  return new Promise((resolve, reject) => {
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

/** The widget's chunks this page requested so far (file names without their hash), with when. */
function chunksRequested(): { name: string; at: number }[] {
  return performance.getEntriesByType('resource').flatMap((entry) => {
    const name = /\/chunks\/([\w-]+)-[\w-]{8}\.js$/.exec(entry.name)?.[1];
    return name ? [{ name, at: entry.startTime }] : [];
  });
}

describe('dist/blogtalk.js', function () {
  this.timeout(20_000);
  const errors: string[] = [];
  let firstDefinition: CustomElementConstructor | undefined;

  before(async () => {
    const record = (event: ErrorEvent) => errors.push(event.message);
    addEventListener('error', record);
    try {
      expect(customElements.get('comment-thread')).to.equal(undefined);
      await loadScript('/dist/blogtalk.js', { 'data-server': server });
      await customElements.whenDefined('comment-thread');
      firstDefinition = customElements.get('comment-thread');
      // Again, as a page with two embeds (or a theme plus a plugin) would: from the server itself.
      await loadScript(`${server}/blogtalk.js`);
      await customElements.whenDefined('reblog-button'); // when the browser is idle
    } finally {
      removeEventListener('error', record);
    }
  });

  it('defines every element and can be loaded twice without an error, importing the widget once', () => {
    expect(errors).to.deep.equal([]);
    expect(firstDefinition).to.not.equal(undefined);
    expect(customElements.get('comment-thread')).to.equal(firstDefinition);
    expect(customElements.get('login-picker')).to.not.equal(undefined);
    expect(customElements.get('reblog-button')).to.not.equal(undefined);
    const entries = performance.getEntriesByType('resource').filter((entry) => /\/chunks\/blogtalk-/.test(entry.name));
    expect(entries.map((entry) => new URL(entry.name).origin)).to.deep.equal([location.origin]);
  });

  it('paints the thread before the composer’s chunk is requested, and a reader typing into the placeholder keeps focus and text', async () => {
    const post = newPost();
    await seed(post, { body: 'Painted first', pageTitle: 'Lazy' });
    const thread = document.createElement('comment-thread');
    thread.setAttribute('post', post);
    thread.setAttribute('server', server);
    document.body.append(thread);
    // When the first response is in the thread's DOM (the entry chunk is loaded: it upgrades at once).
    let paintedAt = Infinity;
    const root = thread.shadowRoot!;
    const observer = new MutationObserver(() => {
      if (paintedAt === Infinity && root.querySelector('[part~="comment"]')) paintedAt = performance.now();
    });
    observer.observe(root, { childList: true, subtree: true });
    try {
      await until(() => bodies(thread).length === 1, 'the seeded comment');
      expect(heading(thread)).to.equal('One Response to “Lazy”');
      // Painted with the entry chunk only: the composer (with sign-in and the outbox) is requested after.
      expect(paintedAt).to.be.lessThan(Infinity);
      const writing = () => chunksRequested().filter((chunk) => chunk.name === 'writing');
      for (const chunk of writing()) expect(chunk.at).to.be.greaterThan(paintedAt);
      // The placeholder has the composer's parts, so a reader can start at once.
      const field = root.querySelector<HTMLTextAreaElement>('[part~="textarea"]')!;
      expect(root.querySelector('[part~="submit-button"]')).to.not.equal(null);
      const submitOffset = () => {
        const form = root.querySelector('[part~="composer"]')!.getBoundingClientRect();
        return root.querySelector('[part~="submit-button"]')!.getBoundingClientRect().top - form.top;
      };
      const before = submitOffset();
      field.focus();
      await sendKeys({ type: 'Hi' });
      await until(() => root.querySelector('login-picker'), 'the composer takes over');
      expect(writing().length).to.equal(1);
      const real = root.querySelector<HTMLTextAreaElement>('[part~="textarea"]')!;
      await until(() => root.activeElement === real, 'focus in the composer’s textarea');
      await sendKeys({ type: ' there' });
      expect(real.value).to.equal('Hi there');
      // The guest form takes the place kept for it: "Post Comment" moves by less than a line.
      await until(() => root.querySelector('login-picker')?.shadowRoot?.querySelector('#name'), 'the guest form');
      expect(Math.abs(submitOffset() - before)).to.be.lessThan(parseFloat(getComputedStyle(thread).fontSize));
    } finally {
      observer.disconnect();
      thread.remove();
    }
  });

  it('talks to the server named by the loading script’s data-server when the element has no server attribute', async () => {
    const post = newPost();
    await seed(post, { body: 'From the bundle', pageTitle: 'Bundled' });
    const thread = document.createElement('comment-thread');
    thread.setAttribute('post', post);
    document.body.append(thread);
    try {
      await until(() => bodies(thread).length === 1, 'the seeded comment');
      expect(bodies(thread)).to.deep.equal(['From the bundle']);
      expect(heading(thread)).to.equal('One Response to “Bundled”');
    } finally {
      thread.remove();
    }
  });

  it('sends a comment an earlier visit left in the outbox when a page with the script loads, with no interaction', async () => {
    const post = newPost();
    const body = `Left by an earlier visit ${crypto.randomUUID()}`;
    // The earlier visit: queued in IndexedDB, never sent (its page was closed).
    const earlier = createOutbox({ backend: new HttpBackend(server), server, store: idbStore() });
    await earlier.ready;
    await earlier.add(crypto.randomUUID(), { post, author: { name: 'Earlier', email: 'earlier@example.org' }, body }, 0);
    earlier.close();
    const stored = async () => {
      const page = (await (await fetch(`${server}/api/v1/comments?post=${encodeURIComponent(post)}`)).json()) as CommentPage;
      return page.comments.map((comment) => comment.body);
    };
    expect(await stored()).to.deep.equal([]);
    // A fresh page (the strict one: the script tag from the server and a thread, nothing else).
    const frame = document.createElement('iframe');
    frame.src = `/__blogtalk__/csp.html?post=${encodeURIComponent(post)}`;
    document.body.append(frame);
    try {
      await until(async () => (await stored()).length === 1, 'the server has the comment', 10_000);
      expect(await stored()).to.deep.equal([body]);
      const thread = frame.contentDocument!.querySelector('comment-thread')!;
      await until(() => bodies(thread).includes(body) && !thread.shadowRoot!.querySelector('.sending'), 'the page shows it posted');
    } finally {
      frame.remove();
    }
  });

  it('ends a Reply click right after the first paint (the composer may still be loading) with focus in the composer', async () => {
    const post = newPost();
    const first = await seed(post, { name: 'Ruth', body: 'Reply to me' });
    // A fresh page with only the script tag, so the composer's chunk is not loaded yet.
    const frame = document.createElement('iframe');
    frame.src = `/__blogtalk__/csp.html?post=${encodeURIComponent(post)}`;
    document.body.append(frame);
    try {
      await until(() => frame.contentDocument?.querySelector('comment-thread')?.shadowRoot?.querySelector('[part~="reply-button"]'), 'painted');
      const thread = frame.contentDocument!.querySelector('comment-thread')!;
      const root = thread.shadowRoot!;
      root.querySelector<HTMLButtonElement>(`#comment-${first.id} [part~="reply-button"]`)!.click();
      await until(() => root.activeElement?.matches('[part~="textarea"]') && root.querySelector('login-picker'), 'focus in the composer’s textarea');
      expect(root.querySelector('#reply-title')!.textContent!.replace(/\s+/g, ' ').trim()).to.equal('Reply to Ruth');
    } finally {
      frame.remove();
    }
  });
});
