import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startFakeJobService, type FakeJobService } from '../../../test/support/fake-job-service';
import { registerProcess } from '../../../test/support/processes';

/**
 * The built collector as the pod runs it (node dist/apps/output-collector/src/main.js):
 * it waits for SIGTERM, collects, and exits with a code and a last line the executor reads.
 */
const MAIN = join(
  __dirname,
  '..',
  '..',
  '..',
  'dist',
  'apps',
  'output-collector',
  'src',
  'main.js',
);

/** How late past its deadline the process may end: exiting, on a loaded machine. */
const MARGIN_MS = 750;

let dir: string;
let server: FakeJobService | null = null;

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'danube-collector-e2e-'));
  await mkdir(join(dir, 'outputs', 'nested'), { recursive: true });
  await writeFile(join(dir, 'outputs', 'a.txt'), 'alpha');
  await writeFile(join(dir, 'outputs', 'nested', 'b.json'), '{"b": 2}');
  await writeFile(join(dir, 'result.json'), '{"rows": 7}');
});

afterEach(async () => {
  server?.stop();
  server = null;
  await rm(dir, { recursive: true, force: true });
});

interface Collector {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; at: number }>;
}

function run(env: Record<string, string>): Collector {
  let stdout = '';
  let stderr = '';
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      DANUBE_JOB_ID: '42',
      DANUBE_ATTEMPT: '1',
      DANUBE_JOB_TOKEN: 'tok',
      DANUBE_OUTPUT_DIR: join(dir, 'outputs'),
      DANUBE_RESULT_FILE: join(dir, 'result.json'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  registerProcess(child);
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: Date.now() })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Starts the collector and waits for its start line. */
async function started(env: Record<string, string>): Promise<Collector> {
  const collector = run(env);
  const deadline = Date.now() + 10_000;
  while (!collector.stdout().includes('waiting for the container of job 42 attempt 1 to end')) {
    if (collector.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the collector did not start:\n${collector.stdout()}${collector.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return collector;
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1)!;
}

it('waits idle until SIGTERM, then uploads the outputs and the result and exits 0', async () => {
  server = await startFakeJobService();
  const readyFile = join(dir, '.collector-ready');
  const collector = await started({
    DANUBE_GRPC_ADDRESS: server.address,
    COLLECTOR_READY_FILE: readyFile,
  });
  // Written once it listens for SIGTERM: the pod's startupProbe waits for this file.
  expect(existsSync(readyFile)).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 300)); // past start-up's compiling
  const cpuBefore = cpuTicks(collector.child.pid!);
  await new Promise((resolve) => setTimeout(resolve, 500));
  // Waiting costs next to nothing: a polling loop would take most of the 50 ticks.
  expect(cpuTicks(collector.child.pid!) - cpuBefore).toBeLessThanOrEqual(5);
  expect(collector.child.exitCode).toBeNull();
  expect(server.calls).toEqual([]);

  collector.child.kill('SIGTERM');
  const { code } = await collector.exited;

  expect(code).toBe(0);
  expect(collector.stderr()).toBe('');
  expect([...server.uploads.keys()].sort()).toEqual(['a.txt', 'nested/b.json']);
  expect(server.uploads.get('a.txt')!.bytes.toString()).toBe('alpha');
  expect(server.uploads.get('nested/b.json')!.contentType).toBe('application/json');
  expect(server.reports.map((r) => r.resultJson)).toEqual(['{"rows":7}']);
  expect(lastLine(collector.stdout())).toMatch(
    /^output-collector: job 42 attempt 1: uploaded 2 outputs \(13 B\) and reported the result in \d+\.\d s$/,
  );
});

