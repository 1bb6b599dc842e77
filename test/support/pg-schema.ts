/**
 * PostgreSQL for tests: `TEST_DATABASE_URL` when set (else the suites skip), and a schema of
 * this run's own, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const testDatabaseUrl: string | undefined = process.env['TEST_DATABASE_URL'] || undefined;

/** `false`, or why a PostgreSQL test is skipped. */
export const skipWithoutPostgres: false | string = testDatabaseUrl ? false : 'TEST_DATABASE_URL not set';

/** A schema name no other run uses. */
export function testSchemaName(): string {
  return `bt_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Drops the schema if PostgreSQL is configured (call it from `after`). */
export async function dropTestSchema(schema: string): Promise<void> {
  if (!testDatabaseUrl) return;
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
