import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keyring } from '@danube/secrets';
import { Logger } from '@nestjs/common';
import { migrate, projectRoot, startEmbeddedPostgres, type EmbeddedPostgres } from '@danube/db';
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
    const dataDir = join(dataRoot, 'pg');
    process.stdout.write(`Starting an embedded Postgres in ${dataDir} ...\n`);
    embedded = await startEmbeddedPostgres({
      dataDir,
      port: process.env.DANUBE_PG_PORT ? Number(process.env.DANUBE_PG_PORT) : undefined,
    });
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
  const pg = embedded;
  const app = await createApiApp(
    StandaloneModule.forRoot(apiOptions, executorOptions, async () => {
      await pg?.stop();
    }),
    apiOptions,
  );
  await listenApi(app, apiOptions);
  closeOnSignals(app, (message) => logger.log(message));
  const port = (app.getHttpServer().address() as { port: number }).port;
  const url = `http://${reachable(apiOptions.host)}:${port}`;

  process.stdout.write(
    [
      '',
      `Danube is up: API ${url}  (OpenAPI: ${url}/docs)  JobService (gRPC): ${reachable(apiOptions.host)}:${apiOptions.grpcPort}`,
      `Database: ${embedded ? `embedded Postgres on port ${embedded.port}` : 'DATABASE_URL'}`,
      '',
      'Run a job:',
      `  curl -s -X POST ${url}/v1/jobs -H 'content-type: application/json' \\`,
      `       -d '{"topic":"default","command":["sh","-c","echo hello; sleep 1; echo done"]}'`,
      `  curl -s ${url}/v1/jobs/<id>         # status, attempts, result`,
      `  curl -s ${url}/v1/jobs/<id>/logs    # its output`,
      '',
    ].join('\n'),
  );

  if (process.env.DANUBE_DEMO !== 'false') {
    const jobs = app.get(JobsService);
    const { job } = await jobs.enqueue({
      topic: 'default',
      command: ['sh', '-c', 'echo "hello from job $DANUBE_JOB_ID"'],
      labels: { demo: 'true' },
    });
    let current = job;
    const deadline = Date.now() + 30_000;
    while (
      !['succeeded', 'failed', 'timed_out', 'cancelled'].includes(current.status) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 100));
      current = await jobs.get(job.id);
    }
    const { lines } = await jobs.logs(job.id, '0', 10);
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

/** An address to reach a server listening on `host` from this machine. */
function reachable(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
