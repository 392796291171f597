import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../libs/db/src';
import { http } from './support/api';
import { spawnTracked } from './support/processes';
import { waitFor } from './support/wait-for';

const MAIN = join(__dirname, '..', 'dist', 'apps', 'standalone', 'src', 'main.js');
const CLI = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');

/** Runs one printed curl line in a shell, as a user pasting it would. */
function runPrinted(line: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('sh', ['-c', line], (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
}

/** The printed curl lines, joined where a line ends with a backslash, comments dropped. */
function curlLines(output: string): string[] {
  return output
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('curl '))
    .map((l) => l.replace(/\s+#.*$/, ''));
}

/**
 * What `npm start` runs, as a newcomer gets it: no DATABASE_URL, so an embedded Postgres
 * of its own; the API and one executor; a first job run and shown; an admin key printed
 * once and kept in .danube/admin-key; the curl lines work exactly as printed.
 */
it('npm start: embedded Postgres, API and executor in one process, a first job run, an admin key, curl lines that work as printed', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'danube-start-'));
  chmodSync(folder, 0o755);
  const dataDir = join(folder, '.danube');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PORT: '0',
    DANUBE_DATA_DIR: dataDir,
    EXECUTOR_POLL_INTERVAL_MS: '200',
    GRPC_PORT: String(await freePort()),
  };
  const start = async ({ firstStart }: { firstStart: boolean }) => {
    const danube = spawnTracked(process.execPath, [MAIN], { env });
    const url = await waitFor(
      'the API URL',
      () => /Danube is up: API (http:\/\/127\.0\.0\.1:\d+)/.exec(danube.output())?.[1],
      60_000,
    );
    await waitFor('the curl lines', () => danube.output().includes('/logs'), 10_000);
    if (firstStart)
      await waitFor(
        'the first job',
        () => /first job \d+: succeeded; it printed: hello from job \d+/.test(danube.output()),
        30_000,
      );
    return { danube, url };
  };
  const stop = async (danube: Awaited<ReturnType<typeof start>>['danube']) => {
    danube.signal('SIGTERM');
    const code = await danube.exited;
    if (code !== 0) throw new Error(`npm start exited ${code}:\n${danube.output().slice(-3000)}`);
  };

  let { danube, url } = await start({ firstStart: true });
  try {
    // What a user sees is the banner, not how Nest wired itself.
    expect(danube.output()).not.toMatch(/Mapped \{|dependencies initialized|Starting Nest/);
    expect(danube.output()).toContain(`Starting an embedded Postgres in ${join(dataDir, 'pg')}`);
    const key = /Admin API key \(shown this once[^\n]*\n\s+(dnb_live_\S+)/.exec(
      danube.output(),
    )?.[1];
    expect(key).toBeDefined();
    const keyFile = join(dataDir, 'admin-key');
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(key);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(danube.output()).toMatch(/first job 1: succeeded; it printed: hello from job 1/);
    // Without the key, the API says how to get one.
    const refused = await http('GET', `${url}/v1/jobs`, undefined, { authorization: '' });
    expect(refused.status).toBe(401);

    const [submit, get, logs] = curlLines(danube.output());
    expect(submit).toContain(`curl -s -X POST ${url}/v1/jobs -H "authorization: Bearer ${key}"`);
    const created = JSON.parse(await runPrinted(submit!));
    // README's curl lines read job 2: the first job is 1, the first of yours 2.
    expect(created).toMatchObject({ id: '2', status: 'queued' });
    const done = await waitFor('the curl example job', async () => {
      const body = JSON.parse(await runPrinted(get!.replace('<id>', created.id)));
      return body.status === 'succeeded' ? body : null;
    });
    expect(done.attempts).toBe(1);
    const lines = JSON.parse(await runPrinted(logs!.replace('<id>', created.id))).lines;
    expect(lines.map((l: { line: string }) => l.line)).toEqual(['hello', 'done']);
    const docs = await http('GET', `${url}/docs-json`);
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/batch', '/v1/executors']),
    );
    // The CLI, run in the project folder, finds the key by itself.
    const listed = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [CLI, 'list', '--json'],
        { cwd: folder, env: { PATH: process.env.PATH, DANUBE_API_URL: url } },
        (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)),
      ),
    );
    expect(JSON.parse(listed).items.map((j: { id: string }) => j.id)).toContain(created.id);

    // The next start shows no key, only where it is, runs no first job again, and its curl
    // lines still work.
    await stop(danube);
    ({ danube, url } = await start({ firstStart: false }));
    expect(danube.output()).not.toContain(key);
    expect(danube.output()).not.toContain('first job');
    const all = await http('GET', `${url}/v1/jobs`, undefined, { authorization: `Bearer ${key}` });
    expect(all.body.items.map((j: { id: string }) => j.id).sort()).toEqual(['1', '2']);
    expect(danube.output()).toContain(`Admin API key: in ${keyFile}`);
    const again = JSON.parse(
      await runPrinted(curlLines(danube.output())[1]!.replace('<id>', created.id)),
    );
    expect(again).toMatchObject({ id: created.id, status: 'succeeded' });
    await stop(danube);
  } finally {
    if (!danube.hasExited) {
      danube.signal('SIGTERM');
      await danube.exited;
    }
  }
}, 180_000);

it('npm start refuses a DANUBE_PG_PORT that is not a port number, naming it', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'danube-start-'));
  const danube = spawnTracked(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      DANUBE_DATA_DIR: join(folder, '.danube'),
      DANUBE_PG_PORT: 'abc',
    },
  });
  expect(await danube.exited).toBe(1);
  expect(danube.output()).toMatch(/DANUBE_PG_PORT must be a port number \(1-65535\), not "abc"/);
});
