import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, http, jobEnded, type TestApi } from './support/api';
import { withApiKey } from './support/api-keys';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import {
  startFakeKubernetes,
  type FakeKubernetes,
  type RecordedRequest,
} from './support/fake-kubernetes';
import { writeKubeconfig } from './support/fake-kubernetes/kubeconfig';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitFor } from './support/wait-for';

/**
 * The kubernetes runtime end to end, without a cluster: the real executor (a child
 * process, with @kubernetes/client-node) talks to an in-repo double of the Kubernetes API
 * that runs each pod's containers as local processes, /danube mapped to a temp dir. The
 * output-collector in those pods is the real one (dist/apps/output-collector), uploading
 * to the real API's gRPC JobService.
 */
const ROOT = join(__dirname, '..');
const TOPIC = 'k8s';
/** A topic whose pods are told an address where no JobService listens. */
const UNREACHABLE_TOPIC = 'k8s-unreachable';
/** A topic whose pod override mounts a volume that does not exist: the API refuses its Jobs. */
const INVALID_TOPIC = 'k8s-invalid';
/**
 * Where a test counts the executor's own work rather than the collector's (a Node process
 * per pod, exercised by the other tests), a shell stand-in keeps the collector's contract:
 * it makes the outputs folder, says it is ready, and exits 0 on SIGTERM.
 */
const COLLECTOR_STAND_IN = [
  '/bin/sh',
  '-c',
  'mkdir -p "$DANUBE_OUTPUT_DIR" && : > "$COLLECTOR_READY_FILE"; trap "exit 0" TERM; sleep 3600 & wait',
];

let db: TestDatabase;
let api: TestApi;
let kube: FakeKubernetes;
let executor: ExecutorProcess;
const extraExecutors: ExecutorProcess[] = [];

function executorEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...api.executorEnv,
    DANUBE_RUNTIME: 'kubernetes',
    KUBECONFIG: kube.kubeconfigPath,
    K8S_NAMESPACE: 'danube-jobs',
    EXECUTOR_TOPICS: `${TOPIC},${UNREACHABLE_TOPIC},${INVALID_TOPIC}`,
    EXECUTOR_CONCURRENCY: '200',
    EXECUTOR_BATCH_SIZE: '50',
    K8S_RUNTIME_CONFIG_JSON: JSON.stringify({
      defaults: {
        image: 'busybox:1.36',
        terminationGracePeriodSeconds: 8,
        unschedulableTimeoutSeconds: 2,
        // Room for all 200 of the requests-per-job measure to be in flight at once.
        maxPendingJobs: 200,
        pod: { imagePullPolicy: 'IfNotPresent' },
      },
      topics: {
        [UNREACHABLE_TOPIC]: { grpcAddress: '127.0.0.1:1' },
        [INVALID_TOPIC]: { pod: { volumeMounts: [{ name: 'nowhere', mountPath: '/nowhere' }] } },
      },
    }),
    ...overrides,
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url);
  kube = await startFakeKubernetes({ hostPaths: { '/app': ROOT } });
  executor = await startExecutor(db.url, 'kube-main', executorEnv());
}, 60_000);

afterAll(async () => {
  await Promise.all(extraExecutors.map((e) => e.kill()));
  await executor?.kill();
  await kube?.close();
  await api?.close();
  await db?.drop();
});

async function submit(job: Record<string, unknown>): Promise<string> {
  const response = await http('POST', `${api.url}/v1/jobs`, { topic: TOPIC, ...job });
  expect(response.status).toBe(201);
  return response.body.id as string;
}

async function executions(id: string): Promise<any[]> {
  return (await http('GET', `${api.url}/v1/jobs/${id}/executions`)).body.items;
}

async function running(id: string): Promise<void> {
  await waitFor(`job ${id} to run`, () => {
    const pod = kube.podOf(`danube-${id}-1`);
    return pod?.status?.containerStatuses?.some((s: any) => s.name === 'main' && s.state?.running);
  });
}

/** Requests about one job's Jobs and pods: by path, or by the name a create carried. */
function aboutJob(request: RecordedRequest, id: string): boolean {
  return (
    request.path.includes(`/danube-${id}-`) || (request.name?.startsWith(`danube-${id}-`) ?? false)
  );
}

