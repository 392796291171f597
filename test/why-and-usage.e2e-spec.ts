import { startApi, http, jobEnded, type TestApi } from './support/api';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { bearer, tenantWithKey } from './support/tenants';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitFor } from './support/wait-for';

/**
 * GET /v1/jobs/:id/why: each reason comes from a test that builds its situation. And
 * GET /v1/usage adds up exactly what the attempt records say.
 */
let db: TestDatabase;
let api: TestApi;
let served: ExecutorProcess;
let single: ExecutorProcess;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url);
  const common = {
    ...api.executorEnv,
    EXECUTOR_POLL_INTERVAL_MS: '100',
    EXECUTOR_HEARTBEAT_MS: '200',
    EXECUTOR_SHUTDOWN_GRACE_MS: '500',
  };
  [served, single] = await Promise.all([
    startExecutor(db.url, 'why-served', { ...common, EXECUTOR_TOPICS: 'served' }),
    startExecutor(db.url, 'why-single', {
      ...common,
      EXECUTOR_TOPICS: 'single',
      EXECUTOR_CONCURRENCY: '1',
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([served?.stop(), single?.stop()]);
  await api?.close();
  await db?.drop();
});

async function submit(job: Record<string, unknown>, key?: string): Promise<string> {
  const { status, body } = await http('POST', `${api.url}/v1/jobs`, job, key ? bearer(key) : {});
  expect(status).toBe(201);
  return body.id;
}

async function why(id: string, key?: string) {
  const { status, body } = await http(
    'GET',
    `${api.url}/v1/jobs/${id}/why`,
    undefined,
    key ? bearer(key) : {},
  );
  expect(status).toBe(200);
  return body as { status: string; reasons: { code: string; message: string; details?: any }[] };
}

const codes = (answer: { reasons: { code: string }[] }) => answer.reasons.map((r) => r.code);

it('waiting on parents, and no executor for the topic', async () => {
  const { body } = await http('POST', `${api.url}/v1/workflows`, {
    name: 'why-wf',
    nodes: [
      { name: 'first', topic: 'nobody-serves-this', command: 'true' },
      { name: 'second', topic: 'served', command: 'true', dependsOn: ['first'] },
    ],
  });
  const [first, second] = ['first', 'second'].map(
    (n) => body.nodes.find((x: { name: string }) => x.name === n).jobId,
  );
  const child = await why(second);
  expect(child.status).toBe('blocked');
  expect(codes(child)).toEqual(['waiting_on_parents']);
  expect(child.reasons[0]!.message).toBe(
    `waits for 1 of its 1 parents to end: first (job ${first}) is queued`,
  );
  const parent = await why(first);
  expect(codes(parent)).toEqual(['no_executor']);
  expect(parent.reasons[0]!.message).toContain('no live executor serves topic nobody-serves-this');
});

it('scheduled for later, and waiting for a retry backoff', async () => {
  const later = new Date(Date.now() + 3600_000).toISOString();
  const scheduled = await why(await submit({ topic: 'served', command: 'true', runAt: later }));
  expect(codes(scheduled)).toEqual(['scheduled']);
  expect(scheduled.reasons[0]!.message).toBe(`scheduled to run at ${later} (runAt)`);

  const failing = await submit({
    topic: 'served',
    command: 'exit 1',
    maxAttempts: 2,
    backoff: { initialSeconds: 3600, maxSeconds: 3600 },
  });
  await waitFor('the first attempt to fail', async () => {
    const { body } = await http('GET', `${api.url}/v1/jobs/${failing}`);
    return body.status === 'queued' && body.attempts === 1;
  });
  const backoff = await why(failing);
  expect(codes(backoff)).toEqual(['retry_backoff']);
  expect(backoff.reasons[0]!.message).toMatch(
    /^attempt 1 failed; attempt 2 waits for its backoff until /,
  );
});

it("a tenant's running quota and its class quota", async () => {
  const key = await tenantWithKey(api, 'why-quota', {
    quotas: { maxRunning: 1, maxRunningByClass: { gpu: 0 } },
  });
  const long = await submit({ topic: 'served', command: 'sleep 30' }, key);
  await waitFor('the first job to run', async () => (await why(long, key)).status === 'running');
  const queued = await why(await submit({ topic: 'served', command: 'true' }, key), key);
  expect(codes(queued)).toEqual(['tenant_quota_full']);
  expect(queued.reasons[0]!.message).toBe(
    'tenant why-quota is running 1 of its 1 jobs at once (quota maxRunning); it starts when one of them ends',
  );
  const gpu = await why(
    await submit({ topic: 'served', command: 'true', taskClass: 'gpu' }, key),
    key,
  );
  expect(codes(gpu)).toEqual(['tenant_quota_full', 'class_quota_full']);
  expect(gpu.reasons[1]!.message).toBe(
    'tenant why-quota is running 0 of its 0 gpu jobs at once (quota maxRunningByClass.gpu)',
  );
  await http('POST', `${api.url}/v1/jobs/${long}/cancel`, undefined, bearer(key));
});

it('every executor of the topic busy, and due with an executor that will claim it', async () => {
  const busy = await submit({ topic: 'single', command: 'sleep 30' });
  await waitFor('the single slot to fill', async () => {
    const { rows } = await db.pool.query(
      `SELECT running FROM danube.executors WHERE id = 'why-single'`,
    );
    return rows[0]?.running === 1;
  });
  const waiting = await why(await submit({ topic: 'single', command: 'true' }));
  expect(codes(waiting)).toEqual(['executors_full']);
  expect(waiting.reasons[0]!.message).toBe(
    'all 1 live executors serving topic single are busy (no free slot); it starts when one frees up',
  );
  await http('POST', `${api.url}/v1/jobs/${busy}/cancel`);

  // An executor registered for a topic, alive by its heartbeat, between two claims.
  await db.pool.query(
    `INSERT INTO danube.executors (id, topics, host, pid, version, runtime, capacity)
     VALUES ('between-claims', '{due}', 'test', 1, 'test', 'process', 4)`,
  );
  const due = await why(await submit({ topic: 'due', command: 'true' }));
  expect(codes(due)).toEqual(['due']);
  expect(due.reasons[0]!.message).toBe(
    'due now, and 1 live executors with 4 free slots serve topic due: it starts at their next claim',
  );
});

it("a running or finished job has no reasons; another tenant's job is not found", async () => {
  const id = await submit({ topic: 'served', command: 'true' });
  await jobEnded(api.url, id);
  expect(await why(id)).toMatchObject({ status: 'succeeded', reasons: [] });
  const other = await tenantWithKey(api, 'why-other');
  const hidden = await http('GET', `${api.url}/v1/jobs/${id}/why`, undefined, bearer(other));
  expect(hidden.status).toBe(404);
});

it('usage adds up the attempt records: jobs, attempts, run seconds and GPU-seconds', async () => {
  const key = await tenantWithKey(api, 'usage-team');
  const ids = await Promise.all([
    submit({ topic: 'served', command: 'sleep 0.3' }, key),
    submit({ topic: 'served', command: 'sleep 0.2', taskClass: 'gpu' }, key),
    submit(
      { topic: 'served', command: 'exit 3', maxAttempts: 2, backoff: { initialSeconds: 1 } },
      key,
    ),
  ]);
  await waitFor(
    'every job to end',
    async () => {
      const { rows } = await db.pool.query(
        `SELECT count(*)::integer AS n FROM danube.jobs WHERE id = ANY($1::bigint[]) AND finished_at IS NOT NULL`,
        [ids],
      );
      return rows[0].n === 3;
    },
    30_000,
  );
  const { body } = await http('GET', `${api.url}/v1/usage?groupBy=tenant`);
  const row = body.items.find((r: { group: string }) => r.group === 'usage-team');
  const { rows } = await db.pool.query(
    `SELECT count(DISTINCT e.job_id)::integer AS jobs, count(*)::integer AS attempts,
            sum(extract(epoch FROM e.finished_at - e.started_at))::float8 AS run,
            sum(extract(epoch FROM e.finished_at - e.started_at))
              FILTER (WHERE j.task_class = 'gpu')::float8 AS gpu
     FROM danube.executions e JOIN danube.jobs j ON j.id = e.job_id
     WHERE j.tenant = 'usage-team'`,
  );
  const expected = rows[0];
  expect(expected).toMatchObject({ jobs: 3, attempts: 4 });
  expect(row.jobs).toBe(expected.jobs);
  expect(row.attempts).toBe(expected.attempts);
  expect(row.runSeconds).toBeCloseTo(expected.run, 6);
  expect(row.gpuSeconds).toBeCloseTo(expected.gpu, 6);
  expect(row.gpuSeconds).toBeGreaterThan(0.2);

  // A member sees its own tenant only, whatever it asks for.
  const own = await http('GET', `${api.url}/v1/usage?groupBy=taskClass`, undefined, bearer(key));
  expect(own.body.items.map((r: { group: string }) => r.group).sort()).toEqual([
    'cpu_short',
    'gpu',
  ]);
  const other = await http('GET', `${api.url}/v1/usage?tenant=default`, undefined, bearer(key));
  expect(other.status).toBe(404);
});
