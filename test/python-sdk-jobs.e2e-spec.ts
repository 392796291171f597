/**
 * The Python SDK as its users get it: `pip install ./sdks/python` into a fresh venv (with
 * the system's site packages, for Debian's grpcio), with no package index to reach; then
 * jobs that use it run under the process runtime against the real API: the every-call
 * example, and the energy-pipeline workflow, whose report is checked against its data.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, jobEnded } from './support/api';
import { withApiKey } from './support/api-keys';
import { startApiProcess, type ApiProcess } from './support/api-process';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { runCommand } from './support/run-command';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const ROOT = join(__dirname, '..');
const SYSTEM_PYTHON = process.env.DANUBE_TEST_PYTHON ?? '/usr/bin/python3';
const EXAMPLES = join(ROOT, 'examples', 'python');

let db: TestDatabase;
let api: ApiProcess;
let executor: ExecutorProcess;
let scratch: string;
let venv: string;

const run = (command: string, args: string[], env: Record<string, string> = {}) =>
  runCommand(command, args, { cwd: scratch, env: { PYTHONDONTWRITEBYTECODE: '1', ...env } });

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'danube-python-sdk-'));
  venv = join(scratch, 'venv');
  await run(SYSTEM_PYTHON, ['-m', 'venv', '--system-site-packages', venv]);
  // No index at all: the install must need nothing from the network.
  await run(join(venv, 'bin', 'pip'), ['install', join(ROOT, 'sdks', 'python')], {
    PIP_NO_INDEX: '1',
    PIP_CONFIG_FILE: '/dev/null',
    PIP_FIND_LINKS: '',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
  });

  db = await createTestDatabase();
  api = await startApiProcess(db.url);
  // The venv first on PATH, as in an image with the SDK installed: jobs run `python3`.
  executor = await startExecutor(db.url, 'python-sdk-executor', {
    ...api.executorEnv,
    EXECUTOR_TOPICS: 'python-sdk',
    PATH: `${join(venv, 'bin')}:${process.env.PATH}`,
  });
  for (const [name, value] of [
    ['api-token', 'from-the-python-test'],
    ['energy-meter-key', 'meter-key-123'],
  ]) {
    expect((await http('PUT', `${api.url}/v1/secrets/${name}`, { value })).status).toBe(201);
  }
}, 600_000);

afterAll(async () => {
  await executor?.stop();
  await api?.stop();
  await db?.drop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function download(jobId: string, path: string): Promise<string> {
  const listed = (await http('GET', `${api.url}/v1/jobs/${jobId}/artifacts`)).body.items;
  const artifact = listed.find((a: { path: string }) => a.path === path);
  if (!artifact) throw new Error(`job ${jobId} has no artifact ${path}: ${JSON.stringify(listed)}`);
  const response = await fetch(`${api.url}${artifact.downloadUrl}`, {
    headers: withApiKey(api.url),
  });
  expect(response.status).toBe(200);
  return response.text();
}

it('installs into a fresh venv from the folder, with its types marker', async () => {
  const shown = await run(join(venv, 'bin', 'python'), [
    '-c',
    'import danube, importlib.resources as r; print(danube.__version__, danube.__file__, r.files("danube").joinpath("py.typed").is_file())',
  ]);
  const [version, file, typed] = shown.trim().split(' ');
  expect(version).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  expect(file!.startsWith(venv)).toBe(true);
  expect(typed).toBe('True');
});

it('a job running `python3 job.py` uses every SDK call; the results show over REST', async () => {
  const { status, body } = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'python-sdk',
    command: ['python3', join(EXAMPLES, 'sdk_job.py')],
    secrets: ['api-token'],
  });
  expect(status).toBe(201);
  const job = await jobEnded(api.url, body.id, 180_000);
  expect(job).toMatchObject({
    status: 'succeeded',
    progress: 50,
    statusMessage: 'half way: uploading',
  });
  const { result } = job;
  expect(result.step).toEqual({
    jobId: expect.any(String),
    exitCode: 0,
    stdout: 'hello from a step\n',
  });
  expect(result.failedStep).toEqual({ status: 'failed', exitCode: 3, stderr: 'about to fail\n' });
  const step = (await http('GET', `${api.url}/v1/jobs/${result.step.jobId}`)).body;
  expect(step).toMatchObject({ status: 'succeeded', parentJobId: job.id, nodeName: 'greet' });
  expect(result.tokenLength).toBe('from-the-python-test'.length);
  expect(result.unlisted).toBe('refused (PERMISSION_DENIED)');
  expect(result.artifact).toEqual({
    path: 'random.bin',
    size: 1024 * 1024,
    sha256: result.expectedSha256,
  });
  expect(result.downloadedSha256).toBe(result.expectedSha256);
  const listed = (await http('GET', `${api.url}/v1/jobs/${job.id}/artifacts`)).body.items;
  expect(listed).toEqual([
    expect.objectContaining({
      path: 'random.bin',
      size: 1024 * 1024,
      sha256: result.expectedSha256,
    }),
  ]);
}, 300_000);

/** What energy_report.csv must say about `data` (energy_data.csv), computed independently. */
function expectedReport(data: string): string {
  const wattHours = (kwh: string) => {
    const [whole, fraction = ''] = kwh.split('.');
    return Number(whole) * 1000 + Number(fraction.padEnd(3, '0').slice(0, 3));
  };
  const kwh = (wh: number) => `${Math.floor(wh / 1000)}.${String(wh % 1000).padStart(3, '0')}`;
  const sites = new Map<string, { hours: number; total: number; peak: number; peakAt: string }>();
  for (const line of data.trim().split(/\r?\n/).slice(1)) {
    const [timestamp, site, value] = line.split(',') as [string, string, string];
    const wh = wattHours(value);
    const s = sites.get(site) ?? { hours: 0, total: 0, peak: -1, peakAt: '' };
    s.hours += 1;
    s.total += wh;
    if (wh > s.peak) Object.assign(s, { peak: wh, peakAt: timestamp });
    sites.set(site, s);
  }
  const ranked = [...sites].sort((a, b) => b[1].total - a[1].total || a[0].localeCompare(b[0]));
  return [
    'site,total_kwh,mean_kwh,peak_kwh,peak_at',
    ...ranked.map(([name, s]) => {
      const mean = Math.floor((2 * s.total + s.hours) / (2 * s.hours));
      return [name, kwh(s.total), kwh(mean), kwh(s.peak), s.peakAt].join(',');
    }),
    '',
  ].join('\n');
}

