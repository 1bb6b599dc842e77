/**
 * `node build/server/cli.js <command>`: the site owner's tools, using the same environment as
 * the server (`DATA_DIR`, `DATABASE_URL`).
 *
 *   export <site-id> [file]   the site as JSON Lines (stdout without a file)
 *   import <file>             an export back in (`-` reads stdin); re-running adds nothing twice
 *   import-wordpress <site-id> <file>   a WordPress export (WXR)
 *   import-disqus <site-id> <file>      a Disqus export (XML)
 *   backup <file>             an online copy of the SQLite database (PostgreSQL: use pg_dump)
 *   sites                     the registered sites
 *   make-owner <site-id> <issuer> <subject>   mark a signed-in user as an owner of the site
 *   owner-link <site-id>      print a single-use setup code (1 hour) that makes whoever redeems it signed in an owner
 *   export-author / erase-author   one commenter's data (see `privacy/cli.ts`)
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { defaultLimits } from './config.js';
import { dataDirFrom, loadSecret } from './env.js';
import { openStore } from './store/index.js';
import { SqliteStore } from './store/sqlite.js';
import { importDisqus } from './transfer/disqus.js';
import { exportSite, importSite } from './transfer/jsonl.js';
import { importWordPress } from './transfer/wordpress.js';
import type { ImportReport } from './transfer/writer.js';
import { hashToken, randomToken } from './auth/tokens.js';
import type { Store } from './store/store.js';
import { authorCommand, authorUsage } from './privacy/cli.js';

// --- site owners (sign-in) ----------------------------------------------------------------

/** `make-owner` and `owner-link`; returns the exit code, or null if `command` is not one of them. */
async function ownerCommand(store: Store, command: string, args: string[]): Promise<number | null> {
  if (command === 'make-owner') {
    const [siteId, issuer, subject] = args;
    if (!siteId || !issuer || !subject) return null;
    if (!(await store.getSite(siteId))) {
      console.error(`no site "${siteId}"`);
      return 2;
    }
    const user = await store.getUserByIdentity(issuer, subject);
    if (!user) {
      console.error(`no user ${issuer} ${subject}: sign in once with that account, then run this again`);
      return 2;
    }
    await store.setSiteOwner(siteId, user.id, true);
    console.error(`${user.name} (${issuer} ${subject}) now owns site ${siteId}`);
    return 0;
  }
  if (command === 'owner-link') {
    const [siteId] = args;
    if (!siteId) return null;
    const site = await store.getSite(siteId);
    if (!site) {
      console.error(`no site "${siteId}"`);
      return 2;
    }
    const code = randomToken();
    await store.putOneTimeCode({
      hash: hashToken(code),
      purpose: 'owner-setup',
      siteId,
      userId: null,
      origin: null,
      nonce: null,
      data: null,
      expires: new Date(Date.now() + 3600_000),
    });
    // Only the hash is stored; this is the one time the code is shown.
    console.log(`${site.origin}/#blogtalk-owner-setup=${code}`);
    console.error(
      'Open that address (or any post of the site with that fragment) while signed in, within one hour; ' +
        'it works once. The widget redeems it with POST /api/v1/auth/owner-setup.',
    );
    return 0;
  }
  return null;
}

/** Prints an import's outcome; the exit code says whether every record made it. */
function printReport(report: ImportReport): number {
  for (const p of report.problems) console.error(`line ${p.line}: ${p.reason}`);
  console.error(
    `site ${report.site}: ${report.imported} imported, ${report.unchanged} already there, ` +
      `${report.skipped} skipped (spam, trash or deleted), ${report.problems.length} not imported`,
  );
  return report.problems.length ? 1 : 0;
}

const usage = `usage: npm run cli -- <command>
  export <site-id> [file]   write the site's comments as JSON Lines (stdout without a file)
  import <file|->           read an export back in; lines that fail are listed, the rest kept
  import-wordpress <site-id> <file>   comments from a WordPress export (WXR)
  import-disqus <site-id> <file>      comments from a Disqus export (XML)
  backup <file>             online backup of the SQLite database (with PostgreSQL, use pg_dump)
  sites                     list the registered sites
  make-owner <site-id> <issuer> <subject>   make a user (who has signed in once) an owner of the site
  owner-link <site-id>      print a single-use owner setup code, valid one hour
${authorUsage}
Add --demo to work on the demo data (data/demo).`;

async function write(out: Writable, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await once(out, 'drain');
}

async function main(argv: string[]): Promise<number> {
  const demo = argv.includes('--demo');
  const [command, ...args] = argv.filter((a) => a !== '--demo');
  if (!command || command === 'help' || command === '--help') {
    console.log(usage);
    return command ? 0 : 2;
  }
  const env = process.env;
  const dataDir = dataDirFrom(env, demo);
  const store = await openStore({ databaseUrl: env.DATABASE_URL, pgSchema: env.BLOGTALK_PG_SCHEMA, dataDir });
  try {
    const owner = await ownerCommand(store, command, args);
    if (owner !== null) return owner;
    const privacy = await authorCommand(store, command, args);
    if (privacy !== null) return privacy;
    switch (command) {
      case 'sites':
        for (const site of await store.listSites()) console.log(`${site.id}\t${site.origin}\t${site.allowedOrigins.join(',')}`);
        return 0;
      case 'export': {
        const [siteId, file] = args;
        if (!siteId) break;
        const out = file ? createWriteStream(file) : process.stdout;
        let count = -1;
        for await (const line of exportSite(store, siteId)) {
          await write(out, line);
          count += 1;
        }
        if (file) {
          out.end();
          await once(out, 'finish');
        }
        console.error(`exported ${count} comments of site ${siteId}`);
        return 0;
      }
      case 'import': {
        const [file] = args;
        if (!file) break;
        const input = file === '-' ? process.stdin : createReadStream(file);
        const lines = createInterface({ input, crlfDelay: Infinity });
        return printReport(await importSite(store, lines, defaultLimits));
      }
      case 'import-wordpress':
      case 'import-disqus': {
        const [siteId, file] = args;
        if (!siteId || !file) break;
        const site = await store.getSite(siteId);
        if (!site) {
          console.error(`no site "${siteId}"; register it first (BLOGTALK_SITE_ORIGIN with npm run serve).`);
          return 2;
        }
        const ctx = { site, secret: loadSecret(env, dataDir), limits: defaultLimits };
        const run = command === 'import-wordpress' ? importWordPress : importDisqus;
        return printReport(await run(store, createReadStream(file), ctx));
      }
      case 'backup': {
        const [file] = args;
        if (!file) break;
        if (!(store instanceof SqliteStore)) {
          console.error('backup copies the SQLite database; with PostgreSQL use pg_dump (see README).');
          return 2;
        }
        await store.backup(file);
        console.error(`backed up to ${file}`);
        return 0;
      }
    }
    console.error(usage);
    return 2;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`blogtalk: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
