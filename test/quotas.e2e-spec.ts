import { startApi, http, type TestApi } from './support/api';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { bearer, tenantWithKey } from './support/tenants';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitFor } from './support/wait-for';

/**
 * Quotas and fair share hold in the claim itself, with several executor processes racing
 * for the same topic: counts are sampled from Postgres the whole time, not inferred.
 */
let db: TestDatabase;
let api: TestApi;
const executors: ExecutorProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url);
});
afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.stop()));
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

async function startExecutors(n: number, topic: string, env: Record<string, string> = {}) {
  executors.push(
    ...(await Promise.all(
      Array.from({ length: n }, (_, i) =>
        startExecutor(db.url, `${topic}-${i}`, {
          ...api.executorEnv,
          EXECUTOR_TOPICS: topic,
          EXECUTOR_POLL_INTERVAL_MS: '100',
          EXECUTOR_SHUTDOWN_GRACE_MS: '1000',
          ...env,
        }),
      ),
    )),
  );
}

async function submitMany(key: string, jobs: Record<string, unknown>[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < jobs.length; i += 1000) {
    const { status, body } = await http(
      'POST',
      `${api.url}/v1/jobs/batch`,
      { jobs: jobs.slice(i, i + 1000) },
      bearer(key),
    );
    expect(status).toBe(201);
    ids.push(...body.jobs.map((j: { id: string }) => j.id));
  }
  return ids;
}

/** Samples running counts (claimed or running) of `tenant` until `done()`; returns the peaks. */
async function samplePeaks(tenant: string, done: () => Promise<boolean>) {
  const peak = { all: 0, gpu: 0, samples: 0 };
  while (!(await done())) {
    const { rows } = await db.pool.query<{ all: number; gpu: number }>(
      `SELECT count(*)::integer AS all,
              count(*) FILTER (WHERE task_class = 'gpu')::integer AS gpu
       FROM danube.jobs WHERE tenant = $1 AND status IN ('claimed', 'running')`,
      [tenant],
    );
    peak.all = Math.max(peak.all, rows[0]!.all);
    peak.gpu = Math.max(peak.gpu, rows[0]!.gpu);
    peak.samples++;
  }
  return peak;
}

it('4 executors racing never run more than a tenant may: 5 at once, 2 of them gpu', async () => {
  const key = await tenantWithKey(api, 'capped', {
    quotas: { maxRunning: 5, maxRunningByClass: { gpu: 2 } },
  });
  const cpu = Array.from({ length: 200 }, () => ({ topic: 'race', command: 'sleep 0.1' }));
  const gpu = Array.from({ length: 40 }, () => ({
    topic: 'race',
    taskClass: 'gpu',
    command: 'sleep 0.1',
  }));
  // gpu first: a claim that took the queue in order would hit the class cap at once.
  const ids = await submitMany(key, [...gpu, ...cpu]);
  await startExecutors(4, 'race', { EXECUTOR_CONCURRENCY: '10', EXECUTOR_BATCH_SIZE: '10' });

  const peak = await samplePeaks('capped', async () => {
    const { rows } = await db.pool.query<{ left: number }>(
      `SELECT count(*)::integer AS left FROM danube.jobs
       WHERE id = ANY($1::bigint[]) AND status NOT IN ('succeeded', 'failed')`,
      [ids],
    );
    return rows[0]!.left === 0;
  });
  expect(peak.all).toBe(5);
  expect(peak.gpu).toBe(2);
  expect(peak.samples).toBeGreaterThan(20);
  const { rows } = await db.pool.query(
    `SELECT status, count(*)::integer AS n FROM danube.jobs WHERE tenant = 'capped' GROUP BY status`,
  );
  expect(rows).toEqual([{ status: 'succeeded', n: 240 }]);
}, 120_000);

it("a tenant's 10 jobs start ahead of another tenant's backlog of 10,000", async () => {
  const keyA = await tenantWithKey(api, 'backlog');
  const keyB = await tenantWithKey(api, 'newcomer');
  const batch = 5;
  const executorCount = 2;
  await submitMany(
    keyA,
    Array.from({ length: 10_000 }, (_, i) => ({
      topic: 'fair',
      command: 'sleep 1',
      priority: i % 3,
    })),
  );
  await startExecutors(executorCount, 'fair', {
    EXECUTOR_CONCURRENCY: '10',
    EXECUTOR_BATCH_SIZE: String(batch),
  });
  const startedOf = async (tenant: string) =>
    (
      await db.pool.query<{ n: number }>(
        `SELECT count(*)::integer AS n FROM danube.jobs WHERE tenant = $1 AND claimed_at IS NOT NULL`,
        [tenant],
      )
    ).rows[0]!.n;
  await waitFor(
    'the backlog to fill the executors',
    async () => (await startedOf('backlog')) >= 20,
  );

  const ids = await submitMany(
    keyB,
    Array.from({ length: 10 }, () => ({ topic: 'fair', command: 'true' })),
  );
  await waitFor(
    "the newcomer's jobs to start",
    async () => (await startedOf('newcomer')) === ids.length,
    30_000,
    20,
  );
  // The backlog's claims from when the newcomer's jobs were stored until the last of them
  // was claimed, by the database's own timestamps: what the backlog drained meanwhile,
  // however long the requests took on a busy machine.
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM danube.jobs a
     WHERE a.tenant = 'backlog'
       AND a.claimed_at >= (SELECT min(b.created_at) FROM danube.jobs b WHERE b.tenant = 'newcomer')
       AND a.claimed_at <= (SELECT max(b.claimed_at) FROM danube.jobs b WHERE b.tenant = 'newcomer')`,
  );
  expect(rows[0]!.n).toBeLessThanOrEqual(batch * executorCount);
}, 120_000);
