import { existsSync } from 'node:fs';
import { isAlive, waitFor } from '../wait-for';
import { startFakeKubernetes, type FakeKubernetes } from './index';
import { parseLabelSelector } from './label-selector';
import { PathMapping } from './path-mapping';

/**
 * The Kubernetes double, over plain HTTP as the executor's client-node sees it: Jobs, their
 * pods run as local processes, watches, logs, and the failures the runtime must handle.
 */
const NS = 'spec';
const JOBS = `/apis/batch/v1/namespaces/${NS}/jobs`;
const PODS = `/api/v1/namespaces/${NS}/pods`;

let kube: FakeKubernetes;

beforeAll(async () => {
  kube = await startFakeKubernetes();
});

afterAll(async () => {
  await kube?.close();
});

async function call(method: string, path: string, body?: unknown, url = kube.url) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = response.headers.get('content-type')?.startsWith('application/json');
  return { status: response.status, body: json ? JSON.parse(text) : text };
}

interface JobOptions {
  /** main's shell command. */
  main: string;
  /** A native sidecar's shell command. */
  sidecar?: string;
  labels?: Record<string, string>;
  image?: string;
  gracePeriodSeconds?: number;
  activeDeadlineSeconds?: number;
  resources?: object;
}

/** A Job shaped like the runtime's: main beside a native sidecar, an emptyDir for outputs. */
function jobManifest(name: string, options: JobOptions) {
  const mounts = [{ name: 'outputs', mountPath: '/danube/outputs' }];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: options.labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: options.activeDeadlineSeconds,
      template: {
        metadata: { labels: options.labels },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: options.gracePeriodSeconds ?? 2,
          volumes: [{ name: 'outputs', emptyDir: {} }],
          initContainers: options.sidecar
            ? [
                {
                  name: 'collector',
                  image: 'danube:0.1.0',
                  restartPolicy: 'Always',
                  command: ['/bin/sh', '-c', options.sidecar],
                  volumeMounts: mounts,
                },
              ]
            : undefined,
          containers: [
            {
              name: 'main',
              image: options.image ?? 'busybox:1.36',
              command: ['/bin/sh', '-c', options.main],
              env: [{ name: 'GREETING', value: 'hello' }],
              terminationMessagePolicy: 'FallbackToLogsOnError',
              volumeMounts: mounts,
              resources: options.resources,
            },
          ],
        },
      },
    },
  };
}

async function createJob(name: string, options: JobOptions | object) {
  const manifest = 'main' in options ? jobManifest(name, options) : options;
  const response = await call('POST', JOBS, manifest);
  expect(response.status).toBe(201);
  return response.body;
}

function mainStatus(pod: any): any {
  return pod?.status?.containerStatuses?.find((s: any) => s.name === 'main');
}

function sidecarStatus(pod: any): any {
  return pod?.status?.initContainerStatuses?.find((s: any) => s.name === 'collector');
}

async function mainRunning(jobName: string): Promise<any> {
  return waitFor(`${jobName}'s main to run`, () => {
    const pod = kube.podOf(jobName);
    return mainStatus(pod)?.state?.running && pod;
  });
}

function condition(object: any, type: string): any {
  return object?.status?.conditions?.find((c: any) => c.type === type);
}

