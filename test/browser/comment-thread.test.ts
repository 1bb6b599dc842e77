/** <comment-thread> against the real reference server, driven as a reader and a writer would. */
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { createStore, entries } from 'idb-keyval';
import type { Comment } from '../../src/data/api-types.js';
import type { Backend } from '../../src/data/backend.js';
import { HttpBackend } from '../../src/data/http-backend.js';
import type { CommentSubmitEvent } from '../../src/events.js';
import '../../src/index.js';
import type { CommentThreadElement } from '../../src/index.js';
import {
  $,
  $$,
  bodies,
  ControlledBackend,
  deepActiveElement,
  guestField,
  heading,
  newPost,
  notice,
  pressWithControl,
  seed,
  server,
  text,
  textarea,
  typeInto,
  until,
  writeComment,
} from './helpers.js';

async function thread(post: string, attributes: { lang?: string; pageTitle?: string } = {}): Promise<CommentThreadElement> {
  const element = await fixture<CommentThreadElement>(
    html`<comment-thread post=${post} server=${server} page-title=${attributes.pageTitle ?? ''}></comment-thread>`,
  );
  if (attributes.lang) element.setAttribute('lang', attributes.lang);
  return element;
}

async function loaded(element: CommentThreadElement, count = 0): Promise<void> {
  await until(() => heading(element) !== '' && bodies(element).length === count, `${count} responses shown`);
}

function submit(element: CommentThreadElement): void {
  $(element, '[part~="submit-button"]').click();
}

