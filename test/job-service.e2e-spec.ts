import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { DanubeClient } from '../libs/sdk/src/rest-client';
import { JobTokens, Keyring } from '../libs/secrets/src';
import { http, jobEnded } from './support/api';
import { startApiProcess, type ApiProcess } from './support/api-process';
import { withApiKey } from './support/api-keys';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { jobServiceClient } from './support/job-service-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitFor } from './support/wait-for';

const EXAMPLE = join(__dirname, '..', 'dist', 'examples', 'typescript', 'sdk-job.js');
const SECRET = `sekrit-${randomBytes(12).toString('hex')}`;
const MiB = 1024 * 1024;

let db: TestDatabase;
let api: ApiProcess;
let executor: ExecutorProcess;
let grpc: ReturnType<typeof jobServiceClient>;
let tokens: JobTokens;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApiProcess(db.url, { ARTIFACT_MAX_BYTES: String(6 * MiB) });
  executor = await startExecutor(db.url, 'sdk-executor', {
    ...api.executorEnv,
    EXECUTOR_TOPICS: 'sdk',
    LOG_LEVEL: 'debug',
  });
  grpc = jobServiceClient(api.grpcAddress);
  tokens = new JobTokens(Keyring.parse(api.executorEnv.DANUBE_SECRET_KEY!));
});

afterAll(async () => {
  grpc?.close();
  await executor?.stop();
  await api?.stop();
  await db?.drop();
});

async function submit(job: object): Promise<string> {
  const { status: code, body } = await http('POST', `${api.url}/v1/jobs`, job);
  expect(code).toBe(201);
  return body.id;
}

const ended = (id: string, timeoutMs?: number) => jobEnded(api.url, id, timeoutMs);

/** Every file under the artifact store, partial uploads included. */
function storedFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
  return walk(api.artifactDir);
}

let sdkJob: any;

it('secrets: PUT creates then replaces, GET lists names only, bad names are 400', async () => {
  expect((await http('PUT', `${api.url}/v1/secrets/api-token`, { value: 'first' })).status).toBe(
    201,
  );
  const replaced = await http('PUT', `${api.url}/v1/secrets/api-token`, { value: SECRET });
  expect(replaced.status).toBe(200);
  expect(replaced.body).toEqual({
    name: 'api-token',
    keyId: 'test',
    createdAt: expect.any(String),
    updatedAt: expect.any(String),
  });
  const listed = await http('GET', `${api.url}/v1/secrets`);
  expect(listed.body.items.map((s: { name: string }) => s.name)).toEqual(['api-token']);
  expect(JSON.stringify(listed.body)).not.toContain(SECRET);

  const bad = await http('PUT', `${api.url}/v1/secrets/bad%20name`, { value: 'x' });
  expect(bad).toMatchObject({
    status: 400,
    body: { message: expect.stringMatching(/^name must be/) },
  });
  const missingValue = await http('PUT', `${api.url}/v1/secrets/other`, {});
  expect(missingValue).toMatchObject({
    status: 400,
    body: { message: expect.stringMatching(/value/) },
  });
  expect((await http('DELETE', `${api.url}/v1/secrets/nope`)).status).toBe(404);
  expect((await http('PUT', `${api.url}/v1/secrets/gone`, { value: 'x' })).status).toBe(201);
  expect((await http('DELETE', `${api.url}/v1/secrets/gone`)).status).toBe(204);
});

