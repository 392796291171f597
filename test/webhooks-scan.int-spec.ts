import type { Pool, PoolClient } from 'pg';
import { graphileWorker } from '../libs/housekeeping/src/graphile-worker';
import { HOUSEKEEPING_SCHEMA, type HousekeepingRunner } from '../libs/housekeeping/src';
import {
  DELIVER_TASK,
  SCAN_PAGE_SIZE,
  WebhookScanner,
} from '../libs/housekeeping/src/webhooks/webhook-scanner';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitFor } from './support/wait-for';

/**
 * The webhook scanner on real Postgres, in this process: one step at a time, with the
 * transactions around it arranged by the test. graphile-worker's schema is migrated so that
 * the step's add_job calls land where the runner would find them.
 */
let db: TestDatabase;
let scanner: WebhookScanner;

beforeAll(async () => {
  db = await createTestDatabase();
  const { gw } = graphileWorker();
  await gw.runMigrations({ connectionString: db.url, schema: HOUSEKEEPING_SCHEMA });
  const runner = { register: () => undefined, add: async () => undefined };
  scanner = new WebhookScanner(db.pool, runner as unknown as HousekeepingRunner);
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  await db.pool.query(`DELETE FROM danube.webhooks`);
  await db.pool.query(`DELETE FROM ${HOUSEKEEPING_SCHEMA}._private_jobs`);
  await db.pool.query(
    `INSERT INTO danube.tenants (name) VALUES ('t1'), ('t2') ON CONFLICT DO NOTHING`,
  );
});

let webhookCount = 0;
async function webhook(
  tenant: string,
  events: string[],
  topic: string | null = null,
): Promise<string> {
  const id = `wh_test${++webhookCount}`;
  await db.pool.query(
    `INSERT INTO danube.webhooks (id, tenant, url, events, topic, max_attempts,
       secret_key_id, secret_nonce, secret_ciphertext, secret_auth_tag)
     VALUES ($1, $2, 'http://127.0.0.1:9/', $3, $4, 5, 'k', '\\x00', '\\x00', '\\x00')`,
    [id, tenant, events, topic],
  );
  return id;
}

/** Inserts events as the triggers would; returns their seqs. */
async function events(
  on: Pool | PoolClient,
  rows: { tenant: string; type: string; topic?: string; jobId?: number }[],
): Promise<string[]> {
  const { rows: inserted } = await on.query<{ seq: string }>(
    `INSERT INTO danube.events (type, job_id, topic, tenant, data)
     SELECT r.type, r.job_id, r.topic, r.tenant, '{"from": "queued"}'::jsonb
     FROM jsonb_to_recordset($1::jsonb) AS r(type text, job_id bigint, topic text, tenant text)
     RETURNING seq`,
    [JSON.stringify(rows.map((r) => ({ ...r, job_id: r.jobId ?? 1 })))],
  );
  return inserted.map((r) => r.seq);
}

async function deliveries(webhookId?: string) {
  const { rows } = await db.pool.query<{
    id: string;
    webhook_id: string;
    event_seq: string;
    type: string;
    payload: any;
    max_attempts: number;
  }>(
    `SELECT d.id::text, d.webhook_id, d.event_seq, d.type, d.payload, d.max_attempts
     FROM danube.webhook_deliveries d
     WHERE $1::text IS NULL OR d.webhook_id = $1 ORDER BY d.id`,
    [webhookId ?? null],
  );
  return rows;
}

/** The deliveries' graphile-worker jobs, in the order it would take them (run_at). */
async function deliverJobs() {
  const { rows } = await db.pool.query<{
    payload: { deliveryId: string };
    queue_name: string;
    max_attempts: number;
  }>(
    `SELECT j.payload, q.queue_name, j.max_attempts
     FROM ${HOUSEKEEPING_SCHEMA}._private_jobs j
     JOIN ${HOUSEKEEPING_SCHEMA}._private_tasks t ON t.id = j.task_id
     LEFT JOIN ${HOUSEKEEPING_SCHEMA}._private_job_queues q ON q.id = j.job_queue_id
     WHERE t.identifier = $1 ORDER BY j.run_at`,
    [DELIVER_TASK],
  );
  return rows;
}

