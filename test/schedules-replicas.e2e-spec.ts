import { http } from './support/api';
import { startApiProcess, type ApiProcess } from './support/api-process';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitFor } from './support/wait-for';

/**
 * Two API processes on one database, both running chores, firing schedules every second:
 * each scheduled time starts one run, whichever replica fires it; overlap skip never runs
 * two at once; and after both replicas were stopped, catch-up runs each missed fire once
 * (all) or none of them (none).
 *
 * The replicas treat a fire more than 2 s late as missed (the default is 15 s), so that
 * a 5 s outage makes missed fires. The schedules that must not miss a second on a busy
 * machine catch up (catchUp all), so a slow fire there is late, never lost.
 */
const GRACE_ENV = { SCHEDULE_LATE_FIRE_GRACE_SECONDS: '2' };
const OUTAGE_MS = 5000;

let db: TestDatabase;
let replicas: ApiProcess[] = [];
let executor: ExecutorProcess | undefined;

async function startReplicas(): Promise<ApiProcess[]> {
  const started = await Promise.all([
    startApiProcess(db.url, GRACE_ENV),
    startApiProcess(db.url, GRACE_ENV),
  ]);
  for (const replica of started) {
    await waitFor(
      'the replica to run chores',
      async () =>
        (await http('GET', `${replica.url}/readyz`)).body?.info?.housekeeping?.status === 'up',
      60_000,
    );
  }
  return started;
}

beforeAll(async () => {
  db = await createTestDatabase();
  replicas = await startReplicas();
}, 180_000);

afterAll(async () => {
  await executor?.stop();
  await Promise.all(replicas.map((r) => r.stop()));
  await db?.drop();
});

interface Run {
  scheduledAt: Date;
  firedAt: Date;
  outcome: 'started' | 'skipped';
  reason: string | null;
  jobId: string | null;
}

/** Every run of a schedule, oldest first, from the database. */
async function runs(scheduleId: string): Promise<Run[]> {
  const { rows } = await db.pool.query(
    `SELECT scheduled_at, fired_at, outcome, reason, job_id
     FROM danube.schedule_runs WHERE schedule_id = $1 ORDER BY scheduled_at`,
    [scheduleId],
  );
  return rows.map((r) => ({
    scheduledAt: r.scheduled_at,
    firedAt: r.fired_at,
    outcome: r.outcome,
    reason: r.reason,
    jobId: r.job_id,
  }));
}

