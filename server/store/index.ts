/**
 * Picks and opens the store: PostgreSQL when a database URL is given, else the embedded
 * SQLite file. The schema is migrated before the store is returned.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export type { Store } from './store.js';

/** Where the data lives. */
export interface OpenStoreOptions {
  /** PostgreSQL connection string; when set, the other places are ignored. */
  databaseUrl?: string;
  /** Directory of the SQLite file `blogtalk.db` (created if missing). */
  dataDir?: string;
  /** SQLite file path (or `':memory:'`), instead of `<dataDir>/blogtalk.db`. */
  file?: string;
  /** PostgreSQL schema for every table (created if missing); default: the search_path. */
  pgSchema?: string;
}

/** Opens the store named by `opts` and migrates its schema. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const store = opts.databaseUrl
    ? new PostgresStore({ connectionString: opts.databaseUrl, schema: opts.pgSchema })
    : openSqlite(opts);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function openSqlite(opts: OpenStoreOptions): Store {
  const file = opts.file ?? (opts.dataDir === undefined ? undefined : join(opts.dataDir, 'blogtalk.db'));
  if (file === undefined) throw new TypeError('openStore needs databaseUrl, dataDir or file');
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  return new SqliteStore(file);
}
