import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiKeysService, DEFAULT_TENANT } from '@danube/auth';
import { Keyring } from '@danube/secrets';
import { Logger } from '@nestjs/common';
import {
  migrate,
  placeDataDir,
  projectRoot,
  REACHABLE_ROOT,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from '@danube/db';
import { loadExecutorOptions } from '@danube/executor';
import { closeOnSignals, runMain } from '@danube/lifecycle';
import { JobsService } from '@danube/queue';
import { loadApiOptions } from '../../api/src/api.config';
import { createApiApp, listenApi } from '../../api/src/create-api-app';
import { StandaloneModule } from './standalone.module';

/**
 * `npm start`: everything on one laptop. Without DATABASE_URL it runs an embedded
 * Postgres whose data stays in ./.danube/pg (DANUBE_DATA_DIR/pg), with artifacts and the
 * generated secret key beside it; then it migrates, serves the API and runs one
 * executor (process runtime, every topic), and runs a first job to show it all works.
 */
runMain('danube', async () => {
  const logger = new Logger('danube');
  let embedded: EmbeddedPostgres | null = null;
  let databaseUrl = process.env.DATABASE_URL;
  const dataRoot = process.env.DANUBE_DATA_DIR ?? join(projectRoot(), '.danube');
  if (!databaseUrl) {
    const { dataDir, movedBecause } = placeDataDir(join(dataRoot, 'pg'));
    if (movedBecause) {
      process.stdout.write(
        `${movedBecause}: its data and programs are kept under ${REACHABLE_ROOT} instead.\n`,
      );
    }
    process.stdout.write(`Starting an embedded Postgres in ${dataDir} ...\n`);
    embedded = await startEmbeddedPostgres({ dataDir, port: embeddedPostgresPort() });
    databaseUrl = embedded.databaseUrl;
  }
  await migrate({ databaseUrl });

  const secretKey = process.env.DANUBE_SECRET_KEY ?? localSecretKey(dataRoot);
  const apiOptions = loadApiOptions(
    {
      ARTIFACT_DIR: join(dataRoot, 'artifacts'),
      ...process.env,
      DANUBE_SECRET_KEY: secretKey,
    },
    databaseUrl,
  );
  const executorOptions = loadExecutorOptions({
    EXECUTOR_POLL_INTERVAL_MS: '1000',
    ...process.env,
    DANUBE_SECRET_KEY: secretKey,
    DANUBE_GRPC_ADDRESS: `${reachable(apiOptions.host)}:${apiOptions.grpcPort}`,
    DANUBE_API_URL: `http://${reachable(apiOptions.host)}:${apiOptions.port}`,
  });
  const app = await createApiApp(StandaloneModule.forRoot(apiOptions, executorOptions), apiOptions);
  await listenApi(app, apiOptions);
  // Postgres stops last: after the executor has finished or handed back its jobs and
  // written their results, and the pool has closed.
  const pg = embedded;
  closeOnSignals(
    app,
    (message) => logger.log(message),
    async () => {
      await pg?.stop();
    },
  );
  const port = (app.getHttpServer().address() as { port: number }).port;
  const url = `http://${reachable(apiOptions.host)}:${port}`;
  const admin = apiOptions.auth.enabled
    ? await localAdminKey(app.get(ApiKeysService), dataRoot)
    : null;
  // Shown once, when made; later starts point to the file.
  const bearer = admin?.created ? admin.key : `$(cat ${admin?.file})`;
  const auth = admin ? ` -H "authorization: Bearer ${bearer}"` : '';
  // The first job runs on the first start only (a database with no job yet), so that the
  // README's ids hold: the first job is 1, the first of yours 2. Enqueued before the
  // banner: once the banner shows, there is no job to come.
  const jobs = app.get(JobsService);
  const demo =
    process.env.DANUBE_DEMO !== 'false' && !(await jobs.anyStored())
      ? await jobs.enqueue({
          topic: 'default',
          command: ['sh', '-c', 'echo "hello from job $DANUBE_JOB_ID"'],
          labels: { demo: 'true' },
        })
      : null;

  process.stdout.write(
    [
      '',
      `Danube is up: API ${url}  (OpenAPI: ${url}/docs)  JobService (gRPC): ${reachable(apiOptions.host)}:${apiOptions.grpcPort}`,
      `Database: ${embedded ? `embedded Postgres on port ${embedded.port}` : 'DATABASE_URL'}`,
      '',
      ...(admin === null
        ? ['Auth is off (DANUBE_AUTH=off): the API takes requests without a key.', '']
        : admin.created
          ? [
              `Admin API key (shown this once; kept in ${admin.file}, which the CLI reads):`,
              `  ${admin.key}`,
              '',
            ]
          : [`Admin API key: in ${admin.file} (the CLI reads it from there)`, '']),
      'Run a job:',
      `  curl -s -X POST ${url}/v1/jobs${auth} -H 'content-type: application/json' \\`,
      `       -d '{"topic":"default","command":["sh","-c","echo hello; sleep 1; echo done"]}'`,
      `  curl -s ${url}/v1/jobs/<id>${auth}         # status, attempts, result`,
      `  curl -s ${url}/v1/jobs/<id>/logs${auth}    # its output`,
      '',
    ].join('\n'),
  );

  if (demo) {
    const { job } = demo;
    let current = job;
    const deadline = Date.now() + 30_000;
    while (
      !['succeeded', 'failed', 'timed_out', 'cancelled'].includes(current.status) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 100));
      current = await jobs.get(DEFAULT_TENANT, job.id);
    }
    const { lines } = await jobs.logs(DEFAULT_TENANT, job.id, '0', 10);
    logger.log(
      `first job ${job.id}: ${current.status}; it printed: ${lines.map((l) => l.line).join(' | ')}`,
    );
  }
});

/**
 * The laptop's DANUBE_SECRET_KEY when none is given: generated once and kept (mode 0600)
 * next to the embedded database, so that secrets stored yesterday still decrypt today.
 */
function localSecretKey(dataRoot: string): string {
  const file = join(dataRoot, 'secret-key');
  if (!existsSync(file)) {
    mkdirSync(dataRoot, { recursive: true });
    writeFileSync(file, `${Keyring.generate()}\n`, { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * The laptop's admin key: made at the first start (or when its file is gone or the key no
 * longer works), kept in .danube/admin-key (mode 0600) where the CLI finds it.
 */
async function localAdminKey(
  keys: ApiKeysService,
  dataRoot: string,
): Promise<{ key: string; file: string; created: boolean }> {
  const file = join(dataRoot, 'admin-key');
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (await keys.authenticate(key)) return { key, file, created: false };
  }
  const { key } = await keys.create(
    { tenant: DEFAULT_TENANT, name: 'local admin (npm start)', role: 'admin', expiresAt: null },
    null,
  );
  mkdirSync(dataRoot, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key, file, created: true };
}

/** DANUBE_PG_PORT, if set: a port number, or a clear stop. */
function embeddedPostgresPort(): number | undefined {
  const value = process.env.DANUBE_PG_PORT;
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(
      `invalid configuration: DANUBE_PG_PORT must be a port number (1-65535), not ${JSON.stringify(value)}; leave it unset for a free port`,
    );
  return port;
}

/** An address to reach a server listening on `host` from this machine. */
function reachable(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
