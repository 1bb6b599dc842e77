/**
 * The offline outbox in the real browser: real IndexedDB, the real server behind a
 * fault-injecting proxy (test/support/fault-proxy.ts), and a clock the test advances, so
 * backoff never costs real time. Every check is on what the writer sees and on what the
 * server stored.
 */
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { clear, createStore, set } from 'idb-keyval';
import type { CommentPage } from '../../src/data/api-types.js';
import { HttpBackend } from '../../src/data/http-backend.js';
import { backoff, createOutbox, idbStore, type Outbox, type OutboxRecord } from '../../src/data/outbox.js';
import '../../src/index.js';
import type { CommentThreadElement } from '../../src/index.js';
import { LoginEvent } from '../../src/events.js';
import {
  $,
  $$,
  bodies,
  Clock,
  guestField,
  heading,
  newPost,
  notice,
  proxy,
  server,
  text,
  textarea,
  typeInto,
  until,
  writeComment,
} from './helpers.js';

interface Stats {
  posts: number;
  forwarded: number;
  faulted: number;
}
type Fault = { mode: 'none' | 'status' | 'drop-response' | 'hang' | 'reset'; status?: number; retryAfter?: number; count?: number };

const fault = (payload: { fault?: Fault; down?: boolean; up?: boolean } = {}) =>
  executeServerCommand<Stats, typeof payload>('blogtalk-fault', payload);

const store = createStore('blogtalk', 'outbox');

async function list(post: string): Promise<CommentPage> {
  return new HttpBackend(server).list(post);
}

/** A thread on a new post whose comments go through the proxy, with its own outbox on the test clock. */
async function setUp(options: { post?: string; clock?: Clock; timeout?: number; channel?: boolean } = {}) {
  const post = options.post ?? newPost('outbox');
  const clock = options.clock ?? new Clock();
  const backend = new HttpBackend(proxy, { timeout: options.timeout ?? 2_000 });
  const outbox = createOutbox({
    backend,
    server: proxy,
    store: idbStore(store),
    now: clock.now,
    schedule: clock.schedule,
    random: () => 0.5,
    locks: navigator.locks,
    channel: options.channel ? new BroadcastChannel('blogtalk-outbox') : null,
    window,
  });
  outboxes.push(outbox);
  const element = await fixture<CommentThreadElement>(
    html`<comment-thread post=${post} server=${server} .backend=${backend} .outbox=${outbox}></comment-thread>`,
  );
  await until(() => heading(element) !== '' || element.shadowRoot!.querySelector('.state button'), 'loaded, or not');
  return { post, clock, backend, outbox, element };
}

let outboxes: Outbox[] = [];

function state(element: CommentThreadElement): string {
  return text(element.shadowRoot!.querySelector('.sending [part~="status"], .failed [part~="status"]'));
}

const WAITING = 'Waiting for connection — will send automatically';

async function submitted(element: CommentThreadElement, body: string): Promise<string> {
  if (guestField(element, 'name').value) await typeInto(textarea(element), body);
  else await writeComment(element, body);
  const queued = oneEvent(element, 'comment-queued');
  $(element, '[part~="submit-button"]').click();
  return (await queued).detail.id;
}

async function records(): Promise<OutboxRecord[]> {
  const { entries } = await import('idb-keyval');
  return (await entries(store)).filter(([key]) => typeof key === 'string').map(([, value]) => value as OutboxRecord);
}

