import { randomBytes } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { createPool } from '../../libs/db/src';
import { TEMPLATE_DATABASE, withDatabase } from './database-url';

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file, copied from the template that the global
 * setup migrated. Real Postgres, isolated from every other test file.
 */
export async function createTestDatabase(
  options: { poolSize?: number } = {},
): Promise<TestDatabase> {
  const adminUrl = process.env.DANUBE_TEST_ADMIN_URL;
  if (!adminUrl)
    throw new Error(
      'DANUBE_TEST_ADMIN_URL is not set: run the tests through jest (test/support/global-setup.ts)',
    );
  const name = `danube_test_${randomBytes(6).toString('hex')}`;
  await admin(adminUrl, `CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
  const url = withDatabase(adminUrl, name);
  const pool = createPool({ databaseUrl: url, max: options.poolSize ?? 10 });
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      await admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function admin(url: string, statement: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