/** Reads a watch stream until `until` says stop or the server ends it; returns the events seen. */
async function readWatch(
  path: string,
  until: (events: any[]) => boolean,
  timeoutMs = 5_000,
): Promise<any[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const events: any[] = [];
  try {
    const response = await fetch(`${kube.url}${path}`, { signal: abort.signal });
    expect(response.status).toBe(200);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      events.push(...lines.map((line) => JSON.parse(line)));
      if (until(events)) return events;
    }
    return events;
  } catch (error) {
    if (abort.signal.aborted) {
      throw new Error(`the watch ${path} did not end; saw ${JSON.stringify(events)}`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

it('runs main beside a native sidecar that shares its emptyDir and stops after it; the Job fails with main', async () => {
  const job = await createJob('shared-dir', {
    main: 'echo hi; echo "$GREETING"; echo out > /danube/outputs/x; exit 3',
    sidecar: 'trap "cat /danube/outputs/x; exit 0" TERM; while true; do sleep 0.1; done',
  });
  expect(job.metadata).toMatchObject({ name: 'shared-dir', namespace: NS });
  expect(job.metadata.uid).toBeTruthy();
  expect(Number(job.metadata.resourceVersion)).toBeGreaterThan(0);
  expect(job.status).toMatchObject({ active: 1 });
  expect(job.status.startTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  const pod = await waitFor('the pod to fail', () => {
    const current = kube.podOf('shared-dir');
    return current?.status?.phase === 'Failed' && current;
  });
  expect(pod.metadata.name).toMatch(/^shared-dir-[a-z0-9]{5}$/);
  expect(pod.metadata.labels).toMatchObject({
    'job-name': 'shared-dir',
    'batch.kubernetes.io/job-name': 'shared-dir',
  });
  expect(pod.metadata.ownerReferences).toEqual([
    expect.objectContaining({ kind: 'Job', name: 'shared-dir', uid: job.metadata.uid }),
  ]);
  expect(mainStatus(pod).state.terminated).toMatchObject({
    exitCode: 3,
    reason: 'Error',
    message: 'hi\nhello\n',
  });
  expect(sidecarStatus(pod).state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
  const sidecarLog = await call('GET', `${PODS}/${pod.metadata.name}/log?container=collector`);
  expect(sidecarLog).toEqual({ status: 200, body: 'out\n' });
  const mainLog = await call('GET', `${PODS}/${pod.metadata.name}/log?container=main`);
  expect(mainLog.body).toBe('hi\nhello\n');

  const failed = await waitFor('the Job to fail', () => {
    const current = kube.job('shared-dir');
    return condition(current, 'Failed') && current;
  });
  expect(condition(failed, 'Failed')).toMatchObject({
    status: 'True',
    reason: 'BackoffLimitExceeded',
  });
  expect(failed.status).toMatchObject({ failed: 1 });
  expect((await call('GET', `${JOBS}/shared-dir`)).body.status.failed).toBe(1);
});

it("starts main only once a sidecar's exec startupProbe passes", async () => {
  const manifest: any = jobManifest('probed', {
    sidecar:
      'trap "exit 0" TERM; sleep 0.3; touch /danube/outputs/ready; while true; do sleep 0.1; done',
    main: 'test -f /danube/outputs/ready && echo saw-ready',
  });
  manifest.spec.template.spec.initContainers[0].startupProbe = {
    exec: { command: ['test', '-f', '/danube/outputs/ready'] },
    periodSeconds: 1,
  };
  await createJob('probed', manifest);
  const waiting = await waitFor('the sidecar to run', () => {
    const pod = kube.podOf('probed');
    return sidecarStatus(pod)?.state?.running && pod;
  });
  expect(sidecarStatus(waiting)).toMatchObject({ started: false, ready: false });
  expect(mainStatus(waiting).state.waiting).toEqual({ reason: 'PodInitializing' });
  const pod = await waitFor('the pod to succeed', () => {
    const current = kube.podOf('probed');
    return current?.status?.phase === 'Succeeded' && current;
  });
  const log = await call('GET', `${PODS}/${pod.metadata.name}/log?container=main`);
  expect(log.body).toBe('saw-ready\n');
});

it('runs a stand-in command for containers of an image, until told to stop', async () => {
  kube.runInstead('stand-in:1', ['/bin/sh', '-c', 'echo "stand-in for $GREETING"']);
  try {
    await createJob('stood-in', { main: 'echo own command', image: 'stand-in:1' });
    await waitFor(
      'the stand-in to end',
      () => mainStatus(kube.podOf('stood-in'))?.state?.terminated,
    );
  } finally {
    kube.runInstead('stand-in:1', null);
  }
  await createJob('own-again', { main: 'echo own command', image: 'stand-in:1' });
  await waitFor(
    'its own command to end',
    () => mainStatus(kube.podOf('own-again'))?.state?.terminated,
  );
  const log = (name: string) =>
    fetch(`${kube.url}${PODS}/${kube.podOf(name).metadata.name}/log?container=main`).then((r) =>
      r.text(),
    );
  expect(await log('stood-in')).toBe('stand-in for hello\n');
  expect(await log('own-again')).toBe('own command\n');
});

it('completes a Job whose main exits 0', async () => {
  await createJob('succeeds', { main: 'exit 0' });
  const job = await waitFor('the Job to complete', () => {
    const current = kube.job('succeeds');
    return condition(current, 'Complete') && current;
  });
  expect(job.status).toMatchObject({ succeeded: 1 });
  expect(job.status.completionTime).toBeTruthy();
  expect(kube.podOf('succeeds').status.phase).toBe('Succeeded');
});

it('streams ADDED, MODIFIED, DELETED in order to a watch whose selector matches, nothing to another', async () => {
  const list = await call('GET', `${PODS}?labelSelector=${encodeURIComponent('team=a')}`);
  expect(list.body).toMatchObject({ kind: 'PodList', apiVersion: 'v1', items: [] });
  const from = list.body.metadata.resourceVersion;
  const matching = readWatch(
    `${PODS}?watch=true&resourceVersion=${from}&labelSelector=${encodeURIComponent('team in (a,c),tier!=db')}`,
    (events) => events.some((e) => e.type === 'DELETED'),
  );
  const other = readWatch(
    `${PODS}?watch=1&resourceVersion=${from}&labelSelector=team%3Db`,
    () => false,
  );
  await createJob('watched', { main: 'true', labels: { team: 'a' } });
  await waitFor('the Job to complete', () => condition(kube.job('watched'), 'Complete'));
  expect((await call('DELETE', `${JOBS}/watched?propagationPolicy=Background`)).status).toBe(200);

  const events = await matching;
  kube.dropWatches();
  const types = events.map((e) => e.type);
  expect(types[0]).toBe('ADDED');
  expect(types.at(-1)).toBe('DELETED');
  expect(new Set(types.slice(1, -1))).toEqual(new Set(['MODIFIED']));
  const versions = events.map((e) => Number(e.object.metadata.resourceVersion));
  expect(versions).toEqual([...versions].sort((a, b) => a - b));
  expect(new Set(events.map((e) => e.object.metadata.labels['job-name']))).toEqual(
    new Set(['watched']),
  );
  expect(await other).toEqual([]);

  // Resuming from a version seen replays what followed; from the start, the current objects.
  const replayed = await readWatch(
    `${PODS}?watch=true&resourceVersion=${from}&labelSelector=team%3Da`,
    (seen) => seen.length === events.length,
  );
  expect(replayed.map((e) => e.type)).toEqual(types);
});

it('ends a watch from a compacted resourceVersion with a 410 Expired ERROR event', async () => {
  const { body } = await call('GET', PODS);
  kube.expireWatchHistory();
  const events = await readWatch(
    `${PODS}?watch=true&resourceVersion=${body.metadata.resourceVersion}`,
    () => false,
  );
  expect(events).toEqual([
    {
      type: 'ERROR',
      object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }),
    },
  ]);
});

it('sends bookmarks when asked, and ends a watch after its timeoutSeconds', async () => {
  const { body } = await call('GET', JOBS);
  const events = await readWatch(
    `${JOBS}?watch=true&allowWatchBookmarks=true&timeoutSeconds=2&resourceVersion=${body.metadata.resourceVersion}`,
    () => false,
  );
  expect(events.length).toBeGreaterThanOrEqual(1);
  expect(events[0]).toEqual({
    type: 'BOOKMARK',
    object: {
      kind: 'Job',
      apiVersion: 'batch/v1',
      metadata: { resourceVersion: expect.any(String) },
    },
  });
});

it('ends every watch on dropWatches(); without a resourceVersion a watch starts with the current objects', async () => {
  await createJob('listed', { main: 'true' });
  let dropped = false;
  const events = await readWatch(JOBS + '?watch=true', () => {
    if (!dropped) kube.dropWatches();
    dropped = true;
    return false;
  });
  expect(events.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.name)).toContain(
    'listed',
  );
});

it('refuses a second Job of the same name with 409 AlreadyExists', async () => {
  await createJob('twice', { main: 'true' });
  const again = await call('POST', JOBS, jobManifest('twice', { main: 'true' }));
  expect(again.status).toBe(409);
  expect(again.body).toMatchObject({
    kind: 'Status',
    status: 'Failure',
    reason: 'AlreadyExists',
    code: 409,
    message: 'jobs.batch "twice" already exists',
  });
  expect(kube.jobsCreated('twice')).toBe(1);
});

it('refuses an invalid Job with 422 Invalid, saying which field', async () => {
  const manifest: any = jobManifest('invalid', { main: 'true' });
  delete manifest.spec.template.spec.containers[0].name;
  const missingName = await call('POST', JOBS, manifest);
  expect(missingName.status).toBe(422);
  expect(missingName.body).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
  expect(missingName.body.message).toContain('spec.template.spec.containers[0]');

  const badLabel = await call(
    'POST',
    JOBS,
    jobManifest('invalid', { main: 'true', labels: { topic: 'not a label value' } }),
  );
  expect(badLabel.status).toBe(422);
  expect(badLabel.body.message).toContain('not a label value');
  expect(kube.jobsCreated('invalid')).toBe(0);

  expect((await call('GET', '/api/v1/configmaps')).body).toMatchObject({
    kind: 'Status',
    code: 404,
  });
  expect((await call('GET', `${JOBS}/nope`)).body).toMatchObject({
    reason: 'NotFound',
    message: 'jobs.batch "nope" not found',
  });
});

it('keeps a pod whose image cannot be pulled Pending: ErrImagePull, then ImagePullBackOff', async () => {
  await createJob('no-image', { main: 'true', image: 'missing.invalid/nope:1' });
  const pulling = await waitFor('ErrImagePull', () => {
    const pod = kube.podOf('no-image');
    return mainStatus(pod)?.state?.waiting?.reason === 'ErrImagePull' && pod;
  });
  expect(pulling.status.phase).toBe('Pending');
  expect(mainStatus(pulling).state.waiting.message).toContain('missing.invalid/nope:1');
  const log = await call('GET', `${PODS}/${pulling.metadata.name}/log?container=main&follow=true`);
  expect(log.status).toBe(400);
  expect(log.body.message).toBe(
    `container "main" in pod "${pulling.metadata.name}" is waiting to start: trying and failing to pull image`,
  );
  await waitFor(
    'ImagePullBackOff',
    () => mainStatus(kube.podOf('no-image'))?.state?.waiting?.reason === 'ImagePullBackOff',
  );
  expect(kube.podOf('no-image').status.phase).toBe('Pending');
  await call('DELETE', `${JOBS}/no-image?propagationPolicy=Background`);
  await waitFor('the pod to go', () => !kube.podOf('no-image'));
});

it('leaves a pod that asks for a GPU unscheduled', async () => {
  await createJob('wants-gpu', {
    main: 'true',
    resources: { limits: { 'nvidia.com/gpu': 1 } },
  });
  const pod = await waitFor('PodScheduled False', () => {
    const current = kube.podOf('wants-gpu');
    return condition(current, 'PodScheduled') && current;
  });
  expect(pod.status.phase).toBe('Pending');
  expect(condition(pod, 'PodScheduled')).toMatchObject({
    status: 'False',
    reason: 'Unschedulable',
    message: '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.',
  });
  expect(pod.spec.nodeName).toBeUndefined();
});

it('can write a stderr line to the container log after the next stdout line, keeping its earlier timestamp', async () => {
  const late = await startFakeKubernetes({ stderrLate: true });
  try {
    const manifest = jobManifest('late', {
      main: 'echo out 1; echo err 1 >&2; sleep 0.5; echo out 2; echo out 3; sleep 0.5; echo out 4',
    });
    expect((await call('POST', JOBS, manifest, late.url)).status).toBe(201);
    const pod = await waitFor('the pod to succeed', () => {
      const current = late.podOf('late');
      return current?.status?.phase === 'Succeeded' && current;
    });
    const log = await call(
      'GET',
      `${PODS}/${pod.metadata.name}/log?container=main&timestamps=true`,
      undefined,
      late.url,
    );
    const lines = (log.body as string).trim().split('\n');
    expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'out 1',
      'out 2',
      'err 1',
      'out 3',
      'out 4',
    ]);
    const times = lines.map((l) => l.split(' ')[0]!);
    // err 1 was written before out 2, as its timestamp says.
    expect(Date.parse(times[2]!)).toBeLessThanOrEqual(Date.parse(times[1]!));
  } finally {
    await late.close();
  }
});

