/**
 * Export format version 2: what sign-in added to a comment (its signed-in author, picture,
 * edit time, deleted state, guest edit-token hash) survives a round trip, and version 1 files
 * still import.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultLimits } from '../../server/config.js';
import { openStore } from '../../server/store/index.js';
import type { NewComment, Store } from '../../server/store/store.js';
import { exportSite, importSite } from '../../server/transfer/jsonl.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const dir = mkdtempSync(join(tmpdir(), 'blogtalk-transfer2-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const sqlite = () => openStore({ file: join(dir, `s${++n}.db`) });

const site = { id: 'blog', name: 'Blog', origin: 'https://blog.example', allowedOrigins: ['https://blog.example'] };
const post = 'https://blog.example/2026/11/edits/';
const profile = {
  issuer: 'https://id.example',
  subject: 'ada-42',
  name: 'Ada',
  picture: 'https://id.example/ada.png',
  website: null,
  email: 'ada@example.org',
};
const tokenHash = 'ab'.repeat(32);

function comment(id: string, minute: number, over: Partial<NewComment> = {}): NewComment {
  return {
    siteId: site.id,
    postUrl: post,
    postTitle: 'Edits',
    id,
    requestHash: `hash-${id}`,
    parentId: null,
    kind: 'comment',
    status: 'published',
    authorName: 'Guest',
    authorEmail: 'guest@example.org',
    authorWebsite: null,
    avatar: 'c'.repeat(32),
    body: `body of ${id}`,
    reblogBlogName: null,
    reblogUrl: null,
    created: new Date(Date.UTC(2026, 10, 26, 12, minute)),
    ...over,
  };
}

/** A signed-in author's edited comment, a guest's comment with a token, and a deleted one kept for its reply. */
async function seed(store: Store): Promise<string> {
  await store.putSite(site);
  const user = await store.upsertUser(profile, 'user-in-source', new Date());
  const add = async (c: NewComment) => assert.ok((await store.createComment(c, 5)).ok);
  await add(comment('signed', 1, { userId: user.id, authorName: 'Ada', authorPicture: profile.picture }));
  await store.editComment(site.id, 'signed', 'edited words', new Date(Date.UTC(2026, 10, 26, 12, 5)));
  await add(comment('guest', 2, { editTokenHash: tokenHash }));
  await add(comment('gone', 3));
  await add(comment('reply', 4, { parentId: 'gone' }));
  assert.equal(await store.deleteComment(site.id, 'gone', new Date(Date.UTC(2026, 10, 26, 12, 6))), 'emptied');
  return user.id;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}
async function* from(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}
const body = (lines: string[]) => lines.slice(1).sort();

function roundTrip(name: string, makeTarget: () => Promise<Store>, skip: string | false = false) {
  it(`keeps the signed-in author, edit time, deleted state and token hash (${name})`, { skip }, async () => {
    const source = await sqlite();
    const target = await makeTarget();
    try {
      const sourceUser = await seed(source);
      const exported = await collect(exportSite(source, site.id));
      assert.match(exported[0]!, /"format":"blogtalk-export","version":2/);
      assert.equal(exported.join('\n').includes(sourceUser), false, 'the internal user id is not exported');
      const report = await importSite(target, from(exported), defaultLimits);
      assert.deepEqual(report, { site: 'blog', imported: 4, unchanged: 0, skipped: 0, problems: [] });
      assert.deepEqual(body(await collect(exportSite(target, site.id))), body(exported));

      const signed = await target.getComment(site.id, 'signed');
      const user = await target.getUserByIdentity(profile.issuer, profile.subject);
      assert.ok(user, 'the author exists on the new server by identity');
      assert.equal(signed?.userId, user.id);
      assert.equal(signed?.authorPicture, profile.picture);
      assert.equal(signed?.body, 'edited words');
      assert.equal(signed?.edited?.toISOString(), '2026-11-26T12:05:00.000Z');
      assert.equal((await target.getCommentAuthorship(site.id, 'guest'))?.editTokenHash, tokenHash);
      const gone = await target.getComment(site.id, 'gone');
      assert.equal(gone?.deleted, true);
      assert.equal(gone?.body, '');
      const page = await target.listThreads({ siteId: site.id, postUrl: post, pageSize: 10 });
      assert.deepEqual(page.comments.map((c) => [c.id, c.deleted ?? false]), [
        ['signed', false],
        ['guest', false],
        ['gone', true],
        ['reply', false],
      ]);

      const again = await importSite(target, from(exported), defaultLimits);
      assert.deepEqual(again, { site: 'blog', imported: 0, unchanged: 4, skipped: 0, problems: [] });
    } finally {
      await source.close();
      await target.close();
    }
  });
}

describe('export format version 2', () => {
  roundTrip('SQLite to SQLite', sqlite);
  const schema = testSchemaName();
  roundTrip(
    'SQLite to PostgreSQL',
    () => openStore({ databaseUrl: testDatabaseUrl!, pgSchema: schema }),
    testDatabaseUrl ? false : 'TEST_DATABASE_URL not set',
  );
  after(() => dropTestSchema(schema));

  it('links an imported comment to the user already on this server with that identity', async () => {
    const source = await sqlite();
    const target = await sqlite();
    try {
      await seed(source);
      await target.putSite(site);
      const existing = await target.upsertUser(profile, 'already-here', new Date());
      await importSite(target, from(await collect(exportSite(source, site.id))), defaultLimits);
      assert.equal((await target.getComment(site.id, 'signed'))?.userId, existing.id);
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('still imports a version 1 file, without the fields it did not have', async () => {
    const source = await sqlite();
    const target = await sqlite();
    try {
      await seed(source);
      const [header, ...records] = await collect(exportSite(source, site.id));
      const v1 = [
        JSON.stringify({ ...JSON.parse(header!), version: 1 }),
        ...records.map((line) => {
          const { user: _u, picture: _p, edited: _e, deleted: _d, editTokenHash: _t, ...rest } = JSON.parse(line) as Record<string, unknown>;
          return JSON.stringify(rest);
        }),
      ];
      const report = await importSite(target, from(v1), defaultLimits);
      assert.deepEqual(report, { site: 'blog', imported: 4, unchanged: 0, skipped: 0, problems: [] });
      const signed = await target.getComment(site.id, 'signed');
      assert.equal(signed?.userId, undefined);
      assert.equal(signed?.edited, undefined);
      assert.equal(signed?.body, 'edited words');
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('reports v2 fields of the wrong shape as bad lines', async () => {
    const source = await sqlite();
    const target = await sqlite();
    try {
      await seed(source);
      const [header, first] = await collect(exportSite(source, site.id));
      const record = JSON.parse(first!) as Record<string, unknown>;
      const bad = [
        header!,
        JSON.stringify({ ...record, id: 'b1', edited: 'yesterday' }),
        JSON.stringify({ ...record, id: 'b2', deleted: 'yes' }),
        JSON.stringify({ ...record, id: 'b3', editTokenHash: 'not-a-hash' }),
        JSON.stringify({ ...record, id: 'b4', user: { issuer: 1 } }),
      ];
      const report = await importSite(target, from(bad), defaultLimits);
      assert.equal(report.imported, 0);
      assert.deepEqual(report.problems.map((p) => p.reason), ['bad edited time', 'bad deleted', 'bad editTokenHash', 'bad user']);
    } finally {
      await source.close();
      await target.close();
    }
  });
});
