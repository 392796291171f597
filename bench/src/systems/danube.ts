import { Logger } from '@nestjs/common';
import { DanubeMetrics } from '@danube/observability';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createPool, migrate } from '@danube/db';
import { WorkflowsRepository } from '@danube/dag';
import {
  ExecutorService,
  JobEnvironment,
  loadExecutorOptions,
  createRuntime,
} from '@danube/executor';
import {
  AttemptsRepository,
  ExecutorsRepository,
  JobsRepository,
  JobsService,
  Notifier,
  attemptsSql,
  succeededAttempt,
} from '@danube/queue';
import { SecretsRepository, SecretsService } from '@danube/secrets';
import { percentiles } from '../stats';
import type { Pool } from 'pg';
import { loadApiOptions } from '../../../apps/api/src/api.config';
import { ApiModule } from '../../../apps/api/src/api.module';
import { generateApiKey } from '../../../libs/auth/src';
import { createApiApp } from '../../../apps/api/src/create-api-app';
import type { BenchSystem, DrainResult, FleetSystem } from './system';

const TOPIC = 'bench';

/**
 * Claim batch and concurrency for the drain: 200 jobs per claim, like graphile-worker's local
 * queue (500 per fetch) and pg-boss's batch fetch, sized so that a claim and a batch of
 * completions each cost one commit per few hundred jobs. BENCH_DANUBE_BATCH overrides it
 * (e.g. 50, the executor's figure of merit at its small default batches).
 */
const BATCH = Number(process.env.BENCH_DANUBE_BATCH ?? 200);

// In-process runs log as deployed processes do at LOG_LEVEL=info (Nest's default logger
// would also print every job's debug lines, and measure the terminal instead).
Logger.overrideLogger(['log', 'warn', 'error', 'fatal']);

function service(pool: Pool): JobsService {
  return new JobsService(pool, new JobsRepository(pool), new Notifier(pool), {
    acceptGpuSlurm: false,
    maxBatchSize: 1000,
  });
}