it('a job using the SDK runs a step, reads its listed secret, is refused another, uploads 5 MB, reports progress and a result', async () => {
  const id = await submit({ topic: 'sdk', command: ['node', EXAMPLE], secrets: ['api-token'] });
  sdkJob = await ended(id);
  expect(sdkJob).toMatchObject({
    status: 'succeeded',
    progress: 50,
    statusMessage: 'half way: uploading',
  });
  const { result } = sdkJob;

  // The step: a job of its own, child of this one, whose output came back to the parent.
  expect(result.step).toEqual({
    jobId: expect.any(String),
    stdout: 'hello from a step\n',
    stderr: 'to stderr\n',
  });
  const step = (await http('GET', `${api.url}/v1/jobs/${result.step.jobId}`)).body;
  expect(step).toMatchObject({
    status: 'succeeded',
    parentJobId: id,
    nodeName: 'greet',
    topic: 'sdk',
    attempts: 1,
  });
  const stepHistory = (await http('GET', `${api.url}/v1/jobs/${step.id}/executions`)).body.items;
  expect(stepHistory).toMatchObject([{ attempt: 1, outcome: 'succeeded', exitCode: 0 }]);

  // The listed secret was read; the unlisted one was refused with PERMISSION_DENIED.
  expect(result.tokenLength).toBe(SECRET.length);
  expect(result.unlisted).toMatch(
    new RegExp(
      `^refused \\(gRPC status ${status.PERMISSION_DENIED}\\): job ${id} does not list secret "not-listed"`,
    ),
  );

  // The artifact: listed under the job, and the download hashes to what the job wrote.
  const listed = (await http('GET', `${api.url}/v1/jobs/${id}/artifacts`)).body.items;
  expect(listed).toEqual([
    expect.objectContaining({
      jobId: id,
      attempt: 1,
      path: 'random.bin',
      size: 5 * MiB,
      sha256: result.artifact.expectedSha256,
      downloadUrl: `/v1/artifacts/${result.artifact.artifactId}`,
    }),
  ]);
  const download = await fetch(`${api.url}${listed[0].downloadUrl}`, {
    headers: withApiKey(api.url),
  });
  expect(download.status).toBe(200);
  expect(download.headers.get('x-checksum-sha256')).toBe(result.artifact.expectedSha256);
  const bytes = Buffer.from(await download.arrayBuffer());
  expect(bytes.length).toBe(5 * MiB);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(result.artifact.expectedSha256);

  const logs = (await http('GET', `${api.url}/v1/jobs/${id}/logs`)).body.lines.map(
    (l: { line: string }) => l.line,
  );
  expect(logs).toContain(`api-token has ${SECRET.length} characters`);
});

it('secretEnv puts the secret in the env, and stored output shows it masked', async () => {
  const id = await submit({
    topic: 'sdk',
    command: [
      'echo "token=$API_TOKEN"; echo "again: $API_TOKEN" >&2',
      'echo "b64=$(printf %s "$API_TOKEN" | base64 -w0)"',
      'echo "hex=$(printf %s "$API_TOKEN" | od -An -tx1 | tr -d \' \\n\')"',
      'exit 3',
    ].join('; '),
    secrets: ['api-token'],
    secretEnv: { API_TOKEN: 'api-token' },
    maxAttempts: 1,
  });
  const job = await ended(id);
  expect(job).toMatchObject({
    status: 'failed',
    secrets: ['api-token'],
    secretEnv: { API_TOKEN: 'api-token' },
  });
  const lines = (await http('GET', `${api.url}/v1/jobs/${id}/logs`)).body.lines.map(
    (l: { line: string }) => l.line,
  );
  expect(lines).toEqual(expect.arrayContaining(['token=***', 'again: ***', 'b64=***', 'hex=***']));
  const [execution] = (await http('GET', `${api.url}/v1/jobs/${id}/executions`)).body.items;
  expect(execution.stderrTail).toContain('again: ***');
});

it('job specs: secretEnv must name a listed secret; a missing secret fails the job permanently', async () => {
  const unlisted = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'sdk',
    command: 'true',
    secretEnv: { API_TOKEN: 'api-token' },
  });
  expect(unlisted).toMatchObject({
    status: 400,
    body: {
      message: expect.stringMatching(
        /^secretEnv.API_TOKEN names secret "api-token", which is not in secrets/,
      ),
    },
  });
  const id = await submit({
    topic: 'sdk',
    command: 'true',
    secrets: ['never-created'],
    secretEnv: { X: 'never-created' },
  });
  const job = await ended(id);
  expect(job.status).toBe('failed');
  expect(job.attempts).toBe(1);
  expect(job.error).toMatchObject({
    category: 'permanent',
    message: expect.stringMatching(
      /secret "never-created", which does not exist; create it with PUT \/v1\/secrets\/never-created/,
    ),
  });
});

