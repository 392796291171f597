import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startApi, http, type TestApi } from './support/api';
import { withApiKey } from './support/api-keys';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { isAlive, waitFor } from './support/wait-for';

/**
 * The REST API in this process and two real executor processes (process runtime), over
 * HTTP on loopback, on a real Postgres.
 */
let db: TestDatabase;
let api: TestApi;
let executor: ExecutorProcess;
let priorityExecutor: ExecutorProcess;
const scratch = mkdtempSync(join(tmpdir(), 'danube-e2e-'));

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url);
  executor = await startExecutor(db.url, 'http-e2e', {
    EXECUTOR_TOPICS: 'e2e',
    EXECUTOR_CONCURRENCY: '8',
    EXECUTOR_KILL_GRACE_MS: '500',
  });
  priorityExecutor = await startExecutor(db.url, 'http-e2e-prio', {
    EXECUTOR_TOPICS: 'prio',
    EXECUTOR_CONCURRENCY: '1',
    EXECUTOR_BATCH_SIZE: '1',
  });
});

afterAll(async () => {
  await executor?.stop();
  await priorityExecutor?.stop();
  await api?.close();
  await db?.drop();
});

const submit = (body: Record<string, unknown>) =>
  http('POST', `${api.url}/v1/jobs`, { topic: 'e2e', ...body });
const get = async (id: string) => (await http('GET', `${api.url}/v1/jobs/${id}`)).body;
const executions = async (id: string) =>
  (await http('GET', `${api.url}/v1/jobs/${id}/executions`)).body.items;
const untilStatus = (id: string, statuses: string[], timeoutMs = 20_000) =>
  waitFor(
    `job ${id} to be ${statuses.join(' or ')}`,
    async () => {
      const job = await get(id);
      return statuses.includes(job.status) ? job : null;
    },
    timeoutMs,
  );

function pidFile(name: string): string {
  return join(scratch, `${name}.pid`);
}

