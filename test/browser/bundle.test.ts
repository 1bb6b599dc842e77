/**
 * dist/blogtalk.js as a blog uses it: a classic <script>, possibly twice. This file imports no
 * element module, so the bundle is what defines the elements here.
 */
import { expect } from '@open-wc/testing';
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
      firstDefinition = customElements.get('comment-thread');
      // Again, as a page with two embeds (or a theme plus a plugin) would: from the server itself.
      await loadScript(`${server}/blogtalk.js`);
    } finally {
      removeEventListener('error', record);
    }
  });

  it('defines every element and can be loaded twice without an error', () => {
    expect(errors).to.deep.equal([]);
    expect(firstDefinition).to.not.equal(undefined);
    expect(customElements.get('comment-thread')).to.equal(firstDefinition);
    expect(customElements.get('login-picker')).to.not.equal(undefined);
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
});
