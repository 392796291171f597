import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../libs/db/src';
import { startApi, http, jobEnded, type TestApi } from './support/api';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { registerProcess } from './support/processes';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitFor } from './support/wait-for';

const DANUBE = join(__dirname, '..', 'bin', 'danube.js');
const scratch = mkdtempSync(join(tmpdir(), 'danube-cli-'));

let db: TestDatabase;
let api: TestApi;
let executor: ExecutorProcess;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db.url);
  executor = await startExecutor(db.url, 'cli-executor', {
    ...api.executorEnv,
    EXECUTOR_TOPICS: 'cli',
  });
});

afterAll(async () => {
  await executor?.stop();
  await api?.close();
  await db?.drop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `danube args...` against the test API (stdin: `input`) and waits for it to exit. */
function danube(args: string[], env: Record<string, string> = {}, input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DANUBE, ...args], {
      env: {
        PATH: process.env.PATH,
        DANUBE_API_URL: api.url,
        DANUBE_API_KEY: api.adminKey,
        ...env,
      },
      detached: true,
    });
    registerProcess(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

it('submit --wait exits with the job exit code', async () => {
  const failing = await danube([
    'submit',
    '--topic',
    'cli',
    '--max-attempts',
    '1',
    '--wait',
    '--',
    'sh',
    '-c',
    'echo "cannot open input.csv" >&2; exit 7',
  ]);
  expect(failing.code).toBe(7);
  expect(failing.stdout).toMatch(/^job \d+ \[FAIL\] failed, attempt 1\/1 \(transient: .*exit.*7/m);
  // What the job said on stderr before it failed.
  expect(failing.stderr).toMatch(/stderr of attempt 1 \(its end\):\ncannot open input\.csv\n/);

  const ok = await danube(['submit', '-t', 'cli', '--wait', '--json', '--shell', 'echo hi']);
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({
    status: 'succeeded',
    topic: 'cli',
    command: 'echo hi',
  });

  const timedOut = await danube([
    'submit',
    '-t',
    'cli',
    '--timeout',
    '1',
    '--max-attempts',
    '1',
    '--wait',
    '--',
    'sleep',
    '5',
  ]);
  expect(timedOut.code).toBe(124);
});

it('submit takes a YAML spec file, and flags override it', async () => {
  const file = join(scratch, 'job.yaml');
  writeFileSync(
    file,
    'topic: elsewhere\ncommand: ["sh", "-c", "echo $GREETING"]\nenv:\n  GREETING: from-file\n',
  );
  const run = await danube([
    'submit',
    '-f',
    file,
    '-t',
    'cli',
    '-e',
    'GREETING=from-flag',
    '--wait',
    '--json',
  ]);
  expect(run.code).toBe(0);
  const job = JSON.parse(run.stdout);
  expect(job).toMatchObject({ topic: 'cli', env: { GREETING: 'from-flag' } });
  const logs = await danube(['logs', job.id]);
  expect(logs.stdout).toBe('from-flag\n');
});

it('logs -f prints lines as they are written', async () => {
  // The job prints its next lines only once this test has seen the first through `logs -f`:
  // if the CLI printed nothing until the job ended, the job would never end (but time out).
  const seen = join(mkdtempSync(join(tmpdir(), 'danube-cli-follow-')), 'seen');
  const { body } = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'cli',
    command: `echo "tick 1"; while [ ! -e ${seen} ]; do sleep 0.1; done; echo "tick 2"; echo "tick 3"`,
    timeoutSeconds: 60,
  });
  const child = spawn(process.execPath, [DANUBE, 'logs', '-f', body.id], {
    env: { PATH: process.env.PATH, DANUBE_API_URL: api.url, DANUBE_API_KEY: api.adminKey },
    detached: true,
  });
  registerProcess(child);
  let printed = '';
  child.stdout.on('data', (c: Buffer) => {
    printed += c.toString();
    if (printed.includes('tick 1\n')) writeFileSync(seen, '');
  });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  expect(code).toBe(0);
  expect(printed).toBe('tick 1\ntick 2\ntick 3\n');
  expect((await http('GET', `${api.url}/v1/jobs/${body.id}`)).body.status).toBe('succeeded');
});

it('bad flags print usage and exit 2', async () => {
  for (const args of [
    ['submit', '--bogus'],
    ['get'],
    ['list', '--limit', 'many'],
    ['frobnicate'],
    ['submit'],
  ]) {
    const run = await danube(args);
    expect({ args, code: run.code }).toEqual({ args, code: 2 });
    expect(run.stdout).toBe('');
    expect(run.stderr.length).toBeGreaterThan(0);
  }
  expect((await danube(['submit', '--bogus'])).stderr).toMatch(
    /unknown option '--bogus'[\s\S]*Usage: danube submit/,
  );
});

it('DANUBE_URL, the old name of DANUBE_API_URL, still works, with a line that says to rename it', async () => {
  const run = await danube(['list', '--json'], { DANUBE_API_URL: '', DANUBE_URL: api.url });
  // Exit 0: the API at DANUBE_URL answered (an unreachable one is exit 3).
  expect(run.code).toBe(0);
  expect(run.stderr).toBe('danube: DANUBE_URL is renamed DANUBE_API_URL; set that instead\n');
});

it('an unreachable API prints one clear line and exits non-zero', async () => {
  const closed = await freePort(); // free, so nothing listens there
  const run = await danube(['list'], { DANUBE_API_URL: `http://127.0.0.1:${closed}` });
  expect(run.code).toBe(3);
  expect(run.stdout).toBe('');
  expect(run.stderr.trim().split('\n')).toEqual([
    expect.stringMatching(
      new RegExp(
        `^danube: cannot reach the Danube API at http://127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\); is it running\\?`,
      ),
    ),
  ]);
});

it('an API refusal is one line and exit 1', async () => {
  const run = await danube(['get', '999999']);
  expect(run.code).toBe(1);
  expect(run.stderr).toBe('danube: GET /v1/jobs/999999: 404 job 999999 does not exist\n');
});

it('submit warns on stderr when no live executor serves the topic', async () => {
  const run = await danube(['submit', '-t', 'cli-nobody', '--', 'true']);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^submitted job \d+ \(topic cli-nobody\)$/m);
  expect(run.stderr).toBe(
    'warning: no live executor serves topic "cli-nobody"; the job will wait until one does (start one with EXECUTOR_TOPICS=cli-nobody)\n',
  );
  const served = await danube(['submit', '-t', 'cli', '--', 'true']);
  expect(served.stderr).toBe('');
});

