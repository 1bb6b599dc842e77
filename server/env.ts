/** Where the server's files are, as the environment sets them; shared by `main.ts` and `cli.ts`. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project folder (this file is at build/server/env.js once compiled). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `DATA_DIR`, else `./data` (`./data/demo` in demo mode). */
export function dataDirFrom(env: NodeJS.ProcessEnv, demo: boolean): string {
  return resolve(env.DATA_DIR ?? join(projectRoot, demo ? 'data/demo' : 'data'));
}
