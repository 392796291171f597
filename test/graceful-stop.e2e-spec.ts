import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../libs/db/src';
import { http } from './support/api';
import { registerPid, spawnTracked, type TrackedProcess } from './support/processes';
import { waitFor } from './support/wait-for';

const ROOT = join(__dirname, '..');

/** `npm start` as a user runs it, in a process group of its own as a terminal would. */
async function npmStart(env: NodeJS.ProcessEnv): Promise<{ danube: TrackedProcess; url: string }> {
  const danube = spawnTracked('npm', ['start'], { cwd: ROOT, env });
  const url = await waitFor(
    'the API URL',
    () => {
      if (danube.hasExited) throw new Error(`npm start exited:\n${danube.output()}`);
      return /Danube is up: API (http:\/\/127\.0\.0\.1:\d+)/.exec(danube.output())?.[1];
    },
    120_000,
  );
  // Postgres runs in a group of its own (Ctrl-C must not reach it): the teardown ends it
  // too if this test fails before npm start has stopped it.
  const postmaster = readFileSync(join(env.DANUBE_DATA_DIR!, 'pg', 'postmaster.pid'), 'utf8');
  registerPid(Number(postmaster.split('\n')[0]));
  return { danube, url };
}

/**
 * Ctrl-C in the terminal sends SIGINT to every process of the foreground group: npm, the
 * node process, and (before this was fixed) the embedded Postgres, which stopped at once
 * and took the running job with it. Now the job finishes, its result is written, and
 * Postgres stops last.
 */
it('Ctrl-C on npm start lets a running job finish: it succeeds with one attempt, and npm start exits 0', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'danube-ctrl-c-'));
  chmodSync(folder, 0o755);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: '0',
    GRPC_PORT: String(await freePort()),
    DANUBE_DATA_DIR: join(folder, '.danube'),
    DANUBE_DEMO: 'false',
    EXECUTOR_POLL_INTERVAL_MS: '200',
  };
  let { danube, url } = await npmStart(env);
  const key = readFileSync(join(folder, '.danube', 'admin-key'), 'utf8').trim();
  const auth = { authorization: `Bearer ${key}` };
  const submitted = await http(
    'POST',
    `${url}/v1/jobs`,
    { topic: 'default', command: ['sh', '-c', 'echo started; sleep 5; echo finished'] },
    auth,
  );
  expect(submitted.status).toBe(201);
  const id = submitted.body.id;
  await waitFor(
    'the job to run',
    async () =>
      (await http('GET', `${url}/v1/jobs/${id}`, undefined, auth)).body.status === 'running',
    60_000,
  );

  // The terminal's Ctrl-C: SIGINT to the whole foreground process group.
  process.kill(-danube.pid, 'SIGINT');
  const code = await danube.exited;
  expect({ code, output: danube.output().slice(-2000) }).toMatchObject({ code: 0 });

  // Started again on the same data: the job ended while the first run was stopping.
  ({ danube, url } = await npmStart(env));
  try {
    const job = (await http('GET', `${url}/v1/jobs/${id}`, undefined, auth)).body;
    expect({ status: job.status, attempts: job.attempts }).toEqual({
      status: 'succeeded',
      attempts: 1,
    });
    const executions = (await http('GET', `${url}/v1/jobs/${id}/executions`, undefined, auth)).body;
    expect(executions.items.map((e: { outcome: string }) => e.outcome)).toEqual(['succeeded']);
    const logs = (await http('GET', `${url}/v1/jobs/${id}/logs`, undefined, auth)).body;
    expect(logs.lines.map((l: { line: string }) => l.line)).toEqual(['started', 'finished']);
  } finally {
    danube.signal('SIGTERM');
    expect(await danube.exited).toBe(0);
  }
}, 300_000);