/** Creates a schedule through one replica; returns its id. */
async function schedule(via: ApiProcess, body: Record<string, unknown>): Promise<string> {
  const created = await http('POST', `${via.url}/v1/schedules`, {
    cron: '* * * * * *',
    catchUp: 'all',
    catchUpLimit: 100,
    ...body,
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function pause(via: ApiProcess, id: string): Promise<void> {
  expect((await http('PATCH', `${via.url}/v1/schedules/${id}`, { paused: true })).status).toBe(200);
}

/** The gaps between consecutive scheduled times, in seconds. */
function gaps(list: Run[]): number[] {
  return list
    .slice(1)
    .map((run, i) => (run.scheduledAt.getTime() - list[i]!.scheduledAt.getTime()) / 1000);
}

it('starts each scheduled second once over 10 s, with two replicas firing', async () => {
  const id = await schedule(replicas[0]!, {
    name: 'every-second',
    job: { topic: 'nobody-serves', command: ['true'] },
  });
  await waitFor('11 runs (10 s of fires)', async () => (await runs(id)).length >= 11, 60_000);
  await pause(replicas[1]!, id);

  const all = await runs(id);
  expect(all.length).toBeGreaterThanOrEqual(11);
  expect(all.every((r) => r.outcome === 'started')).toBe(true);
  // Every second from the first run to the last, each once.
  expect(gaps(all)).toEqual(all.slice(1).map(() => 1));
  // One job per run, each under the key of its scheduled time, and no other.
  const { rows: jobs } = await db.pool.query(
    `SELECT id, idempotency_key FROM danube.jobs WHERE idempotency_key LIKE $1 ORDER BY id`,
    [`schedule:${id}:%`],
  );
  expect(jobs).toHaveLength(all.length);
  expect(new Set(jobs.map((j) => j.id))).toEqual(new Set(all.map((r) => r.jobId)));
  expect(jobs.map((j) => j.idempotency_key).sort()).toEqual(
    all.map((r) => `schedule:${id}:${r.scheduledAt.toISOString()}`).sort(),
  );
});

it('with overlap skip, never starts a 3 s job while the previous one is unfinished', async () => {
  executor = await startExecutor(db.url, 'schedules-executor', {
    ...replicas[0]!.executorEnv,
    EXECUTOR_TOPICS: 'slow',
  });
  const id = await schedule(replicas[1]!, {
    name: 'slow-every-second',
    overlap: 'skip',
    job: { topic: 'slow', command: ['sleep', '3'] },
  });
  const finishedRuns = async () => {
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM danube.schedule_runs r JOIN danube.jobs j ON j.id = r.job_id
       WHERE r.schedule_id = $1 AND j.status = 'succeeded'`,
      [id],
    );
    return rows[0].n as number;
  };
  await waitFor('three finished runs', async () => (await finishedRuns()) >= 3, 90_000);
  await pause(replicas[0]!, id);

  const all = await runs(id);
  const started = all.filter((r) => r.outcome === 'started');
  const skipped = all.filter((r) => r.outcome === 'skipped');
  expect(started.length).toBeGreaterThanOrEqual(3);
  expect(skipped.length).toBeGreaterThanOrEqual(2);
  expect(skipped[0]!.reason).toMatch(/^the previous run \(job \d+\) is unfinished$/);

  const { rows: jobs } = await db.pool.query(
    `SELECT id, status, created_at, started_at, finished_at FROM danube.jobs
     WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [started.map((r) => r.jobId)],
  );
  // Each run's job was made only after the previous one had finished: never two at once.
  for (let i = 1; i < jobs.length; i++) {
    const previous = jobs[i - 1]!;
    expect(previous.finished_at).not.toBeNull();
    expect(jobs[i]!.created_at.getTime()).toBeGreaterThanOrEqual(previous.finished_at.getTime());
    expect(jobs[i]!.started_at?.getTime() ?? Infinity).toBeGreaterThan(
      previous.finished_at.getTime(),
    );
  }
  await executor.stop();
  executor = undefined;
});

it('after both replicas stop for 5 s, runs each missed fire once (catchUp all) or none (none)', async () => {
  const job = { topic: 'nobody-serves', command: ['true'] };
  const all = await schedule(replicas[0]!, { name: 'catch-up-all', job });
  const none = await schedule(replicas[0]!, { name: 'catch-up-none', catchUp: 'none', job });
  await waitFor(
    'both to fire',
    async () => (await runs(all)).length >= 2 && (await runs(none)).length >= 2,
    60_000,
  );

  await Promise.all(replicas.map((r) => r.stop()));
  const stoppedAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
  replicas = await startReplicas();
  const restartedAt = Date.now();
  expect(restartedAt - stoppedAt).toBeGreaterThanOrEqual(OUTAGE_MS);

  await waitFor(
    'fires after the restart',
    async () => {
      const [a, n] = [await runs(all), await runs(none)];
      const after = (list: Run[]) => list.some((r) => r.scheduledAt.getTime() > restartedAt + 1000);
      return after(a) && after(n);
    },
    60_000,
  );
  await pause(replicas[0]!, all);
  await pause(replicas[0]!, none);

  // catchUp all: every second from the first run to the last, each once, the seconds of
  // the outage included (fired late, after the restart).
  const caughtUp = await runs(all);
  expect(gaps(caughtUp)).toEqual(caughtUp.slice(1).map(() => 1));
  const late = caughtUp.filter((r) => r.firedAt.getTime() - r.scheduledAt.getTime() > 2000);
  expect(late.length).toBeGreaterThanOrEqual(OUTAGE_MS / 1000);
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS n FROM danube.jobs WHERE idempotency_key LIKE $1`,
    [`schedule:${all}:%`],
  );
  expect(rows[0].n).toBe(caughtUp.length);

  // catchUp none: the outage is a hole in its runs, counted as missed.
  const skippedOver = await runs(none);
  expect(Math.max(...gaps(skippedOver))).toBeGreaterThan(OUTAGE_MS / 1000);
  const shown = await http('GET', `${replicas[1]!.url}/v1/schedules/${none}`);
  expect(shown.body.missedRuns).toBeGreaterThanOrEqual(OUTAGE_MS / 1000);
  expect(
    skippedOver.every((r) => r.firedAt.getTime() - r.scheduledAt.getTime() <= 2000 + 1000),
  ).toBe(true);
}, 240_000);
