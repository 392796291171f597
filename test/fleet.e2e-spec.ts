import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, http, type TestApi } from './support/api';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { isAlive, waitFor } from './support/wait-for';

/** Several executor processes on one database: sharing work, dying, shutting down. */
let db: TestDatabase;
let api: TestApi;
const executors: ExecutorProcess[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'danube-fleet-'));

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url);
});

afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.kill()));
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

async function executor(id: string, env: Record<string, string>): Promise<ExecutorProcess> {
  const e = await startExecutor(db.url, id, env);
  executors.push(e);
  return e;
}

async function query<T = Record<string, unknown>>(
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  return (await db.pool.query(sql, params)).rows as T[];
}

it('three executors drain 3,000 jobs on two topics: each job runs exactly once, each executor only its topics', async () => {
  const common = {
    DANUBE_RUNTIME: 'inline',
    EXECUTOR_BATCH_SIZE: '20',
    EXECUTOR_CONCURRENCY: '50',
  };
  await executor('fleet-alpha', { ...common, EXECUTOR_TOPICS: 'alpha' });
  await executor('fleet-beta', { ...common, EXECUTOR_TOPICS: 'beta' });
  await executor('fleet-both', { ...common, EXECUTOR_TOPICS: 'alpha,beta' });

  for (let batch = 0; batch < 3; batch++) {
    const jobs = Array.from({ length: 1000 }, (_, i) => ({
      topic: i % 2 === 0 ? 'alpha' : 'beta',
      command: ['true'],
    }));
    const response = await http('POST', `${api.url}/v1/jobs/batch`, { jobs });
    expect(response.status).toBe(201);
  }

  await waitFor(
    '3,000 jobs to succeed',
    async () => {
      const [{ n }] = await query<{ n: number }>(
        "SELECT count(*)::int AS n FROM danube.jobs WHERE status = 'succeeded'",
      );
      return n === 3000;
    },
    60_000,
    200,
  );

  expect(
    await query(
      "SELECT job_id FROM danube.executions GROUP BY job_id HAVING count(*) <> 1 OR bool_or(outcome <> 'succeeded')",
    ),
  ).toEqual([]);
  const [{ n: executed }] = await query<{ n: number }>(
    'SELECT count(DISTINCT job_id)::int AS n FROM danube.executions',
  );
  expect(executed).toBe(3000);

  const ran = await query<{ executor_id: string; topic: string; n: number }>(`
    SELECT e.executor_id, j.topic, count(*)::int AS n
    FROM danube.executions e JOIN danube.jobs j ON j.id = e.job_id
    GROUP BY 1, 2 ORDER BY 1, 2`);
  const topicsOf = (id: string) => ran.filter((r) => r.executor_id === id).map((r) => r.topic);
  expect(topicsOf('fleet-alpha')).toEqual(['alpha']);
  expect(topicsOf('fleet-beta')).toEqual(['beta']);
  expect(
    ran.filter((r) => !['fleet-alpha', 'fleet-beta', 'fleet-both'].includes(r.executor_id)),
  ).toEqual([]);
  expect(ran.reduce((sum, r) => sum + r.n, 0)).toBe(3000);
});

it('SIGKILL of an executor running jobs: after its leases expire the jobs complete on another; none lost', async () => {
  const env = {
    EXECUTOR_TOPICS: 'crash',
    EXECUTOR_LEASE_MS: '2000',
    EXECUTOR_HEARTBEAT_MS: '500',
    EXECUTOR_REAP_INTERVAL_MS: '300',
    EXECUTOR_CONCURRENCY: '10',
  };
  const doomed = await executor('crash-doomed', env);
  // The first attempt outlives the test unless the crash ends it; the retry is quick.
  const command = `echo $$ > ${scratch}/crash-$DANUBE_JOB_ID-$DANUBE_ATTEMPT.pid; [ $DANUBE_ATTEMPT = 1 ] && exec sleep 120; exit 0`;
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    ids.push(
      (
        await http('POST', `${api.url}/v1/jobs`, {
          topic: 'crash',
          command,
          backoff: { initialSeconds: 0.2 },
        })
      ).body.id,
    );
  }
  await waitFor('the doomed executor to run all four', async () => {
    const rows = await query(
      "SELECT id FROM danube.jobs WHERE topic = 'crash' AND status = 'running' AND lease_owner = 'crash-doomed'",
    );
    return (
      rows.length === 4 && readdirSync(scratch).filter((f) => f.startsWith('crash-')).length === 4
    );
  });
  const survivor = await executor('crash-survivor', env);
  const firstAttemptPids = readdirSync(scratch)
    .filter((f) => f.startsWith('crash-'))
    .map((f) => Number(readFileSync(join(scratch, f), 'utf8')));

  await doomed.kill();
  // The dead executor's attempts die with it: nothing keeps running unseen.
  await waitFor(
    'the orphaned attempts to be killed',
    () => firstAttemptPids.every((pid) => !isAlive(pid)),
    3000,
  );

  for (const id of ids) {
    const job = await waitFor(
      `job ${id} to succeed`,
      async () => {
        const { body } = await http('GET', `${api.url}/v1/jobs/${id}`);
        return body.status === 'succeeded' ? body : null;
      },
      20_000,
    );
    expect(job.attempts).toBe(2);
    // A finished job still names the executor that ran its last attempt.
    expect(job.executor).toBe(survivor.id);
    const { body } = await http('GET', `${api.url}/v1/jobs/${id}/executions`);
    // The first attempt is recorded by the reaper, naming the executor that ran it.
    expect(body.items).toMatchObject([
      {
        attempt: 1,
        outcome: 'failed',
        errorCategory: 'infra',
        executorId: doomed.id,
        message: expect.stringMatching(/stopped renewing its lease .* it may have run/),
      },
      { attempt: 2, outcome: 'succeeded', executorId: survivor.id },
    ]);
  }
  // The dead executor is lost once its heartbeat is older than its lease; the survivor is alive.
  const executorsView = await http('GET', `${api.url}/v1/executors`);
  const stateOf = (id: string) =>
    executorsView.body.items.find((e: { id: string }) => e.id === id).state;
  expect([stateOf('crash-doomed'), stateOf('crash-survivor')]).toEqual(['lost', 'alive']);
  const warned = await http('POST', `${api.url}/v1/jobs`, { topic: 'crash', command: 'true' });
  expect(warned.body.warnings).toEqual([]);
});