it('runs a job as a Job with the collector beside it: result, artifacts, logs, then the Job is deleted', async () => {
  const id = await submit({
    command: [
      'echo "first line"',
      'sleep 1.5',
      'mkdir $DANUBE_OUTPUT_DIR/nested',
      'printf "hello" > $DANUBE_OUTPUT_DIR/report.txt',
      'head -c 300000 /dev/zero > $DANUBE_OUTPUT_DIR/nested/blob.bin',
      'echo \'{"rows": 7}\' > $DANUBE_RESULT_FILE',
      'echo "last line"',
    ].join('; '),
  });
  // The log is streamed while the job runs, not only at its end.
  await waitFor('the first line while the job runs', async () => {
    const { body } = await http('GET', `${api.url}/v1/jobs/${id}/logs`);
    const job = (await http('GET', `${api.url}/v1/jobs/${id}`)).body;
    return job.status === 'running' && body.lines.some((l: any) => l.line === 'first line');
  });
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({ status: 'succeeded', result: { rows: 7 }, error: null });

  const artifacts = (await http('GET', `${api.url}/v1/jobs/${id}/artifacts`)).body.items;
  expect(artifacts.map((a: any) => [a.path, a.size]).sort()).toEqual([
    ['nested/blob.bin', 300000],
    ['report.txt', 5],
  ]);
  const report = artifacts.find((a: any) => a.path === 'report.txt');
  expect(
    await (
      await fetch(`${api.url}/v1/artifacts/${report.id}`, { headers: withApiKey(api.url) })
    ).text(),
  ).toBe('hello');

  const logs = (await http('GET', `${api.url}/v1/jobs/${id}/logs`)).body.lines.map(
    (l: any) => l.line,
  );
  expect(logs).toEqual(['first line', 'last line']);

  const [execution] = await executions(id);
  expect(execution).toMatchObject({
    outcome: 'succeeded',
    runtime: 'kubernetes',
    runtimeRef: `kubernetes:danube-jobs/danube-${id}-1`,
  });
  await waitFor('the finished Job to be deleted', () => kube.job(`danube-${id}-1`) === undefined);
  expect(kube.jobsCreated(`danube-${id}-1`)).toBe(1);
});

it("a result file that is not JSON: succeeded without a result, the collector's reason in the record and the log", async () => {
  const id = await submit({ command: 'echo "{not json" > $DANUBE_RESULT_FILE; echo done' });
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({ status: 'succeeded', result: null, attempts: 1 });
  const [record] = await executions(id);
  expect(record.message).toMatch(
    // The path as the collector saw it (the API double runs it on the host).
    /^the result file was ignored: \S*\/result\.json is not valid JSON \(.+\)$/,
  );
  const lines = (await http('GET', `${api.url}/v1/jobs/${id}/logs`)).body.lines.map(
    (l: any) => l.line,
  );
  expect(lines).toEqual(['done', `danube: ${record.message}`]);
});

it('stores the log in the order written, though the container log has a stderr line after later stdout lines; one combined stream', async () => {
  // containerd reads stdout and stderr apart: here each stderr line reaches the log behind
  // the next stdout line, with its own (earlier) timestamp. The pauses keep the order in
  // which the two pipes are read (which the timestamps record) that of the printing.
  const late = await startFakeKubernetes({ hostPaths: { '/app': ROOT }, stderrLate: true });
  late.runInstead('danube:0.1.0', COLLECTOR_STAND_IN);
  const lateExecutor = await startExecutor(db.url, 'kube-late', {
    ...executorEnv({ EXECUTOR_TOPICS: 'k8s-late' }),
    KUBECONFIG: late.kubeconfigPath,
  });
  try {
    const response = await http('POST', `${api.url}/v1/jobs`, {
      topic: 'k8s-late',
      command:
        'echo out 1; echo err 1 >&2; sleep 0.5; echo out 2; echo out 3; sleep 0.5; echo out 4',
    });
    const id = response.body.id as string;
    // The container log itself has them out of order (fake-kubernetes.spec shows it).
    expect(await jobEnded(api.url, id)).toMatchObject({ status: 'succeeded' });
    const stored = (await http('GET', `${api.url}/v1/jobs/${id}/logs`)).body.lines;
    expect(stored.map((l: any) => [l.stream, l.line])).toEqual([
      ['combined', 'out 1'],
      ['combined', 'err 1'],
      ['combined', 'out 2'],
      ['combined', 'out 3'],
      ['combined', 'out 4'],
    ]);
  } finally {
    await lateExecutor.kill();
    await late.close();
  }
});

it("injects the job's secrets as env, masked in its stored log", async () => {
  const secret = 's3cr3t-for-k8s';
  const stored = await http('PUT', `${api.url}/v1/secrets/k8s-token`, { value: secret });
  expect(stored.status).toBe(201);
  const id = await submit({
    command: 'echo "token=$API_TOKEN"',
    secrets: ['k8s-token'],
    secretEnv: { API_TOKEN: 'k8s-token' },
  });
  expect(await jobEnded(api.url, id)).toMatchObject({ status: 'succeeded' });
  const logs = (await http('GET', `${api.url}/v1/jobs/${id}/logs`)).body.lines.map(
    (l: any) => l.line,
  );
  expect(logs).toEqual(['token=***']);
});

