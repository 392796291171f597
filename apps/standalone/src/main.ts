import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { migrate, projectRoot, startEmbeddedPostgres, type EmbeddedPostgres } from '@danube/db';
import { loadExecutorOptions } from '@danube/executor';
import { closeOnSignals, runMain } from '@danube/observability';
import { JobsService } from '@danube/queue';
import { loadApiOptions } from '../../api/src/api.config';
import { createApiApp } from '../../api/src/create-api-app';
import { StandaloneModule } from './standalone.module';

/**
 * `npm start`: everything on one laptop. Without DATABASE_URL it runs an embedded
 * Postgres whose data stays in ./.danube/pg (DANUBE_DATA_DIR/pg); then it migrates, serves the API and runs one
 * executor (process runtime, every topic), and runs a first job to show it all works.
 */
runMain('danube', async () => {
  const logger = new Logger('danube');
  let embedded: EmbeddedPostgres | null = null;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const dataDir = join(process.env.DANUBE_DATA_DIR ?? join(projectRoot(), '.danube'), 'pg');
    process.stdout.write(`Starting an embedded Postgres in ${dataDir} ...\n`);
    embedded = await startEmbeddedPostgres({
      dataDir,
      port: process.env.DANUBE_PG_PORT ? Number(process.env.DANUBE_PG_PORT) : undefined,
    });
    databaseUrl = embedded.databaseUrl;
  }
  await migrate({ databaseUrl });

  const apiOptions = loadApiOptions(process.env, databaseUrl);
  const executorOptions = loadExecutorOptions({ EXECUTOR_POLL_INTERVAL: '1000', ...process.env });
  const pg = embedded;
  const app = await createApiApp(
    StandaloneModule.forRoot(apiOptions, executorOptions, async () => {
      await pg?.stop();
    }),
    apiOptions,
  );
  await app.listen(apiOptions.port, apiOptions.host);
  closeOnSignals(app, (message) => logger.log(message));
  const port = (app.getHttpServer().address() as { port: number }).port;
  const url = `http://${apiOptions.host === '0.0.0.0' ? '127.0.0.1' : apiOptions.host}:${port}`;

  process.stdout.write(
    [
      '',
      `Danube is up: API ${url}  (OpenAPI: ${url}/docs)`,
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
    const lines = await jobs.logs(job.id, '0', 10);
    logger.log(
      `first job ${job.id}: ${current.status}; it printed: ${lines.map((l) => l.line).join(' | ')}`,
    );
  }
});
