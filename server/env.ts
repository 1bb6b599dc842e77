/** Where the server's files are, as the environment sets them; shared by `main.ts` and `cli.ts`. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project folder (this file is at build/server/env.js once compiled). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `DATA_DIR`, else `./data` (`./data/demo` in demo mode). */
export function dataDirFrom(env: NodeJS.ProcessEnv, demo: boolean): string {
  return resolve(env.DATA_DIR ?? join(projectRoot, demo ? 'data/demo' : 'data'));
}

/** The avatar key: `BLOGTALK_SECRET`, else (single-machine SQLite) a random key kept in the data folder. */
export function loadSecret(env: NodeJS.ProcessEnv, dataDir: string): string {
  if (env.BLOGTALK_SECRET) return env.BLOGTALK_SECRET;
  if (env.DATABASE_URL) throw new Error('set BLOGTALK_SECRET (the same on every instance) when using DATABASE_URL.');
  const file = join(dataDir, 'secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(32).toString('hex');
    writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
}