it('keeps following its pods when the watch drops and its resourceVersion expires', async () => {
  const id = await submit({ command: 'sleep 2; echo survived' });
  await running(id);
  kube.expireWatchHistory();
  kube.dropWatches();
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({ status: 'succeeded' });
  await waitFor('the Job to be deleted', () => kube.job(`danube-${id}-1`) === undefined);
});

it('retries a failing job as a new Job per attempt, each recorded as transient with its exit code', async () => {
  const id = await submit({
    command: 'echo "try $DANUBE_ATTEMPT" >&2; exit 3',
    maxAttempts: 2,
    backoff: { initialSeconds: 0.1, maxSeconds: 0.1 },
  });
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({
    status: 'failed',
    attempts: 2,
    error: { category: 'transient', exitCode: 3 },
  });
  const records = await executions(id);
  expect(records.map((e) => [e.attempt, e.errorCategory, e.exitCode])).toEqual([
    [1, 'transient', 3],
    [2, 'transient', 3],
  ]);
  expect(records[1].stderrTail).toContain('try 2');
  expect(kube.jobsCreated(`danube-${id}-1`)).toBe(1);
  expect(kube.jobsCreated(`danube-${id}-2`)).toBe(1);
});

it("times out while its executor follows it: the executor's timer stops it, the Job deleted", async () => {
  const id = await submit({ command: 'trap "" TERM; sleep 60', timeoutSeconds: 2, maxAttempts: 1 });
  // Once its container starts, the Job gets its deadline, as the backstop.
  const deadline = await waitFor(
    'the Job to get its deadline',
    () => kube.job(`danube-${id}-1`)?.spec?.activeDeadlineSeconds,
  );
  expect(deadline).toBeGreaterThanOrEqual(2);
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({
    status: 'timed_out',
    attempts: 1,
    error: { category: 'timeout', message: 'ran longer than timeoutSeconds (2 s) and was stopped' },
  });
  await waitFor('the Job to be deleted', () => kube.job(`danube-${id}-1`) === undefined);
  await waitFor('its pod to be gone', () => kube.podOf(`danube-${id}-1`) === undefined);
});

/**
 * With no executor following it, a Job's own activeDeadlineSeconds ends it on time; the
 * executor that adopts it later reads the Job's conditions: FailureTarget first and Failed
 * once the pod is gone on Kubernetes 1.31+, Failed at once before. Two executor processes
 * start in it, each of which can take tens of seconds on a loaded machine: its tests get
 * three minutes.
 */
async function expectDeadline(fake: FakeKubernetes, topic: string): Promise<void> {
  const env = (name: string) =>
    startExecutor(db.url, name, {
      ...executorEnv({
        EXECUTOR_TOPICS: topic,
        EXECUTOR_LEASE_MS: '2000',
        EXECUTOR_REAP_INTERVAL_MS: '300',
      }),
      KUBECONFIG: fake.kubeconfigPath,
    });
  const first = await env(`${topic}-first`);
  extraExecutors.push(first);
  const response = await http('POST', `${api.url}/v1/jobs`, {
    topic,
    command: 'sleep 60',
    timeoutSeconds: 2,
    maxAttempts: 1,
  });
  const id = response.body.id as string;
  const name = `danube-${id}-1`;
  await waitFor('the Job to get its deadline', () => fake.job(name)?.spec?.activeDeadlineSeconds);
  await first.kill();
  await waitFor(
    'the deadline to fail the Job while no executor follows it',
    () => fake.job(name)?.status?.conditions?.some((c: any) => c.reason === 'DeadlineExceeded'),
    30_000,
  );
  await waitFor('the pod to be gone', () => fake.podOf(name) === undefined, 30_000);
  extraExecutors.push(await env(`${topic}-second`));
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({
    status: 'timed_out',
    attempts: 1,
    error: {
      category: 'timeout',
      message: "ran longer than timeoutSeconds (2 s); the Job's activeDeadlineSeconds stopped it",
    },
  });
  await waitFor('the Job to be deleted', () => fake.job(name) === undefined);
}

it("times out with no executor following it (Kubernetes 1.31+: FailureTarget, then Failed): the Job's deadline ends it, the adopter records timed_out", async () => {
  await expectDeadline(kube, 'k8s-deadline');
}, 180_000);

it("times out with no executor following it (before 1.31: Failed at once): the Job's deadline ends it, the adopter records timed_out", async () => {
  const older = await startFakeKubernetes({
    hostPaths: { '/app': ROOT },
    jobFailureConditions: 'failed-at-once',
  });
  try {
    await expectDeadline(older, 'k8s-older');
  } finally {
    await older.close();
  }
}, 180_000);

