import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { isDatabaseUnavailable } from './database-errors';
import { withTransaction } from './transaction';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 2 });
});
afterAll(() => db.drop());

/** Ends backend `pid` from a connection of its own, as an administrator or a restart would. */
async function terminateBackend(pid: number): Promise<void> {
  const admin = new Client({ connectionString: db.url });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await admin.end();
  }
}

it('a backend killed while a transaction holds its connection fails that transaction only; the pool goes on', async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  try {
    const failed = withTransaction(db.pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // The connection dies while it is checked out and idle between two statements:
      // pg emits 'error' on the client, which must not reach the process.
      await terminateBackend(rows[0]!.pid);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await client.query('SELECT 1');
    });
    const error = await failed.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(uncaught).toEqual([]);
    // The broken client was destroyed, not handed to the next caller.
    for (let i = 0; i < 4; i++) {
      await expect(withTransaction(db.pool, (c) => c.query('SELECT 1'))).resolves.toBeDefined();
    }
    expect(db.pool.totalCount).toBeLessThanOrEqual(2);
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});

it('tells database outages from other errors', () => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  expect(isDatabaseUnavailable(withCode('ECONNREFUSED'))).toBe(true);
  expect(isDatabaseUnavailable(withCode('57P01', 'terminating connection'))).toBe(true);
  expect(isDatabaseUnavailable(withCode('08006'))).toBe(true);
  expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
  expect(isDatabaseUnavailable(withCode('23505', 'duplicate key'))).toBe(false);
  expect(isDatabaseUnavailable(withCode('22P02', 'invalid input syntax'))).toBe(false);
  expect(isDatabaseUnavailable(new Error('something else'))).toBe(false);
});
