/** The owner's privacy commands: `export-author` and `erase-author` for anyone's data. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../server/store/index.js';
import type { NewComment } from '../../server/store/store.js';

const cli = fileURLToPath(new URL('../../server/cli.js', import.meta.url));
const origin = 'https://blog.example.org';
const post = `${origin}/post`;

function comment(id: string, fields: Partial<NewComment> = {}): NewComment {
  return {
    siteId: 'blog', postUrl: post, postTitle: 'Post', id, requestHash: `h-${id}`, parentId: null, kind: 'comment',
    status: 'published', authorName: 'Gus', authorEmail: 'gus@example.org', authorWebsite: null, avatar: 'aa',
    body: `body ${id}`, reblogBlogName: null, reblogUrl: null, created: new Date(Date.UTC(2026, 0, 1)), ...fields,
  };
}

/** Runs the CLI; resolves with its exit code and output, whatever the code. */
function run(dir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { ...process.env, DATA_DIR: dir, DATABASE_URL: '' } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('privacy CLI (owner acts for anyone)', () => {
  let dir: string;
  let userId: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blogtalk-privacy-cli-'));
    const store = await openStore({ dataDir: dir });
    await store.putSite({ id: 'blog', name: 'Blog', origin, allowedOrigins: [origin] });
    const user = await store.upsertUser(
      { issuer: 'https://idp.example', subject: 'ada', name: 'Ada', picture: null, website: null, email: 'ada@example.org' },
      'user-ada',
      new Date(),
    );
    userId = user.id;
    await store.createComment(comment('gus-1'), 5);
    await store.createComment(comment('gus-2', { authorEmail: 'GUS@example.org' }), 5);
    await store.createComment(comment('ada-1', { userId, authorName: 'Ada', authorEmail: 'ada@example.org', parentId: 'gus-1' }), 5);
    await store.close();
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("exports a guest's comments by email, and a signed-in user's by id", async () => {
    const guest = await run(dir, 'export-author', '--site', 'blog', '--email', 'Gus@Example.org');
    assert.equal(guest.code, 0, guest.stderr);
    const doc = JSON.parse(guest.stdout) as { comments: Array<{ id: string }> };
    assert.deepEqual(doc.comments.map((c) => c.id), ['gus-1', 'gus-2']);
    assert.ok(!guest.stdout.includes('ada@example.org'));
    const user = await run(dir, 'export-author', '--user', userId);
    assert.equal(user.code, 0, user.stderr);
    assert.deepEqual((JSON.parse(user.stdout) as { comments: Array<{ id: string }> }).comments.map((c) => c.id), ['ada-1']);
  });

  it('refuses unclear or unknown authors, and erases only with --yes', async () => {
    assert.equal((await run(dir, 'export-author', '--site', 'blog')).code, 2);
    assert.equal((await run(dir, 'export-author', '--site', 'nope', '--email', 'gus@example.org')).code, 2);
    assert.equal((await run(dir, 'export-author', '--user', 'nobody')).code, 2);
    const unconfirmed = await run(dir, 'erase-author', '--site', 'blog', '--email', 'gus@example.org');
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /--yes/);

    const erased = await run(dir, 'erase-author', '--site', 'blog', '--email', 'gus@example.org', '--yes');
    assert.equal(erased.code, 0, erased.stderr);
    assert.match(erased.stderr, /1 comments removed, 1 emptied/);
    const user = await run(dir, 'erase-author', '--user', userId, '--yes');
    assert.equal(user.code, 0, user.stderr);
    assert.match(user.stderr, /the account/);

    const store = await openStore({ dataDir: dir });
    try {
      assert.equal(await store.getComment('blog', 'gus-2'), null);
      assert.equal(await store.getComment('blog', 'ada-1'), null);
      // gus-1 had a reply when it was erased; that reply is gone now, but the emptied comment stays emptied.
      assert.equal((await store.getComment('blog', 'gus-1'))?.deleted, true);
      assert.equal(await store.getUser(userId), null);
    } finally {
      await store.close();
    }
  });
});
