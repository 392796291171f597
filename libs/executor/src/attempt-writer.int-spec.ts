import { Client, type Pool } from 'pg';
import { createPool } from '@danube/db';
import type { ClaimedJob } from '@danube/core';
import { AttemptsRepository, JobsRepository, JobsService, succeededAttempt } from '@danube/queue';
import { queueOn } from '../../../test/support/queue';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { AttemptWriter } from './attempt-writer';

/** The attempt writer on a real Postgres, in this process: what it batches, fences and retries. */
let db: TestDatabase;
let attempts: AttemptsRepository;
let jobs: JobsRepository;
let service: JobsService;
const pools: Pool[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  ({ attempts, jobs, service } = queueOn(db));
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await db.drop();
});

/** A writer on a pool of its own, named so that a test can find its connection. */
function writer(options: { lockTimeoutMs?: number } = {}): AttemptWriter {
  const pool = createPool({
    databaseUrl: db.url,
    max: 1,
    applicationName: 'writer-under-test',
    lockTimeoutMs: options.lockTimeoutMs,
  });
  pools.push(pool);
  return new AttemptWriter(pool, 'e1', 'fake');
}

async function claimed(count: number, leaseMs = 30_000): Promise<ClaimedJob[]> {
  const topic = `t${Math.random()}`;
  await service.enqueueMany(Array.from({ length: count }, () => ({ topic, command: ['true'] })));
  return attempts.claim('e1', [topic], count, leaseMs);
}

/** Holds job `id`'s row locked in another session until the returned function is called. */
async function lockRow(id: string): Promise<() => Promise<void>> {
  const holder = new Client({ connectionString: db.url });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT 1 FROM danube.jobs WHERE id = $1 FOR UPDATE', [id]);
  return async () => {
    await holder.query('ROLLBACK');
    await holder.end();
  };
}

async function events(id: string): Promise<string[]> {
  const { rows } = await db.pool.query(
    "SELECT type || coalesce(' from ' || (data->>'from'), '') AS e FROM danube.events WHERE job_id = $1 ORDER BY tx, seq",
    [id],
  );
  return rows.map((r) => r.e);
}

it('writes a start and an end that meet in one batch as the end alone: claimed -> succeeded in one statement', async () => {
  const [other, job] = await claimed(2);
  const w = writer();
  // A write in flight: what comes next waits for it and goes out together in the next batch.
  const inFlight = w.finish(succeededAttempt(other!));
  const start = w.start({
    id: job!.id,
    leaseToken: job!.leaseToken,
    startedAt: new Date(),
    runtimeRef: null,
  });
  const finish = w.finish(succeededAttempt(job!));
  expect(await inFlight).toBe(true);
  expect(await start).toEqual({ held: true, cancelRequested: false });
  expect(await finish).toBe(true);
  // Had the start been written first, the end would come from 'running'.
  expect(await events(job!.id)).toEqual([
    'job_queued',
    'job_started',
    'job_succeeded from claimed',
  ]);
  expect(await jobs.executions('default', job!.id)).toHaveLength(1);
});

it('answers false for an end whose lease was taken over, and writes nothing of it', async () => {
  const [job] = await claimed(1, 1000);
  await db.pool.query(
    "UPDATE danube.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
    [job!.id],
  );
  await attempts.reapExpiredLeases();
  // Another executor takes the job: its new lease is the one that counts.
  const [again] = await attempts.claim('e2', [job!.topic], 1, 30_000);
  expect(again!.id).toBe(job!.id);
  const w = writer();
  expect(await w.finish(succeededAttempt(job!))).toBe(false);
  w.log({
    jobId: job!.id,
    attempt: 1,
    leaseToken: job!.leaseToken,
    stream: 'stdout',
    line: 'late',
    loggedAt: new Date(),
  });
  await w.drain();
  expect(await jobs.findById(null, job!.id)).toMatchObject({ status: 'claimed', leaseOwner: 'e2' });
  // Only the reaper's record of the lost attempt, and not the late line.
  expect((await jobs.executions('default', job!.id)).map((e) => e.outcome)).toEqual(['failed']);
  expect(await jobs.logLines('default', job!.id, '0', 10)).toEqual([]);
});

it('retries a write that failed on a database error until it is written, once', async () => {
  const [job] = await claimed(1);
  const w = writer();
  const unlock = await lockRow(job!.id);
  w.log({
    jobId: job!.id,
    attempt: 1,
    leaseToken: job!.leaseToken,
    stream: 'stdout',
    line: 'hello',
    loggedAt: new Date(),
  });
  const finish = w.finish(succeededAttempt(job!));
  // The write waits for the locked row; its connection is then killed under it.
  const admin = new Client({ connectionString: db.url });
  await admin.connect();
  for (let tries = 0; ; tries++) {
    const { rows } = await admin.query(
      "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'writer-under-test' AND wait_event_type = 'Lock'",
    );
    if (rows.length > 0) break;
    if (tries > 500) throw new Error('the write never waited on the lock');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await admin.end();
  await unlock();
  expect(await finish).toBe(true);
  expect((await jobs.findById(null, job!.id))!.status).toBe('succeeded');
  expect(await jobs.executions('default', job!.id)).toHaveLength(1);
  expect((await jobs.logLines('default', job!.id, '0', 10)).map((l) => l.line)).toEqual(['hello']);
});

it('after a lock timeout, writes the other rows and comes back to the locked one when it is free', async () => {
  const [a, b] = await claimed(2);
  const w = writer({ lockTimeoutMs: 200 });
  const unlock = await lockRow(a!.id);
  const finishA = w.finish(succeededAttempt(a!));
  const finishB = w.finish(succeededAttempt(b!));
  expect(await finishB).toBe(true);
  expect((await jobs.findById(null, a!.id))!.status).toBe('claimed');
  await unlock();
  expect(await finishA).toBe(true);
  expect((await jobs.findById(null, a!.id))!.status).toBe('succeeded');
});
