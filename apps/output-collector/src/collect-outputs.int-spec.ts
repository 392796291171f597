import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startFakeJobService, type FakeJobService } from '../../../test/support/fake-job-service';
import { collectOutputs, type CollectOptions } from './collect-outputs';

/**
 * The collection in-process, against real gRPC servers on loopback (the fake JobService
 * checks sizes and sha256 as the real one does); files in a temp dir laid out like /danube.
 */
let dir: string;
let outputs: string;
let resultFile: string;
let server: FakeJobService | null = null;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'danube-collector-'));
  outputs = join(dir, 'outputs');
  resultFile = join(dir, 'result.json');
});

afterEach(async () => {
  server?.stop();
  server = null;
  await rm(dir, { recursive: true, force: true });
});

function options(address: string, overrides: Partial<CollectOptions> = {}): CollectOptions {
  return {
    address,
    jobId: '42',
    attempt: 3,
    token: 'tok-42-3',
    outputDir: outputs,
    resultFile,
    deadlineMs: 3000,
    backoff: { initialMs: 20, maxMs: 100 },
    ...overrides,
  };
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

async function writeOutputs(files: Record<string, Buffer | string>): Promise<void> {
  for (const [path, bytes] of Object.entries(files)) {
    await mkdir(join(outputs, path, '..'), { recursive: true });
    await writeFile(join(outputs, path), bytes);
  }
}

it('uploads every regular file, nested, with its bytes and sha256, then reports the result', async () => {
  server = await startFakeJobService();
  const big = randomBytes(700_000); // several 256 KiB chunks
  await writeOutputs({
    'report.csv': 'a,b\n1,2\n',
    'nested/deeper/blob.bin': big,
    'nested/empty.txt': '',
  });
  await writeFile(resultFile, '{"rows": 7, "ok": true}');

  const report = await collectOutputs(options(server.address));

  expect(report).toMatchObject({
    ok: true,
    notUploaded: [],
    skipped: [],
    result: 'reported',
    tries: 4,
  });
  expect(report.uploaded.sort()).toEqual([
    'nested/deeper/blob.bin',
    'nested/empty.txt',
    'report.csv',
  ]);
  const blob = server.uploads.get('nested/deeper/blob.bin')!;
  expect(blob.bytes.equals(big)).toBe(true);
  expect(blob).toMatchObject({
    jobId: '42',
    token: 'tok-42-3',
    size: 700_000,
    sha256: sha256(big),
  });
  expect(server.uploads.get('report.csv')).toMatchObject({
    contentType: 'text/csv',
    sha256: sha256('a,b\n1,2\n'),
  });
  expect(server.uploads.get('nested/empty.txt')!.size).toBe(0);
  // The result goes last, once every output is in.
  expect(server.calls.map((c) => c.method)).toEqual(['upload', 'upload', 'upload', 'report']);
  expect(server.reports).toEqual([
    { jobId: '42', token: 'tok-42-3', resultJson: '{"rows":7,"ok":true}' },
  ]);
  expect(report.summary).toMatch(
    /^job 42 attempt 3: uploaded 3 outputs \(683\.6 KiB\) and reported the result in \d+\.\d s$/,
  );
});

it('collects links to files inside the outputs but nothing out of it, and no FIFOs', async () => {
  server = await startFakeJobService();
  await writeOutputs({ 'real/data.txt': 'data' });
  await writeFile(join(dir, 'outside.txt'), 'not an output');
  await symlink(join(dir, 'outside.txt'), join(outputs, 'escape.txt'));
  await symlink('/etc/hostname', join(outputs, 'host.txt'));
  await symlink('real/data.txt', join(outputs, 'alias.txt'));
  await symlink('real', join(outputs, 'real-dir'));
  await symlink('missing', join(outputs, 'dangling'));
  execFileSync('mkfifo', [join(outputs, 'pipe')]);

  const report = await collectOutputs(options(server.address));

  expect(report.ok).toBe(true);
  expect([...server.uploads.keys()].sort()).toEqual(['alias.txt', 'real/data.txt']);
  expect(server.uploads.get('alias.txt')!.bytes.toString()).toBe('data');
  expect(report.skipped).toEqual([
    { path: 'dangling', why: 'a symbolic link to nothing' },
    { path: 'escape.txt', why: 'a symbolic link out of the outputs directory' },
    { path: 'host.txt', why: 'a symbolic link out of the outputs directory' },
    { path: 'pipe', why: 'not a regular file' },
    {
      path: 'real-dir',
      why: 'a symbolic link to a directory (its files are collected where they are)',
    },
  ]);
  expect(report.result).toBe('none');
  expect(report.summary).toMatch(
    /uploaded 2 outputs \(8 B\) and found no result file in [\d.]+ s; skipped 5 entries/,
  );
});

it('does not follow an outputs directory or result file that links out of /danube', async () => {
  server = await startFakeJobService();
  const elsewhere = await mkdtemp(join(tmpdir(), 'danube-elsewhere-'));
  try {
    await writeFile(join(elsewhere, 'secret'), 'x');
    await writeFile(join(elsewhere, 'r.json'), '{"secret": 1}');
    await symlink(elsewhere, outputs);
    await symlink(join(elsewhere, 'r.json'), resultFile);

    const report = await collectOutputs(options(server.address));

    expect(server.uploads.size).toBe(0);
    expect(server.reports).toEqual([]);
    expect(report.ok).toBe(false);
    expect(report.notUploaded).toEqual([
      { path: '.', why: `could not be listed: ${outputs} is a symbolic link out of ${dir}` },
    ]);
    expect(report.result).toBe('ignored');
  } finally {
    await rm(elsewhere, { recursive: true, force: true });
  }
});

it('has nothing to do without an outputs directory or a result file', async () => {
  server = await startFakeJobService();
  const report = await collectOutputs(options(server.address));
  expect(report).toMatchObject({ ok: true, uploaded: [], result: 'none', tries: 0 });
  expect(server.calls).toEqual([]);
  expect(report.summary).toMatch(/^job 42 attempt 3: uploaded 0 outputs and found no result file/);
});

it('ignores a result file that is not JSON, says so, and still succeeds', async () => {
  server = await startFakeJobService();
  await writeOutputs({ 'a.txt': 'a' });
  await writeFile(resultFile, '{"rows": 7');
  const lines: string[] = [];
  const report = await collectOutputs(
    options(server.address, { log: (level, message) => lines.push(`${level} ${message}`) }),
  );
  expect(report).toMatchObject({ ok: true, result: 'ignored', uploaded: ['a.txt'] });
  expect(server.reports).toEqual([]);
  expect(lines).toContainEqual(
    expect.stringMatching(new RegExp(`^warn no result reported: ${resultFile} is not valid JSON`)),
  );
  expect(report.summary).toContain(`ignored the result file (${resultFile} is not valid JSON`);
});

it('retries UNAVAILABLE with backoff, then delivers everything', async () => {
  server = await startFakeJobService({ failFirst: 2, failCode: grpc.status.UNAVAILABLE });
  await writeOutputs({ 'a.txt': 'a', 'b.txt': 'b' });
  await writeFile(resultFile, '[1, 2]');
  const lines: string[] = [];
  const report = await collectOutputs(
    options(server.address, { log: (level, message) => lines.push(`${level} ${message}`) }),
  );
  expect(report).toMatchObject({ ok: true, result: 'reported', tries: 5 });
  expect([...server.uploads.keys()].sort()).toEqual(['a.txt', 'b.txt']);
  expect(server.reports.map((r) => r.resultJson)).toEqual(['[1,2]']);
  expect(lines.filter((l) => l.startsWith('warn UNAVAILABLE'))).toEqual([
    expect.stringMatching(
      /^warn UNAVAILABLE from the JobService at 127\.0\.0\.1:\d+ while uploading a\.txt \(refused call 1 with UNAVAILABLE\); trying again in \d\.\d s$/,
    ),
    expect.stringMatching(/while uploading a\.txt \(refused call 2 with UNAVAILABLE\)/),
  ]);
  // Backoff: the tries are not back to back.
  expect(server.calls[2]!.at - server.calls[0]!.at).toBeGreaterThanOrEqual(25);
});

it('stops at once on PERMISSION_DENIED and says what was not delivered', async () => {
  server = await startFakeJobService({ refuseAll: grpc.status.PERMISSION_DENIED });
  await writeOutputs({ 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
  await writeFile(resultFile, '{}');
  const report = await collectOutputs(options(server.address));
  expect(server.calls).toHaveLength(1);
  expect(report).toMatchObject({ ok: false, tries: 1, uploaded: [], result: 'pending' });
  expect(report.notUploaded.map((n) => n.path)).toEqual(['a.txt', 'b.txt', 'c.txt']);
  expect(report.summary).toBe(
    `the JobService at ${server.address} refused job 42 attempt 3 (PERMISSION_DENIED: refused call 1 with PERMISSION_DENIED); 3 of 3 outputs of job 42 attempt 3 were not uploaded and its result was not reported`,
  );
});

it.each([
  ['UNAUTHENTICATED', grpc.status.UNAUTHENTICATED],
  ['FAILED_PRECONDITION', grpc.status.FAILED_PRECONDITION],
])('stops at once on %s too', async (name, code) => {
  server = await startFakeJobService({ refuseAll: code });
  await writeOutputs({ 'a.txt': 'a', 'b.txt': 'b' });
  const report = await collectOutputs(options(server.address));
  expect(server.calls).toHaveLength(1);
  expect(report.ok).toBe(false);
  expect(report.summary).toContain(`(${name}: refused call 1`);
});

it('goes on past an output refused as too big, then fails naming it', async () => {
  server = await startFakeJobService({ maxBytes: 1000 });
  await writeOutputs({ 'a.txt': 'a', 'huge.bin': randomBytes(5000), 'z.txt': 'z' });
  await writeFile(resultFile, '{"done": true}');
  const lines: string[] = [];
  const report = await collectOutputs(
    options(server.address, { log: (level, message) => lines.push(`${level} ${message}`) }),
  );
  expect([...server.uploads.keys()].sort()).toEqual(['a.txt', 'z.txt']);
  expect(server.reports).toHaveLength(1);
  expect(report).toMatchObject({ ok: false, result: 'reported', tries: 4 });
  const why =
    'INVALID_ARGUMENT: huge.bin is 5000 bytes; artifacts over 1000 bytes are refused (ARTIFACT_MAX_BYTES)';
  expect(report.notUploaded).toEqual([{ path: 'huge.bin', why }]);
  expect(lines).toContain(`warn huge.bin was not uploaded (${why}); going on with the others`);
  expect(report.summary).toBe(
    `1 of 3 outputs of job 42 attempt 3 was not uploaded: huge.bin (${why}); the other 2 were uploaded and its result was reported`,
  );
});

it('gives up on a closed port at its deadline, with the count of failed tries', async () => {
  const port = await closedPort();
  await writeOutputs({ 'a.txt': 'a', 'b.txt': 'b' });
  const started = Date.now();
  const failed = await collectOutputs(options(`127.0.0.1:${port}`, { deadlineMs: 1500 }));
  const elapsed = Date.now() - started;
  expect(elapsed).toBeGreaterThan(1000);
  expect(elapsed).toBeLessThan(1600);
  expect(failed.ok).toBe(false);
  expect(failed.tries).toBeGreaterThan(3);
  expect(failed.summary).toMatch(
    new RegExp(
      `^could not reach the JobService at 127\\.0\\.0\\.1:${port} after ${failed.tries} tries in 1\\.\\d s \\(${failed.tries} UNAVAILABLE: .*ECONNREFUSED.*\\); 2 of 2 outputs of job 42 attempt 3 were not uploaded$`,
    ),
  );
});

it('gives up on a server that never answers at its deadline', async () => {
  server = await startFakeJobService({ hang: true });
  await writeOutputs({ 'a.txt': 'a' });
  await writeFile(resultFile, '{}');
  const started = Date.now();
  const report = await collectOutputs(options(server.address, { deadlineMs: 1200 }));
  expect(Date.now() - started).toBeLessThan(1300);
  expect(report).toMatchObject({ ok: false, tries: 1, result: 'pending' });
  expect(report.summary).toMatch(
    new RegExp(
      `^could not reach the JobService at ${server.address.replace(/\./g, '\\.')} after 1 try in 1\\.\\d s \\(1 DEADLINE_EXCEEDED: .*\\); 1 of 1 output of job 42 attempt 3 was not uploaded and its result was not reported$`,
    ),
  );
});

it('gives up on a TCP peer that never speaks HTTP/2 at its deadline', async () => {
  const silent = await silentTcpServer();
  try {
    await writeFile(resultFile, '{}');
    const started = Date.now();
    const report = await collectOutputs(options(silent.address, { deadlineMs: 1200 }));
    expect(Date.now() - started).toBeLessThan(1300);
    expect(report.ok).toBe(false);
    expect(report.summary).toMatch(/^could not reach the JobService at .* DEADLINE_EXCEEDED/);
    expect(report.summary).toMatch(/; the result of job 42 attempt 3 was not reported$/);
  } finally {
    await silent.close();
  }
});

async function closedPort(): Promise<number> {
  const silent = await silentTcpServer();
  await silent.close();
  return Number(silent.address.split(':')[1]);
}

/** Accepts connections and never says a word. */
async function silentTcpServer(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}
