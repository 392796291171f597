/**
 * @danube/sdk as its users get it: packed by `npm run sdk:pack`, installed with npm into a
 * fresh project outside the repository (no path aliases, no monorepo node_modules), the
 * TypeScript example compiled there by that project's own tsc, and run as a job.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { http, jobEnded } from './support/api';
import { startApiProcess, type ApiProcess } from './support/api-process';
import { withApiKey } from './support/api-keys';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { runCommand } from './support/run-command';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const ROOT = join(__dirname, '..');
const EXAMPLE = join(ROOT, 'examples', 'typescript');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;

let db: TestDatabase;
let api: ApiProcess;
let executor: ExecutorProcess;
let scratch: string;
let project: string;

const run = (command: string, args: string[], cwd: string) => runCommand(command, args, { cwd });

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'danube-sdk-package-'));
  project = join(scratch, 'project');
  const tarball = (
    await run(process.execPath, [join(ROOT, 'bin', 'pack-sdk.js'), scratch], ROOT)
  ).trim();
  mkdirSync(project);
  for (const file of ['sdk-job.ts', 'tsconfig.json']) {
    copyFileSync(join(EXAMPLE, file), join(project, file));
  }
  // The example's own package.json, with the SDK taken from the tarball just packed.
  const manifest = JSON.parse(readFileSync(join(EXAMPLE, 'package.json'), 'utf8'));
  manifest.dependencies['@danube/sdk'] = `file:${tarball}`;
  writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], project);
  await run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.'], project);

  db = await createTestDatabase();
  api = await startApiProcess(db.url);
  executor = await startExecutor(db.url, 'sdk-package-executor', {
    ...api.executorEnv,
    EXECUTOR_TOPICS: 'sdk-package',
  });
  expect(
    (await http('PUT', `${api.url}/v1/secrets/api-token`, { value: 'from-the-package-test' }))
      .status,
  ).toBe(201);
}, 600_000);

afterAll(async () => {
  await executor?.stop();
  await api?.stop();
  await db?.drop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

it('installs outside the repository, at the project version, with only its runtime dependencies', () => {
  expect(project.startsWith(ROOT)).toBe(false);
  const installed = JSON.parse(
    readFileSync(join(project, 'node_modules', '@danube', 'sdk', 'package.json'), 'utf8'),
  );
  expect(installed.version).toBe(VERSION);
  expect(Object.keys(installed.dependencies).sort()).toEqual([
    '@grpc/grpc-js',
    '@grpc/proto-loader',
  ]);
  expect(existsSync(join(project, 'node_modules', '@nestjs'))).toBe(false);
  expect(existsSync(join(project, 'node_modules', 'pg'))).toBe(false);
  expect(existsSync(join(project, 'dist', 'sdk-job.js'))).toBe(true);
});

it('import and require give the same API, from one module state', async () => {
  const esm = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import * as sdk from '@danube/sdk'; console.log(JSON.stringify(Object.keys(sdk).sort()));",
    ],
    project,
  );
  const cjs = await run(
    process.execPath,
    ['-e', "console.log(JSON.stringify(Object.keys(require('@danube/sdk')).sort()))"],
    project,
  );
  expect(JSON.parse(esm)).toEqual(JSON.parse(cjs));
  expect(JSON.parse(esm)).toEqual(
    expect.arrayContaining([
      'artifacts',
      'ctx',
      'DanubeClient',
      'JobServiceError',
      'progress',
      'secrets',
      'setResult',
      'step',
    ]),
  );
  // One instance behind both: what import gets is what require gets.
  const same = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import { createRequire } from 'node:module'; import { step } from '@danube/sdk'; console.log(step === createRequire(process.cwd() + '/')('@danube/sdk').step);",
    ],
    project,
  );
  expect(same.trim()).toBe('true');
}, 300_000);

it("the package's types are checked, for require and for import: a wrong call does not compile", async () => {
  const misuse = [
    "import { progress, step } from '@danube/sdk';",
    "import { DanubeClient } from '@danube/sdk/rest-client';",
    '// @ts-expect-error: a command is a string or an argv array',
    'void step.run(42);',
    '// @ts-expect-error: progress takes a number',
    "void progress('half');",
    "void new DanubeClient('http://127.0.0.1:1').submit({ topic: 't', command: ['true'] });",
    '',
  ].join('\n');
  // misuse.ts is a CommonJS module of this project, misuse.mts an ES module: each resolves
  // the package through its own condition of the exports map, to its own declarations.
  writeFileSync(join(project, 'misuse.ts'), misuse);
  writeFileSync(join(project, 'misuse.mts'), misuse);
  // Each @ts-expect-error must meet an error: with untyped (any) exports, tsc would fail here.
  const tsc = join(project, 'node_modules', '.bin', 'tsc');
  const options = ['--noEmit', '--strict', '--module', 'node16', '--types', 'node'];
  await run(tsc, [...options, 'misuse.ts', 'misuse.mts'], project);
  // And the same check fails once the calls are right, so it does test something.
  writeFileSync(join(project, 'misuse.mts'), misuse.replace('step.run(42)', "step.run(['true'])"));
  await expect(run(tsc, [...options, 'misuse.mts'], project)).rejects.toThrow(
    /Unused '@ts-expect-error'/,
  );
}, 300_000);

it('the compiled job runs under the process runtime and uses every SDK call', async () => {
  const { status: code, body } = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'sdk-package',
    command: ['node', join(project, 'dist', 'sdk-job.js')],
    secrets: ['api-token'],
    env: { SDK_JOB_UPLOAD_BYTES: String(1024 * 1024) },
  });
  expect(code).toBe(201);
  const job = await jobEnded(api.url, body.id, 180_000);
  expect(job).toMatchObject({
    status: 'succeeded',
    progress: 50,
    statusMessage: 'half way: uploading',
  });
  const { result } = job;

  // step.run: a child job whose output came back.
  expect(result.step).toEqual({
    jobId: expect.any(String),
    stdout: 'hello from a step\n',
    stderr: 'to stderr\n',
  });
  const stepJob = (await http('GET', `${api.url}/v1/jobs/${result.step.jobId}`)).body;
  expect(stepJob).toMatchObject({ status: 'succeeded', parentJobId: job.id, nodeName: 'greet' });

  // secrets.get: the listed secret read, an unlisted one refused.
  expect(result.tokenLength).toBe('from-the-package-test'.length);
  expect(result.unlisted).toMatch(
    new RegExp(
      `^refused \\(gRPC status ${status.PERMISSION_DENIED}\\): job ${job.id} does not list`,
    ),
  );

  // artifacts.upload, then artifacts.download of the same file: both hash alike.
  const listed = (await http('GET', `${api.url}/v1/jobs/${job.id}/artifacts`)).body.items;
  expect(listed).toEqual([
    expect.objectContaining({
      path: 'random.bin',
      size: 1024 * 1024,
      sha256: result.artifact.expectedSha256,
    }),
  ]);
  expect(result.downloadedSha256).toBe(result.artifact.expectedSha256);
  const download = await fetch(`${api.url}${listed[0].downloadUrl}`, {
    headers: withApiKey(api.url),
  });
  expect(download.status).toBe(200);
  const bytes = Buffer.from(await download.arrayBuffer());
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(result.artifact.expectedSha256);
}, 300_000);