it("a job's memory limit below its class's request lowers the request: the pod is valid and runs", async () => {
  const id = await submit({
    command: 'echo small',
    resources: { limits: { memory: '16Mi' } },
    maxAttempts: 3,
  });
  const job = await jobEnded(api.url, id);
  // The API double refuses a request above its limit (422), as Kubernetes does.
  expect(job).toMatchObject({ status: 'succeeded', attempts: 1 });
  expect(kube.jobsCreated(`danube-${id}-1`)).toBe(1);
});

it('a Job the API server refuses (422 Invalid) is one permanent attempt with its message, never retried', async () => {
  const response = await http('POST', `${api.url}/v1/jobs`, {
    topic: INVALID_TOPIC,
    command: 'true',
    maxAttempts: 3,
  });
  const id = response.body.id as string;
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({
    status: 'failed',
    attempts: 1,
    error: {
      category: 'permanent',
      message: expect.stringMatching(
        /the Kubernetes API refused the Job: .*volumeMounts\[\d+\]\.name: Not found: "nowhere"/,
      ),
    },
  });
  expect(kube.jobsCreated(`danube-${id}-1`)).toBe(0);
});

describe('a cluster with room for 5 pods', () => {
  const TOPIC_SMALL = 'k8s-small';
  const MAX_PENDING = 3;
  let small: FakeKubernetes;
  let smallExecutor: ExecutorProcess;

  beforeAll(async () => {
    small = await startFakeKubernetes({
      hostPaths: { '/app': ROOT },
      node: { allocatable: { cpu: '8', pods: '5' } },
    });
    small.runInstead('danube:0.1.0', COLLECTOR_STAND_IN);
    smallExecutor = await startExecutor(db.url, 'kube-small', {
      // Heartbeats often, so that /why sees its pods waiting soon.
      ...executorEnv({ EXECUTOR_TOPICS: TOPIC_SMALL, EXECUTOR_HEARTBEAT_MS: '300' }),
      KUBECONFIG: small.kubeconfigPath,
      K8S_RUNTIME_CONFIG_JSON: JSON.stringify({
        defaults: {
          image: 'busybox:1.36',
          terminationGracePeriodSeconds: 8,
          // Far shorter than the waits for room below: waiting alone must never fail a job.
          unschedulableTimeoutSeconds: 1,
          maxPendingJobs: MAX_PENDING,
        },
      }),
    });
  }, 60_000);

  afterAll(async () => {
    await smallExecutor?.kill();
    await small?.close();
  });

  it('runs 50 jobs: they wait for room without losing an attempt or run time, at most 3 Pending at once; a job no node can take fails', async () => {
    // Five long jobs fill the node first, so the next ones wait Pending longer than their
    // own timeout (8 s) and than the unschedulable limit (1 s).
    const submit = async (jobs: object[]) => {
      const response = await http('POST', `${api.url}/v1/jobs/batch`, {
        jobs: jobs.map((job) => ({ ...job, topic: TOPIC_SMALL, maxAttempts: 1 })),
      });
      expect(response.status).toBe(201);
      return response.body.jobs.map((j: any) => j.id as string);
    };
    const longs = await submit(
      Array.from({ length: 5 }, (_, i) => ({
        command: `echo long ${i}; sleep 15`,
        timeoutSeconds: 30,
      })),
    );
    await waitFor(
      'the node to be full',
      () =>
        small
          .pods()
          .filter((p) =>
            p.status.containerStatuses?.some((c: any) => c.name === 'main' && c.state?.running),
          ).length === 5,
    );
    const shorts = await submit(
      Array.from({ length: 45 }, (_, i) => ({
        command: `echo short ${i}; sleep 1`,
        timeoutSeconds: 8,
      })),
    );
    const ids: string[] = [...longs, ...shorts];
    // More CPU than the node has: it can never run, and must not wait forever either.
    const huge = await http('POST', `${api.url}/v1/jobs`, {
      topic: TOPIC_SMALL,
      command: 'true',
      resources: { requests: { cpu: '100' } },
      maxAttempts: 1,
    });
    const hugeId = huge.body.id as string;

    // While its pod waits behind the long ones, /why gives the scheduler's message.
    const waiting = await waitFor("a short job's pod to wait for a node", async () => {
      const why = (await http('GET', `${api.url}/v1/jobs/${ids[5]}/why`)).body;
      return why.reasons?.[0]?.code === 'pod_pending' && why;
    });
    expect(waiting).toMatchObject({ status: 'running' });
    // A job kept queued meanwhile: the executor is at its bound of pods waiting for room.
    const held = await waitFor('a queued job to be held by the bound', async () => {
      const why = (await http('GET', `${api.url}/v1/jobs/${ids[49]}/why`)).body;
      return why.status === 'queued' && why.reasons?.[0]?.code === 'executors_full' && why;
    });
    expect(held.reasons[0].message).toBe(
      `all 1 live executors serving topic ${TOPIC_SMALL} are busy; 1 of them already have as many pods waiting for room on the cluster as they may (maxPendingJobs): it starts once the cluster makes room`,
    );
    expect(waiting.reasons).toEqual([
      {
        code: 'pod_pending',
        message: expect.stringMatching(
          /^its pod waits for a node: 0\/1 nodes are available: 1 Too many pods\.$/,
        ),
      },
    ]);

    let peakPending = 0;
    let peakRunning = 0;
    let sawQueued = false;
    await waitFor(
      'the 50 jobs to end',
      async () => {
        const pods = small.pods();
        peakPending = Math.max(
          peakPending,
          pods.filter((p) => p.status.phase === 'Pending').length,
        );
        peakRunning = Math.max(
          peakRunning,
          pods.filter((p) => p.spec.nodeName && p.status.phase === 'Running').length,
        );
        const { rows } = await db.pool.query(
          `SELECT count(*) FILTER (WHERE status = 'queued')::int AS queued,
                  count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'timed_out'))::int AS ended
             FROM danube.jobs WHERE id = ANY($1)`,
          [ids],
        );
        sawQueued ||= rows[0].queued > 0;
        return rows[0].ended === ids.length;
      },
      180_000,
      50,
    );
    // Any attempt that did not succeed, with why.
    const { rows: failedAttempts } = await db.pool.query(
      `SELECT job_id, attempt, outcome, message FROM danube.executions
        WHERE job_id = ANY($1) AND outcome <> 'succeeded'`,
      [ids],
    );
    expect(failedAttempts).toEqual([]);
    const { rows: outcomes } = await db.pool.query(
      `SELECT status, attempts, count(*)::int AS n FROM danube.jobs WHERE id = ANY($1)
        GROUP BY status, attempts`,
      [ids],
    );
    expect(outcomes).toEqual([{ status: 'succeeded', attempts: 1, n: 50 }]);
    expect(peakPending).toBeLessThanOrEqual(MAX_PENDING);
    expect(peakPending).toBeGreaterThan(0);
    expect(peakRunning).toBeLessThanOrEqual(5);
    // The rest waited in the queue, where other executors and /why can see them.
    expect(sawQueued).toBe(true);
    // A short job that waited behind the long ones, longer than its 8 s timeout, and still
    // succeeded: its record starts when its container did, after a long one had ended.
    const short = (await http('GET', `${api.url}/v1/jobs/${ids[5]}`)).body;
    const [longFirst] = (await executions(ids[0]!)) as any[];
    const [shortRecord] = (await executions(ids[5]!)) as any[];
    expect(Date.parse(shortRecord.startedAt) - Date.parse(short.createdAt)).toBeGreaterThan(8000);
    expect(Date.parse(shortRecord.startedAt)).toBeGreaterThan(
      Date.parse(longFirst.startedAt) + 14000,
    );
    expect(short.startedAt).toBe(shortRecord.startedAt);
    // Once it ran, nothing is said to hold it.
    expect((await http('GET', `${api.url}/v1/jobs/${ids[5]}/why`)).body.reasons).toEqual([]);

    const failed = await jobEnded(api.url, hugeId);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, error: { category: 'infra' } });
    expect(failed.error.message).toMatch(
      /^no node of the cluster can ever take the pod: no node offers what it asks for: cpu 100\.05 \(the most any node offers: 8\)/,
    );
    // The scheduler's own words (with "1 Too many pods" too while the node is full).
    expect(failed.error.message).toMatch(
      /; the scheduler says: 0\/1 nodes are available: .*1 Insufficient cpu\.$/,
    );
    expect(smallExecutor.output()).toContain('waits for room on the cluster');
  }, 240_000);
});

