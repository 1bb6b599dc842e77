/** axe finds nothing wrong with <comment-thread> in each state a reader or writer meets. */
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { HttpBackend } from '../../src/data/http-backend.js';
import '../../src/index.js';
import type { CommentThreadElement } from '../../src/index.js';
import { $, bodies, ControlledBackend, heading, newPost, seed, server, until, writeComment } from './helpers.js';

describe('<comment-thread> accessibility', function () {
  this.timeout(20_000);

  it('is accessible while loading', async () => {
    const backend = new ControlledBackend();
    backend.holdLists = true;
    const element = await fixture<CommentThreadElement>(html`<comment-thread post=${newPost()} .backend=${backend}></comment-thread>`);
    await until(() => element.shadowRoot!.querySelector('[role="status"]')?.textContent === 'Loading comments…', 'loading');
    await expect(element).to.be.accessible();
    backend.release();
  });

  it('is accessible when there are no responses', async () => {
    const element = await fixture<CommentThreadElement>(html`<comment-thread post=${newPost()} server=${server}></comment-thread>`);
    await until(() => heading(element) === 'No responses yet', 'empty');
    await expect(element).to.be.accessible();
  });

  it('is accessible with a threaded list, in the page’s colours and in each theme', async () => {
    const post = newPost();
    const body = 'See https://example.org/a\n\nSecond paragraph';
    const top = await seed(post, { name: 'Alice', website: 'https://alice.example', body });
    await seed(post, { name: 'Bob', parent: top.id, body: 'A reply' });
    for (const theme of [undefined, 'light', 'dark']) {
      const element = await fixture<CommentThreadElement>(
        html`<comment-thread post=${post} server=${server} theme=${theme ?? ''}></comment-thread>`,
      );
      if (!theme) element.removeAttribute('theme');
      await until(() => bodies(element).length === 2, 'list');
      await expect(element).to.be.accessible();
    }
  });

  it('is accessible while a comment is being sent', async () => {
    const backend = new ControlledBackend();
    backend.holdPosts = true;
    const element = await fixture<CommentThreadElement>(html`<comment-thread post=${newPost()} .backend=${backend}></comment-thread>`);
    await until(() => heading(element) === 'No responses yet', 'empty');
    await writeComment(element, 'Hold on');
    $(element, '[part~="submit-button"]').click();
    await until(() => element.shadowRoot!.querySelector('.sending'), 'sending');
    await expect(element).to.be.accessible();
    const posted = oneEvent(element, 'comment-posted');
    backend.release();
    await posted;
  });

  it('is accessible when the fields are wrong and when the server refuses the comment', async () => {
    const post = newPost();
    let parent: string | null = null;
    for (let depth = 0; depth <= 5; depth++) parent = (await seed(post, { parent, body: `Level ${depth}` })).id;
    const element = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
    await until(() => bodies(element).length === 6, 'list');
    $(element, '[part~="submit-button"]').click();
    await until(() => element.shadowRoot!.querySelector('#comment-error')?.textContent !== '', 'field messages');
    await expect(element).to.be.accessible();

    $(element, `#comment-${parent} [part~="reply-button"]`).click();
    await element.updateComplete;
    await writeComment(element, 'Too deep');
    const failed = oneEvent(element, 'comment-failed');
    $(element, '[part~="submit-button"]').click();
    await failed;
    await until(() => element.shadowRoot!.querySelector('.failed button'), 'failed, with Edit / Discard / Retry');
    await expect(element).to.be.accessible();
  });

  it('is accessible in the error state, in Arabic too', async () => {
    for (const lang of ['en', 'ar']) {
      const element = await fixture<CommentThreadElement>(
        // The catalog comes from the server; the comments from one that cannot be reached.
        html`<comment-thread lang=${lang} post=${newPost()} server=${server} .backend=${new HttpBackend('http://127.0.0.1:9')}></comment-thread>`,
      );
      await until(() => element.shadowRoot!.querySelector('.state button'), 'error');
      await until(() => $(element, '.thread').getAttribute('dir') === (lang === 'ar' ? 'rtl' : 'ltr'), 'in its language');
      await expect(element).to.be.accessible();
    }
  });
});
