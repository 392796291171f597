import { startApi, http, type TestApi } from './support/api';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitFor } from './support/wait-for';

/** graphile-worker inside the API: its own schema, migrated at start, and on /readyz. */
describe('housekeeping runner', () => {
  let db: TestDatabase;
  let api: TestApi | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('migrates graphile-worker into danube_worker at start and reports on /readyz', async () => {
    const before = await db.pool.query(
      `SELECT 1 FROM information_schema.schemata WHERE schema_name = 'danube_worker'`,
    );
    expect(before.rowCount).toBe(0);

    api = await startApi(db.url, { DANUBE_HOUSEKEEPING: 'on' });

    const migrations = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM danube_worker.migrations',
    );
    expect(migrations.rows[0]!.n).toBeGreaterThan(0);
    const ready = await waitFor(
      'the housekeeping runner to be ready',
      async () => {
        const res = await http('GET', `${api!.url}/readyz`);
        return res.body?.info?.housekeeping?.status === 'up' ? res : null;
      },
      30_000,
    );
    expect(ready.status).toBe(200);
  });

  it('is off, and absent from /readyz, with DANUBE_HOUSEKEEPING=off', async () => {
    const other = await createTestDatabase();
    const quiet = await startApi(other.url, { DANUBE_HOUSEKEEPING: 'off' });
    try {
      const res = await http('GET', `${quiet.url}/readyz`);
      expect(res.status).toBe(200);
      expect(res.body.info.housekeeping).toBeUndefined();
      const schema = await other.pool.query(
        `SELECT 1 FROM information_schema.schemata WHERE schema_name = 'danube_worker'`,
      );
      expect(schema.rowCount).toBe(0);
    } finally {
      await quiet.close();
      await other.drop();
    }
  });
});