it('cancels: the Job is deleted and its processes end', async () => {
  const id = await submit({ command: 'sleep 60', timeoutSeconds: 60 });
  await running(id);
  expect((await http('POST', `${api.url}/v1/jobs/${id}/cancel`)).status).toBe(200);
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({ status: 'cancelled', attempts: 1 });
  await waitFor('the Job to be deleted', () => kube.job(`danube-${id}-1`) === undefined);
  await waitFor('its pod to be gone', () => kube.podOf(`danube-${id}-1`) === undefined);
});

it('records OOMKilled as oom', async () => {
  const id = await submit({ command: 'sleep 60', maxAttempts: 1 });
  await running(id);
  kube.oomKill(`danube-${id}-1`);
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({ status: 'failed', error: { category: 'oom', exitCode: 137 } });
});

it('records an eviction as infra and runs the job again', async () => {
  const id = await submit({
    command: '[ "$DANUBE_ATTEMPT" = 1 ] && exec sleep 60; echo "attempt $DANUBE_ATTEMPT ran"',
    maxAttempts: 2,
    backoff: { initialSeconds: 0.1, maxSeconds: 0.1 },
  });
  await running(id);
  kube.evict(`danube-${id}-1`);
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
  const [first] = await executions(id);
  expect(first).toMatchObject({ attempt: 1, errorCategory: 'infra' });
  expect(first.message).toContain('Evicted');
});

