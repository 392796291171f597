import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemArtifactStore } from '../libs/artifacts/src';
import { RetentionRepository, RetentionSweepService } from '../libs/housekeeping/src/retention';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** Retention keeps webhook delivery logs as long as its tenant keeps jobs, and no longer. */
let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'danube-retention-deliveries-'));
});

afterAll(async () => {
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let seq = 0;

async function delivery(webhook: string, status: string, daysAgo: number): Promise<string> {
  seq += 1;
  const { rows } = await db.pool.query(
    `INSERT INTO danube.webhook_deliveries
       (webhook_id, event_seq, type, payload, status, max_attempts, created_at)
     VALUES ($1, $4, 'job.failed', '{}', $2, 3, now() - make_interval(days => $3))
     RETURNING id`,
    [webhook, status, daysAgo, seq],
  );
  return rows[0].id;
}

it("deletes finished deliveries older than the tenant's default, failed ones after keepFailedDays, never pending ones", async () => {
  await db.pool.query(`INSERT INTO danube.tenants (name) VALUES ('hooks')`);
  await new RetentionRepository(db.pool).replacePolicy('hooks', {
    default: { keepDays: 7, keepFailedDays: 20, maxLogBytesPerAttempt: null },
    topics: [],
  });
  for (const [id, tenant] of [
    ['wh_hooks', 'hooks'],
    ['wh_default', 'default'],
  ]) {
    await db.pool.query(
      `INSERT INTO danube.webhooks (id, tenant, url, events, max_attempts, secret_key_id,
         secret_nonce, secret_ciphertext, secret_auth_tag)
       VALUES ($1, $2, 'http://127.0.0.1:1/', '{job.failed}', 3, 'k', '\\x00', '\\x00', '\\x00')`,
      [id, tenant],
    );
  }
  const gone = [
    await delivery('wh_hooks', 'delivered', 8),
    await delivery('wh_hooks', 'failed', 21),
    await delivery('wh_default', 'delivered', 31),
  ];
  const kept = [
    await delivery('wh_hooks', 'delivered', 6),
    await delivery('wh_hooks', 'failed', 10),
    await delivery('wh_hooks', 'pending', 40),
    // 'default' has no policy of its own: the built-in 30 days.
    await delivery('wh_default', 'delivered', 29),
  ];

  const report = await new RetentionSweepService(db.pool, new FilesystemArtifactStore(dir), {
    defaultKeepDays: 30,
  }).sweep();

  expect(report.deleted.deliveries).toBe(gone.length);
  const { rows } = await db.pool.query('SELECT id FROM danube.webhook_deliveries ORDER BY id');
  expect(rows.map((r) => r.id)).toEqual(kept);
});
