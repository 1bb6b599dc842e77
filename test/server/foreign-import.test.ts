import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultLimits } from '../../server/config.js';
import { openStore } from '../../server/store/index.js';
import type { Store } from '../../server/store/store.js';
import { importDisqus } from '../../server/transfer/disqus.js';
import { importWordPress } from '../../server/transfer/wordpress.js';

const dir = mkdtempSync(join(tmpdir(), 'blogtalk-foreign-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const site = { id: 'wp', name: 'WP', origin: 'https://wp.example', allowedOrigins: ['https://wp.example'] };
const post = 'https://wp.example/2016/09/kerry-lavrov/';

async function freshStore(): Promise<Store> {
  const store = await openStore({ file: join(dir, `f${++n}.db`) });
  await store.putSite(site);
  return store;
}

/** The file in small byte chunks, splitting multi-byte characters, as a stream would. */
async function* chunks(text: string, size = 7): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const ctx = { site, secret: 'secret', limits: defaultLimits };

function wpComment(id: number, fields: Record<string, string>): string {
  const f = { author: 'Reader', email: 'reader@example.org', url: '', approved: '1', parent: '0', content: 'Hi', ...fields };
  return `<wp:comment>
    <wp:comment_id>${id}</wp:comment_id>
    <wp:comment_author><![CDATA[${f.author}]]></wp:comment_author>
    <wp:comment_author_email><![CDATA[${f.email}]]></wp:comment_author_email>
    <wp:comment_author_url>${f.url}</wp:comment_author_url>
    <wp:comment_author_IP><![CDATA[203.0.113.9]]></wp:comment_author_IP>
    <wp:comment_date><![CDATA[2016-09-23 08:4${id % 10}:00]]></wp:comment_date>
    <wp:comment_date_gmt><![CDATA[2016-09-23 06:4${id % 10}:00]]></wp:comment_date_gmt>
    <wp:comment_content><![CDATA[${f.content}]]></wp:comment_content>
    <wp:comment_approved><![CDATA[${f.approved}]]></wp:comment_approved>
    <wp:comment_type><![CDATA[comment]]></wp:comment_type>
    <wp:comment_parent>${f.parent}</wp:comment_parent>
  </wp:comment>`;
}

const wxr = `<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>World Peace Blog</title>
  <item>
    <title>Kerry, Lavrov Try To Work Out Next Moves on Syria Conflict</title>
    <link>https://wp.example/2016/09/kerry-lavrov/</link>
    <content:encoded><![CDATA[<p>MOSCOW (AFP) – ${'long article text '.repeat(500)}</p>]]></content:encoded>
    <wp:post_type><![CDATA[post]]></wp:post_type>
    ${wpComment(11, { author: 'Zoë 😀', url: 'https://zoe.example', content: 'First line\nsecond line\n\n<a href="https://afp.example/x">source</a> &amp; more <script>alert(1)</script>' })}
    ${wpComment(12, { parent: '11', approved: '0', content: 'held for moderation' })}
    ${wpComment(13, { approved: 'spam', content: 'buy pills' })}
    ${wpComment(15, { parent: '14', content: 'reply that comes before its parent' })}
    ${wpComment(14, { content: 'the parent' })}
  </item>
  <item>
    <title>Elsewhere</title>
    <link>https://not-this-blog.example/post/</link>
    ${wpComment(16, {})}
  </item>
</channel>
</rss>`;

describe('importing a WordPress export (WXR)', () => {
  it('keeps ids, threading, authors, dates and approval; converts HTML to text and keeps the original', async () => {
    const store = await freshStore();
    try {
      const report = await importWordPress(store, chunks(wxr), ctx);
      assert.equal(report.imported, 4);
      assert.equal(report.skipped, 1);
      assert.deepEqual(report.problems.map((p) => p.reason), ['comment 16: post https://not-this-blog.example/post/ is not on https://wp.example']);

      const page = await store.listThreads({ siteId: 'wp', postUrl: post, pageSize: 50 });
      assert.equal(page.post?.title, 'Kerry, Lavrov Try To Work Out Next Moves on Syria Conflict');
      assert.deepEqual(page.comments.map((c) => [c.id, c.parentId]), [
        ['wp-11', null],
        ['wp-14', null],
        ['wp-15', 'wp-14'],
      ]);
      const first = page.comments[0]!;
      assert.equal(first.authorName, 'Zoë 😀');
      assert.equal(first.authorWebsite, 'https://zoe.example/');
      assert.equal(first.authorEmail, 'reader@example.org');
      assert.equal(first.created.toISOString(), '2016-09-23T06:41:00.000Z');
      assert.equal(first.body, 'First line\nsecond line\n\nsource (https://afp.example/x) & more');
      const held = await store.getComment('wp', 'wp-12');
      assert.equal(held?.status, 'pending');
      const exported = await store.exportComments('wp', 0, 10);
      assert.match(exported.find((c) => c.id === 'wp-11')!.originalHtml!, /<a href="https:\/\/afp.example\/x">source<\/a>/);

      const again = await importWordPress(store, chunks(wxr), ctx);
      assert.equal(again.imported, 0);
      assert.equal(again.unchanged, 4);
    } finally {
      await store.close();
    }
  });

  it('stops with an error on a truncated file', async () => {
    const store = await freshStore();
    try {
      await assert.rejects(importWordPress(store, chunks(wxr.slice(0, wxr.length / 2)), ctx), /truncated/);
    } finally {
      await store.close();
    }
  });
});

const disqus = `<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <category dsq:id="1"><forum>wpblog</forum><title>General</title></category>
  <thread dsq:id="500"><id /><forum>wpblog</forum><link>https://wp.example/2016/09/kerry-lavrov/</link><title>Kerry &amp; Lavrov</title></thread>
  <post dsq:id="100"><message><![CDATA[<p>Hello</p><p>World &amp; co<br>next</p>]]></message><createdAt>2016-09-23T06:41:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam><author><email>ann@example.org</email><name>Ann</name><isAnonymous>false</isAnonymous></author><thread dsq:id="500" /></post>
  <post dsq:id="101"><message><![CDATA[<p>a reply</p>]]></message><createdAt>2016-09-23T07:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam><author><name>Bob</name></author><thread dsq:id="500" /><parent dsq:id="100" /></post>
  <post dsq:id="102"><message><![CDATA[spam]]></message><createdAt>2016-09-23T07:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>true</isSpam><author><name>S</name></author><thread dsq:id="500" /></post>
  <post dsq:id="103"><message><![CDATA[gone]]></message><createdAt>2016-09-23T07:00:00Z</createdAt><isDeleted>true</isDeleted><isSpam>false</isSpam><author><name>D</name></author><thread dsq:id="500" /></post>
  <post dsq:id="104"><message><![CDATA[lost]]></message><createdAt>2016-09-23T07:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam><author><name>L</name></author><thread dsq:id="999" /></post>
</disqus>`;

describe('importing a Disqus export', () => {
  it('maps threads to posts and keeps threading; skips spam and deleted posts', async () => {
    const store = await freshStore();
    try {
      const report = await importDisqus(store, chunks(disqus, 13), ctx);
      assert.equal(report.imported, 2);
      assert.equal(report.skipped, 2);
      assert.equal(report.problems.length, 1);
      assert.match(report.problems[0]!.reason, /thread is not in the file/);
      const page = await store.listThreads({ siteId: 'wp', postUrl: post, pageSize: 50 });
      assert.equal(page.post?.title, 'Kerry & Lavrov');
      assert.deepEqual(page.comments.map((c) => [c.id, c.parentId, c.body]), [
        ['dsq-100', null, 'Hello\n\nWorld & co\nnext'],
        ['dsq-101', 'dsq-100', 'a reply'],
      ]);
      assert.equal((await importDisqus(store, chunks(disqus), ctx)).unchanged, 2);
    } finally {
      await store.close();
    }
  });
});