it('list, get, topics, executors, top, cancel and retry', async () => {
  const { body } = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'cli-parked',
    command: 'true',
  });
  const list = await danube(['list', '-t', 'cli-parked']);
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(new RegExp(`${body.id}\\s.*cli-parked\\s.*queued`));
  expect((await danube(['get', body.id])).stdout).toMatch(/^status\s+queued$/m);
  // blocked 0, queued 1, ..., and nobody serves it.
  expect((await danube(['topics'])).stdout).toMatch(
    /cli-parked\s*│\s*0\s*│\s*1\s*│.*│\s*nobody: its jobs wait/,
  );
  expect((await danube(['executors'])).stdout).toMatch(/cli-executor\s*│\s*alive\s*│\s*cli/);
  const top = await danube(['top', '--once']);
  expect(top.code).toBe(0);
  expect(top.stdout).toMatch(/danube top[\s\S]*cli-parked/);
  const cancelled = await danube(['cancel', body.id]);
  expect(cancelled.stdout).toMatch(/cancelled/);
  const retried = await danube(['retry', body.id, '--json']);
  expect(JSON.parse(retried.stdout).status).toBe('queued');
});

it('wf submit --watch shows progress and exits with the outcome; wf graph draws the DAG', async () => {
  const file = join(scratch, 'wf.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'cli-chain',
      nodes: [
        { name: 'one', topic: 'cli', command: 'true' },
        { name: 'two', topic: 'cli', command: 'true', dependsOn: ['one'] },
        { name: 'three', topic: 'cli', command: 'exit 1', maxAttempts: 1, dependsOn: ['one'] },
        { name: 'four', topic: 'cli', command: 'true', dependsOn: ['two', 'three'] },
      ],
    }),
  );
  const run = await danube(['wf', 'submit', file, '--watch']);
  expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toMatchObject({ code: 1 });
  const id = /^workflow (\d+) failed$/m.exec(run.stdout)?.[1] as string;
  expect({ id, stderr: run.stderr }).toEqual({ id: expect.any(String), stderr: run.stderr });
  expect(run.stderr).toMatch(/4\/4 nodes done/);
  const graph = await danube(['wf', 'graph', id]);
  expect(graph.stdout.split('\n')).toEqual([
    `workflow ${id} cli-chain: failed`,
    expect.stringMatching(/^layer 0 +\[ok\] one$/),
    expect.stringMatching(/^layer 1 +\[ok\] two +<- one$/),
    expect.stringMatching(/^ +\[FAIL\] three +<- one$/),
    expect.stringMatching(/^layer 2 +\[skip\] four +<- two, three$/),
    '',
  ]);
  expect((await danube(['wf', 'get', id])).stdout).toMatch(/failed \(.*succeeded 2.*\)/);
});

