import { hostname } from 'node:os';
import { createPool, migrate } from '@danube/db';
import { ExecutorService, loadExecutorOptions, createRuntime } from '@danube/executor';
import { JobsRepository, JobsService, Notifier } from '@danube/queue';
import type { Pool } from 'pg';
import { loadApiOptions } from '../../../apps/api/src/api.config';
import { ApiModule } from '../../../apps/api/src/api.module';
import { createApiApp } from '../../../apps/api/src/create-api-app';
import type { BenchSystem, DrainResult } from './system';

const TOPIC = 'bench';

/**
 * Claim batch and concurrency for the drain: 200 jobs per claim, like graphile-worker's local
 * queue (500 per fetch) and pg-boss's batch fetch, sized so that a claim and a batch of
 * completions each cost one commit per few hundred jobs. BENCH_DANUBE_BATCH overrides it
 * (e.g. 50, the executor's figure of merit at its small default batches).
 */
const BATCH = Number(process.env.BENCH_DANUBE_BATCH ?? 200);

function service(pool: Pool): JobsService {
  return new JobsService(new JobsRepository(pool), new Notifier(pool), {
    slurmEnabled: false,
    maxBatchSize: 1000,
  });
}

function executor(
  pool: Pool,
  databaseUrl: string,
  env: Record<string, string> = {},
): ExecutorService {
  const options = loadExecutorOptions({
    DANUBE_RUNTIME: 'inline',
    EXECUTOR_TOPICS: TOPIC,
    EXECUTOR_BATCH_SIZE: String(BATCH),
    EXECUTOR_CONCURRENCY: String(BATCH * 5),
    EXECUTOR_POLL_INTERVAL: '1000',
    EXECUTOR_INSTANCE_ID: `bench-${hostname()}-${process.pid}`,
    ...env,
  });
  return new ExecutorService({ pool, databaseUrl, options, runtime: createRuntime(options) });
}

async function enqueueAll(jobs: JobsService, count: number, batchSize: number): Promise<void> {
  for (let done = 0; done < count; done += batchSize) {
    const n = Math.min(batchSize, count - done);
    await jobs.enqueueMany(Array.from({ length: n }, () => ({ topic: TOPIC, command: ['true'] })));
  }
}

/** True once nothing of the topic is waiting or running (an index-only probe). */
async function drained(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query(
    `SELECT NOT EXISTS (SELECT 1 FROM danube.jobs WHERE topic = $1 AND status IN ('queued', 'claimed', 'running')) AS done`,
    [TOPIC],
  );
  return rows[0].done;
}

export const danube: BenchSystem = {
  async drain(databaseUrl, { jobs }): Promise<DrainResult> {
    await migrate({ databaseUrl });
    const pool = createPool({ databaseUrl, max: 6 });
    await enqueueAll(service(pool), jobs, 1000);
    const worker = executor(pool, databaseUrl);
    const started = process.hrtime.bigint();
    await worker.start();
    while (!(await drained(pool))) await new Promise((r) => setTimeout(r, 5));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await worker.stop(0);
    const { rows } = await pool.query(
      "SELECT count(*)::int AS n FROM danube.executions WHERE outcome = 'succeeded'",
    );
    if (rows[0].n !== jobs) throw new Error(`expected ${jobs} executions, found ${rows[0].n}`);
    await pool.end();
    return { seconds, jobsPerSecond: jobs / seconds };
  },

  async enqueue(databaseUrl, { jobs, batchSize }): Promise<DrainResult> {
    await migrate({ databaseUrl });
    const pool = createPool({ databaseUrl, max: 4 });
    const started = process.hrtime.bigint();
    await enqueueAll(service(pool), jobs, batchSize);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await pool.end();
    return { seconds, jobsPerSecond: jobs / seconds };
  },

  async latency(databaseUrl, { jobs, gapMs }) {
    await migrate({ databaseUrl });
    const pool = createPool({ databaseUrl, max: 6 });
    const worker = executor(pool, databaseUrl, {
      EXECUTOR_BATCH_SIZE: '10',
      EXECUTOR_CONCURRENCY: '50',
    });
    await worker.start();
    const jobsService = service(pool);
    const submitted = new Map<string, number>();
    for (let i = 0; i < jobs; i++) {
      const at = Date.now();
      const { job } = await jobsService.enqueue({ topic: TOPIC, command: ['true'] });
      submitted.set(job.id, at);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    while (!(await drained(pool))) await new Promise((r) => setTimeout(r, 20));
    await worker.stop(0);
    const { rows } = await pool.query<{ job_id: string; started_at: Date }>(
      'SELECT job_id, started_at FROM danube.executions',
    );
    await pool.end();
    return { samplesMs: rows.map((r) => r.started_at.getTime() - submitted.get(r.job_id)!) };
  },
};

/** Danube's bulk enqueue as a client sees it: POST /v1/jobs/batch to the real API. */
export const danubeHttp: Pick<BenchSystem, 'enqueue'> = {
  async enqueue(databaseUrl, { jobs, batchSize }): Promise<DrainResult> {
    await migrate({ databaseUrl });
    const options = loadApiOptions({ LOG_LEVEL: 'warn', API_BODY_LIMIT: '50mb' }, databaseUrl);
    const app = await createApiApp(ApiModule.forRoot(options), options);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const started = process.hrtime.bigint();
    for (let done = 0; done < jobs; done += batchSize) {
      const n = Math.min(batchSize, jobs - done);
      const response = await fetch(`http://127.0.0.1:${port}/v1/jobs/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          jobs: Array.from({ length: n }, () => ({ topic: TOPIC, command: ['true'] })),
        }),
      });
      if (response.status !== 201)
        throw new Error(
          `POST /v1/jobs/batch answered ${response.status}: ${await response.text()}`,
        );
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await app.close();
    return { seconds, jobsPerSecond: jobs / seconds };
  },
};
