/**
 * Imports a Disqus export (the XML from "Moderation → Export"): threads give the post URLs and
 * titles, posts the comments with their threading. Deleted and spam posts are left out.
 * Ids become `dsq-<dsq:id>`, so running it again adds nothing twice.
 */
import { xmlRecords, child, childText } from './xml-records.js';
import { fromForeign, type ForeignContext } from './foreign.js';
import { ImportWriter, type ImportReport } from './writer.js';
import type { Store } from '../store/store.js';

export async function importDisqus(
  store: Store,
  input: AsyncIterable<string | Buffer>,
  ctx: ForeignContext,
): Promise<ImportReport> {
  const writer = new ImportWriter(store, ctx.site.id);
  /** Disqus thread id → the post it is about (one small entry per post). */
  const threads = new Map<string, { link: string; title: string | null }>();
  let record = 0;
  for await (const node of xmlRecords(input, new Set(['thread', 'post']))) {
    record += 1;
    const dsqId = node.attrs['dsq:id'] ?? '';
    if (node.name === 'thread') {
      threads.set(dsqId, { link: childText(node, 'link'), title: childText(node, 'title') || null });
      continue;
    }
    if (childText(node, 'isDeleted') === 'true' || childText(node, 'isSpam') === 'true') {
      writer.skip();
      continue;
    }
    if (!/^\d+$/.test(dsqId)) {
      writer.problem(record, 'post without a numeric dsq:id');
      continue;
    }
    const thread = threads.get(child(node, 'thread')?.attrs['dsq:id'] ?? '');
    if (!thread) {
      writer.problem(record, `post ${dsqId}: its thread is not in the file`);
      continue;
    }
    const parent = child(node, 'parent')?.attrs['dsq:id'];
    const author = child(node, 'author');
    const comment = fromForeign(
      {
        id: `dsq-${dsqId}`,
        postUrl: thread.link,
        postTitle: thread.title,
        parentId: parent ? `dsq-${parent}` : null,
        status: childText(node, 'isApproved') === 'false' ? 'pending' : 'published',
        authorName: author ? childText(author, 'name') || childText(author, 'username') : '',
        authorEmail: author ? childText(author, 'email') || null : null,
        authorWebsite: author ? childText(author, 'link') || null : null,
        created: new Date(childText(node, 'createdAt')),
        html: child(node, 'message')?.text ?? '',
        newlinesAreBreaks: false,
      },
      ctx,
    );
    if (typeof comment === 'string') writer.problem(record, `post ${dsqId}: ${comment}`);
    else await writer.add(record, comment);
  }
  return writer.finish();
}