it('fails an image that cannot be pulled as permanent, without retries', async () => {
  const id = await submit({ command: 'true', image: 'missing.invalid/nope:1', maxAttempts: 3 });
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({ status: 'failed', attempts: 1, error: { category: 'permanent' } });
  expect(job.error.message).toContain('missing.invalid/nope:1 cannot be pulled');
  await waitFor('the Job to be deleted', () => kube.job(`danube-${id}-1`) === undefined);
});

it('fails a pod that stays unschedulable as infra with the scheduler message', async () => {
  const id = await submit({ command: 'true', taskClass: 'gpu', maxAttempts: 1 });
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({ status: 'failed', error: { category: 'infra' } });
  expect(job.error.message).toContain('Insufficient nvidia.com/gpu');
});

it('records outputs the collector could not deliver as infra, and the pod still completes', async () => {
  const response = await http('POST', `${api.url}/v1/jobs`, {
    topic: UNREACHABLE_TOPIC,
    command: 'echo data > $DANUBE_OUTPUT_DIR/lost.txt',
    maxAttempts: 1,
  });
  const id = response.body.id as string;
  const job = await jobEnded(api.url, id, 60_000);
  expect(job).toMatchObject({ status: 'failed', error: { category: 'infra' } });
  expect(job.error.message).toMatch(/^outputs lost: the output-collector exited with code [1-9]/);
  expect(job.error.message).toContain('127.0.0.1:1');
  expect((await http('GET', `${api.url}/v1/jobs/${id}/artifacts`)).body.items).toEqual([]);
}, 60_000);

it('an executor killed while its Job runs: another adopts the same Job, records the result and the whole log once', async () => {
  const lease = { EXECUTOR_LEASE_MS: '2000', EXECUTOR_REAP_INTERVAL_MS: '300' };
  const doomed = await startExecutor(
    db.url,
    'kube-doomed',
    executorEnv({ ...lease, EXECUTOR_TOPICS: 'k8s-adopt' }),
  );
  extraExecutors.push(doomed);
  const response = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'k8s-adopt',
    command: [
      'echo before 1',
      'echo before 2',
      'sleep 1',
      'echo unwatched',
      'sleep 3',
      'echo adopted > $DANUBE_OUTPUT_DIR/after.txt',
      'echo done',
    ].join('; '),
  });
  const id = response.body.id as string;
  await running(id);
  const storedLines = async () =>
    (await http('GET', `${api.url}/v1/jobs/${id}/logs`)).body.lines.map((l: any) => l.line);
  await waitFor('the first lines to be stored', async () =>
    (await storedLines()).includes('before 2'),
  );
  await doomed.kill();
  // A line written while no executor follows the pod: the survivor must read it later.
  const podName = kube.podOf(`danube-${id}-1`).metadata.name;
  const podLog = `${kube.url}/api/v1/namespaces/danube-jobs/pods/${podName}/log?container=main`;
  await waitFor('a line written while no executor watches', async () =>
    (await (await fetch(podLog)).text()).includes('unwatched'),
  );
  // The pod ends, and its collector uploads the outputs, before any executor adopts the
  // attempt: the job waits in the queue meanwhile, and its token still works.
  const finishedPod = await waitFor(
    'the pod to finish unwatched',
    () => {
      const pod = kube.podOf(`danube-${id}-1`);
      return pod?.status?.phase === 'Succeeded' && pod;
    },
    30_000,
  );
  const ran = finishedPod.status.containerStatuses.find((s: any) => s.name === 'main').state
    .terminated;

  const survivor = await startExecutor(
    db.url,
    'kube-survivor',
    executorEnv({ ...lease, EXECUTOR_TOPICS: 'k8s-adopt' }),
  );
  extraExecutors.push(survivor);
  const job = await jobEnded(api.url, id);
  const records = await executions(id);
  if (job.attempts !== 1 || records.length !== 1)
    console.log(
      `adoption went wrong: ${JSON.stringify({ job, records })}\n--- doomed:\n${doomed.output()}\n--- survivor:\n${survivor.output()}\n--- main:\n${executor.output()}`,
    );
  expect(job).toMatchObject({ status: 'succeeded', attempts: 1 });
  expect(records).toHaveLength(1);
  // The record names who started the attempt, and when, and who adopted it.
  expect(records[0]).toMatchObject({
    attempt: 1,
    executorId: 'kube-doomed',
    adoptedBy: 'kube-survivor',
    outcome: 'succeeded',
    startedAt: job.startedAt,
  });
  expect(job.executor).toBe('kube-doomed');
  // Its start and end are the pod's (Kubernetes keeps whole seconds): the duration is the
  // job's own, not the time from the adoption.
  const within = (time: string, second: string) =>
    Date.parse(time) >= Date.parse(second) && Date.parse(time) < Date.parse(second) + 1000;
  expect(within(records[0].startedAt, ran.startedAt)).toBe(true);
  expect(within(records[0].finishedAt, ran.finishedAt)).toBe(true);
  // The survivor's create was refused as a duplicate: one Job, one run.
  expect(kube.jobsCreated(`danube-${id}-1`)).toBe(1);
  expect(
    kube.requests().filter((r) => r.method === 'POST' && r.name === `danube-${id}-1`),
  ).toHaveLength(2);
  expect(survivor.output()).toContain(`attached to the existing Kubernetes Job danube-${id}-1`);
  const artifacts = (await http('GET', `${api.url}/v1/jobs/${id}/artifacts`)).body.items;
  expect(artifacts.map((a: any) => a.path)).toEqual(['after.txt']);
  // Each line once: those the dead executor stored, then the rest read from the pod's log.
  expect(await storedLines()).toEqual(['before 1', 'before 2', 'unwatched', 'done']);
}, 60_000);

