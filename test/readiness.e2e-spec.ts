import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../libs/db/src';
import { startApi, http, type TestApi } from './support/api';
import { startExecutor, type ExecutorProcess } from './support/executor-process';
import { spawnTracked } from './support/processes';
import { waitFor } from './support/wait-for';

/**
 * A Postgres of this test's own (the shared one must keep serving the other suites),
 * stopped and started again under a running API and executor.
 */
const dir = mkdtempSync(join(tmpdir(), 'danube-readiness-'));
chmodSync(dir, 0o755);
const dataDir = join(dir, 'data');
let port: number;
let pg: { databaseUrl: string; stop(): Promise<void> } | null = null;
let api: TestApi;
let executor: ExecutorProcess;

const DB_LIB = join(__dirname, '..', 'dist', 'libs', 'db', 'src', 'index.js');

/**
 * Embedded Postgres in a process of its own (the package is an ES module, which jest's
 * sandbox cannot import), migrated; stop() shuts it down cleanly and waits.
 */
async function startPostgres(): Promise<{ databaseUrl: string; stop(): Promise<void> }> {
  const script = `
    const db = require(${JSON.stringify(DB_LIB)});
    db.startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: ${port},
        settings: { fsync: 'off', synchronous_commit: 'off' } })
      .then(async (pg) => {
        await db.migrate({ databaseUrl: pg.databaseUrl });
        process.on('SIGTERM', () => pg.stop().then(() => process.exit(0)));
        console.log('READY ' + pg.databaseUrl);
      })
      .catch((e) => { console.error(e); process.exit(1); });`;
  const server = spawnTracked(process.execPath, ['-e', script]);
  const databaseUrl = await waitFor(
    'Postgres to start',
    () => {
      if (server.hasExited) throw new Error(`Postgres did not start:\n${server.output()}`);
      return /READY (\S+)/.exec(server.output())?.[1];
    },
    60_000,
    100,
  );
  return {
    databaseUrl,
    async stop() {
      server.signal('SIGTERM');
      await server.exited;
    },
  };
}

beforeAll(async () => {
  port = await freePort();
  pg = await startPostgres();
  api = await startApi(pg.databaseUrl);
  executor = await startExecutor(pg.databaseUrl, 'ready-executor', {
    ...api.executorEnv,
    EXECUTOR_TOPICS: 'ready',
    EXECUTOR_POLL_INTERVAL_MS: '300',
  });
}, 120_000);

afterAll(async () => {
  await executor?.stop();
  await api?.close();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ready = async (url: string) => (await fetch(`${url}/readyz`)).status;

async function runJob(): Promise<string> {
  const { status, body } = await http('POST', `${api.url}/v1/jobs`, {
    topic: 'ready',
    command: 'echo ok',
  });
  expect(status).toBe(201);
  const done = await waitFor(
    `job ${body.id} to succeed`,
    async () => {
      const job = (await http('GET', `${api.url}/v1/jobs/${body.id}`)).body;
      return job.status === 'succeeded' ? job : null;
    },
    30_000,
    100,
  );
  return done.status;
}

it('/readyz is 503 while Postgres is down and 200 once it is back; both processes recover without a restart', async () => {
  expect(await ready(api.url)).toBe(200);
  expect(await ready(executor.url)).toBe(200);
  expect(await runJob()).toBe('succeeded');

  await pg!.stop();
  pg = null;
  await waitFor(
    'the API to report not ready',
    async () => (await ready(api.url)) === 503,
    15_000,
    200,
  );
  await waitFor(
    'the executor to report not ready',
    async () => (await ready(executor.url)) === 503,
    15_000,
    200,
  );
  const report = await (await fetch(`${api.url}/readyz`)).json();
  expect(report).toMatchObject({ status: 'error', error: { postgres: { status: 'down' } } });
  // Liveness is not readiness: the processes themselves are fine.
  expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${executor.url}/healthz`)).status).toBe(200);

  pg = await startPostgres();
  await waitFor(
    'the API to be ready again',
    async () => (await ready(api.url)) === 200,
    30_000,
    200,
  );
  await waitFor(
    'the executor to be ready again',
    async () => (await ready(executor.url)) === 200,
    30_000,
    200,
  );
  // The same processes claim and record jobs again: pools, LISTEN and the claim loop came back.
  expect(await runJob()).toBe('succeeded');
  expect(executor.output()).not.toMatch(/exited|uncaught/i);
}, 120_000);