it('SIGTERM lets running jobs finish within the grace period, then releases the rest', async () => {
  const graceful = await executor('graceful', {
    EXECUTOR_TOPICS: 'graceful',
    EXECUTOR_SHUTDOWN_GRACE_MS: '1500',
    EXECUTOR_KILL_GRACE_MS: '200',
  });
  const short = (
    await http('POST', `${api.url}/v1/jobs`, { topic: 'graceful', command: 'sleep 0.5' })
  ).body.id;
  const long = (
    await http('POST', `${api.url}/v1/jobs`, {
      topic: 'graceful',
      command: `echo $$ > ${scratch}/long.pid; exec sleep 30`,
    })
  ).body.id;
  await waitFor(
    'both to run',
    async () =>
      (await query("SELECT id FROM danube.jobs WHERE topic = 'graceful' AND status = 'running'"))
        .length === 2,
  );
  await waitFor('the pid file', () => readdirSync(scratch).includes('long.pid'));
  const longPid = Number(readFileSync(join(scratch, 'long.pid'), 'utf8'));

  const code = await graceful.stop();
  expect(code).toBe(0);
  const [shortJob] = await query<{ status: string }>(
    'SELECT status FROM danube.jobs WHERE id = $1',
    [short],
  );
  expect(shortJob!.status).toBe('succeeded');
  const [longJob] = await query<{ status: string; lease_owner: string | null }>(
    'SELECT status, lease_owner FROM danube.jobs WHERE id = $1',
    [long],
  );
  expect(longJob).toEqual({ status: 'queued', lease_owner: null });
  expect(isAlive(longPid)).toBe(false);
  const { body } = await http('GET', `${api.url}/v1/jobs/${long}/executions`);
  expect(body.items).toMatchObject([
    {
      outcome: 'failed',
      errorCategory: 'infra',
      message: 'the executor shut down before the attempt finished',
    },
  ]);
  const { body: fleet } = await http('GET', `${api.url}/v1/executors`);
  expect(fleet.items.find((e: { id: string }) => e.id === 'graceful').state).toBe('stopped');
  await http('POST', `${api.url}/v1/jobs/${long}/cancel`);
});

it('NOTIFY wakes an idle executor at once; polling finds jobs that came without one', async () => {
  await executor('notified', {
    EXECUTOR_TOPICS: 'notify',
    DANUBE_RUNTIME: 'inline',
    EXECUTOR_POLL_INTERVAL_MS: '60000',
  });
  const submittedAt = Date.now();
  const { body } = await http('POST', `${api.url}/v1/jobs`, { topic: 'notify', command: 'true' });
  // The poll interval is a minute: only the NOTIFY can have woken the executor this soon.
  await waitFor(
    'the notified job to succeed',
    async () => (await http('GET', `${api.url}/v1/jobs/${body.id}`)).body.status === 'succeeded',
    5000,
  );
  expect(Date.now() - submittedAt).toBeLessThan(5000);

  await executor('polling', {
    EXECUTOR_TOPICS: 'silent',
    DANUBE_RUNTIME: 'inline',
    EXECUTOR_POLL_INTERVAL_MS: '300',
  });
  const [row] = await query<{ id: string }>(`
    INSERT INTO danube.jobs (topic, task_class, max_attempts, timeout_seconds, spec)
    VALUES ('silent', 'cpu_short', 1, 60, '{"command": ["true"], "env": {}, "backoff": {"initialSeconds": 1, "factor": 2, "maxSeconds": 1}, "noRetryExitCodes": []}')
    RETURNING id`);
  await waitFor(
    'the silently inserted job to succeed',
    async () => (await http('GET', `${api.url}/v1/jobs/${row!.id}`)).body.status === 'succeeded',
    5000,
  );
});