it('submit --task-class, --run-at, --image and --label set those fields', async () => {
  const before = Date.now();
  const run = await danube([
    'submit',
    '-t',
    'cli-later',
    '--task-class',
    'cpu_long',
    '--run-at',
    '2h',
    '--image',
    'busybox:1.36',
    '--label',
    'team=data',
    '--json',
    '--',
    'true',
  ]);
  expect(run.code).toBe(0);
  const job = JSON.parse(run.stdout);
  expect(job).toMatchObject({
    taskClass: 'cpu_long',
    image: 'busybox:1.36',
    labels: { team: 'data' },
    status: 'queued',
  });
  const delay = Date.parse(job.runAt) - before;
  expect(delay).toBeGreaterThan(7_100_000);
  expect(delay).toBeLessThan(7_300_000);
  const at = await danube([
    'submit',
    '-t',
    'cli-later',
    '--run-at',
    '2099-01-01T00:00:00Z',
    '--json',
    '--',
    'true',
  ]);
  expect(JSON.parse(at.stdout).runAt).toBe('2099-01-01T00:00:00.000Z');
  const bad = await danube(['submit', '-t', 'cli-later', '--run-at', 'tomorrow', '--', 'true']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--run-at.*expected a time such as .* or a delay such as 30s/);
});

it('cancel says what happened: a waiting job is cancelled, a running one will stop', async () => {
  const { body: waiting } = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'cli',
    command: 'true',
    runAt: '2099-01-01T00:00:00Z',
  });
  expect((await danube(['cancel', waiting.id])).stdout).toBe(`job ${waiting.id} cancelled\n`);
  const { body: running } = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'cli',
    command: 'sleep 30',
  });
  await waitFor('the job to run', async () => {
    return (await http('GET', `${api.url}/v1/jobs/${running.id}`)).body.status === 'running';
  });
  expect((await danube(['cancel', running.id])).stdout).toBe(
    `cancel requested; job ${running.id} (running) will stop, and end cancelled\n`,
  );
  const ended = await jobEnded(api.url, running.id);
  expect(ended.status).toBe('cancelled');
  expect((await danube(['retry', running.id])).stdout).toMatch(
    new RegExp(`^job ${running.id} queued again, with \\d+ more attempts\n$`),
  );
  await http('POST', `${api.url}/v1/jobs/${running.id}/cancel`);
});

