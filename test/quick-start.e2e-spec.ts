import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from './support/api';
import { spawnTracked } from './support/processes';
import { waitFor } from './support/wait-for';

const MAIN = join(__dirname, '..', 'dist', 'apps', 'standalone', 'src', 'main.js');

/**
 * What `npm start` runs, as a newcomer gets it: no DATABASE_URL, so an embedded Postgres
 * of its own; the API and one executor; a first job run and shown; the curl example works.
 */
it('npm start: embedded Postgres, API and executor in one process, a first job run', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'danube-start-'));
  chmodSync(dataDir, 0o755);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PORT: '0',
    DANUBE_DATA_DIR: dataDir,
    EXECUTOR_POLL_INTERVAL_MS: '200',
  };
  const danube = spawnTracked(process.execPath, [MAIN], { env });
  try {
    const url = await waitFor(
      'the API URL',
      () => /Danube is up: API (http:\/\/127\.0\.0\.1:\d+)/.exec(danube.output())?.[1],
      60_000,
    );
    expect(danube.output()).toContain(`Starting an embedded Postgres in ${join(dataDir, 'pg')}`);
    expect(danube.output()).toContain(`curl -s -X POST ${url}/v1/jobs`);
    await waitFor(
      'the first job',
      () => /first job 1: succeeded; it printed: hello from job 1/.test(danube.output()),
      30_000,
    );

    const created = await http('POST', `${url}/v1/jobs`, {
      topic: 'default',
      command: ['sh', '-c', 'echo hello; echo done'],
    });
    expect(created.status).toBe(201);
    const done = await waitFor('the curl example job', async () => {
      const { body } = await http('GET', `${url}/v1/jobs/${created.body.id}`);
      return body.status === 'succeeded' ? body : null;
    });
    expect(done.attempts).toBe(1);
    const logs = await http('GET', `${url}/v1/jobs/${created.body.id}/logs`);
    expect(logs.body.lines.map((l: { line: string }) => l.line)).toEqual(['hello', 'done']);
    const docs = await http('GET', `${url}/docs-json`);
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/batch', '/v1/executors']),
    );
  } finally {
    danube.signal('SIGTERM');
    expect(await danube.exited).toBe(0);
  }
});