it('an executor shutting down hands its running Job over; another adopts it at once', async () => {
  const leaving = await startExecutor(
    db.url,
    'kube-leaving',
    executorEnv({ EXECUTOR_TOPICS: 'k8s-handover', EXECUTOR_SHUTDOWN_GRACE_MS: '200' }),
  );
  extraExecutors.push(leaving);
  const response = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'k8s-handover',
    command: 'sleep 3; echo handed over',
  });
  const id = response.body.id as string;
  await running(id);
  await leaving.stop();
  expect(leaving.output()).toContain('handed over for another executor to adopt');
  // The Job runs on without an executor.
  expect(kube.job(`danube-${id}-1`)).toBeDefined();

  const taker = await startExecutor(
    db.url,
    'kube-taker',
    executorEnv({ EXECUTOR_TOPICS: 'k8s-handover' }),
  );
  extraExecutors.push(taker);
  const job = await jobEnded(api.url, id);
  expect(job).toMatchObject({ status: 'succeeded', attempts: 1 });
  expect(await executions(id)).toMatchObject([
    { attempt: 1, executorId: 'kube-leaving', adoptedBy: 'kube-taker' },
  ]);
  expect(kube.jobsCreated(`danube-${id}-1`)).toBe(1);
}, 60_000);

it('an executor whose cluster is out of reach is not ready and claims nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'danube-kube-down-'));
  const offline = await startExecutor(
    db.url,
    'kube-offline',
    executorEnv({
      EXECUTOR_TOPICS: 'k8s-offline',
      KUBECONFIG: writeKubeconfig(dir, 'http://127.0.0.1:1'),
    }),
  );
  extraExecutors.push(offline);
  const response = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'k8s-offline',
    command: 'true',
  });
  const ready = await waitFor('/readyz to say why it is not ready', async () => {
    const r = await http('GET', `${offline.url}/readyz`);
    return r.status === 503 && r;
  });
  expect(JSON.stringify(ready.body)).toContain(
    'the pod watch on http://127.0.0.1:1 is not connected',
  );
  await waitFor('the executor to say it waits', () =>
    offline.output().includes('not claiming jobs'),
  );
  // It says it is not watching, and why, in the executor's JSON log lines like the rest.
  const output = offline.output();
  expect(output).toContain('not watching pods in namespace danube-jobs of http://127.0.0.1:1 yet');
  expect(output).not.toContain('"watching pods');
  const watchLines = output.split('\n').filter((l) => /pod watch|watching pods/.test(l));
  expect(watchLines.length).toBeGreaterThanOrEqual(2);
  for (const line of watchLines) expect(JSON.parse(line)).toHaveProperty('msg');
  const job = (await http('GET', `${api.url}/v1/jobs/${response.body.id}`)).body;
  expect(job).toMatchObject({ status: 'queued', attempts: 0 });
  await http('POST', `${api.url}/v1/jobs/${response.body.id}/cancel`);
});