describe('a job over HTTP', () => {
  it('exit 0 -> succeeded, with its output as logs and its result.json as result', async () => {
    const created = await submit({
      command: 'echo "{\\"answer\\": 42}" > "$DANUBE_RESULT_FILE"; echo hello; echo oops >&2',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'queued', topic: 'e2e', attempts: 0 });
    const done = await untilStatus(created.body.id, ['succeeded', 'failed']);
    expect(done).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      result: { answer: 42 },
      error: null,
    });
    expect(done.finishedAt).not.toBeNull();
    const runs = await executions(done.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      attempt: 1,
      outcome: 'succeeded',
      exitCode: 0,
      executorId: 'http-e2e',
      runtime: 'process',
      errorCategory: null,
    });
    const logs = (await http('GET', `${api.url}/v1/jobs/${done.id}/logs`)).body.lines;
    expect(
      logs.map((l: { stream: string; line: string }) => `${l.stream}:${l.line}`).sort(),
    ).toEqual(['stderr:oops', 'stdout:hello']);
  });

  it('exit 3 with maxAttempts 3 -> failed after 3 executions, with growing gaps between them', async () => {
    const created = await submit({
      command: 'echo "broken $DANUBE_ATTEMPT" >&2; exit 3',
      maxAttempts: 3,
      backoff: { initialSeconds: 0.4, factor: 3 },
    });
    const done = await untilStatus(created.body.id, ['failed', 'succeeded']);
    expect(done).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: { category: 'transient', exitCode: 3, message: 'exited with code 3' },
    });
    const runs = await executions(done.id);
    expect(runs.map((r: { attempt: number }) => r.attempt)).toEqual([1, 2, 3]);
    expect(
      runs.every(
        (r: { outcome: string; errorCategory: string }) =>
          r.outcome === 'failed' && r.errorCategory === 'transient',
      ),
    ).toBe(true);
    expect(runs[2].stderrTail).toBe('broken 3\n');
    const gap = (i: number) => Date.parse(runs[i + 1].startedAt) - Date.parse(runs[i].finishedAt);
    // Equal jitter: the first gap is 0.2-0.4 s, the second 0.6-1.2 s.
    expect(gap(0)).toBeGreaterThanOrEqual(190);
    expect(gap(1)).toBeGreaterThanOrEqual(590);
    expect(gap(1)).toBeGreaterThan(gap(0));
  });

  it('an exit code in noRetryExitCodes -> failed after 1 execution, as permanent', async () => {
    const created = await submit({
      command: ['sh', '-c', 'exit 2'],
      maxAttempts: 5,
      noRetryExitCodes: [2],
    });
    const done = await untilStatus(created.body.id, ['failed', 'succeeded']);
    expect(done).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { category: 'permanent', exitCode: 2 },
    });
    expect(await executions(done.id)).toHaveLength(1);
  });

  it('timeoutSeconds 1 on sleep 30 -> timed_out, and the process is gone', async () => {
    const file = pidFile('timeout');
    const started = Date.now();
    const created = await submit({
      command: `echo $$ > ${file}; exec sleep 30`,
      timeoutSeconds: 1,
      maxAttempts: 1,
    });
    const done = await untilStatus(created.body.id, ['timed_out', 'failed', 'succeeded'], 15_000);
    expect(done).toMatchObject({ status: 'timed_out', error: { category: 'timeout' } });
    expect(Date.now() - started).toBeLessThan(10_000);
    const pid = Number(readFileSync(file, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
    expect((await executions(done.id))[0]).toMatchObject({
      outcome: 'timed_out',
      errorCategory: 'timeout',
    });
  });

  it('cancel of a running sleep 30 -> cancelled within 5 s, and the process is gone', async () => {
    const file = pidFile('cancel');
    const created = await submit({ command: `echo $$ > ${file}; exec sleep 30`, maxAttempts: 3 });
    await untilStatus(created.body.id, ['running']);
    await waitFor(
      'the pid file',
      () => existsSync(file) && readFileSync(file, 'utf8').trim() !== '',
    );
    const pid = Number(readFileSync(file, 'utf8'));
    expect(isAlive(pid)).toBe(true);
    const cancelledAt = Date.now();
    const cancel = await http('POST', `${api.url}/v1/jobs/${created.body.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.cancelRequestedAt).not.toBeNull();
    const done = await untilStatus(created.body.id, ['cancelled', 'failed', 'succeeded'], 5000);
    expect(done.status).toBe('cancelled');
    expect(Date.now() - cancelledAt).toBeLessThan(5000);
    expect(isAlive(pid)).toBe(false);
    expect(await executions(done.id)).toMatchObject([
      { outcome: 'cancelled', errorCategory: 'cancelled' },
    ]);
    // Cancelled is final for cancel, but can be retried.
    expect((await http('POST', `${api.url}/v1/jobs/${done.id}/cancel`)).status).toBe(409);
    const retried = await http('POST', `${api.url}/v1/jobs/${done.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe('queued');
    await http('POST', `${api.url}/v1/jobs/${done.id}/cancel`);
  });

  it('a job whose runAt is in the future is not claimed early', async () => {
    const runAt = new Date(Date.now() + 2500);
    const created = await submit({ command: 'true', runAt: runAt.toISOString() });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await get(created.body.id)).status).toBe('queued');
    const done = await untilStatus(created.body.id, ['succeeded']);
    expect(Date.parse(done.startedAt)).toBeGreaterThanOrEqual(runAt.getTime());
  });

  it('a higher priority job is claimed first', async () => {
    const runAt = new Date(Date.now() + 1500).toISOString();
    const low = await http('POST', `${api.url}/v1/jobs`, {
      topic: 'prio',
      command: 'sleep 0.2',
      runAt,
      priority: 0,
    });
    const high = await http('POST', `${api.url}/v1/jobs`, {
      topic: 'prio',
      command: 'sleep 0.2',
      runAt,
      priority: 10,
    });
    const [lowDone, highDone] = await Promise.all([
      untilStatus(low.body.id, ['succeeded']),
      untilStatus(high.body.id, ['succeeded']),
    ]);
    expect(Date.parse(highDone.startedAt)).toBeLessThan(Date.parse(lowDone.startedAt));
    expect(Date.parse(highDone.finishedAt)).toBeLessThanOrEqual(Date.parse(lowDone.startedAt));
  });

  it('returns the existing job (200) for a repeated idempotency key', async () => {
    const first = await submit({ command: 'true', idempotencyKey: 'same-key' });
    const again = await submit({ command: 'false', idempotencyKey: 'same-key' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
  });

  it('stores a batch all together, and lists with keyset pagination', async () => {
    const batch = await http('POST', `${api.url}/v1/jobs/batch`, {
      jobs: Array.from({ length: 5 }, (_, i) => ({
        topic: 'listing',
        command: ['echo', String(i)],
      })),
    });
    expect(batch.status).toBe(201);
    expect(batch.body.jobs).toHaveLength(5);
    const page1 = await http('GET', `${api.url}/v1/jobs?topic=listing&limit=3`);
    expect(page1.body.items).toHaveLength(3);
    const page2 = await http(
      'GET',
      `${api.url}/v1/jobs?topic=listing&limit=3&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body.items).toHaveLength(2);
    expect(page2.body.nextCursor).toBeNull();
    const ids = [...page1.body.items, ...page2.body.items].map((j: { id: string }) => j.id);
    expect(ids).toEqual([...batch.body.jobs].reverse().map((j: { id: string }) => j.id));
    const topics = await http('GET', `${api.url}/v1/topics`);
    expect(topics.body.items).toContainEqual({
      topic: 'listing',
      counts: { queued: 5 },
      executors: [],
    });
  });

  it('shows the executors, their topics and liveness', async () => {
    const executors = await http('GET', `${api.url}/v1/executors`);
    expect(executors.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: 'http-e2e',
          topics: ['e2e'],
          state: 'alive',
          runtime: 'process',
          capacity: 8,
        }),
        expect.objectContaining({ id: 'http-e2e-prio', topics: ['prio'], state: 'alive' }),
      ]),
    );
    expect((await http('GET', `${api.url}/healthz`)).status).toBe(200);
    expect((await http('GET', `${api.url}/readyz`)).body).toMatchObject({
      status: 'ok',
      info: { postgres: { status: 'up' } },
    });
  });

  it("warns when no live executor serves a job's topic, and says who serves each topic", async () => {
    const served = await http('POST', `${api.url}/v1/jobs`, { topic: 'e2e', command: 'true' });
    expect(served.status).toBe(201);
    expect(served.body.warnings).toEqual([]);
    const unserved = await http('POST', `${api.url}/v1/jobs`, {
      topic: 'reports',
      command: 'true',
      runAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(unserved.status).toBe(201);
    expect(unserved.body.warnings).toEqual([
      'no live executor serves topic "reports"; the job will wait until one does (start one with EXECUTOR_TOPICS=reports)',
    ]);
    const batch = await http('POST', `${api.url}/v1/jobs/batch`, {
      jobs: [
        {
          topic: 'reports',
          command: 'true',
          runAt: new Date(Date.now() + 3_600_000).toISOString(),
        },
        { topic: 'e2e', command: 'true' },
      ],
    });
    expect(batch.body.warnings).toEqual([
      expect.stringMatching(/^no live executor serves topic "reports"/),
    ]);
    const topics = (await http('GET', `${api.url}/v1/topics`)).body.items;
    expect(topics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ topic: 'e2e', executors: ['http-e2e'] }),
        expect.objectContaining({ topic: 'reports', executors: [], counts: { queued: 2 } }),
      ]),
    );
  });
});

describe('bad input', () => {
  const bad: Array<[string, string | Record<string, unknown>, number, RegExp]> = [
    ['malformed JSON', '{"topic": "bad", "command": ', 400, /not valid JSON/],
    [
      'an unknown field',
      { topic: 'bad', command: 'true', colour: 'red' },
      400,
      /property colour should not exist/,
    ],
    [
      'a wrong type',
      { topic: 'bad', command: 'true', priority: 'high' },
      400,
      /priority must be an integer/,
    ],
    ['a missing topic', { command: 'true' }, 400, /topic must be/],
    [
      'an empty command string',
      { topic: 'bad', command: '' },
      400,
      /command must be a non-empty string/,
    ],
    [
      'an empty command array',
      { topic: 'bad', command: [] },
      400,
      /command must be a non-empty string/,
    ],
    ['a command array of numbers', { topic: 'bad', command: [1, 2] }, 400, /command must be/],
    [
      'a negative timeout',
      { topic: 'bad', command: 'true', timeoutSeconds: -5 },
      400,
      /timeoutSeconds must not be less than 1/,
    ],
    [
      'a timeout above the task class limit',
      { topic: 'bad', command: 'true', timeoutSeconds: 3600 },
      400,
      /timeoutSeconds is 3600 but cpu_short jobs may run at most 60 s/,
    ],
    [
      'an unknown task class',
      { topic: 'bad', command: 'true', taskClass: 'huge' },
      400,
      /taskClass must be one of/,
    ],
    [
      'gpu_slurm without Slurm',
      { topic: 'bad', command: 'true', taskClass: 'gpu_slurm' },
      422,
      /gpu_slurm needs a Slurm runtime/,
    ],
    [
      'a bad runAt',
      { topic: 'bad', command: 'true', runAt: 'tomorrow' },
      400,
      /runAt must be a valid ISO 8601/,
    ],
    [
      'a bad backoff',
      { topic: 'bad', command: 'true', backoff: { factor: 0 } },
      400,
      /backoff.factor must not be less than 1/,
    ],
    [
      'a non-string env value',
      { topic: 'bad', command: 'true', env: { A: 1 } },
      400,
      /env must be an object of string values/,
    ],
    ['a body that is an array', [{ topic: 'bad' }] as unknown as Record<string, unknown>, 400, /./],
    [
      'an invalid topic name',
      { topic: 'bad topic!', command: 'true' },
      400,
      /topic must be 1-128 letters/,
    ],
    [
      'resources that are not an object',
      { topic: 'bad', command: 'true', resources: 'big' },
      400,
      /resources must be an object/,
    ],
    [
      'a resource quantity that is not one',
      { topic: 'bad', command: 'true', resources: { limits: { memory: 'lots' } } },
      400,
      /resources.limits.memory must be a Kubernetes quantity/,
    ],
    [
      'a resource request above its own limit (Kubernetes would refuse every pod)',
      {
        topic: 'bad',
        command: 'true',
        resources: { requests: { memory: '1Gi' }, limits: { memory: '512Mi' } },
      },
      400,
      /resources.requests.memory \(1Gi\) must not be more than limits.memory \(512Mi\)/,
    ],
    [
      'a GPU count in resources',
      { topic: 'bad', command: 'true', resources: { limits: { 'nvidia.com/gpu': '2' } } },
      400,
      /resources.limits.nvidia.com\/gpu cannot be set: the gpu task class gives each attempt exactly one GPU/,
    ],
    [
      'a NUL character in a value',
      { topic: 'bad', command: 'echo \u0000' },
      400,
      /cannot be stored/,
    ],
  ];

  it.each(bad)('%s -> 4xx with a message', async (_name, body, status, message) => {
    const response = await http('POST', `${api.url}/v1/jobs`, body);
    expect(response.status).toBe(status);
    expect(response.body.message).toMatch(message);
  });

  it('keeps the resources a job asks for and shows them', async () => {
    const resources = { requests: { cpu: '500m' }, limits: { memory: '2Gi' } };
    const created = await http('POST', `${api.url}/v1/jobs`, {
      topic: 'resources-shown',
      command: 'true',
      runAt: '2099-01-01T00:00:00Z',
      resources,
    });
    expect(created.status).toBe(201);
    const shown = await http('GET', `${api.url}/v1/jobs/${created.body.id}`);
    expect(shown.body.resources).toEqual(resources);
  });

  it('an oversized body -> 413', async () => {
    const response = await http('POST', `${api.url}/v1/jobs`, {
      topic: 'bad',
      command: 'x'.repeat(6 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
    expect(response.body.message).toMatch(/the limit is/);
  });

  describe('bodies that are not plain UTF-8 JSON, or are hostile', () => {
    const post = (body: Buffer | string, headers: Record<string, string>) =>
      fetch(`${api.url}/v1/jobs`, {
        method: 'POST',
        headers: withApiKey(api.url, headers),
        body,
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { message: string },
      }));
    const valid = JSON.stringify({ topic: 'bad', command: 'true' });
    const nested = (depth: number) =>
      `{"topic":"bad","command":"true","env":${'['.repeat(depth)}${']'.repeat(depth)}}`;

    it.each([
      [
        'a body without a content-type header',
        Buffer.from(valid),
        {},
        415,
        /no content-type header: send it as JSON with content-type: application\/json/,
      ],
      [
        'a body sent as text/plain',
        valid,
        { 'content-type': 'text/plain' },
        415,
        /content-type "text\/plain" is not accepted: send the body as JSON/,
      ],
      [
        'an unknown charset',
        valid,
        { 'content-type': 'application/json; charset=klingon' },
        415,
        /charset "klingon" is not supported: send JSON in UTF-8/,
      ],
      [
        'an unknown content-encoding',
        valid,
        { 'content-type': 'application/json', 'content-encoding': 'bogus' },
        415,
        /content-encoding "bogus" is not supported/,
      ],
      [
        'gzip declared on a body that is not gzip',
        valid,
        { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        400,
        /could not be decompressed as content-encoding "gzip"/,
      ],
      [
        'nesting 65 levels deep',
        nested(64),
        { 'content-type': 'application/json' },
        400,
        /deeper than 64 levels \(at body\.env/,
      ],
      [
        'nesting 300,000 levels deep',
        nested(300_000),
        { 'content-type': 'application/json' },
        400,
        /deeper than 64 levels/,
      ],
      [
        'a __proto__ key',
        '{"topic":"bad","command":"true","__proto__":{"priority":9}}',
        { 'content-type': 'application/json' },
        400,
        /body\.__proto__ is not allowed/,
      ],
      [
        'a constructor key inside env',
        '{"topic":"bad","command":"true","env":{"constructor":"x"}}',
        { 'content-type': 'application/json' },
        400,
        /body\.env\.constructor is not allowed/,
      ],
    ])('%s -> %s... a 4xx that says what to do', async (_name, body, headers, status, message) => {
      const response = await post(body, headers);
      expect(response.status).toBe(status);
      expect(response.body.message).toMatch(message);
    });

    it('a gzip bomb -> 413 naming the limit after decompression', async () => {
      const bomb = gzipSync(
        Buffer.from(`{"topic":"bad","command":"${'x'.repeat(20 * 1024 * 1024)}"}`),
      );
      expect(bomb.length).toBeLessThan(100_000);
      const response = await post(bomb, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      expect(response.status).toBe(413);
      expect(response.body.message).toMatch(
        /over the limit of 5242880 bytes \(counted after decompression\)/,
      );
    });

    it('a well-formed gzip body is accepted', async () => {
      const response = await post(
        gzipSync(
          JSON.stringify({ topic: 'gzip-ok', command: 'true', runAt: '2099-01-01T00:00:00Z' }),
        ),
        { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      );
      expect(response.status).toBe(201);
    });
  });

  it.each([
    ['an array', [[]]],
    ['null', [null]],
    ['a number', [1]],
    ['a string', ['job']],
  ])('a batch whose job is %s -> 400 naming it', async (_what, jobs) => {
    const response = await http('POST', `${api.url}/v1/jobs/batch`, { jobs });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/jobs\.0 must be an object/);
  });

  it('a batch with one bad job stores none, and names the job', async () => {
    const response = await http('POST', `${api.url}/v1/jobs/batch`, {
      jobs: [
        { topic: 'bad', command: 'true' },
        { topic: 'bad', command: 'true', timeoutSeconds: -1 },
      ],
    });
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/jobs\.1\.timeoutSeconds must not be less than 1/);
    const semantic = await http('POST', `${api.url}/v1/jobs/batch`, {
      jobs: [
        { topic: 'bad', command: 'true' },
        { topic: 'bad', command: 'true', timeoutSeconds: 100 },
      ],
    });
    expect(semantic.status).toBe(400);
    expect(semantic.body.message).toMatch(/jobs\[1\]\.timeoutSeconds is 100/);
  });

  it('ids: unknown -> 404, malformed -> 400, bad query -> 400', async () => {
    expect((await http('GET', `${api.url}/v1/jobs/999999`)).status).toBe(404);
    expect((await http('GET', `${api.url}/v1/jobs/999999`)).body.message).toBe(
      'job 999999 does not exist',
    );
    expect((await http('POST', `${api.url}/v1/jobs/999999/cancel`)).status).toBe(404);
    expect((await http('GET', `${api.url}/v1/jobs/abc`)).status).toBe(400);
    expect((await http('GET', `${api.url}/v1/jobs/99999999999999999999`)).status).toBe(400);
    expect((await http('GET', `${api.url}/v1/jobs?status=nope`)).status).toBe(400);
    expect((await http('GET', `${api.url}/v1/jobs?limit=0`)).status).toBe(400);
    expect((await http('GET', `${api.url}/v1/jobs?cursor=x`)).status).toBe(400);
  });

  it('stored nothing for any of the bad requests', async () => {
    const listed = await http('GET', `${api.url}/v1/jobs?topic=bad`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([]);
  });
});
