import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { defaultLimits } from '../../server/config.js';
import { openStore } from '../../server/store/index.js';
import type { NewComment, Store } from '../../server/store/store.js';
import { exportSite, importSite } from '../../server/transfer/jsonl.js';
import { dropTestSchema, testDatabaseUrl, testSchemaName } from '../support/pg-schema.js';

const dir = mkdtempSync(join(tmpdir(), 'blogtalk-transfer-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const sqlite = () => openStore({ file: join(dir, `s${++n}.db`) });

const site = { id: 'wp', name: 'WP blog', origin: 'https://wp.example', allowedOrigins: ['https://wp.example'] };
const post = 'https://wp.example/2016/09/kerry-lavrov/';

function comment(id: string, over: Partial<NewComment> = {}): NewComment {
  return {
    siteId: site.id,
    postUrl: post,
    postTitle: 'Kerry, Lavrov',
    id,
    requestHash: `hash-${id}`,
    parentId: null,
    kind: 'comment',
    status: 'published',
    authorName: 'Ada',
    authorEmail: 'ada@example.org',
    authorWebsite: 'https://ada.example/',
    avatar: 'a'.repeat(32),
    body: `body of ${id}`,
    reblogBlogName: null,
    reblogUrl: null,
    created: new Date(Date.UTC(2016, 8, 22, 10, Number(id.replace(/\D/g, '')) % 60)),
    ...over,
  };
}

async function seed(store: Store): Promise<void> {
  await store.putSite(site);
  for (const c of [
    comment('c1'),
    comment('c2', { parentId: 'c1', body: 'a reply 😀𝄞\n\nمرحبا' }),
    comment('c3', { parentId: 'c2', authorEmail: null, authorWebsite: null }),
    comment('c4', { status: 'pending' }),
    comment('c5', {
      kind: 'reblog',
      body: '',
      reblogBlogName: 'World Peace Forum',
      reblogUrl: 'https://wpf.example/reblog',
      postUrl: 'https://wp.example/other/',
      postTitle: null,
    }),
  ]) {
    const result = await store.createComment(c, 5);
    assert.ok(result.ok);
  }
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

async function* from(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

/**
 * Comment lines only (the header carries the export time), sorted: an import stores
 * independent comments concurrently, so their order on another database may differ.
 */
const body = (lines: string[]) => lines.slice(1).sort();

function roundTrip(name: string, makeTarget: () => Promise<Store>, skip: string | false = false) {
  it(`exports a site and imports it back without losing anything (${name})`, { skip }, async () => {
    const source = await sqlite();
    const target = await makeTarget();
    try {
      await seed(source);
      const exported = await collect(exportSite(source, site.id));
      assert.equal(exported.length, 6);
      assert.match(exported[0]!, /"format":"blogtalk-export","version":2/);
      const report = await importSite(target, from(exported), defaultLimits);
      assert.deepEqual(report, { site: 'wp', imported: 5, unchanged: 0, skipped: 0, problems: [] });
      assert.deepEqual(await target.getSite(site.id), site);
      assert.deepEqual(body(await collect(exportSite(target, site.id))), body(exported));
      const page = await target.listThreads({ siteId: site.id, postUrl: post, pageSize: 50 });
      assert.deepEqual(page.comments.map((c) => c.id), ['c1', 'c2', 'c3']);
      assert.equal(page.post?.title, 'Kerry, Lavrov');

      const again = await importSite(target, from(exported), defaultLimits);
      assert.deepEqual(again, { site: 'wp', imported: 0, unchanged: 5, skipped: 0, problems: [] });
    } finally {
      await source.close();
      await target.close();
    }
  });
}

describe('export and import (JSON Lines)', () => {
  roundTrip('SQLite to SQLite', sqlite);

  const databaseUrl = testDatabaseUrl;
  const schema = testSchemaName();
  roundTrip(
    'SQLite to PostgreSQL',
    () => openStore({ databaseUrl: databaseUrl!, pgSchema: schema }),
    databaseUrl ? false : 'TEST_DATABASE_URL not set',
  );
  after(() => dropTestSchema(schema));

  it('reports bad lines with their number and imports the rest', async () => {
    const source = await sqlite();
    const target = await sqlite();
    try {
      await seed(source);
      const lines = await collect(exportSite(source, site.id));
      const bad = [
        lines[0]!,
        lines[1]!,
        '{"type": "comment", "id": ',
        JSON.stringify({ ...JSON.parse(lines[2]!), body: 'x\u0000y' }),
        JSON.stringify({ type: 'like', id: 'l1' }),
        JSON.stringify({ ...JSON.parse(lines[3]!), id: 'orphan', parent: 'missing' }),
        lines[4]!,
      ];
      const report = await importSite(target, from(bad), defaultLimits);
      assert.equal(report.imported, 2);
      assert.deepEqual(
        report.problems.map((p) => p.line),
        [3, 4, 5, 6],
      );
      assert.match(report.problems[0]!.reason, /JSON/);
      assert.match(report.problems[1]!.reason, /NUL/);
      assert.match(report.problems[2]!.reason, /record type/);
      assert.match(report.problems[3]!.reason, /parent_not_found/);
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('keeps a reply to a parent thousands of records back, and one that comes before its parent', async () => {
    const source = await sqlite();
    const target = await sqlite();
    try {
      await seed(source);
      const [header, first] = await collect(exportSite(source, site.id));
      const record = (id: string, parent: string | null) => JSON.stringify({ ...JSON.parse(first!), id, parent });
      const lines = [
        header!,
        ...Array.from({ length: 5_000 }, (_, i) => record(`old-${i}`, null)),
        record('late-reply', 'old-0'),
        record('early-reply', 'later-parent'),
        record('later-parent', null),
      ];
      const report = await importSite(target, from(lines), defaultLimits);
      assert.deepEqual(report.problems, []);
      assert.equal(report.imported, 5_003);
      assert.equal((await target.getComment(site.id, 'late-reply'))?.parentId, 'old-0');
      assert.equal((await target.getComment(site.id, 'early-reply'))?.depth, 1);
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('refuses a file that does not start with an export header, and a newer version', async () => {
    const target = await sqlite();
    try {
      await assert.rejects(importSite(target, from(['{"type":"comment"}']), defaultLimits), /header/);
      const newer = JSON.stringify({ format: 'blogtalk-export', version: 99, site, exported: '' });
      await assert.rejects(importSite(target, from([newer]), defaultLimits), /version 99/);
    } finally {
      await target.close();
    }
  });
});

describe('the command line', () => {
  const cli = fileURLToPath(new URL('../../server/cli.js', import.meta.url));
  const run = (args: string[], dataDir: string) =>
    spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' }, encoding: 'utf8' });

  it('backs up the SQLite database online, exports and imports a site', async () => {
    const dataDir = join(dir, 'cli');
    const store = await openStore({ dataDir });
    await seed(store);
    await store.close();

    const backup = join(dir, 'backup.db');
    const b = run(['backup', backup], dataDir);
    assert.equal(b.status, 0, b.stderr);
    const copy = await openStore({ file: backup });
    assert.equal((await copy.threadStamp(site.id, post)).total, 3);
    await copy.close();

    const file = join(dir, 'wp.jsonl');
    const e = run(['export', 'wp', file], dataDir);
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stderr, /exported 5 comments/);

    const fresh = join(dir, 'fresh');
    const i = run(['import', file], fresh);
    assert.equal(i.status, 0, i.stderr);
    assert.match(i.stderr, /5 imported, 0 already there, 0 skipped \(spam, trash or deleted\), 0 not imported/);

    writeFileSync(join(dir, 'broken.jsonl'), 'not json\n');
    const broken = run(['import', join(dir, 'broken.jsonl')], fresh);
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /header/);
  });
});
