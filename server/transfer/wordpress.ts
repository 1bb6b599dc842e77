/**
 * Imports the comments of a WordPress export (WXR, "Tools → Export"): each post's comments
 * with their ids, threading, authors, dates and approval; spam and trash are left out.
 * Ids become `wp-<comment_id>`, so running it again adds nothing twice.
 */
import { xmlRecords, child, childText } from './xml-records.js';
import { fromForeign, type ForeignContext } from './foreign.js';
import { ImportWriter, type ImportReport } from './writer.js';
import type { Store } from '../store/store.js';

/** WordPress's `comment_date_gmt` ("2016-09-23 06:41:00"); falls back to the local date. */
function wpDate(gmt: string, local: string): Date {
  const value = gmt && !gmt.startsWith('0000') ? gmt : local;
  return new Date(`${value.replace(' ', 'T')}Z`);
}

export async function importWordPress(
  store: Store,
  input: AsyncIterable<string | Buffer>,
  ctx: ForeignContext,
): Promise<ImportReport> {
  const writer = new ImportWriter(store, ctx.site.id);
  let record = 0;
  for await (const item of xmlRecords(input, new Set(['item']), new Set(['content:encoded', 'excerpt:encoded']))) {
    const link = childText(item, 'link');
    const title = childText(item, 'title') || null;
    for (const c of item.children.filter((n) => n.name === 'wp:comment')) {
      record += 1;
      const approved = childText(c, 'wp:comment_approved');
      if (approved === 'spam' || approved === 'trash') {
        writer.skip();
        continue;
      }
      const id = childText(c, 'wp:comment_id');
      if (!/^\d+$/.test(id)) {
        writer.problem(record, 'comment without a numeric wp:comment_id');
        continue;
      }
      const parent = childText(c, 'wp:comment_parent');
      const comment = fromForeign(
        {
          id: `wp-${id}`,
          postUrl: link,
          postTitle: title,
          parentId: parent && parent !== '0' ? `wp-${parent}` : null,
          status: approved === '1' ? 'published' : 'pending',
          authorName: childText(c, 'wp:comment_author'),
          authorEmail: childText(c, 'wp:comment_author_email') || null,
          authorWebsite: childText(c, 'wp:comment_author_url') || null,
          created: wpDate(childText(c, 'wp:comment_date_gmt'), childText(c, 'wp:comment_date')),
          html: child(c, 'wp:comment_content')?.text ?? '',
          newlinesAreBreaks: true,
        },
        ctx,
      );
      if (typeof comment === 'string') writer.problem(record, `comment ${id}: ${comment}`);
      else await writer.add(record, comment);
    }
  }
  return writer.finish();
}