it('lists its one node with what it offers', async () => {
  const nodes = await call('GET', '/api/v1/nodes');
  expect(nodes.body).toMatchObject({
    kind: 'NodeList',
    items: [
      {
        metadata: { name: 'fake-node' },
        status: { allocatable: { cpu: '1000', memory: '4Ti', pods: '1000' } },
      },
    ],
  });
  expect(nodes.body.items[0].status.allocatable['nvidia.com/gpu']).toBeUndefined();
  expect((await call('GET', '/api/v1/nodes/elsewhere')).status).toBe(404);
});

it('keeps a pod that does not fit beside the others Pending, and places it once room is made', async () => {
  const small = await startFakeKubernetes({ node: { allocatable: { cpu: '1', pods: '2' } } });
  const on = (path: string, body?: unknown) => call('POST', path, body, small.url);
  const oneCpu = { requests: { cpu: '600m' } };
  try {
    expect(
      (await on(JOBS, jobManifest('first', { main: 'sleep 30', resources: oneCpu }))).status,
    ).toBe(201);
    await waitFor('first to run', () => mainStatus(small.podOf('first'))?.state?.running);
    await on(JOBS, jobManifest('second', { main: 'true', resources: oneCpu }));
    const waiting = await waitFor('second to be unschedulable', () => {
      const pod = small.podOf('second');
      return condition(pod, 'PodScheduled') && pod;
    });
    expect(condition(waiting, 'PodScheduled')).toMatchObject({
      status: 'False',
      reason: 'Unschedulable',
      message: '0/1 nodes are available: 1 Insufficient cpu.',
    });
    // A pod that asks for less goes ahead of it; the node's pod count holds the next one.
    await on(JOBS, jobManifest('third', { main: 'sleep 30' }));
    await waitFor('third to run', () => mainStatus(small.podOf('third'))?.state?.running);
    await on(JOBS, jobManifest('fourth', { main: 'true' }));
    await waitFor('fourth to wait on the pod count', () =>
      condition(small.podOf('fourth'), 'PodScheduled')?.message?.includes('1 Too many pods'),
    );
    // Room is made: the waiting pods are placed, and run.
    await call('DELETE', `${JOBS}/first?propagationPolicy=Background`, undefined, small.url);
    await waitFor('second to succeed', () => small.podOf('second')?.status?.phase === 'Succeeded');
    expect(condition(small.podOf('second'), 'PodScheduled')).toMatchObject({ status: 'True' });
    await call('DELETE', `${JOBS}/third?propagationPolicy=Background`, undefined, small.url);
    await waitFor('fourth to succeed', () => small.podOf('fourth')?.status?.phase === 'Succeeded');
  } finally {
    await small.close();
  }
});