describe('every JobService handler refuses bad callers with the right status', () => {
  let running: string;
  let runningToken: string;

  beforeAll(async () => {
    running = await submit({ topic: 'sdk', command: 'sleep 60', secrets: ['api-token'] });
    await waitFor('the long job to run', async () => {
      const { body } = await http('GET', `${api.url}/v1/jobs/${running}`);
      return body.status === 'running';
    });
    runningToken = tokens.issue(running, 1);
  });
  afterAll(async () => {
    await http('POST', `${api.url}/v1/jobs/${running}/cancel`);
    await ended(running);
  });

  const requests = {
    runStep: (jobId: string) => ({ jobId, command: ['true'] }),
    getSecret: (jobId: string) => ({ jobId, name: 'api-token' }),
    reportStatus: (jobId: string) => ({ jobId, progress: 10 }),
    uploadArtifact: (jobId: string) => [
      { header: { jobId, path: 'x.txt', size: 1 } },
      { chunk: Buffer.from('x') },
    ],
    downloadArtifact: (jobId: string) => ({ jobId, path: 'x.txt' }),
  };
  type Handler = keyof typeof requests;
  const call = (handler: Handler, jobId: string, token?: string) =>
    handler === 'uploadArtifact'
      ? grpc.upload(requests.uploadArtifact(jobId), token)
      : handler === 'downloadArtifact'
        ? grpc.download(requests.downloadArtifact(jobId), token)
        : grpc.unary(handler, requests[handler](jobId), token);

  const handlers: Handler[] = [
    'runStep',
    'getSecret',
    'reportStatus',
    'uploadArtifact',
    'downloadArtifact',
  ];

  it.each(handlers)('%s', async (handler) => {
    const finished = sdkJob.id as string;
    const cases: [string, Promise<any>, status, RegExp][] = [
      ['no token', call(handler, running), status.UNAUTHENTICATED, /no job token/],
      [
        'a forged token',
        call(handler, running, `dnb1.${running}.1.test.AAAA`),
        status.UNAUTHENTICATED,
        /bad signature/,
      ],
      [
        "another job's token",
        call(handler, running, tokens.issue(finished, 1)),
        status.PERMISSION_DENIED,
        new RegExp(`belongs to job ${finished}, not job ${running}`),
      ],
      [
        "a finished attempt's token",
        call(handler, finished, tokens.issue(finished, 1)),
        status.FAILED_PRECONDITION,
        new RegExp(`job ${finished} is succeeded, not running`),
      ],
      [
        'an older attempt of the running job',
        call(handler, running, tokens.issue(running, 0 + 2)),
        status.FAILED_PRECONDITION,
        /is on attempt 1: the token of attempt 2 no longer works/,
      ],
      [
        'an unknown job',
        call(handler, '987654321', tokens.issue('987654321', 1)),
        status.NOT_FOUND,
        /job 987654321 does not exist/,
      ],
      [
        'a malformed job id',
        call(handler, 'abc', runningToken),
        status.INVALID_ARGUMENT,
        /job_id "abc" is not a job id/,
      ],
      [
        'a job id beyond the range of ids',
        call(handler, '9999999999999999999', runningToken),
        status.INVALID_ARGUMENT,
        /job_id "9999999999999999999" is not a job id/,
      ],
    ];
    for (const [what, pending, code, message] of cases) {
      const result = await pending;
      expect({ what, ok: result.ok, code: result.code }).toEqual({ what, ok: false, code });
      expect(result.message).toMatch(message);
    }
  });

  it('malformed requests are INVALID_ARGUMENT, naming the field', async () => {
    const cases: [Promise<any>, RegExp][] = [
      [
        grpc.unary('runStep', { jobId: running }, runningToken),
        /exactly one of command .* and script/,
      ],
      [
        grpc.unary('runStep', { jobId: running, command: ['a'], script: 'b' }, runningToken),
        /exactly one of command/,
      ],
      [
        grpc.unary('runStep', { jobId: running, script: 'true', name: '../x' }, runningToken),
        /^name must be/,
      ],
      [
        grpc.unary(
          'runStep',
          { jobId: running, script: 'true', env: { DANUBE_X: '1' } },
          runningToken,
        ),
        /^env.DANUBE_X uses the DANUBE_ prefix/,
      ],
      [grpc.unary('getSecret', { jobId: running, name: '' }, runningToken), /^name must be/],
      // JSON.parse's message quotes the input cut in the middle of a character (half a
      // surrogate pair), which once made grpc-js throw while sending the status, ending the API.
      [
        grpc.unary('reportStatus', { jobId: running, resultJson: '😀'.repeat(30) }, runningToken),
        /^result_json is not JSON: .*\uFFFD/,
      ],
      [
        grpc.unary('reportStatus', { jobId: running, progress: 150 }, runningToken),
        /^progress must be 0-100, not 150/,
      ],
      [
        grpc.unary('reportStatus', { jobId: running, resultJson: '{oops' }, runningToken),
        /^result_json is not JSON/,
      ],
      [
        grpc.upload([{ chunk: Buffer.from('x') }], runningToken),
        /first message must carry the header/,
      ],
      [
        grpc.upload(
          [
            { header: { jobId: running, path: 'a', size: 1 } },
            { header: { jobId: running, path: 'b', size: 1 } },
          ],
          runningToken,
        ),
        /only the first message may carry a header/,
      ],
    ];
    for (const [pending, message] of cases) {
      const result = await pending;
      expect({ ok: result.ok, code: result.code, message: result.message }).toEqual({
        ok: false,
        code: status.INVALID_ARGUMENT,
        message: expect.stringMatching(message),
      });
    }
  });

  it('the running job may report status; the report shows on the job', async () => {
    expect(
      await grpc.unary(
        'reportStatus',
        { jobId: running, progress: 10, message: 'warming up' },
        runningToken,
      ),
    ).toEqual({
      ok: true,
      response: {},
    });
    expect(
      await grpc.unary('reportStatus', { jobId: running, resultJson: '{"rows": 3}' }, runningToken),
    ).toMatchObject({ ok: true });
    const { body } = await http('GET', `${api.url}/v1/jobs/${running}`);
    expect(body).toMatchObject({ progress: 10, statusMessage: 'warming up', result: { rows: 3 } });
  });

  it("DownloadArtifact streams the job's own artifact back, and refuses others, naming why", async () => {
    const content = randomBytes(3 * MiB + 17);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const uploaded = await grpc.upload(
      [
        { header: { jobId: running, path: 'data/mine.bin', size: content.length, sha256 } },
        ...Array.from({ length: 4 }, (_, i) => ({
          chunk: content.subarray(i * MiB, (i + 1) * MiB),
        })),
      ],
      runningToken,
    );
    expect(uploaded).toMatchObject({ ok: true });
    const own = await grpc.download({ jobId: running, path: 'data/mine.bin' }, runningToken);
    expect(own).toMatchObject({
      ok: true,
      header: {
        jobId: running,
        attempt: 1,
        path: 'data/mine.bin',
        size: String(content.length),
        sha256,
      },
    });
    expect(own.bytes!.equals(content)).toBe(true);

    const finished = sdkJob.id as string;
    const cases: [object, status, RegExp][] = [
      [
        { jobId: running, fromJobId: finished, path: 'random.bin' },
        status.PERMISSION_DENIED,
        new RegExp(`job ${running} cannot read job ${finished}'s artifacts: a job reads its own`),
      ],
      [{ jobId: running, path: 'nope.txt' }, status.NOT_FOUND, /has no artifact "nope.txt"/],
      [
        { jobId: running, fromJobId: 'abc', path: 'x' },
        status.INVALID_ARGUMENT,
        /^from_job_id "abc" is not a job id/,
      ],
      [{ jobId: running, path: '../x' }, status.INVALID_ARGUMENT, /climbs out with "\.\."/],
      [{ jobId: running, path: '' }, status.INVALID_ARGUMENT, /^path "" is empty/],
    ];
    for (const [request, code, message] of cases) {
      const result = await grpc.download(request, runningToken);
      expect({ request, ok: result.ok, code: result.code }).toEqual({ request, ok: false, code });
      expect(result.message).toMatch(message);
    }
  });

  it('an upload over the limit or naming ../ is refused and leaves no file behind', async () => {
    const before = storedFiles();
    const listed = async () =>
      (await http('GET', `${api.url}/v1/jobs/${running}/artifacts`)).body.items;
    const listedBefore = await listed();
    const cases: [object[], status, RegExp][] = [
      [
        [
          { header: { jobId: running, path: '../escape.txt', size: 2 } },
          { chunk: Buffer.from('hi') },
        ],
        status.INVALID_ARGUMENT,
        /climbs out with "\.\."/,
      ],
      [
        [
          { header: { jobId: running, path: '/etc/passwd', size: 2 } },
          { chunk: Buffer.from('hi') },
        ],
        status.INVALID_ARGUMENT,
        /is absolute/,
      ],
      [
        [
          { header: { jobId: running, path: 'big.bin', size: 7 * MiB } },
          { chunk: Buffer.alloc(MiB) },
        ],
        status.RESOURCE_EXHAUSTED,
        /size 7340032 is over the artifact limit of 6291456 bytes \(ARTIFACT_MAX_BYTES\)/,
      ],
      [
        [
          { header: { jobId: running, path: 'liar.bin', size: 1024 } },
          { chunk: Buffer.alloc(1024) },
          { chunk: Buffer.alloc(1024) },
        ],
        status.INVALID_ARGUMENT,
        /sent more than the 1024 bytes its header declared/,
      ],
      [
        [
          { header: { jobId: running, path: 'short.bin', size: 4096 } },
          { chunk: Buffer.alloc(1024) },
        ],
        status.INVALID_ARGUMENT,
        /ended after 1024 of the 4096 bytes/,
      ],
    ];
    for (const [messages, code, message] of cases) {
      const result = await grpc.upload(messages, runningToken);
      expect({ ok: result.ok, code: result.code }).toEqual({ ok: false, code });
      expect(result.message).toMatch(message);
    }
    expect(storedFiles()).toEqual(before);
    expect(storedFiles().some((f) => f.includes('.partial'))).toBe(false);
    expect(await listed()).toEqual(listedBefore);
  });
});