it('secrets set (argument, file or stdin), list and delete; artifacts list and get', async () => {
  const set = await danube(['secrets', 'set', 'api-token', 's3cr3t']);
  expect(set).toMatchObject({ code: 0, stdout: expect.stringMatching(/^secret api-token stored/) });
  expect(set.stdout).not.toContain('s3cr3t');
  const valueFile = join(scratch, 'value.txt');
  writeFileSync(valueFile, 'from-a-file\n');
  expect((await danube(['secrets', 'set', 'from-file', '--from-file', valueFile])).code).toBe(0);
  expect((await danube(['secrets', 'set', 'from-stdin'], {}, 'piped\n')).code).toBe(0);
  const listed = await danube(['secrets', 'list', '--json']);
  expect(
    JSON.parse(listed.stdout)
      .items.map((s: { name: string }) => s.name)
      .sort(),
  ).toEqual(['api-token', 'from-file', 'from-stdin']);
  expect((await danube(['secrets', 'delete', 'from-file'])).stdout).toBe(
    'secret from-file deleted\n',
  );
  expect((await danube(['secrets', 'delete', 'from-file'])).code).toBe(1);

  // A job that reads api-token, and uploads an artifact, with the SDK.
  const job = await danube([
    'submit',
    '-t',
    'cli',
    '--secret',
    'api-token',
    '-e',
    'SDK_JOB_UPLOAD_BYTES=3000',
    '--wait',
    '--json',
    '--',
    process.execPath,
    join(__dirname, '..', 'dist', 'examples', 'typescript', 'sdk-job.js'),
  ]);
  expect(job.code).toBe(0);
  const done = JSON.parse(job.stdout);
  // The secret's length as the job read it: what was set, not what the file held.
  expect(done.result.tokenLength).toBe('s3cr3t'.length);
  const artifacts = await danube(['artifacts', 'list', done.id]);
  expect(artifacts.stdout).toMatch(/random\.bin\s*│\s*2\.9 KiB/);
  const [artifact] = JSON.parse(
    (await danube(['artifacts', 'list', done.id, '--json'])).stdout,
  ).items;
  const target = join(scratch, 'downloaded.bin');
  const got = await danube(['artifacts', 'get', artifact.id, '-o', target]);
  expect(got.stderr).toMatch(
    new RegExp(`wrote ${target} \\(2\\.9 KiB, sha256 ${artifact.sha256}\\)`),
  );
  expect(createHash('sha256').update(readFileSync(target)).digest('hex')).toBe(
    done.result.artifact.expectedSha256,
  );
  const again = await danube(['artifacts', 'get', artifact.id, '-o', target]);
  expect(again.code).toBe(2);
  expect(again.stderr).toMatch(/exists; pass --force/);
});

it('wf list, cancel and retry', async () => {
  const { body: workflow } = await http('POST', `${api.url}/v1/workflows`, {
    name: 'cli-parked-flow',
    nodes: [
      { name: 'first', topic: 'cli-parked', command: 'true' },
      { name: 'second', topic: 'cli-parked', command: 'true', dependsOn: ['first'] },
    ],
  });
  const listed = await danube(['wf', 'list']);
  expect(listed.stdout).toMatch(
    new RegExp(`${workflow.id}\\s*│\\s*cli-parked-flow\\s*│\\s*running`),
  );
  const cancelled = await danube(['wf', 'cancel', workflow.id]);
  expect(cancelled.stdout).toMatch(new RegExp(`^workflow ${workflow.id} cancelled`));
  const retried = await danube(['wf', 'retry', workflow.id]);
  expect(retried.stdout).toBe(`workflow ${workflow.id} running again\n`);
  expect((await danube(['wf', 'list', '--status', 'running', '--json'])).stdout).toContain(
    `"id": "${workflow.id}"`,
  );
  await danube(['wf', 'cancel', workflow.id]);
});

it("README's spec file example runs: danube submit -f examples/job.yaml", async () => {
  const run = await danube([
    'submit',
    '-f',
    join(__dirname, '..', 'examples', 'job.yaml'),
    '-t',
    'cli',
    '-e',
    'GREETING=reader',
    '--wait',
    '--json',
  ]);
  expect(run.code).toBe(0);
  const job = JSON.parse(run.stdout);
  expect(job).toMatchObject({ status: 'succeeded', result: { greeted: 'reader' } });
  expect((await danube(['logs', job.id])).stdout).toBe('hello, reader\n');
});

it('npx danube runs the CLI from the project', () => {
  const result = spawnSync('npx', ['--no-install', 'danube', '--help'], {
    cwd: join(__dirname, '..'),
    encoding: 'utf8',
  });
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/^Usage: danube/);
});