it("takes a new activeDeadlineSeconds by PATCH, counted from the Job's startTime; other spec fields are immutable", async () => {
  await createJob('patched', { main: 'trap "" TERM; sleep 30', gracePeriodSeconds: 1 });
  await mainRunning('patched');
  const patch = (body: unknown, type = 'application/json-patch+json') =>
    fetch(`${kube.url}${JOBS}/patched`, {
      method: 'PATCH',
      headers: { 'content-type': type },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  const set = await patch([{ op: 'add', path: '/spec/activeDeadlineSeconds', value: 2 }]);
  expect(set.status).toBe(200);
  expect(set.body.spec.activeDeadlineSeconds).toBe(2);
  expect(set.body.status.startTime).toEqual(expect.any(String));
  const refused = await patch({ spec: { backoffLimit: 3 } }, 'application/merge-patch+json');
  expect(refused).toMatchObject({ status: 422, body: { reason: 'Invalid' } });
  expect(refused.body.message).toContain('spec.backoffLimit: Invalid value: field is immutable');
  expect((await patch([{ op: 'add', path: '/spec/activeDeadlineSeconds', value: 0 }])).status).toBe(
    422,
  );
  const failed = await waitFor('the deadline to fail the Job', () =>
    condition(kube.job('patched'), 'FailureTarget'),
  );
  expect(failed).toMatchObject({ status: 'True', reason: 'DeadlineExceeded' });
});

it('records an OOM kill: main terminated OOMKilled with exit code 137', async () => {
  await createJob('oom', { main: 'sleep 30', sidecar: 'exec sleep 30' });
  await mainRunning('oom');
  kube.oomKill('oom');
  const pod = await waitFor('the pod to fail', () => {
    const current = kube.podOf('oom');
    return current?.status?.phase === 'Failed' && current;
  });
  expect(mainStatus(pod).state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
  await waitFor('the Job to fail', () => condition(kube.job('oom'), 'Failed'));
});

it('records an eviction: every container killed, the pod Failed with reason Evicted', async () => {
  await createJob('evicted', { main: 'sleep 30', sidecar: 'exec sleep 30' });
  await mainRunning('evicted');
  kube.evict('evicted');
  const pod = await waitFor('the pod to fail', () => {
    const current = kube.podOf('evicted');
    return current?.status?.phase === 'Failed' && current;
  });
  expect(pod.status).toMatchObject({
    reason: 'Evicted',
    message: 'The node was low on resource: memory. ',
  });
  expect(condition(pod, 'DisruptionTarget')).toMatchObject({
    status: 'True',
    reason: 'TerminationByKubelet',
  });
  expect(mainStatus(pod).state.terminated).toMatchObject({ exitCode: 137 });
  expect(sidecarStatus(pod).state.terminated).toMatchObject({ exitCode: 137 });
  await waitFor('the Job to fail', () => condition(kube.job('evicted'), 'Failed'));
});

it('fails a Job past its activeDeadlineSeconds as 1.31+ does: FailureTarget while its pod terminates, then Failed', async () => {
  const started = Date.now();
  await createJob('deadline', {
    main: 'trap "" TERM; sleep 30',
    activeDeadlineSeconds: 2,
    gracePeriodSeconds: 1,
  });
  await mainRunning('deadline');
  const target = await waitFor('the failure to be decided', () => {
    const current = kube.job('deadline');
    return condition(current, 'FailureTarget') && current;
  });
  // Counted from startTime, in whole seconds: up to a second early, never more.
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  expect(condition(target, 'FailureTarget')).toMatchObject({
    reason: 'DeadlineExceeded',
    message: 'Job was active longer than specified deadline',
  });
  // Failed comes only once the pod (which ignores SIGTERM for its grace period) is gone.
  expect(condition(target, 'Failed')).toBeUndefined();
  expect(kube.podOf('deadline')?.metadata.deletionTimestamp).toBeDefined();
  const failed = await waitFor('the Job to fail', () => {
    const current = kube.job('deadline');
    return condition(current, 'Failed') && current;
  });
  expect(condition(failed, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
  expect(kube.podOf('deadline')).toBeUndefined();
});

it('fails a Job past its deadline as older Kubernetes does, when told: Failed at once', async () => {
  const older = await startFakeKubernetes({ jobFailureConditions: 'failed-at-once' });
  try {
    const response = await fetch(`${older.url}${JOBS}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        jobManifest('old-deadline', {
          main: 'sleep 30',
          activeDeadlineSeconds: 1,
          gracePeriodSeconds: 5,
        }),
      ),
    });
    expect(response.status).toBe(201);
    const job = await waitFor('the Job to fail', () => {
      const current = older.job('old-deadline');
      return condition(current, 'FailureTarget') && current;
    });
    expect(condition(job, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
  } finally {
    await older.close();
  }
});

it('deletes a Job: its pod is marked, its processes get SIGTERM, SIGKILL after the grace period', async () => {
  await createJob('deleted', {
    main: 'trap "" TERM; echo $$; while true; do sleep 0.1; done',
    gracePeriodSeconds: 1,
  });
  const pod = await mainRunning('deleted');
  const pid = await waitFor('main to print its PID', async () => {
    const log = await call('GET', `${PODS}/${pod.metadata.name}/log?container=main`);
    return Number(log.body.trim()) || null;
  });
  expect(isAlive(pid)).toBe(true);
  const deletedAt = Date.now();
  expect(
    (await call('DELETE', `${JOBS}/deleted`, { propagationPolicy: 'Background' })).status,
  ).toBe(200);
  expect(kube.job('deleted')).toBeUndefined();
  expect(kube.podOf('deleted').metadata.deletionTimestamp).toBeTruthy();
  await waitFor('the pod to be deleted', () => !kube.podOf('deleted'));
  expect(Date.now() - deletedAt).toBeGreaterThanOrEqual(900);
  expect(isAlive(pid)).toBe(false);
});

it('follows a log: lines arrive while the container runs, the stream ends with it', async () => {
  await createJob('follow', { main: 'echo first; sleep 1; echo second >&2' });
  const pod = await mainRunning('follow');
  const response = await fetch(
    `${kube.url}${PODS}/${pod.metadata.name}/log?container=main&follow=true`,
  );
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('first\n')) text += decoder.decode((await reader.read()).value);
  expect(mainStatus(kube.podOf('follow')).state.running).toBeTruthy();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    text += decoder.decode(chunk.value);
  }
  expect(text).toBe('first\nsecond\n');
  expect(mainStatus(kube.podOf('follow')).state.terminated).toBeTruthy();

  const stamped = await call(
    'GET',
    `${PODS}/${pod.metadata.name}/log?container=main&timestamps=true`,
  );
  expect(stamped.body).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z first\n.+Z second\n$/);
  const tail = await call('GET', `${PODS}/${pod.metadata.name}/log?container=main&tailLines=1`);
  expect(tail.body).toBe('second\n');
  const future = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const since = await call(
    'GET',
    `${PODS}/${pod.metadata.name}/log?container=main&sinceTime=${future}`,
  );
  expect(since.body).toBe('');
});

it('close() ends every process it started and removes its files', async () => {
  const other = await startFakeKubernetes();
  const manifest = jobManifest('lingering', { main: 'sleep 30', sidecar: 'sleep 30' });
  expect((await call('POST', JOBS, manifest, other.url)).status).toBe(201);
  const pids = await waitFor('both containers to run', () => {
    const ids = other.processIds();
    return ids.length === 2 && ids;
  });
  expect(pids.every(isAlive)).toBe(true);
  await other.close();
  expect(pids.filter(isAlive)).toEqual([]);
  expect(existsSync(other.kubeconfigPath)).toBe(false);
});

describe('label selectors', () => {
  const labels = { app: 'danube', tier: 'job', 'danube.io/topic': 'k8s' };
  it.each([
    ['', true],
    ['app=danube', true],
    ['app==danube', true],
    ['app!=danube', false],
    ['missing!=x', true],
    ['tier in (job, web)', true],
    ['tier notin (job)', false],
    ['missing notin (job)', true],
    ['danube.io/topic', true],
    ['!danube.io/topic', false],
    ['!missing', true],
    ['app=danube,tier in (web)', false],
    ['app = danube , danube.io/topic=k8s', true],
  ])('%j matches: %s', (selector, expected) => {
    expect(parseLabelSelector(selector)(labels)).toBe(expected);
  });

  it('refuses a selector it cannot parse with 400', () => {
    expect(() => parseLabelSelector('app in danube')).toThrow(/unable to parse requirement/);
  });
});

it('maps container paths where they appear in a string, longest first, not their look-alikes', () => {
  const paths = new PathMapping({
    '/danube': '/tmp/pod',
    '/danube/outputs': '/tmp/out',
    '/app': '/repo',
  });
  expect(paths.map('echo x > /danube/outputs/a; cat /danube/result.json')).toBe(
    'echo x > /tmp/out/a; cat /tmp/pod/result.json',
  );
  expect(paths.map('--dir=/danube')).toBe('--dir=/tmp/pod');
  expect(paths.map('/app/dist/main.js /application /x/danube /danube2')).toBe(
    '/repo/dist/main.js /application /x/danube /danube2',
  );
});