/**
 * Waits until every event so far is final: the horizon is cluster-wide, so a transaction
 * of another test file's database can hold it back for a moment.
 */
async function settled(): Promise<void> {
  await waitFor('the events to be final', async () => {
    const { rows } = await db.pool.query(
      `SELECT coalesce(max(tx) < pg_snapshot_xmin(pg_current_snapshot()), true) AS final
       FROM danube.events`,
    );
    return rows[0].final;
  });
}

/** One scan step, once the events so far are final. */
async function step() {
  await settled();
  return scanner.step();
}

async function cursor(): Promise<{ tx: string; seq: string }> {
  const { rows } = await db.pool.query(`SELECT tx::text, seq::text FROM danube.webhook_cursor`);
  return rows[0];
}

it("stores one delivery per matching webhook, and adds each one's job in the same transaction", async () => {
  const all = await webhook('t1', ['job.cancelled', 'job.succeeded']);
  const alpha = await webhook('t1', ['job.cancelled'], 'alpha');
  const [cancelled, succeeded] = await events(db.pool, [
    { tenant: 't1', type: 'job_cancelled', topic: 'alpha', jobId: 7 },
    { tenant: 't1', type: 'job_succeeded', topic: 'beta', jobId: 8 },
    { tenant: 't1', type: 'job_failed', topic: 'alpha', jobId: 9 },
  ]);

  expect(await step()).toEqual({ events: 2, deliveries: 3 });

  expect((await deliveries(all)).map((d) => [d.event_seq, d.type])).toEqual([
    [cancelled, 'job.cancelled'],
    [succeeded, 'job.succeeded'],
  ]);
  const [toAlpha] = await deliveries(alpha);
  expect(toAlpha).toMatchObject({ event_seq: cancelled, type: 'job.cancelled', max_attempts: 5 });
  expect(Object.keys(toAlpha!.payload)).toEqual(['id', 'type', 'createdAt', 'data']);
  expect(toAlpha!.payload).toMatchObject({
    id: cancelled,
    type: 'job.cancelled',
    createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    data: { jobId: '7', topic: 'alpha', status: 'cancelled', from: 'queued' },
  });
  const jobs = await deliverJobs();
  const ids = (await deliveries()).map((d) => d.id);
  // graphile-worker runs a queue's jobs by run_at: theirs follow the events' order.
  expect(jobs.map((j) => j.payload.deliveryId)).toEqual(ids);
  expect(jobs.every((j) => j.max_attempts === 5)).toBe(true);
  expect(new Set(jobs.map((j) => j.queue_name))).toEqual(
    new Set([`webhook:${all}`, `webhook:${alpha}`]),
  );
});

it('never stores a delivery twice, even when the cursor is moved back', async () => {
  await webhook('t1', ['job.cancelled']);
  await events(db.pool, [{ tenant: 't1', type: 'job_cancelled' }]);
  expect(await step()).toEqual({ events: 1, deliveries: 1 });
  await db.pool.query(`UPDATE danube.webhook_cursor SET tx = '0', seq = 0`);
  expect(await step()).toEqual({ events: 1, deliveries: 0 });
  expect(await deliveries()).toHaveLength(1);
  expect(await deliverJobs()).toHaveLength(1);
});

it('does not pass over an event whose transaction commits after a later one', async () => {
  const id = await webhook('t1', ['job.cancelled']);
  const early = await db.pool.connect();
  try {
    // The early transaction takes the lower seq, then stays open while another commits.
    await early.query('BEGIN');
    const [first] = await events(early, [{ tenant: 't1', type: 'job_cancelled', jobId: 1 }]);
    const [second] = await events(db.pool, [{ tenant: 't1', type: 'job_cancelled', jobId: 2 }]);
    expect(BigInt(first!)).toBeLessThan(BigInt(second!));

    // Neither is final while the early one is open: the later one waits behind it.
    expect(await scanner.step()).toEqual({ events: 0, deliveries: 0 });
    await early.query('COMMIT');
    expect(await step()).toEqual({ events: 2, deliveries: 2 });
    expect((await deliveries(id)).map((d) => d.event_seq)).toEqual([first, second]);
  } finally {
    early.release();
  }
});

