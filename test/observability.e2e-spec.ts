import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startApi, http, jobEnded, type TestApi } from './support/api';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { readSse } from './support/sse';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitFor } from './support/wait-for';

let db: TestDatabase;
let api: TestApi;
let executor: ExecutorProcess;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url);
  executor = await startExecutor(db.url, 'obs-executor', {
    ...api.executorEnv,
    EXECUTOR_TOPICS: 'obs',
    LOG_LEVEL: 'debug',
  });
});

afterAll(async () => {
  await executor?.stop();
  await api?.close();
  await db?.drop();
});

type Samples = Map<string, number>;

/** Scrapes /metrics, parses it as Prometheus text, and keys every sample by name{labels}. */
async function scrape(baseUrl: string): Promise<Samples> {
  const response = await fetch(`${baseUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const families = parsePrometheusTextFormat(text);
  expect(families.length).toBeGreaterThan(10);
  const samples: Samples = new Map();
  for (const family of families) {
    for (const metric of family.metrics as any[]) {
      if (metric.value === undefined) continue;
      samples.set(`${family.name}{${labelKey(metric.labels ?? {})}}`, Number(metric.value));
    }
  }
  // The parser keeps no labels on histograms: their per-label counts come from the
  // `_count` series of the same text.
  for (const [, name, labels, value] of text.matchAll(/^(\w+_count)(?:\{([^}]*)\})? (\S+)$/gm)) {
    const parsed = Object.fromEntries(
      [...(labels ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k!, v!]),
    );
    samples.set(`${name}{${labelKey(parsed)}}`, Number(value));
  }
  return samples;
}

function labelKey(labels: Record<string, string>): string {
  return Object.entries(labels)
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

const delta = (before: Samples, after: Samples, key: string) =>
  (after.get(key) ?? 0) - (before.get(key) ?? 0);

const ended = (id: string) => jobEnded(api.url, id);

it('/metrics on the API and the executor parse as Prometheus text, and the counters move by exactly the jobs run', async () => {
  const [apiBefore, executorBefore] = [await scrape(api.url), await scrape(executor.url)];
  const jobs = [
    ...Array.from({ length: 5 }, () => ({ topic: 'obs', command: 'true' })),
    ...Array.from({ length: 2 }, () => ({
      topic: 'obs',
      command: 'exit 3',
      noRetryExitCodes: [3],
    })),
    // Fails its first attempt, succeeds on the second.
    { topic: 'obs', command: '[ "$DANUBE_ATTEMPT" = 2 ]', backoff: { initialSeconds: 0.1 } },
  ];
  const { body } = await http('POST', `${api.url}/v1/jobs/batch`, { jobs });
  for (const job of body.jobs) await ended(job.id);
  const [apiAfter, executorAfter] = [await scrape(api.url), await scrape(executor.url)];

  const obs = 'task_class=cpu_short,topic=obs';
  expect(delta(apiBefore, apiAfter, `danube_jobs_enqueued_total{${obs}}`)).toBe(8);
  expect(delta(executorBefore, executorAfter, `danube_jobs_claimed_total{${obs}}`)).toBe(9);
  expect(
    delta(
      executorBefore,
      executorAfter,
      `danube_attempts_finished_total{outcome=succeeded,${obs}}`,
    ),
  ).toBe(6);
  expect(
    delta(executorBefore, executorAfter, `danube_attempts_finished_total{outcome=failed,${obs}}`),
  ).toBe(3);
  expect(
    delta(executorBefore, executorAfter, `danube_jobs_finished_total{status=succeeded,${obs}}`),
  ).toBe(6);
  expect(
    delta(executorBefore, executorAfter, `danube_jobs_finished_total{status=failed,${obs}}`),
  ).toBe(2);
  expect(
    delta(
      executorBefore,
      executorAfter,
      `danube_job_retries_total{error_category=transient,${obs}}`,
    ),
  ).toBe(1);
  expect(delta(executorBefore, executorAfter, `danube_job_queue_wait_seconds_count{${obs}}`)).toBe(
    9,
  );
  expect(
    delta(
      executorBefore,
      executorAfter,
      `danube_job_run_duration_seconds_count{outcome=succeeded,${obs}}`,
    ),
  ).toBe(6);
  expect(executorAfter.get('danube_jobs_running{executor=obs-executor}')).toBe(0);
  expect(executorAfter.get('danube_claim_duration_seconds_count{}')).toBeGreaterThan(0);
  // Default Node metrics are on; the queue depth is counted at scrape time.
  expect(executorAfter.get('process_resident_memory_bytes{}')).toBeGreaterThan(0);
  expect([...apiAfter.keys()].some((k) => k.startsWith('danube_queue_depth'))).toBe(false);
  await http('POST', `${api.url}/v1/jobs`, { topic: 'obs-idle', command: 'true' });
  expect((await scrape(api.url)).get('danube_queue_depth{status=queued,topic=obs-idle}')).toBe(1);
});

it('job log lines are JSON with job_id, attempt, topic, tenant and executor', async () => {
  const { body } = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'obs',
    command: 'exit 4',
    maxAttempts: 1,
  });
  await ended(body.id);
  const lines = await waitFor('the executor to log the job', () => {
    const found = executor
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .filter((l) => l.job_id === body.id);
    return found.length >= 2 ? found : null;
  });
  for (const line of lines) {
    expect(line).toMatchObject({
      job_id: body.id,
      attempt: 1,
      topic: 'obs',
      tenant: 'default',
      executor: 'obs-executor',
    });
  }
  expect(lines.map((l) => l.msg)).toEqual(
    expect.arrayContaining([
      `job ${body.id} attempt 1 started`,
      expect.stringMatching(new RegExp(`^job ${body.id} attempt 1 failed`)),
    ]),
  );
});

it('follow=true without a cursor starts at the end: no history, only what happens next', async () => {
  const old = await http('POST', `${api.url}/v1/jobs`, { topic: 'obs-tail', command: 'true' });
  const following = readSse(`${api.url}/v1/events?topic=obs-tail&follow=true`, (events) =>
    events.some((e) => e.event === 'job_queued'),
  );
  // New jobs until the follower, once connected, has seen one.
  const newer: string[] = [];
  let done = false;
  void following.finally(() => (done = true));
  while (!done) {
    newer.push(
      (await http('POST', `${api.url}/v1/jobs`, { topic: 'obs-tail', command: 'true' })).body.id,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const events = await following;
  expect(events.map((e) => e.data.jobId)).not.toContain(old.body.id);
  expect(newer).toContain(events.find((e) => e.event === 'job_queued')!.data.jobId);
});

it('SSE: a follower sees every transition of a 3-node workflow in order, and resuming with Last-Event-ID misses nothing', async () => {
  const { body: workflow } = await http('POST', `${api.url}/v1/workflows`, {
    name: 'three',
    nodes: [
      { name: 'a', topic: 'obs', command: 'true' },
      { name: 'b', topic: 'obs', command: 'true', dependsOn: ['a'] },
      { name: 'c', topic: 'obs', command: 'true', dependsOn: ['b'] },
    ],
  });
  const finished = (events: { event?: string }[]) =>
    events.some((e) => e.event === 'workflow_succeeded');
  // From the beginning (0-0): the workflow was submitted before the follower connected.
  const url = `${api.url}/v1/events?workflowId=${workflow.id}&follow=true&after=0-0`;
  const events = await readSse(url, finished);
  const jobIds = new Map<string, string>(
    workflow.nodes.map((n: { name: string; jobId: string }) => [n.jobId, n.name]),
  );
  const story = events.map((e) =>
    e.data.jobId ? `${jobIds.get(e.data.jobId)}:${e.event}` : e.event,
  );
  expect(story).toEqual([
    'workflow_started',
    'a:job_queued',
    'b:job_blocked',
    'c:job_blocked',
    'a:job_started',
    'a:job_succeeded',
    'b:job_queued',
    'b:job_started',
    'b:job_succeeded',
    'c:job_queued',
    'c:job_started',
    'c:job_succeeded',
    'workflow_succeeded',
  ]);
  expect(events.every((e) => e.id === e.data.cursor)).toBe(true);
  expect(new Set(events.map((e) => e.data.seq)).size).toBe(events.length);

  // Resume after the fourth event, as a client that lost its connection would.
  const resumed = await readSse(url, finished, { lastEventId: events[3]!.id });
  expect(resumed.map((e) => e.id)).toEqual(events.slice(4).map((e) => e.id));

  // The same events as a page, and a bad cursor is a 400.
  const page = await http('GET', `${api.url}/v1/events?workflowId=${workflow.id}`);
  expect(page.body.items.map((e: { cursor: string }) => e.cursor)).toEqual(events.map((e) => e.id));
  expect(await http('GET', `${api.url}/v1/events?after=nope`)).toMatchObject({
    status: 400,
    body: { message: expect.stringMatching(/^after "nope" is not an event cursor/) },
  });
});

it('logs?follow=true streams lines as they are written and ends with the job', async () => {
  const { body } = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'obs',
    command: 'for i in 1 2 3; do echo "line $i"; sleep 0.3; done',
  });
  const seen: number[] = [];
  const started = Date.now();
  const events = await readSse(`${api.url}/v1/jobs/${body.id}/logs?follow=true`, (es) => {
    seen.push(Date.now() - started);
    return es.at(-1)?.event === 'end';
  });
  expect(events.map((e) => e.event)).toEqual(['line', 'line', 'line', 'end']);
  expect(events.slice(0, 3).map((e) => e.data.line)).toEqual(['line 1', 'line 2', 'line 3']);
  expect(events[3]!.data).toEqual({ status: 'succeeded' });
  // Lines arrive while the job runs, not all at its end.
  expect(seen[2]! - seen[0]!).toBeGreaterThan(300);
});
