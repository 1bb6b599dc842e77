import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Comment } from '../../src/data/api-types.js';
import { buildApp } from '../../server/app.js';
import { openStore, type OpenStoreOptions } from '../../server/store/index.js';
import { openSse } from '../support/sse-client.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const blog = 'https://live.example';
const other = 'https://other.example';
const sites = [
  { id: 'live', name: 'Live', origin: blog, allowedOrigins: [blog] },
  { id: 'other', name: 'Other', origin: other, allowedOrigins: [other] },
];
let n = 0;

async function startApp(storeOptions: OpenStoreOptions): Promise<{ app: FastifyInstance; url: string }> {
  const store = await openStore(storeOptions);
  const app = await buildApp({ store, secret: 's', sites, limits: { writesPerMinute: 1e6 } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

async function postComment(server: string, postUrl: string, body: string, origin = blog): Promise<Comment> {
  const res = await fetch(`${server}/api/v1/comments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `live-${process.pid}-${++n}`, origin },
    body: JSON.stringify({ post: postUrl, author: { name: 'Live', email: 'live@example.org' }, body }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as Comment;
}

/** Posts a guest comment with an edit token (made here, as the browser makes it) and returns both. */
async function postEditable(server: string, postUrl: string, body: string, parent: string | null = null) {
  const token = randomBytes(24).toString('base64url');
  const res = await fetch(`${server}/api/v1/comments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `live-${process.pid}-${++n}`, origin: blog },
    body: JSON.stringify({ post: postUrl, parent, author: { name: 'Live', email: 'live@example.org' }, body, editToken: token }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return { comment: (await res.json()) as Comment, token };
}

/** Edits (with a body) or deletes a comment through the API, as its guest author. */
async function change(server: string, target: { comment: Comment; token: string }, body?: string): Promise<unknown> {
  const action = body === undefined ? 'delete' : 'edit';
  const res = await fetch(`${server}/api/v1/comments/${target.comment.id}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: blog },
    body: JSON.stringify({ post: target.comment.post, editToken: target.token, ...(body === undefined ? {} : { body }) }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

const events = (server: string, site = blog, headers: Record<string, string> = {}) =>
  openSse(`${server}/api/v1/events?site=${encodeURIComponent(site)}`, { origin: blog, ...headers });

describe('live updates (Server-Sent Events)', () => {
  const dirs: string[] = [];
  const apps: FastifyInstance[] = [];
  after(async () => {
    for (const app of apps) await app.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const sqliteApp = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'blogtalk-live-'));
    dirs.push(dir);
    const started = await startApp({ dataDir: dir });
    apps.push(started.app);
    return started;
  };

  it("streams a site's new comments as they are posted, never an email address", async () => {
    const { url } = await sqliteApp();
    const stream = await events(url);
    try {
      assert.equal(stream.status, 200);
      assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
      assert.equal(stream.headers.get('access-control-allow-origin'), blog);
      const posted = await postComment(url, `${blog}/a/`, 'live one');
      const event = await stream.waitFor((e) => e.event === 'comment');
      assert.deepEqual(JSON.parse(event.data), posted);
      assert.ok(Number(event.id) > 0);
      assert.equal(event.data.includes('live@example.org'), false);
    } finally {
      stream.close();
    }
  });

  it("does not send another site's comments", async () => {
    const { url } = await sqliteApp();
    const stream = await events(url);
    try {
      await postComment(url, `${other}/x/`, 'elsewhere', other);
      const mine = await postComment(url, `${blog}/b/`, 'here');
      const event = await stream.waitFor((e) => e.event === 'comment');
      assert.equal(JSON.parse(event.data).id, mine.id);
      assert.equal(stream.events.length, 1);
    } finally {
      stream.close();
    }
  });

  it('replays what was missed to a client that reconnects with Last-Event-ID', async () => {
    const { url } = await sqliteApp();
    const first = await events(url);
    await postComment(url, `${blog}/c/`, 'seen');
    const seen = await first.waitFor((e) => e.event === 'comment');
    first.close();
    const missed = [await postComment(url, `${blog}/c/`, 'missed 1'), await postComment(url, `${blog}/d/`, 'missed 2')];
    const again = await events(url, blog, { 'last-event-id': seen.id! });
    try {
      await again.waitFor((e) => e.event === 'comment' && JSON.parse(e.data).id === missed[1]!.id);
      const ids = new Set(again.events.map((e) => JSON.parse(e.data).id as string));
      for (const c of missed) assert.ok(ids.has(c.id));
    } finally {
      again.close();
    }
  });

  it('also takes the last event id from the query, for a new EventSource after a pause', async () => {
    const { url } = await sqliteApp();
    const first = await events(url);
    await postComment(url, `${blog}/q/`, 'seen');
    const seen = await first.waitFor((e) => e.event === 'comment');
    first.close();
    const missed = await postComment(url, `${blog}/q/`, 'missed');
    const again = await openSse(
      `${url}/api/v1/events?site=${encodeURIComponent(blog)}&last-event-id=${seen.id}`,
      { origin: blog },
    );
    try {
      await again.waitFor((e) => e.event === 'comment' && JSON.parse(e.data).id === missed.id);
    } finally {
      again.close();
    }
  });

  it('streams edits and deletes as `edit` and `delete` events with the comment as it now reads', async () => {
    const { url } = await sqliteApp();
    const lonely = await postEditable(url, `${blog}/e/`, 'before');
    const parent = await postEditable(url, `${blog}/e/`, 'has a reply');
    await postEditable(url, `${blog}/e/`, 'the reply', parent.comment.id);
    const stream = await events(url);
    try {
      const edited = await change(url, lonely, 'after');
      const edit = await stream.waitFor((e) => e.event === 'edit');
      assert.deepEqual(JSON.parse(edit.data), edited);
      assert.equal(JSON.parse(edit.data).body, 'after');
      assert.ok(JSON.parse(edit.data).edited);

      await change(url, parent);
      const emptied = await stream.waitFor((e) => e.event === 'delete');
      const { comment, ...rest } = JSON.parse(emptied.data);
      assert.deepEqual(rest, { id: parent.comment.id, post: `${blog}/e/`, outcome: 'emptied' });
      assert.equal(comment.body, 'This comment was deleted.');
      assert.equal(comment.deleted, true);

      await change(url, lonely);
      const removed = await stream.waitFor((e) => e.event === 'delete' && e !== emptied);
      assert.deepEqual(JSON.parse(removed.data), { id: lonely.comment.id, post: `${blog}/e/`, outcome: 'removed' });
      assert.deepEqual(stream.events.map((e) => e.event), ['edit', 'delete', 'delete'], 'no new comment announced');
      const ids = stream.events.map((e) => Number(e.id));
      assert.ok(ids[0]! > 0 && ids[1]! > ids[0]! && ids[2]! > ids[1]!, `rising ids ${ids}`);
      assert.equal(stream.events.some((e) => e.data.includes('live@example.org')), false);
    } finally {
      stream.close();
    }
  });

  it('replays missed edits and deletes, in order, to a client that reconnects with Last-Event-ID', async () => {
    const { url } = await sqliteApp();
    const first = await events(url);
    const kept = await postEditable(url, `${blog}/r/`, 'kept');
    const gone = await postEditable(url, `${blog}/r/`, 'gone');
    await first.waitFor((e) => e.event === 'comment' && JSON.parse(e.data).id === gone.comment.id);
    const seen = first.events.at(-1)!;
    first.close();
    const added = await postEditable(url, `${blog}/r/`, 'added while away');
    await change(url, kept, 'kept, edited while away');
    await change(url, gone);
    await change(url, added, 'added, then edited');
    const again = await events(url, blog, { 'last-event-id': seen.id! });
    try {
      await again.waitFor((e) => e.event === 'edit' && JSON.parse(e.data).id === added.comment.id);
      const fresh = again.events.filter((e) => Number(e.id) > Number(seen.id));
      assert.deepEqual(
        fresh.map((e) => `${e.event} ${JSON.parse(e.data).id}`),
        [`comment ${added.comment.id}`, `edit ${kept.comment.id}`, `delete ${gone.comment.id}`, `edit ${added.comment.id}`],
      );
      const ids = fresh.map((e) => Number(e.id));
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      assert.equal(JSON.parse(fresh[1]!.data).body, 'kept, edited while away');
    } finally {
      again.close();
    }
  });

  it("gives each page the site's latest event id, a point its stream resumes from without a gap", async () => {
    const { url } = await sqliteApp();
    const list = async (post: string) => {
      const res = await fetch(`${url}/api/v1/comments?post=${encodeURIComponent(post)}`);
      assert.equal(res.status, 200);
      return { etag: res.headers.get('etag'), page: (await res.json()) as { events?: number; comments: Comment[] } };
    };
    const empty = await list(`${blog}/g/`);
    assert.equal(empty.page.events, 0, 'a site without events yet');
    const watcher = await events(url);
    try {
      const first = await postEditable(url, `${blog}/g/`, 'on the page');
      const fromEmpty = await events(url, blog, { 'last-event-id': '0' });
      try {
        const replayed = await fromEmpty.waitFor((e) => e.event === 'comment');
        assert.equal(JSON.parse(replayed.data).id, first.comment.id, 'resumed from an empty page');
      } finally {
        fromEmpty.close();
      }
      const announced = await watcher.waitFor((e) => e.event === 'comment');
      const before = await list(`${blog}/g/`);
      assert.equal(before.page.events, Number(announced.id), "the post's own latest event");
      // Another post moves the site on: the cached page of this one still resumes from its own
      // (valid: the page has not changed) until the site is far enough ahead to renew it.
      await postComment(url, `${blog}/elsewhere/`, 'another post');
      const cached = await list(`${blog}/g/`);
      assert.equal(cached.etag, before.etag, 'the same page');
      assert.equal(cached.page.events, before.page.events);
      for (let i = 0; i < 200; i++) await postComment(url, `${blog}/elsewhere/`, `busy ${i}`);
      const busy = await watcher.waitFor((e) => e.event === 'comment' && JSON.parse(e.data).body === 'busy 199');
      const renewed = await list(`${blog}/g/`);
      assert.equal(renewed.etag, before.etag, 'still the same page');
      assert.equal(renewed.page.events, Number(busy.id), "renewed to the site's latest");
      assert.deepEqual(renewed.page.comments, before.page.comments);
      assert.equal((await list(`${other}/g/`)).page.events, 0, "another site's events are not this one's");

      // Posted and edited after the page was read, before its stream opened: replayed from it.
      const added = await postEditable(url, `${blog}/g/`, 'posted in the gap');
      await change(url, first, 'edited in the gap');
      const stream = await events(url, blog, { 'last-event-id': String(renewed.page.events) });
      try {
        await stream.waitFor((e) => e.event === 'edit');
        const fresh = stream.events.filter((e) => Number(e.id) > renewed.page.events!);
        assert.deepEqual(
          fresh.map((e) => `${e.event} ${JSON.parse(e.data).id}`),
          [`comment ${added.comment.id}`, `edit ${first.comment.id}`],
        );
        assert.equal(JSON.parse(fresh[1]!.data).body, 'edited in the gap');
      } finally {
        stream.close();
      }
    } finally {
      watcher.close();
    }
  });

  it('refuses an unknown site and a page origin the site does not allow', async () => {
    const { url } = await sqliteApp();
    const unknown = await fetch(`${url}/api/v1/events?site=${encodeURIComponent('https://nope.example')}`);
    assert.equal(unknown.status, 404);
    const stranger = await events(url, blog, { origin: 'https://evil.example' });
    assert.equal(stranger.status, 403);
    assert.equal(stranger.headers.get('access-control-allow-origin'), null);
    stranger.close();
  });

  it('ends open streams when the server shuts down, so shutdown is not held up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'blogtalk-live-'));
    dirs.push(dir);
    const { app, url } = await startApp({ dataDir: dir });
    const stream = await events(url);
    await app.close();
    await stream.ended;
  });

  const databaseUrl = testDatabaseUrl;
  const schema = testSchemaName();
  after(() => dropTestSchema(schema));

  it(
    'fans out between two instances sharing PostgreSQL, and a reconnect to the other instance misses nothing',
    { skip: databaseUrl ? false : 'TEST_DATABASE_URL not set' },
    async () => {
      const a = await startApp({ databaseUrl: databaseUrl!, pgSchema: schema });
      apps.push(a.app);
      const b = await startApp({ databaseUrl: databaseUrl!, pgSchema: schema });
      apps.push(b.app);
      const onB = await events(b.url);
      await new Promise((resolve) => setTimeout(resolve, 300)); // B's LISTEN connection starts
      const posted = await postComment(a.url, `${blog}/pg/`, 'through A');
      const live = await onB.waitFor((e) => e.event === 'comment');
      assert.equal(JSON.parse(live.data).id, posted.id);
      onB.close();

      const missed = await postComment(b.url, `${blog}/pg/`, 'while away');
      const onA = await events(a.url, blog, { 'last-event-id': live.id! });
      try {
        await onA.waitFor((e) => e.event === 'comment' && JSON.parse(e.data).id === missed.id);
      } finally {
        onA.close();
      }
    },
  );

  it(
    'fans out edits and deletes between instances sharing PostgreSQL, and replays them on the other one',
    { skip: databaseUrl ? false : 'TEST_DATABASE_URL not set' },
    async () => {
      const a = await startApp({ databaseUrl: databaseUrl!, pgSchema: schema });
      apps.push(a.app);
      const b = await startApp({ databaseUrl: databaseUrl!, pgSchema: schema });
      apps.push(b.app);
      const first = await postEditable(a.url, `${blog}/pg-e/`, 'first');
      const second = await postEditable(a.url, `${blog}/pg-e/`, 'second');
      const onB = await events(b.url);
      await new Promise((resolve) => setTimeout(resolve, 300)); // B's LISTEN connection starts
      await change(a.url, first, 'first, edited on A');
      const edit = await onB.waitFor((e) => e.event === 'edit');
      assert.equal(JSON.parse(edit.data).body, 'first, edited on A');
      onB.close();

      await change(b.url, second, 'second, edited on B');
      await change(b.url, first);
      const onA = await events(a.url, blog, { 'last-event-id': edit.id! });
      try {
        await onA.waitFor((e) => e.event === 'delete');
        const fresh = onA.events.filter((e) => Number(e.id) > Number(edit.id));
        assert.deepEqual(fresh.map((e) => `${e.event} ${JSON.parse(e.data).id}`), [
          `edit ${second.comment.id}`,
          `delete ${first.comment.id}`,
        ]);
      } finally {
        onA.close();
      }
    },
  );
});