it("sends a webhook only its own tenant's events, and only those after its creation", async () => {
  await events(db.pool, [{ tenant: 't1', type: 'job_cancelled', jobId: 1 }]);
  const mine = await webhook('t1', ['job.cancelled']);
  const theirs = await webhook('t2', ['job.cancelled']);
  const [after] = await events(db.pool, [{ tenant: 't1', type: 'job_cancelled', jobId: 2 }]);
  while ((await step())!.events > 0);
  expect((await deliveries(mine)).map((d) => d.event_seq)).toEqual([after]);
  expect(await deliveries(theirs)).toEqual([]);
});

it('moves the cursor to the horizon when nothing matches', async () => {
  await webhook('t1', ['job.succeeded']);
  const [last] = await events(db.pool, [
    { tenant: 't2', type: 'job_succeeded' },
    { tenant: 't1', type: 'job_failed' },
  ]);
  const last2 = (await events(db.pool, [{ tenant: 't2', type: 'job_started' }]))[0];
  expect(await step()).toEqual({ events: 0, deliveries: 0 });
  expect(BigInt((await cursor()).seq)).toBeGreaterThanOrEqual(BigInt(last2!));
  expect(BigInt(last!)).toBeLessThan(BigInt(last2!));
});

it('reads a bounded page per step, and the next step goes on from its last event', async () => {
  const id = await webhook('t1', ['job.succeeded']);
  const total = SCAN_PAGE_SIZE * 2 + 50;
  const seqs = await events(
    db.pool,
    Array.from({ length: total }, (_, i) => ({
      tenant: 't1',
      type: 'job_succeeded',
      jobId: i + 1,
    })),
  );
  expect(await step()).toEqual({ events: SCAN_PAGE_SIZE, deliveries: SCAN_PAGE_SIZE });
  expect((await cursor()).seq).toBe(seqs[SCAN_PAGE_SIZE - 1]);
  expect(await step()).toEqual({ events: SCAN_PAGE_SIZE, deliveries: SCAN_PAGE_SIZE });
  expect(await step()).toEqual({ events: 50, deliveries: 50 });
  expect((await deliveries(id)).map((d) => d.event_seq)).toEqual(seqs);
});

it('lets one scanner step at a time', async () => {
  await webhook('t1', ['job.cancelled']);
  await events(db.pool, [{ tenant: 't1', type: 'job_cancelled' }]);
  const holder = await db.pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(`SELECT pg_advisory_xact_lock(hashtext('danube.webhook_scan'))`);
    expect(await scanner.step()).toBeNull();
    await holder.query('COMMIT');
    expect(await step()).toEqual({ events: 1, deliveries: 1 });
  } finally {
    holder.release();
  }
});

it('wakes graphile-worker once per step that stored deliveries, and not at all when idle', async () => {
  await webhook('t1', ['job.cancelled']);
  const listener = await db.pool.connect();
  const notifications: string[] = [];
  listener.on('notification', (n) => notifications.push(n.channel));
  try {
    await listener.query('LISTEN "jobs:insert"');
    await events(db.pool, [
      { tenant: 't1', type: 'job_cancelled', jobId: 1 },
      { tenant: 't1', type: 'job_cancelled', jobId: 2 },
      { tenant: 't1', type: 'job_cancelled', jobId: 3 },
    ]);
    expect(await step()).toEqual({ events: 3, deliveries: 3 });
    expect(await step()).toEqual({ events: 0, deliveries: 0 });
    // A round trip on the listening connection: every notification sent before it is in.
    await listener.query('SELECT 1');
    expect(notifications).toEqual(['jobs:insert']);
  } finally {
    await listener.query('UNLISTEN *');
    listener.release();
  }
});