describe('the offline outbox', function () {
  this.timeout(20_000);

  beforeEach(async () => {
    await fault({ fault: { mode: 'none' }, up: true });
    await clear(store);
  });

  afterEach(async () => {
    for (const outbox of outboxes) outbox.close();
    outboxes = [];
    await fault({ fault: { mode: 'none' } });
    await clear(store);
  });

  it('backs off from about 2 s, doubling to 5 minutes, with ±20 % jitter', () => {
    expect(backoff(1, () => 0.5)).to.equal(2_000);
    expect(backoff(2, () => 0.5)).to.equal(4_000);
    expect(backoff(1, () => 0)).to.equal(1_600);
    expect(backoff(1, () => 1)).to.be.closeTo(2_400, 1e-6);
    expect(backoff(20, () => 0.5)).to.equal(300_000);
  });

  it('keeps a comment written while the server is down across re-creating the element, and posts it once when back online', async () => {
    await fault({ down: true });
    const first = await setUp();
    const id = await submitted(first.element, 'Written on a train');
    await until(() => state(first.element) === WAITING, 'waiting for connection');
    expect((await records()).map((r) => [r.id, r.state])).to.deep.equal([[id, 'pending']]);

    // The page goes away; the next visit finds the comment in IndexedDB.
    first.element.remove();
    first.outbox.close();
    const again = await setUp({ post: first.post });
    await until(() => bodies(again.element).join() === 'Written on a train', 'shown again from the outbox');
    expect(state(again.element)).to.equal(WAITING);

    await fault({ up: true });
    const posted = oneEvent(again.element, 'comment-posted');
    dispatchEvent(new Event('online'));
    expect((await posted).detail.id).to.equal(id);
    await until(() => !again.element.shadowRoot!.querySelector('.sending'), 'no longer pending');
    expect(bodies(again.element)).to.deep.equal(['Written on a train']);
    expect((await list(first.post)).comments.map((c) => c.id)).to.deep.equal([id]);
    await until(async () => (await records()).length === 0, 'the outbox is empty');
  });

  for (const [name, payload, wait] of [
    ['a 500', { mode: 'status', status: 500 }, 2_000],
    ['a 503 with Retry-After', { mode: 'status', status: 503, retryAfter: 30 }, 30_000],
    ['a 429 with Retry-After', { mode: 'status', status: 429, retryAfter: 7 }, 7_000],
    ['a 408', { mode: 'status', status: 408 }, 2_000],
    ['a reset connection', { mode: 'reset' }, 2_000],
  ] as [string, Fault, number][]) {
    it(`waits after ${name}, does not send again before it is due, and then delivers the comment once`, async () => {
      const { element, clock, post } = await setUp();
      // For as long as the test says: Chromium itself resends once on a reset or a 408.
      await fault({ fault: { ...payload, count: 1_000 } });
      const id = await submitted(element, `Through ${name}`);
      await until(() => state(element) === WAITING, 'waiting after the refusal');
      await until(() => clock.next() !== null, 'a retry is scheduled');
      expect(clock.next()).to.equal(wait);
      const before = await fault({ fault: { mode: 'none' } });
      clock.advance(wait - 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await fault()).posts).to.equal(before.posts);
      const posted = oneEvent(element, 'comment-posted');
      clock.advance(1);
      expect((await posted).detail.id).to.equal(id);
      expect((await fault()).posts).to.equal(before.posts + 1);
      expect((await list(post)).comments.map((c) => c.id)).to.deep.equal([id]);
      await until(() => bodies(element).length === 1 && !element.shadowRoot!.querySelector('.sending'), 'shown once');
    });
  }

  it('retries after a timeout and after a lost response (stored, reply dropped), and the server keeps one copy', async () => {
    const { element, clock, post } = await setUp({ timeout: 300 });
    const base = await fault({ fault: { mode: 'hang', count: 1 } });
    const first = await submitted(element, 'Slow server');
    await until(() => state(element) === WAITING, 'waiting after the timeout');
    await fault({ fault: { mode: 'drop-response', count: 1 } });
    await until(() => clock.next() !== null, 'a retry is scheduled');
    clock.advance(clock.next()!);
    await until(async () => (await fault()).faulted >= base.faulted + 2 && state(element) === WAITING, 'the reply was lost');
    await until(() => clock.next() !== null, 'another retry is scheduled');
    const posted = oneEvent(element, 'comment-posted');
    clock.advance(clock.next()!);
    expect((await posted).detail.id).to.equal(first);
    const page = await list(post);
    expect(page.comments.map((c) => c.id)).to.deep.equal([first]);
    await until(() => bodies(element).length === 1 && !element.shadowRoot!.querySelector('.sending'), 'one copy on screen');
  });

  it('marks a comment failed with the server’s reason on a 422, does not retry it, and sends it again after Edit', async () => {
    const { element, clock, post } = await setUp();
    await fault({ fault: { mode: 'status', status: 422 } });
    const failed = oneEvent(element, 'comment-failed');
    const id = await submitted(element, 'Refused once');
    const { detail } = await failed;
    expect(detail).to.deep.equal({ id, status: 422, code: 'injected_422', message: 'Injected 422.' });
    await until(() => state(element) === 'Couldn’t post: Injected 422.', 'failed in place');
    const posts = (await fault()).posts;
    clock.advance(3_600_000);
    dispatchEvent(new Event('online'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await fault()).posts).to.equal(posts);
    expect((await records()).map((r) => r.state)).to.deep.equal(['failed']);

    // Edit, with the keyboard.
    const edit = $$(element, '.failed button').find((button) => text(button) === 'Edit')!;
    edit.focus();
    edit.click();
    await until(() => textarea(element).value === 'Refused once', 'back in the composer');
    expect(await records()).to.deep.equal([]);
    const queued = oneEvent(element, 'comment-queued');
    const posted = oneEvent(element, 'comment-posted');
    $(element, '[part~="submit-button"]').click();
    const second = (await queued).detail.id;
    expect(second).to.not.equal(id);
    expect((await posted).detail.id).to.equal(second);
    expect((await list(post)).comments.map((c) => c.body)).to.deep.equal(['Refused once']);
    expect(notice(element)).to.equal('Your comment was posted.');
  });

  it('holds a comment refused with 401 (sign-in expired) and sends it once the writer signs in again', async () => {
    const { element, post } = await setUp();
    await fault({ fault: { mode: 'status', status: 401, count: 1 } });
    const failed = oneEvent(element, 'comment-failed');
    await submitted(element, 'After signing in again');
    expect((await failed).detail.status).to.equal(401);
    await until(() => state(element).startsWith('Couldn’t post:'), 'held in place');
    expect((await list(post)).total).to.equal(0);

    // The reader signs in again: <login-picker> announces it, and the comment goes.
    const posted = oneEvent(element, 'comment-posted');
    const picker = element.shadowRoot!.querySelector('login-picker')!;
    picker.dispatchEvent(new LoginEvent({ provider: 'demo', name: 'Bob' }));
    await posted;
    expect((await list(post)).comments.map((c) => c.body)).to.deep.equal(['After signing in again']);
  });

  it('discards a failed comment, and retries one on Retry', async () => {
    const { element, post } = await setUp();
    await fault({ fault: { mode: 'status', status: 400, count: 2 } });
    await submitted(element, 'To discard');
    await until(() => element.shadowRoot!.querySelector('.failed'), 'failed');
    $$(element, '.failed button').find((button) => text(button) === 'Discard')!.click();
    await until(() => bodies(element).length === 0, 'discarded');
    expect(await records()).to.deep.equal([]);

    const id = await submitted(element, 'To retry');
    await until(() => element.shadowRoot!.querySelector('.failed'), 'failed');
    const posted = oneEvent(element, 'comment-posted');
    $$(element, '.failed button').find((button) => text(button) === 'Retry')!.click();
    expect((await posted).detail.id).to.equal(id);
    expect((await list(post)).comments.map((c) => c.body)).to.deep.equal(['To retry']);
  });

  it('gives up after 30 days unsent, says so, and still sends it on Retry', async () => {
    await fault({ down: true });
    const { element, clock, post } = await setUp();
    const id = await submitted(element, 'A month on a desert island');
    await until(() => state(element) === WAITING, 'waiting');
    await fault({ up: true });
    await fault({ fault: { mode: 'reset', count: 1_000 } });
    clock.advance(31 * 86_400_000);
    await until(() => state(element) === 'Couldn’t post: not sent for 30 days', 'given up');
    await fault({ fault: { mode: 'none' } });
    const posted = oneEvent(element, 'comment-posted');
    $$(element, '.failed button').find((button) => text(button) === 'Retry')!.click();
    expect((await posted).detail.id).to.equal(id);
    expect((await list(post)).total).to.equal(1);
  });

  it('flushes from two tabs at once (two outboxes on one database) and the server keeps one copy', async () => {
    await fault({ down: true });
    const clock = new Clock();
    const a = await setUp({ clock, channel: true });
    const id = await submitted(a.element, 'From two tabs');
    await until(() => state(a.element) === WAITING, 'waiting');
    const b = await setUp({ clock, post: a.post, channel: true });
    await until(() => bodies(b.element).length === 1, 'the other tab shows it');
    await fault({ up: true });
    await Promise.all([a.outbox.flush(true), b.outbox.flush(true), a.outbox.flush(true)]);
    await b.outbox.flush(true);
    expect((await list(a.post)).comments.map((c) => c.id)).to.deep.equal([id]);
    await until(() => !a.element.shadowRoot!.querySelector('.sending') && bodies(a.element).length === 1, 'a shows it posted');
    await until(() => !b.element.shadowRoot!.querySelector('.sending') && bodies(b.element).length === 1, 'b shows it posted');
  });

  it('with three tabs open, a posted comment is removed from the outbox once and announced once, not once per tab', async () => {
    // Every tab's thread clears a record it sees sent. Each used to delete it and broadcast the
    // removal, so every tab re-rendered once per other tab: the work per comment grew with the
    // square of the open tabs (the model test with a second page ran out of time on it).
    const clock = new Clock();
    const a = await setUp({ clock, channel: true });
    const others = [await setUp({ clock, post: a.post, channel: true }), await setUp({ clock, post: a.post, channel: true })];
    const heard: string[] = [];
    const listener = new BroadcastChannel('blogtalk-outbox');
    listener.onmessage = ({ data }: MessageEvent<{ id: string; record: OutboxRecord | null }>) =>
      heard.push(data.record ? data.record.state : 'removed');
    try {
      const id = await submitted(a.element, 'Seen in three tabs');
      await until(async () => (await records()).length === 0, 'the outbox is empty');
      for (const tab of [a, ...others]) {
        await until(() => bodies(tab.element).join() === 'Seen in three tabs' && !tab.element.shadowRoot!.querySelector('.sending'), 'each tab shows it posted');
      }
      // Let every tab's thread act on what it saw, and every message arrive.
      await Promise.all([a, ...others].map((tab) => tab.outbox.flush()));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard).to.deep.equal(['pending', 'sending', 'sent', 'removed']);
      expect((await list(a.post)).comments.map((c) => c.id)).to.deep.equal([id]);
    } finally {
      listener.close();
    }
  });

  it('tells its threads of a flush only when it changed something (each re-renders every comment)', async () => {
    const { outbox } = await setUp();
    // Another post's comment: this thread does not clear it once sent.
    await outbox.add('told-once', { post: newPost(), author: { name: 'A', email: 'a@example.org' }, body: 'Told once' }, 0);
    await outbox.flush(true);
    let told = 0;
    outbox.subscribe(() => told++);
    await outbox.flush(true); // nothing waiting, nothing changed (the sent record stays until shown)
    expect(told).to.equal(0);
    // A change made by another tab without a channel is still picked up on the next flush.
    await set('from-elsewhere', { ...outbox.records()[0]!, id: 'from-elsewhere', state: 'failed' }, store);
    await outbox.flush();
    expect(told).to.equal(1);
    expect(outbox.records().map((r) => r.id).sort()).to.deep.equal(['from-elsewhere', 'told-once'].sort());
  });

  it('deletes a sent comment that no thread cleared 7 days after it was sent, from any page of the site', async () => {
    // Sent from a page that closed before its thread showed it; that post is never opened again.
    const clock = new Clock();
    const backend = new HttpBackend(proxy);
    const options = { backend, server: proxy, store: idbStore(store), now: clock.now, schedule: clock.schedule };
    const gone = createOutbox(options);
    outboxes.push(gone);
    const post = newPost('never-again');
    await gone.add('sent-and-left', { post, author: { name: 'A', email: 'a@example.org' }, body: 'Left behind' }, 0);
    await gone.flush(true);
    gone.close();
    expect((await records()).map((r) => [r.id, r.state])).to.deep.equal([['sent-and-left', 'sent']]);

    // A week less a minute later, a page of another post of the site keeps it ...
    clock.advance(7 * 86_400_000 - 60_000);
    const other = await setUp({ clock });
    await other.outbox.flush();
    expect((await records()).map((r) => r.id)).to.deep.equal(['sent-and-left']);
    // ... and two minutes later deletes it; the server still has the comment.
    clock.advance(120_000);
    await other.outbox.flush();
    expect(await records()).to.deep.equal([]);
    expect((await list(post)).comments.map((c) => c.body)).to.deep.equal(['Left behind']);
  });

  it('flushes what another post left behind, while showing only its own post’s pending comments', async () => {
    await fault({ down: true });
    const other = await setUp();
    const left = await submitted(other.element, 'Left on another post');
    await until(() => state(other.element) === WAITING, 'waiting on the other post');
    other.element.remove();
    other.outbox.close();

    const here = await setUp();
    const mine = await submitted(here.element, 'Written here');
    await until(() => state(here.element) === WAITING, 'waiting here');
    expect(bodies(here.element)).to.deep.equal(['Written here']);
    await fault({ up: true });
    const posted = oneEvent(here.element, 'comment-posted');
    dispatchEvent(new Event('online'));
    expect((await posted).detail.id).to.equal(mine);
    await until(async () => (await list(other.post)).total === 1, 'the other post’s comment is sent too');
    expect((await list(other.post)).comments.map((c) => c.id)).to.deep.equal([left]);
    expect(bodies(here.element)).to.deep.equal(['Written here']);
  });

  it('skips and reports corrupt or foreign records, and sends the good ones', async () => {
    await set('not-a-record', { hello: 'world' }, store);
    await set('old-version', { version: 0, id: 'old-version' }, store);
    const reported: IDBValidKey[] = [];
    const backend = new HttpBackend(proxy);
    const outbox = createOutbox({ backend, server: proxy, store: idbStore(store), report: (key) => reported.push(key) });
    outboxes.push(outbox);
    await outbox.ready;
    expect(reported.sort()).to.deep.equal(['not-a-record', 'old-version']);
    const post = newPost();
    await outbox.add('good-record-1', { post, author: { name: 'A', email: 'a@example.org' }, body: 'Good' }, 0);
    await outbox.flush(true);
    expect(outbox.records().map((r) => [r.id, r.state])).to.deep.equal([['good-record-1', 'sent']]);
    expect((await list(post)).total).to.equal(1);
  });

  it('saves the draft as typed, brings it back in a new element, and forgets it once queued', async () => {
    const first = await setUp();
    await writeComment(first.element, 'Half a thought');
    await until(async () => {
      const { entries } = await import('idb-keyval');
      return (await entries(store)).some(([key]) => Array.isArray(key));
    }, 'the draft is saved');
    first.element.remove();
    const again = await setUp({ post: first.post });
    await until(() => textarea(again.element).value === 'Half a thought', 'the draft is back');
    await typeInto(guestField(again.element, 'name'), 'Bob');
    await typeInto(guestField(again.element, 'email'), 'bob@example.org');
    const queued = oneEvent(again.element, 'comment-queued');
    $(again.element, '[part~="submit-button"]').click();
    await queued;
    await until(async () => {
      const { entries } = await import('idb-keyval');
      return !(await entries(store)).some(([key]) => Array.isArray(key));
    }, 'the draft is forgotten');
  });
});

