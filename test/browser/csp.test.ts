/**
 * A blog with a strict Content Security Policy: no inline script, no eval, Trusted Types
 * required, styles only from 'self'. The page (/__blogtalk__/csp.html, served with that header
 * by web-test-runner.config.mjs) loads the bundle from the comment server, with no
 * data-server, so the element also finds its server from the script's origin. The loader
 * imports the widget's chunks with dynamic `import()` (no Trusted Types sink, no eval).
 */
import { expect } from '@open-wc/testing';
import type { Comment } from '../../src/data/api-types.js';
import { $, bodies, heading, newPost, seed, text, until } from './helpers.js';

interface StrictWindow extends Window {
  __violations: { directive: string; blocked: string; source: string; sample: string }[];
  __evalBlocked: boolean;
  __trustedTypesEnforced: boolean;
  Event: typeof Event;
}

describe('a page with a strict Content-Security-Policy', function () {
  this.timeout(20_000);

  it('renders the thread and posts a comment, with no policy violation', async () => {
    const post = newPost();
    await seed(post, { body: 'Seeded before' });
    const frame = document.createElement('iframe');
    frame.style.width = '800px';
    frame.style.height = '900px';
    const loaded = new Promise((resolve) => (frame.onload = resolve));
    frame.src = `/__blogtalk__/csp.html?post=${encodeURIComponent(post)}`;
    document.body.append(frame);
    try {
      await loaded;
      const win = frame.contentWindow as StrictWindow;
      // The policy is really in force on this page.
      expect(win.__evalBlocked).to.equal(true);
      expect(win.__trustedTypesEnforced).to.equal(true);

      const thread = frame.contentDocument!.querySelector('comment-thread')!;
      await until(() => bodies(thread).length === 1, 'the thread renders');
      expect(heading(thread)).to.equal('One Response to “A strict page”');
      // Lit's adopted style sheets apply under style-src 'self'.
      expect(win.getComputedStyle($(thread, '[part~="submit-button"]')).fontWeight).to.equal('600');

      // The composer's part (with the picker) is loaded after the first paint.
      await until(() => thread.shadowRoot!.querySelector('login-picker')?.shadowRoot?.querySelector('#name'), 'the guest form');
      const picker = $(thread, 'login-picker');
      const fill = (field: HTMLInputElement | HTMLTextAreaElement, value: string) => {
        field.value = value;
        field.dispatchEvent(new win.Event('input', { bubbles: true, composed: true }));
      };
      fill($<HTMLInputElement>(picker, '#name'), 'Strict Reader');
      fill($<HTMLInputElement>(picker, '#email'), 'strict@example.org');
      fill($<HTMLTextAreaElement>(thread, '[part~="textarea"]'), 'Posted under a strict policy');
      const posted = new Promise<Comment>((resolve) =>
        thread.addEventListener('comment-posted', (event) => resolve((event as CustomEvent<Comment>).detail)),
      );
      $(thread, '[part~="submit-button"]').click();
      const comment = await posted;
      await until(() => bodies(thread).length === 2 && !thread.shadowRoot!.querySelector('.sending'), 'the comment is shown');
      expect(text(thread.shadowRoot!.getElementById(`comment-${comment.id}`)!.querySelector('[part~="comment-body"]'))).to.equal(
        'Posted under a strict policy',
      );

      const probe = '/test/browser/fixtures/csp-probe.js';
      const violations = win.__violations.filter((violation) => !violation.source.endsWith(probe));
      expect(violations).to.deep.equal([]);
      expect(win.__violations.length).to.be.greaterThan(0, 'the probe’s own violations were reported');
    } finally {
      frame.remove();
    }
  });
});