it('cancelling a job that waits on a step cancels the step too', async () => {
  const sdk = JSON.stringify(join(__dirname, '..', 'dist', 'libs', 'sdk', 'src', 'index.js'));
  const id = await submit({
    topic: 'sdk',
    command: ['node', '-e', `require(${sdk}).step.run('sleep 60', { name: 'long' })`],
  });
  const step = await waitFor('the step to run', async () => {
    const { body } = await http('GET', `${api.url}/v1/jobs?topic=sdk&status=running`);
    return body.items.find((j: { parentJobId: string | null }) => j.parentJobId === id);
  });
  expect(step.nodeName).toBe('long');
  await http('POST', `${api.url}/v1/jobs/${id}/cancel`);
  expect((await ended(id)).status).toBe('cancelled');
  expect((await ended(step.id, 15_000)).status).toBe('cancelled');
});

it("the SDK's REST client submits a job, waits for it and reads its logs", async () => {
  const client = new DanubeClient(api.url, { apiKey: api.adminKey });
  const job = await client.submit({ topic: 'sdk', command: 'echo one; echo two' });
  expect(job.status).toBe('queued');
  const done = await client.wait(job.id, { timeoutMs: 30_000 });
  expect(done.status).toBe('succeeded');
  expect((await client.logs(job.id)).map((l) => l.line)).toEqual(['one', 'two']);
  await expect(client.get('999999999')).rejects.toMatchObject({
    name: 'DanubeApiError',
    status: 404,
    message: 'GET /v1/jobs/999999999: 404 job 999999999 does not exist',
  });
});

it('serves the gRPC health service and server reflection', async () => {
  expect(await grpc.health('')).toBe('SERVING');
  expect(await grpc.health('danube.JobService')).toBe('SERVING');
  expect(await grpc.reflectedServices()).toContain('danube.JobService');
});

it('secret values appear in no log, no job record and no API response of this whole run', async () => {
  const apiLog = api.output();
  const executorLog = executor.output();
  // The logs are real and detailed (debug level), so a leak would have shown up in them.
  expect(apiLog).toMatch(/JobService|Nest application successfully started/);
  expect(executorLog).toContain('executor sdk-executor started');
  expect(apiLog).not.toContain(SECRET);
  expect(executorLog).not.toContain(SECRET);
  for (const table of ['jobs', 'executions', 'job_logs', 'artifacts', 'secrets']) {
    const { rows } = await db.pool.query(`SELECT t::text AS row FROM danube.${table} t`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.row.includes(SECRET))).toEqual([]);
  }
  const jobs = await http('GET', `${api.url}/v1/jobs?limit=100`);
  expect(jobs.body.items.length).toBeGreaterThan(3);
  expect(JSON.stringify(jobs.body)).not.toContain(SECRET);
});