it('the energy-pipeline example runs to success and its report matches its data', async () => {
  const printed = await run(
    join(venv, 'bin', 'python'),
    [join(EXAMPLES, 'energy_pipeline', 'submit.py'), '--topic', 'python-sdk'],
    { DANUBE_API_URL: api.url, DANUBE_API_KEY: api.adminKey },
  );
  const id = /^workflow (\d+) submitted$/m.exec(printed)?.[1];
  expect(id).toBeDefined();
  const workflow = (await http('GET', `${api.url}/v1/workflows/${id}`)).body;
  expect(workflow.status).toBe('succeeded');
  const nodes = Object.fromEntries(
    workflow.nodes.map((n: { name: string; jobId: string; status: string }) => [n.name, n]),
  );
  expect(Object.keys(nodes).sort()).toEqual(['analyze', 'generate', 'report']);

  // generate: read its secret (only a fingerprint kept), reported progress, uploaded the data.
  const generate = (await http('GET', `${api.url}/v1/jobs/${nodes.generate.jobId}`)).body;
  expect(generate).toMatchObject({
    status: 'succeeded',
    progress: 100,
    statusMessage: 'day 7 of 7 generated',
    result: { rows: 7 * 24 * 3, keyFingerprint: expect.stringMatching(/^[0-9a-f]{12}$/) },
  });
  const data = await download(nodes.generate.jobId, 'energy_data.csv');
  expect(data.trim().split(/\r?\n/)).toHaveLength(1 + 7 * 24 * 3);

  // analyze and report each read their parent's artifact; the report is what the data says.
  const report = await download(nodes.report.jobId, 'energy_report.csv');
  expect(report).toBe(expectedReport(data));
  expect(printed.endsWith(report)).toBe(true);
  const reportJob = (await http('GET', `${api.url}/v1/jobs/${nodes.report.jobId}`)).body;
  expect(reportJob.result).toEqual({
    report: 'energy_report.csv',
    largest: report.split('\n')[1]!.split(',')[0],
    sites: 3,
  });
}, 300_000);