describe('the outbox without IndexedDB', function () {
  this.timeout(20_000);

  async function postsAnyway(body: string): Promise<void> {
    const post = newPost('no-idb');
    // A backend of its own, so the page's outbox for it starts now, under the broken IndexedDB.
    const element = await fixture<CommentThreadElement>(
      html`<comment-thread post=${post} server=${server} .backend=${new HttpBackend(server)}></comment-thread>`,
    );
    await until(() => heading(element) === 'No responses yet', 'loaded');
    await writeComment(element, body);
    const posted = oneEvent(element, 'comment-posted');
    $(element, '[part~="submit-button"]').click();
    await posted;
    await until(
      () => text(element.shadowRoot!.querySelector('.composer .error[role="status"]')).includes('will be lost if you close the page'),
      'the warning',
    );
    expect((await list(post)).comments.map((c) => c.body)).to.deep.equal([body]);
    await until(() => bodies(element).length === 1 && !element.shadowRoot!.querySelector('.sending'), 'shown once');
  }

  it('still posts when IndexedDB throws on write, and warns that an unsent comment will not survive closing the page', async () => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      await postsAnyway('Kept in memory');
    } finally {
      IDBObjectStore.prototype.put = put;
    }
  });

  it('still posts when IndexedDB cannot be opened at all (private mode, blocked), with the same warning', async () => {
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function () {
      throw new DOMException('A mutation operation was attempted on a database that did not allow mutations.', 'InvalidStateError');
    };
    try {
      await postsAnyway('No database here');
    } finally {
      IDBFactory.prototype.open = open;
    }
  });
});
