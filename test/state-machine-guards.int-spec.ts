import { randomUUID } from 'node:crypto';
import { JOB_STATUSES, LEASED_STATUSES, canTransition, type JobStatus } from '../libs/core/src';
import { WorkflowsRepository } from '../libs/dag/src';
import { AttemptsRepository, JobsRepository, type AttemptFinish } from '../libs/queue/src';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * The state machine in libs/core is the law; the SQL must keep it. Every statement that
 * moves jobs is run here on one job in each of the nine statuses, and every move it makes
 * must be one the table allows, and it must make at least one: a guard written out in SQL
 * (for a partial index) cannot drift from the table unseen.
 */
let db: TestDatabase;
let attempts: AttemptsRepository;
let jobs: JobsRepository;
let workflows: WorkflowsRepository;

beforeAll(async () => {
  db = await createTestDatabase();
  attempts = new AttemptsRepository(db.pool);
  jobs = new JobsRepository(db.pool);
  workflows = new WorkflowsRepository(db.pool);
});
afterAll(() => db.drop());

interface Row {
  id: string;
  status: JobStatus;
  leaseToken: string;
}

/**
 * One job in each status, all leased to e1 with an expired lease and an adoptable ref, in
 * one workflow (the failed node a child of the timed-out one): whatever a statement looks
 * for, every status offers it.
 */
async function oneOfEach(): Promise<{ topic: string; workflowId: string; rows: Row[] }> {
  const topic = `guards-${randomUUID()}`;
  const workflowId = await workflows.insertWorkflow('default', topic, {}, JOB_STATUSES.length);
  const rows: Row[] = [];
  for (const status of JOB_STATUSES) {
    const leaseToken = randomUUID();
    const { rows: inserted } = await db.pool.query<{ id: string }>(
      `INSERT INTO danube.jobs (topic, task_class, status, max_attempts, timeout_seconds, spec,
         attempts, lease_owner, lease_token, lease_expires_at, runtime_ref, workflow_id, node_name,
         run_at)
       VALUES ($1, 'cpu_short', $2::danube.job_status, 3, 60,
         '{"command": ["true"], "env": {}, "maxAttempts": 3}', 1, 'e1', $3,
         now() - interval '1 minute', 'test:ref', $4, $2::text, now() - interval '1 minute')
       RETURNING id`,
      [topic, status, leaseToken, workflowId],
    );
    rows.push({ id: inserted[0]!.id, status, leaseToken });
  }
  // The failed node depends on the timed-out one: re-run together, it must wait for it.
  const of = (status: JobStatus) => rows.find((r) => r.status === status)!.id;
  await workflows.insertEdges(workflowId, [of('timed_out')], [of('failed')]);
  return { topic, workflowId, rows };
}

/** Runs `statement` on one job of each status; returns the moves it made. */
async function movesOf(
  statement: (set: Awaited<ReturnType<typeof oneOfEach>>) => Promise<unknown>,
): Promise<string[]> {
  const set = await oneOfEach();
  await statement(set);
  const { rows } = await db.pool.query<{ id: string; status: JobStatus }>(
    'SELECT id, status FROM danube.jobs WHERE id = ANY($1::bigint[])',
    [set.rows.map((r) => r.id)],
  );
  const now = new Map(rows.map((r) => [r.id, r.status]));
  return set.rows
    .filter((r) => now.get(r.id) !== r.status)
    .map((r) => `${r.status} -> ${now.get(r.id)}`);
}

function finishAs(row: Row, next: JobStatus): AttemptFinish {
  return {
    id: row.id,
    leaseToken: row.leaseToken,
    attempt: 1,
    nextStatus: next,
    outcome: next === 'queued' ? 'failed' : (next as AttemptFinish['outcome']),
    retryAt: null,
    errorCategory: next === 'succeeded' ? null : 'transient',
    message: null,
    exitCode: null,
    stderrTail: null,
    result: undefined,
    runtimeRef: null,
    startedAt: new Date(),
    finishedAt: new Date(),
  };
}

const STATEMENTS: [string, (set: Awaited<ReturnType<typeof oneOfEach>>) => Promise<unknown>][] = [
  ['CLAIM_JOBS', ({ topic }) => attempts.claim('e2', [topic], 100, 30_000)],
  ...(['plain', 'skipLocked'] as const).map(
    (locking) =>
      [
        `MARK_JOBS_RUNNING (${locking})`,
        ({ rows }) =>
          attempts.markRunning(
            rows.map((r) => ({
              id: r.id,
              leaseToken: r.leaseToken,
              startedAt: new Date(),
              runtimeRef: null,
            })),
            locking,
          ),
      ] as [string, (set: Awaited<ReturnType<typeof oneOfEach>>) => Promise<unknown>],
  ),
  ...(['succeeded', 'failed', 'timed_out', 'cancelled', 'queued'] as const).flatMap(
    (next) =>
      [
        [
          `FINISH_ATTEMPTS to ${next}`,
          ({ rows }) =>
            attempts.finish(
              'e1',
              'test',
              rows.map((r) => finishAs(r, next)),
            ),
        ],
        [
          `FINISH_ATTEMPTS to ${next} (skip locked)`,
          ({ rows }) =>
            attempts.finish(
              'e1',
              'test',
              rows.map((r) => finishAs(r, next)),
              'skipLocked',
            ),
        ],
      ] as [string, (set: Awaited<ReturnType<typeof oneOfEach>>) => Promise<unknown>][],
  ),
  ['REAP_EXPIRED_LEASES', () => attempts.reapExpiredLeases()],
  [
    'HAND_OVER_ATTEMPT',
    ({ rows }) => Promise.all(rows.map((r) => attempts.handOver(r.id, r.leaseToken))),
  ],
  ['CANCEL_JOB', ({ rows }) => Promise.all(rows.map((r) => jobs.cancel('default', r.id)))],
  ['RETRY_JOB', ({ rows }) => Promise.all(rows.map((r) => jobs.retry('default', r.id)))],
  ['SKIP_WAITING_NODES', ({ workflowId }) => workflows.skipWaitingNodes(workflowId)],
  ['RERUN_UNSUCCESSFUL_NODES', ({ workflowId }) => workflows.rerunUnsuccessfulNodes(workflowId)],
  ...(['queued', 'skipped'] as const).map(
    (becomes) =>
      [
        `UPDATE_CHILDREN to ${becomes}`,
        ({ rows }) =>
          workflows.updateChildren(
            rows.map((r) => ({
              id: r.id,
              pending: 0,
              succeeded: 1,
              failed: 0,
              becomes,
              reason: 'x',
            })),
          ),
      ] as [string, (set: Awaited<ReturnType<typeof oneOfEach>>) => Promise<unknown>],
  ),
];

it.each(STATEMENTS)('%s moves only what the state machine allows', async (_name, statement) => {
  const moves = await movesOf(statement);
  expect(moves.length).toBeGreaterThan(0);
  const refused = moves.filter((move) => {
    const [from, to] = move.split(' -> ') as [JobStatus, JobStatus];
    return !canTransition(from, to);
  });
  expect({ moves, refused }).toEqual({ moves, refused: [] });
});

it('the reaper and the lease statements cover exactly the leased statuses', () => {
  // The literal IN ('claimed', 'running') in REAP_EXPIRED_LEASES is the table's leased set.
  expect([...LEASED_STATUSES].sort()).toEqual(['claimed', 'running']);
});