describe('<comment-thread>', function () {
  afterEach(() => localStorage.clear());

  it('shows the empty state, then posts a comment that appears with the server’s copy and survives re-creating the element', async () => {
    const post = newPost();
    const element = await thread(post, { pageTitle: 'Kerry, Lavrov Try To Work Out Next Moves' });
    await loaded(element);
    expect(heading(element)).to.equal('No responses yet');

    await writeComment(element, 'First line', { name: 'Dave', email: 'dave@example.org', website: 'https://peace.example' });
    await sendKeys({ press: 'Enter' });
    await sendKeys({ type: 'second line' });
    const posted = oneEvent(element, 'comment-posted');
    const queued = oneEvent(element, 'comment-queued');
    submit(element);

    // Shown in place as soon as it is kept in the outbox, marked as being sent.
    await queued;
    await element.updateComplete;
    expect(bodies(element)).to.deep.equal(['First line second line']);
    expect(text($(element, '.sending [part~="status"]'))).to.equal('Sending…');
    expect($(element, '.sending [part~="status"]').getAttribute('role')).to.equal('status');

    const { detail: comment } = await posted;
    await until(() => !element.shadowRoot!.querySelector('.sending'), 'the server’s copy replaces the draft');
    const article = $(element, `#comment-${comment.id}`);
    expect(text(article.querySelector('.says'))).to.equal('Dave Says:');
    const author = article.querySelector<HTMLAnchorElement>('[part~="comment-author"] a')!;
    expect(author.href).to.equal('https://peace.example/');
    expect(author.rel).to.equal('nofollow ugc noopener');
    expect(article.querySelectorAll('[part~="comment-body"] br')).to.have.length(1);
    expect(article.querySelector('time')!.getAttribute('datetime')).to.equal(comment.created);
    expect(article.querySelector('time')!.title).to.not.equal('');
    expect(heading(element)).to.equal('One Response to “Kerry, Lavrov Try To Work Out Next Moves”');
    expect(notice(element)).to.equal('Your comment was posted.');
    expect(textarea(element).value).to.equal('');

    element.remove();
    const again = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
    await loaded(again, 1);
    expect(bodies(again)).to.deep.equal(['First line second line']);
    // The title given with the first comment is the post's stored title.
    expect(heading(again)).to.equal('One Response to “Kerry, Lavrov Try To Work Out Next Moves”');
  });

  it('counts responses in the heading with plural forms, in English and German', async () => {
    const none = newPost();
    const one = newPost();
    const three = newPost();
    await seed(one, { pageTitle: 'Stored title' });
    const first = await seed(three, { pageTitle: 'Syria' });
    await seed(three, { parent: first.id });
    await seed(three);
    document.title = 'Page title';
    const cases: [string, string, string][] = [
      [none, 'en', 'No responses yet'],
      [one, 'en', 'One Response to “Stored title”'],
      [three, 'en', '3 Responses to “Syria”'],
      [none, 'de', 'Noch keine Antworten'],
      [one, 'de', 'Eine Antwort zu „Stored title“'],
      [three, 'de', '3 Antworten zu „Syria“'],
    ];
    for (const [post, lang, expected] of cases) {
      const wrapper = await fixture(html`<div lang=${lang}><comment-thread post=${post} server=${server}></comment-thread></div>`);
      const element = wrapper.querySelector('comment-thread')!;
      await until(() => heading(element) === expected, `${lang}: “${expected}”, saw “${heading(element)}”`);
    }
    const titled = await thread(one, { pageTitle: 'Given title' });
    await until(() => heading(titled) === 'One Response to “Given title”', 'page-title wins over the stored title');
  });

  it('renders a reblog as “Name Says: Reblogged this on <blog>.”, linking only http(s) addresses', async () => {
    const post = newPost();
    const base = { post, parent: null, depth: 0, status: 'published', body: '', created: new Date().toISOString() } as const;
    const comments: Comment[] = [
      {
        ...base,
        id: 'reblog-1',
        kind: 'reblog',
        author: { name: 'daveyone1', website: 'https://worldpeaceforum.example', avatar: '9f86d081884c7d65' },
        reblog: { blogName: 'World Peace Forum', url: 'https://worldpeaceforum.example/2016/09/22/kerry/' },
      },
      {
        ...base,
        id: 'reblog-2',
        kind: 'reblog',
        author: { name: 'sneaky', website: 'javascript:alert(1)', avatar: '' },
        reblog: { blogName: 'Sneaky Blog', url: 'javascript:alert(2)' },
      },
    ];
    // The reblog API is a later issue: this backend stands in for it with data as the server sends it.
    const backend: Backend = {
      list: async () => ({ post: { url: post, title: 'Kerry' }, total: 2, comments, older: null }),
      post: async () => Promise.reject(new Error('not in this test')),
    };
    const element = await fixture<CommentThreadElement>(html`<comment-thread post=${post} .backend=${backend}></comment-thread>`);
    await loaded(element, 2);
    const [first, second] = $$(element, '[part~="comment"]');
    expect(text(first!.querySelector('.says'))).to.equal('daveyone1 Says:');
    expect(text(first!.querySelector('[part~="comment-body"]'))).to.equal('Reblogged this on World Peace Forum.');
    const link = first!.querySelector<HTMLAnchorElement>('.reblog a')!;
    expect(link.href).to.equal('https://worldpeaceforum.example/2016/09/22/kerry/');
    expect(link.rel).to.equal('nofollow ugc noopener');
    expect(text(second!.querySelector('[part~="comment-body"]'))).to.equal('Reblogged this on Sneaky Blog.');
    expect(second!.querySelectorAll('a:not([part~="comment-date"])')).to.have.length(0);
    expect(heading(element)).to.equal('2 Responses to “Kerry”');
  });

  it('nests a reply under its parent, started from the Reply button with the keyboard and sent with Ctrl+Enter', async () => {
    const post = newPost();
    const parent = await seed(post, { name: 'Alice', body: 'Top-level' });
    const element = await thread(post);
    await loaded(element, 1);

    const reply = $(element, `#comment-${parent.id} [part~="reply-button"]`);
    reply.focus();
    await sendKeys({ press: 'Enter' });
    await until(() => deepActiveElement() === textarea(element), 'focus moves to the textarea');
    expect(text($(element, '#reply-title'))).to.equal('Reply to Alice');

    $(element, '.reply-title button').click();
    await until(() => deepActiveElement() === reply, 'Cancel reply gives focus back to the Reply button');
    expect(text($(element, '#reply-title'))).to.equal('Leave a Reply');

    await sendKeys({ press: 'Enter' });
    await until(() => deepActiveElement() === textarea(element), 'focus moves to the textarea again');
    await writeComment(element, 'Nested reply');
    const posted = oneEvent(element, 'comment-posted');
    await pressWithControl('Enter');
    const { detail } = await posted;
    expect(detail).to.include({ parent: parent.id, depth: 1 });

    const children = () =>
      $(element, `#comment-${parent.id}`).parentElement!.querySelectorAll(':scope > ol.children > li > [part~="comment"]');
    await until(() => children().length === 1, 'the reply is nested under its parent');
    expect(children()[0]!.id).to.equal(`comment-${detail.id}`);
    expect(text($(element, '#reply-title'))).to.equal('Leave a Reply');

    const again = await thread(post);
    await loaded(again, 2);
    const nested = $(again, `#comment-${parent.id}`).parentElement!.querySelector(':scope > ol.children [part~="comment"]');
    expect(nested?.id).to.equal(`comment-${detail.id}`);
  });

  it('shows hostile text as text and links only http(s) URLs, with rel="nofollow ugc noopener"', async () => {
    const post = newPost();
    const body =
      'Look <img src=x onerror="window.__owned=1"> & <script>window.__owned=2</script>\n' +
      'javascript:window.__owned=3 and https://ok.example/a?b=1.\n\n' +
      '\u202Egnp.exe is not an image';
    await seed(post, { name: '<b>Mallory</b>\u202E', website: 'https://mallory.example', body });
    const element = await thread(post);
    await loaded(element, 1);

    const bodyPart = $(element, '[part~="comment-body"]');
    expect(bodyPart.querySelector('img, script, b')).to.equal(null);
    expect(bodyPart.textContent).to.contain('<img src=x onerror="window.__owned=1"> & <script>window.__owned=2</script>');
    expect(bodyPart.textContent).to.contain('\u202Egnp.exe is not an image');
    expect(bodyPart.querySelectorAll('p')).to.have.length(2);
    const links = [...bodyPart.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).to.deep.equal(['https://ok.example/a?b=1']);
    expect(links[0]!.rel).to.equal('nofollow ugc noopener');
    expect(links[0]!.target).to.equal('_blank');
    // Bidi overrides stay inside the body and the name.
    expect(bodyPart.getAttribute('dir')).to.equal('auto');
    const author = $(element, '[part~="comment-author"]');
    expect(author.localName).to.equal('bdi');
    expect(author.querySelector('b')).to.equal(null);
    expect(author.textContent).to.equal('<b>Mallory</b>\u202E');
    expect((window as { __owned?: number }).__owned).to.equal(undefined);
  });

  it('checks the fields before sending and says what is wrong next to each', async () => {
    const element = await thread(newPost());
    await loaded(element);
    let submits = 0;
    element.addEventListener('comment-submit', () => submits++);

    submit(element);
    await until(() => deepActiveElement() === textarea(element), 'focus goes to the comment field');
    const picker = $(element, 'login-picker');
    expect(text($(element, '#comment-error'))).to.equal('Please write a comment.');
    expect(textarea(element).getAttribute('aria-invalid')).to.equal('true');
    await until(() => text($(picker, '#name-error')) === 'Please enter your name.', 'name message');
    expect(text($(picker, '#email-error'))).to.equal('Please enter your email address.');

    await typeInto(textarea(element), 'Hello');
    submit(element);
    await until(() => deepActiveElement() === guestField(element, 'name'), 'focus goes to the first wrong guest field');
    await typeInto(guestField(element, 'name'), 'Eve');
    await typeInto(guestField(element, 'email'), 'not-an-address');
    await typeInto(guestField(element, 'website'), 'ftp://files.example');
    submit(element);
    await until(() => text($(picker, '#email-error')) === 'Please enter a valid email address.', 'email message');
    expect(text($(picker, '#name-error'))).to.equal('');
    expect(text($(picker, '#website-error'))).to.equal('A website address starts with http:// or https://.');

    guestField(element, 'email').select();
    await sendKeys({ type: 'eve@example.org' });
    guestField(element, 'website').select();
    await sendKeys({ press: 'Backspace' });
    // Pasted, not typed: 11,000 characters.
    textarea(element).value = 'x'.repeat(11_000);
    textarea(element).dispatchEvent(new Event('input', { bubbles: true }));
    submit(element);
    await until(() => text($(element, '#comment-error')) !== '', 'too-long message');
    expect(text($(element, '#comment-error'))).to.equal('Your comment is too long (11,000 characters; the limit is 10,000).');
    expect(submits).to.equal(0);
  });

  it('shows a refused comment in place with the server’s reason, fires comment-failed, and edits it back into the composer', async () => {
    const post = newPost();
    // Replies nest five levels deep on the server; the browser cannot know that.
    let parent: string | null = null;
    const chain: Comment[] = [];
    for (let depth = 0; depth <= 5; depth++) {
      const comment: Comment = await seed(post, { body: `Level ${depth}`, parent });
      chain.push(comment);
      parent = comment.id;
    }
    const element = await thread(post);
    await loaded(element, 6);
    $(element, `#comment-${chain[5]!.id} [part~="reply-button"]`).click();
    await until(() => deepActiveElement() === textarea(element), 'focus moves to the textarea');
    await writeComment(element, 'One level too deep');
    const failed = oneEvent(element, 'comment-failed');
    let posted = false;
    element.addEventListener('comment-posted', () => (posted = true));
    submit(element);

    const { detail } = await failed;
    expect(detail).to.include({ status: 422, code: 'too_deep' });
    await until(() => element.shadowRoot!.querySelector('.failed'), 'shown as failed in place');
    const status = $(element, '.failed [part~="status"]');
    expect(status.getAttribute('role')).to.equal('status');
    expect(text(status)).to.equal(`Couldn’t post: ${detail.message}`);
    expect(text(status)).to.contain('Replies can nest only 5 levels deep');
    expect($$(element, '.failed button').map((button) => text(button))).to.deep.equal(['Edit', 'Discard', 'Retry']);
    expect(bodies(element)).to.have.length(7);
    expect(posted).to.equal(false);

    // Edit: back in the composer with its reply target, gone from the list.
    $$(element, '.failed button')[0]!.click();
    await until(() => textarea(element).value === 'One level too deep', 'the text is back in the composer');
    expect(text($(element, '#reply-title'))).to.equal('Reply to Alice');
    expect(element.shadowRoot!.querySelector('.failed')).to.equal(null);
    expect(bodies(element)).to.have.length(6);
    expect(posted).to.equal(false);
  });

  it('keeps a comment that cannot reach the server, says it will send it, and sends it once the browser is online', async () => {
    const post = newPost();
    const backend = new ControlledBackend();
    backend.failPosts = 1;
    const element = await fixture<CommentThreadElement>(html`<comment-thread post=${post} .backend=${backend}></comment-thread>`);
    await loaded(element);
    const ids: string[] = [];
    element.addEventListener('comment-submit', (event) => ids.push(event.detail.id));
    const queued: string[] = [];
    element.addEventListener('comment-queued', (event) => queued.push(event.detail.id));
    let failures = 0;
    element.addEventListener('comment-failed', () => failures++);

    await writeComment(element, 'Sent on a bad day');
    submit(element);
    await until(
      () => text(element.shadowRoot!.querySelector('.sending [part~="status"]')) === 'Waiting for connection — will send automatically',
      'waiting, in place',
    );
    expect(textarea(element).value).to.equal('');
    expect(bodies(element)).to.deep.equal(['Sent on a bad day']);
    expect(failures).to.equal(0);
    expect(queued).to.deep.equal(ids);

    const posted = oneEvent(element, 'comment-posted');
    dispatchEvent(new Event('online'));
    const { detail } = await posted;
    expect(ids).to.have.length(1);
    expect(detail.id).to.equal(ids[0]);
    expect(backend.posts).to.equal(2);
    await until(() => !element.shadowRoot!.querySelector('.sending'), 'the server’s copy replaces it');
    expect(bodies(element)).to.deep.equal(['Sent on a bad day']);
    const page = await new HttpBackend(server).list(post);
    expect(page.comments.map((comment) => comment.id)).to.deep.equal([ids[0]]);
  });

  it('sends nothing when comment-submit is cancelled', async () => {
    const post = newPost();
    const element = await thread(post);
    await loaded(element);
    let request: CommentSubmitEvent['detail'] | undefined;
    element.addEventListener('comment-submit', (event) => {
      request = event.detail;
      event.preventDefault();
    });
    await writeComment(element, 'Not today');
    submit(element);
    await element.updateComplete;
    expect(request?.request).to.deep.include({ post, body: 'Not today', parent: null });
    expect(request?.request.author).to.deep.equal({ name: 'Bob', email: 'bob@example.org' });
    expect(bodies(element)).to.deep.equal([]);
    expect(textarea(element).value).to.equal('Not today');
    expect(notice(element)).to.equal('');
    const page = await new HttpBackend(server).list(post);
    expect(page.total).to.equal(0);
    expect((await entries(createStore('blogtalk', 'outbox'))).filter(([key]) => key === request?.id)).to.deep.equal([]);
  });

  it('remembers the guest details only when asked to', async () => {
    const first = await thread(newPost());
    await loaded(first);
    await writeComment(first, 'Remember me', { name: 'Carol', email: 'carol@example.org', website: 'https://carol.example' });
    $<HTMLInputElement>($(first, 'login-picker'), '#remember').click();
    const posted = oneEvent(first, 'comment-posted');
    submit(first);
    await posted;

    const second = await thread(newPost());
    await loaded(second);
    expect(guestField(second, 'name').value).to.equal('Carol');
    expect(guestField(second, 'email').value).to.equal('carol@example.org');
    expect(guestField(second, 'website').value).to.equal('https://carol.example');
    const remember = $<HTMLInputElement>($(second, 'login-picker'), '#remember');
    expect(remember.checked).to.equal(true);
    expect(text($(second, 'login-picker').shadowRoot!.querySelector('.remember'))).to.equal(
      'Save my name, email, and website in this browser for the next time I comment.',
    );
    // No providers yet: no "click an icon to log in" line.
    expect($(second, 'login-picker').shadowRoot!.textContent).to.not.contain('click an icon');

    remember.click();
    await typeInto(textarea(second), 'Forget me');
    const again = oneEvent(second, 'comment-posted');
    submit(second);
    await again;
    const third = await thread(newPost());
    await loaded(third);
    expect(guestField(third, 'name').value).to.equal('');
  });

  it('shows an error state with Retry, and loads once the server can be reached', async () => {
    const post = newPost();
    const element = await fixture<CommentThreadElement>(
      html`<comment-thread post=${post} server="http://127.0.0.1:9"></comment-thread>`,
    );
    await until(() => element.shadowRoot!.textContent!.includes('Comments could not be loaded.'), 'error state');
    expect(text($(element, '.state [part~="status"]'))).to.equal('Comments could not be loaded. Couldn’t reach the server.');
    expect(text($(element, '.state button'))).to.equal('Retry');
    element.setAttribute('server', server);
    await loaded(element);
    expect(heading(element)).to.equal('No responses yet');

    const backend = new ControlledBackend();
    backend.failLists = 1;
    await seed(post, { body: 'Worth the wait' });
    const retrying = await fixture<CommentThreadElement>(html`<comment-thread post=${post} .backend=${backend}></comment-thread>`);
    await until(() => retrying.shadowRoot!.querySelector('.state button'), 'Retry is offered');
    $(retrying, '.state button').click();
    await loaded(retrying, 1);
    expect(bodies(retrying)).to.deep.equal(['Worth the wait']);
  });

  it('shows the server’s reason when it refuses to list a post', async () => {
    const element = await fixture<CommentThreadElement>(
      html`<comment-thread post="https://not-registered.example/post" server=${server}></comment-thread>`,
    );
    await until(() => element.shadowRoot!.querySelector('.state button'), 'error state');
    expect(text($(element, '.state [part~="status"]'))).to.equal(
      'Comments could not be loaded. No site is registered for https://not-registered.example.',
    );
  });
});