async function executor(
  pool: Pool,
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<ExecutorService> {
  const options = loadExecutorOptions({
    DANUBE_RUNTIME: 'inline',
    EXECUTOR_TOPICS: TOPIC,
    EXECUTOR_BATCH_SIZE: String(BATCH),
    EXECUTOR_CONCURRENCY: String(BATCH * 5),
    EXECUTOR_POLL_INTERVAL_MS: '1000',
    EXECUTOR_INSTANCE_ID: `bench-${hostname()}-${process.pid}`,
    ...env,
  });
  // Metrics are recorded as in production: their cost is part of what is measured.
  const metrics = new DanubeMetrics();
  return new ExecutorService({
    pool,
    databaseUrl,
    options,
    runtime: await createRuntime(options, metrics),
    metrics,
    attempts: new AttemptsRepository(pool),
    executors: new ExecutorsRepository(pool),
    environment: new JobEnvironment({
      workflows: new WorkflowsRepository(pool),
      secrets: new SecretsService(new SecretsRepository(pool), options.keyring),
      keyring: options.keyring,
      grpcAddress: options.grpcAddress,
      apiUrl: options.apiUrl,
    }),
  });
}

async function enqueueAll(jobs: JobsService, count: number, batchSize: number): Promise<void> {
  for (let done = 0; done < count; done += batchSize) {
    const n = Math.min(batchSize, count - done);
    await jobs.enqueueMany(Array.from({ length: n }, () => ({ topic: TOPIC, command: ['true'] })));
  }
}

/**
 * True once nothing of the topic is waiting or running. Two probes, each answered by one
 * partial index (jobs_claim, jobs_leased), so that watching for the end of a drain does not
 * scan the table while the drain runs.
 */
async function drained(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query(
    `SELECT NOT EXISTS (SELECT 1 FROM danube.jobs WHERE status = 'queued' AND topic = $1 AND run_at <= now())
        AND NOT EXISTS (SELECT 1 FROM danube.jobs WHERE status IN ('claimed', 'running') AND topic = $1) AS done`,
    [TOPIC],
  );
  return rows[0].done;
}

export const danube: BenchSystem = {
  async drain(databaseUrl, { jobs }): Promise<DrainResult> {
    await migrate({ databaseUrl });
    const pool = createPool({ databaseUrl, max: 6 });
    await enqueueAll(service(pool), jobs, 1000);
    const worker = await executor(pool, databaseUrl);
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
    const worker = await executor(pool, databaseUrl, {
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
    // With a key, as clients send them: authentication is on the measured path.
    const adminKey = generateApiKey();
    const options = loadApiOptions(
      { LOG_LEVEL: 'warn', API_BODY_LIMIT: '50mb', DANUBE_ADMIN_KEY: adminKey },
      databaseUrl,
    );
    const app = await createApiApp(ApiModule.forRoot(options), options);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const started = process.hrtime.bigint();
    for (let done = 0; done < jobs; done += batchSize) {
      const n = Math.min(batchSize, jobs - done);
      const response = await fetch(`http://127.0.0.1:${port}/v1/jobs/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
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

const EXECUTOR_MAIN = join(__dirname, '..', '..', '..', 'apps', 'executor', 'src', 'main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real executor process, as deployed. */
function startExecutorProcess(
  databaseUrl: string,
  id: string,
  env: Record<string, string>,
): ChildProcess {
  return spawn(process.execPath, [EXECUTOR_MAIN], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      EXECUTOR_INSTANCE_ID: id,
      EXECUTOR_TOPICS: TOPIC,
      EXECUTOR_HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
}

async function waitForExecutors(pool: Pool, count: number): Promise<void> {
  for (;;) {
    const { rows } = await pool.query(
      'SELECT count(*)::int AS n FROM danube.executors WHERE stopped_at IS NULL',
    );
    if (rows[0].n >= count) return;
    await sleep(50);
  }
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Scenarios that need Danube's own executor processes or its process runtime. */
export const danubeFleet: FleetSystem = {
  /**
   * The claim path with `background` jobs already queued: half due on another topic, half on
   * this topic but due tomorrow. Claim latency from a loop of claims of 50 (each batch then
   * completed), the drain rate from the executor, and the claim's plan at this depth.
   */
  async depth(databaseUrl, { background, jobs }) {
    await migrate({ databaseUrl });
    const pool = createPool({ databaseUrl, max: 6 });
    for (let done = 0; done < background; done += 100_000) {
      const n = Math.min(100_000, background - done);
      await pool.query(
        `INSERT INTO danube.jobs (topic, task_class, max_attempts, timeout_seconds, spec, run_at)
         SELECT CASE WHEN g % 2 = 0 THEN 'other' ELSE $2 END, 'cpu_short', 3, 60,
                '{"command": ["true"], "env": {}, "backoff": {"initialSeconds": 1, "factor": 2, "maxSeconds": 300}, "noRetryExitCodes": [], "maxAttempts": 3}',
                CASE WHEN g % 2 = 0 THEN now() ELSE now() + interval '1 day' END
         FROM generate_series(1, $1) AS g`,
        [n, TOPIC],
      );
    }
    await pool.query('VACUUM ANALYZE danube.jobs');
    const jobsService = service(pool);
    const repo = new AttemptsRepository(pool);

    await enqueueAll(jobsService, 5000, 1000);
    const claimMs: number[] = [];
    for (;;) {
      const started = process.hrtime.bigint();
      const claimed = await repo.claim('depth-probe', [TOPIC], 50, 30_000);
      if (claimed.length === 0) break;
      claimMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      const now = new Date();
      await repo.finish(
        'depth-probe',
        'inline',
        claimed.map((j) => succeededAttempt(j, now)),
      );
    }

    await enqueueAll(jobsService, 1000, 1000);
    const explain = await explainClaim(pool);

    await enqueueAll(jobsService, jobs - 1000, 1000);
    const worker = await executor(pool, databaseUrl);
    const started = process.hrtime.bigint();
    await worker.start();
    while (!(await drained(pool))) await sleep(5);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await worker.stop(0);
    await pool.end();
    const p = percentiles(claimMs);
    return { claimP50Ms: p.p50, claimP99Ms: p.p99, jobsPerSecond: jobs / seconds, explain };
  },

  /**
   * `executors` executor processes drain `jobs` together. The jobs are stored due tomorrow
   * once every executor is up and polling, then made due all at once by one statement,
   * whose start starts the clock: neither process start-up nor storing the jobs is timed,
   * and no lead time has to be guessed for a slow machine.
   */
  async fleet(databaseUrl, { jobs, executors }) {
    await migrate({ databaseUrl });
    const pool = createPool({ databaseUrl, max: 4 });
    const perExecutor = {
      DANUBE_RUNTIME: 'inline',
      EXECUTOR_BATCH_SIZE: String(BATCH),
      EXECUTOR_CONCURRENCY: String(BATCH * 5),
      EXECUTOR_POLL_INTERVAL_MS: '20',
    };
    const children = Array.from({ length: executors }, (_, i) =>
      startExecutorProcess(databaseUrl, `fleet-${i}`, perExecutor),
    );
    try {
      await waitForExecutors(pool, executors);
      const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
      const jobsService = service(pool);
      for (let done = 0; done < jobs; done += 1000) {
        const n = Math.min(1000, jobs - done);
        await jobsService.enqueueMany(
          Array.from({ length: n }, () => ({ topic: TOPIC, command: ['true'], runAt: tomorrow })),
        );
      }
      const { rows } = await pool.query<{ at: Date; due: number }>(
        `WITH due AS (
           UPDATE danube.jobs SET run_at = now() WHERE topic = $1 AND status = 'queued' RETURNING 1
         )
         SELECT now() AS at, (SELECT count(*) FROM due)::int AS due`,
        [TOPIC],
      );
      const { at: dueAt, due } = rows[0]!;
      if (due !== jobs) throw new Error(`made ${due} of the ${jobs} stored jobs due`);
      while (!(await drained(pool))) await sleep(5);
      const { rows: end } = await pool.query<{ seconds: number }>(
        'SELECT extract(epoch FROM now() - $1::timestamptz)::float8 AS seconds',
        [dueAt],
      );
      const seconds = end[0]!.seconds;
      return { seconds, jobsPerSecond: jobs / seconds };
    } finally {
      await stopAll(children);
      await pool.end();
    }
  },

  /** One executor process running `jobs` process-runtime jobs (`sleep`) at once: its peak RSS. */
  async memory(databaseUrl, { jobs, sleepSeconds }) {
    await migrate({ databaseUrl });
    const pool = createPool({ databaseUrl, max: 4 });
    const child = startExecutorProcess(databaseUrl, 'memory', {
      DANUBE_RUNTIME: 'process',
      EXECUTOR_CONCURRENCY: String(jobs),
      EXECUTOR_BATCH_SIZE: '100',
      EXECUTOR_POLL_INTERVAL_MS: '100',
      EXECUTOR_SHUTDOWN_GRACE_MS: '0',
      EXECUTOR_KILL_GRACE_MS: '0',
    });
    try {
      await waitForExecutors(pool, 1);
      let peak = rssMb(child.pid!);
      const started = Date.now();
      const jobsService = service(pool);
      for (let done = 0; done < jobs; done += 1000) {
        const n = Math.min(1000, jobs - done);
        await jobsService.enqueueMany(
          Array.from({ length: n }, () => ({
            topic: TOPIC,
            command: ['sleep', String(sleepSeconds)],
            taskClass: 'cpu_long',
            timeoutSeconds: sleepSeconds + 30,
          })),
        );
      }
      let allRunningAt: number | null = null;
      while (allRunningAt === null || Date.now() - allRunningAt < 2000) {
        peak = Math.max(peak, rssMb(child.pid!));
        if (allRunningAt === null) {
          const { rows } = await pool.query(
            "SELECT count(*)::int AS n FROM danube.jobs WHERE status = 'running'",
          );
          if (rows[0].n === jobs) allRunningAt = Date.now();
          if (Date.now() - started > sleepSeconds * 1000)
            throw new Error(`only ${rows[0].n} of ${jobs} jobs were running at once`);
        }
        await sleep(100);
      }
      return { peakRssMb: peak, secondsToStartAll: (allRunningAt - started) / 1000 };
    } finally {
      await stopAll([child]);
      await pool.end();
    }
  },
};

/**
 * The plan of the claim's statement inside danube.claim_jobs, as it ran (EXPLAIN of the
 * call would only show a function scan): auto_explain logs each nested statement's plan to
 * the client, in a transaction that is rolled back.
 */
async function explainClaim(pool: Pool): Promise<string> {
  const client = await pool.connect();
  const plans: string[] = [];
  const onNotice = (notice: { message?: string }) => {
    if (notice.message?.includes('Update on jobs')) plans.push(notice.message);
  };
  client.on('notice', onNotice);
  try {
    await client.query('BEGIN');
    await client.query(`LOAD 'auto_explain'`);
    for (const setting of [
      'auto_explain.log_min_duration = 0',
      'auto_explain.log_analyze = on',
      'auto_explain.log_buffers = on',
      'auto_explain.log_nested_statements = on',
      'auto_explain.log_level = notice',
      'client_min_messages = notice',
    ]) {
      await client.query(`SET LOCAL ${setting}`);
    }
    await client.query(attemptsSql.CLAIM_JOBS, [[TOPIC], 'explain', 50, 30_000]);
    await client.query('ROLLBACK');
  } finally {
    client.off('notice', onNotice);
    client.release();
  }
  const plan = plans[0];
  if (!plan) throw new Error('auto_explain showed no plan of the claim');
  // The notice starts with "duration: ... plan:" and the query text; the plan follows.
  return plan.slice(plan.indexOf('Update on jobs')).replace(/ {2}\(cost=[^)]*\)/g, '');
}