describe('Kubernetes API requests per job', () => {
  /** Requests made for each job (create, log, delete), and those shared by all (list, watch). */
  /** The executor's CPU time so far (user + system), from its own /metrics. */
  async function executorCpuMs(): Promise<number> {
    const text = await (await fetch(`${executor.url}/metrics`)).text();
    const seconds = /^process_cpu_seconds_total(?:\{[^}]*\})? (\S+)$/m.exec(text);
    return Number(seconds![1]) * 1000;
  }

  async function measure(count: number) {
    kube.resetRequests();
    const cpuBefore = await executorCpuMs();
    const response = await http('POST', `${api.url}/v1/jobs/batch`, {
      jobs: Array.from({ length: count }, (_, i) => ({
        topic: TOPIC,
        // Long enough for all of them to run at once.
        command: `echo job ${i}; sleep 3`,
        // What is counted is requests, not time: 400 local processes start slowly on a busy
        // machine, and a timeout would add a retry's requests (cpu_short allows at most 60 s).
        taskClass: 'cpu_long',
        timeoutSeconds: 900,
      })),
    });
    const ids = response.body.jobs.map((j: any) => j.id as string);
    // To their end, whatever it is: an attempt that failed is named below, with why.
    await waitFor(
      `${count} jobs to end`,
      async () => {
        const { rows } = await db.pool.query(
          "SELECT count(*)::int AS n FROM danube.jobs WHERE id = ANY($1) AND status IN ('succeeded', 'failed', 'timed_out', 'cancelled')",
          [ids],
        );
        return rows[0].n === count;
      },
      300_000,
      200,
    );
    // 200 deletions queue behind each other on a loaded machine: minutes, not seconds.
    await waitFor(
      'every Job deleted',
      () => ids.every((id: string) => !kube.job(`danube-${id}-1`)),
      180_000,
    );
    const cpuMsPerJob = (await executorCpuMs()) - cpuBefore;
    const requests = kube.requests();
    const perJob = ids.map((id: string) =>
      requests
        .filter((r) => aboutJob(r, id))
        .map((r) => `${r.method} ${r.path.endsWith('/log') ? 'log' : 'job'}`)
        .sort()
        .join(', '),
    );
    const shared = requests.filter((r) => !ids.some((id: string) => aboutJob(r, id)));
    // How many of these Jobs existed at the same time: creates minus deletes, in order.
    let existing = 0;
    let peak = 0;
    for (const r of requests) {
      if (r.method === 'POST' && r.name && ids.some((id: string) => aboutJob(r, id))) existing++;
      if (r.method === 'DELETE' && ids.some((id: string) => aboutJob(r, id))) existing--;
      peak = Math.max(peak, existing);
    }
    // Any attempt that did not succeed would add requests: name it and its reason.
    const { rows: failedAttempts } = await db.pool.query(
      "SELECT job_id, attempt, executor_id, error_category, message FROM danube.executions WHERE job_id = ANY($1) AND outcome <> 'succeeded'",
      [ids],
    );
    return {
      perJob,
      shared: shared.length,
      peak,
      failedAttempts,
      cpuMsPerJob: cpuMsPerJob / count,
      requests: requests.length / count,
    };
  }

  it('is the same for 1 job and for 200 at once: create, deadline, log, delete; the watch is shared', async () => {
    // What is counted is the executor's traffic: the collector gives way to its stand-in.
    kube.runInstead('danube:0.1.0', COLLECTOR_STAND_IN);
    const one = await measure(1);
    const many = await measure(200);
    // For the record (not asserted: CPU time depends on the machine).
    console.log(
      `Kubernetes runtime, per job: 1 in flight: ${one.requests.toFixed(2)} API requests, ${one.cpuMsPerJob.toFixed(1)} ms executor CPU; ` +
        `200 in flight: ${many.requests.toFixed(2)} API requests, ${many.cpuMsPerJob.toFixed(1)} ms executor CPU`,
    );
    kube.runInstead('danube:0.1.0', null);
    expect([...one.failedAttempts, ...many.failedAttempts]).toEqual([]);
    expect(many.peak).toBe(200);
    // Create; the deadline, set once its container starts; its log; delete.
    const usual = 'DELETE job, GET log, PATCH job, POST job';
    expect(one.perJob).toEqual([usual]);
    // On a loaded machine a few jobs take one more: a second PATCH when the Job's startTime
    // was over a second before its pod's creation, or a second GET when the log was not
    // ready at the first. Never a list or a poll.
    for (const requests of many.perJob)
      expect(requests).toMatch(/^DELETE job, (GET log, ){1,2}(PATCH job, ){1,2}POST job$/);
    expect(many.perJob.filter((r: string) => r === usual).length).toBeGreaterThan(180);
    // No list or watch per job: whatever the executor re-watched meanwhile is a few requests.
    expect(many.shared).toBeLessThanOrEqual(3);
  }, 600_000);
});
