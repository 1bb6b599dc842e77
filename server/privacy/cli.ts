/**
 * The owner's privacy commands, for anyone's data (the CLI has the database, so it is the
 * server's operator speaking):
 *
 *   export-author --site <id> --email <address> [--out <file>]   a guest's data on one site
 *   export-author --user <user-id> [--out <file>]                a signed-in account's data
 *   erase-author  (--site <id> --email <address> | --user <user-id>) --yes
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { normaliseEmail } from '../auth/email.js';
import type { AuthorRef, Store } from '../store/store.js';
import { personalDataDocument } from './document.js';

export const authorUsage = `  export-author --site <site-id> --email <address> [--out <file>]
                            a guest's comments on the site, as JSON (stdout without --out)
  export-author --user <user-id> [--out <file>]   a signed-in account's data, every site
  erase-author (--site <site-id> --email <address> | --user <user-id>) --yes
                            erase them (comments others replied to are kept, emptied)`;

/** `export-author` and `erase-author`; the exit code, or null if `command` is neither. */
export async function authorCommand(store: Store, command: string, args: string[]): Promise<number | null> {
  if (command !== 'export-author' && command !== 'erase-author') return null;
  const { values } = parseArgs({
    args,
    options: { site: { type: 'string' }, email: { type: 'string' }, user: { type: 'string' }, out: { type: 'string' }, yes: { type: 'boolean' } },
    strict: true,
  });
  let author: AuthorRef;
  if (values.user && !values.email) {
    if (!(await store.getUser(values.user))) {
      console.error(`no user "${values.user}" (the id is in the site's export, as userId)`);
      return 2;
    }
    author = { userId: values.user };
  } else if (values.site && values.email && !values.user) {
    if (!(await store.getSite(values.site))) {
      console.error(`no site "${values.site}"`);
      return 2;
    }
    author = { siteId: values.site, email: normaliseEmail(values.email) };
  } else {
    console.error(`usage:\n${authorUsage}`);
    return 2;
  }
  if (command === 'export-author') {
    const data = await store.exportAuthor(author);
    const json = `${JSON.stringify(personalDataDocument(author, data, new Date()), null, 2)}\n`;
    if (values.out) await writeFile(values.out, json, { mode: 0o600 });
    else process.stdout.write(json);
    console.error(`exported ${data.comments.length} comments and ${data.likes.length} likes`);
    return 0;
  }
  if (!values.yes) {
    console.error('erase-author cannot be undone; add --yes to go ahead');
    return 2;
  }
  const erased = await store.eraseAuthor(author, new Date());
  console.error(
    `erased: ${erased.removed} comments removed, ${erased.emptied} emptied (others replied), ` +
      `${erased.likes} likes, ${erased.sessions} sessions${erased.user ? ', the account' : ''}`,
  );
  return 0;
}