it('exits 1 with a clear line when it cannot create its ready file', async () => {
  const collector = run({
    DANUBE_GRPC_ADDRESS: '127.0.0.1:1',
    COLLECTOR_READY_FILE: join(dir, 'no-such-dir', '.collector-ready'),
  });
  expect((await collector.exited).code).toBe(1);
  expect(lastLine(collector.stderr())).toMatch(
    /^output-collector: could not create .* or .*no-such-dir\/\.collector-ready \(ENOENT/,
  );
});

it('collects on SIGINT too, and exits 0 with nothing to collect', async () => {
  server = await startFakeJobService();
  await rm(join(dir, 'outputs'), { recursive: true });
  await rm(join(dir, 'result.json'));
  const collector = await started({ DANUBE_GRPC_ADDRESS: server.address });
  collector.child.kill('SIGINT');
  expect((await collector.exited).code).toBe(0);
  expect(server.calls).toEqual([]);
  expect(lastLine(collector.stdout())).toMatch(/uploaded 0 outputs and found no result file/);
});

it('exits 1 at its deadline when nothing listens, the last line on stderr saying what was lost', async () => {
  const port = await closedPort();
  const collector = await started({
    DANUBE_GRPC_ADDRESS: `127.0.0.1:${port}`,
    COLLECTOR_DEADLINE_MS: '1500',
  });
  const signalled = Date.now();
  collector.child.kill('SIGTERM');
  const { code, at } = await collector.exited;

  expect(code).toBe(1);
  expect(at - signalled).toBeGreaterThan(1000);
  expect(at - signalled).toBeLessThan(1500 + MARGIN_MS);
  expect(lastLine(collector.stderr())).toMatch(
    new RegExp(
      `^output-collector: could not reach the JobService at 127\\.0\\.0\\.1:${port} after (\\d+) tries in 1\\.\\d s \\(\\1 UNAVAILABLE: No connection established\\. Last error: Error: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\.?\\); 2 of 2 outputs of job 42 attempt 1 were not uploaded and its result was not reported$`,
    ),
  );
});

it('exits 1 at its deadline when the JobService never answers', async () => {
  server = await startFakeJobService({ hang: true });
  const collector = await started({
    DANUBE_GRPC_ADDRESS: server.address,
    COLLECTOR_DEADLINE_MS: '1500',
  });
  const signalled = Date.now();
  collector.child.kill('SIGTERM');
  const { code, at } = await collector.exited;

  expect(code).toBe(1);
  expect(at - signalled).toBeLessThan(1500 + MARGIN_MS);
  expect(server.calls).toHaveLength(1);
  // grpc-js adds "after <timings>" to the message only when it has them.
  expect(lastLine(collector.stderr())).toMatch(
    /^output-collector: could not reach the JobService at 127\.0\.0\.1:\d+ after 1 try in 1\.\d s \(1 DEADLINE_EXCEEDED: Deadline exceeded( after [^)]*)?\); 2 of 2 outputs of job 42 attempt 1 were not uploaded and its result was not reported$/,
  );
});

it('exits 1 at its deadline even when the time goes outside any call', async () => {
  server = await startFakeJobService();
  // Sparse: hashing it before the upload takes far longer than the deadline.
  const big = await open(join(dir, 'outputs', 'big.bin'), 'w');
  await big.truncate(64 * 1024 ** 3);
  await big.close();
  const collector = await started({
    DANUBE_GRPC_ADDRESS: server.address,
    COLLECTOR_DEADLINE_MS: '1500',
  });
  const signalled = Date.now();
  collector.child.kill('SIGTERM');
  const { code, at } = await collector.exited;

  expect(code).toBe(1);
  expect(at - signalled).toBeGreaterThanOrEqual(1500);
  expect(at - signalled).toBeLessThan(1500 + MARGIN_MS);
  expect([...server.uploads.keys()]).toEqual(['a.txt']);
  expect(lastLine(collector.stderr())).toBe(
    `output-collector: ran out of time: the COLLECTOR_DEADLINE_MS deadline (1.5 s) passed while uploading big.bin (2 tries to the JobService at ${server.address}); 2 of 3 outputs of job 42 attempt 1 were not uploaded and its result was not reported`,
  );
});

it('exits 1 at once when the JobService refuses the token', async () => {
  server = await startFakeJobService({ refuseAll: grpc.status.UNAUTHENTICATED });
  const collector = await started({ DANUBE_GRPC_ADDRESS: server.address });
  const signalled = Date.now();
  collector.child.kill('SIGTERM');
  const { code, at } = await collector.exited;

  expect(code).toBe(1);
  expect(at - signalled).toBeLessThan(1000);
  expect(server.calls).toHaveLength(1);
  expect(lastLine(collector.stderr())).toBe(
    `output-collector: the JobService at ${server.address} refused job 42 attempt 1 (UNAUTHENTICATED: refused call 1 with UNAUTHENTICATED); 2 of 2 outputs of job 42 attempt 1 were not uploaded and its result was not reported`,
  );
});

it('exits 1 naming an output refused as too big, after delivering the rest', async () => {
  server = await startFakeJobService({ maxBytes: 6 });
  const collector = await started({ DANUBE_GRPC_ADDRESS: server.address });
  collector.child.kill('SIGTERM');
  expect((await collector.exited).code).toBe(1);
  expect([...server.uploads.keys()]).toEqual(['a.txt']);
  expect(server.reports).toHaveLength(1);
  expect(lastLine(collector.stderr())).toBe(
    'output-collector: 1 of 2 outputs of job 42 attempt 1 was not uploaded: nested/b.json (INVALID_ARGUMENT: nested/b.json is 8 bytes; artifacts over 6 bytes are refused (ARTIFACT_MAX_BYTES)); the other 1 was uploaded and its result was reported',
  );
});

it('exits 2 with one line naming each bad variable', async () => {
  const collector = run({ DANUBE_GRPC_ADDRESS: 'nowhere', DANUBE_ATTEMPT: 'first' });
  const { code } = await collector.exited;
  expect(code).toBe(2);
  expect(collector.stdout()).toBe('');
  expect(collector.stderr()).toBe(
    'output-collector: invalid configuration: DANUBE_ATTEMPT must be a whole number, the attempt the outputs belong to (got "first"); DANUBE_GRPC_ADDRESS must be host:port of the JobService, such as danube-api:9000 (got "nowhere")\n',
  );
});

/** User plus system CPU time of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
