import { HousekeepingRunner, SCAN_TASK } from '../libs/housekeeping/src';
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

  it('lets the webhook scanner sleep for a minute while no tenant has a webhook', async () => {
    const pending = await waitFor(
      'the idle scanner to schedule its next run',
      async () => {
        const { rows } = await db.pool.query(
          `SELECT extract(epoch FROM run_at - now()) AS seconds FROM danube_worker.jobs
           WHERE task_identifier = $1 AND locked_at IS NULL`,
          [SCAN_TASK],
        );
        return rows[0] && Number(rows[0].seconds) > 30 ? Number(rows[0].seconds) : null;
      },
      30_000,
    );
    expect(pending).toBeLessThanOrEqual(60);
  });

  it('starts graphile-worker again when it stops on its own, and its chores go on', async () => {
    // What graphile-worker does when the database stayed away for minutes: its worker pool
    // shuts down. Stopping the inner runner directly does the same, at once.
    const housekeeping = api!.app.get(HousekeepingRunner);
    const inner = (housekeeping as unknown as { runner: { stop(): Promise<void> } }).runner;
    await inner.stop();
    const down = await http('GET', `${api!.url}/readyz`);
    expect(down.status).toBe(503);
    expect(down.body.error.housekeeping.message).toMatch(/starting it again in 1 s$/);

    await waitFor(
      'the runner to be back',
      async () => (await http('GET', `${api!.url}/readyz`)).status === 200,
      30_000,
    );
    const schedule = await http('POST', `${api!.url}/v1/schedules`, {
      name: 'after-restart',
      cron: '* * * * * *',
      job: { topic: 'nobody-serves', command: ['true'] },
    });
    expect(schedule.status).toBe(201);
    await waitFor(
      'a fire after the restart',
      async () =>
        (await http('GET', `${api!.url}/v1/schedules/${schedule.body.id}/runs`)).body.items.length >
        0,
      30_000,
    );
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
