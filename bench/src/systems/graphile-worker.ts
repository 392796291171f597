import type { JobHelpers, Logger, Runner, RunnerOptions, WorkerUtils } from 'graphile-worker' with {
  'resolution-mode': 'import',
};
import type { BenchSystem, DrainResult, LatencyResult } from './system';

/**
 * graphile-worker 0.18 as a peer. Jobs are deleted when they succeed (a failed job stays in the
 * table with a later run_at), so "every job completed" is "the jobs table is empty".
 *
 * Two configurations:
 *
 * - `graphileWorkerLocalQueue`, tuned for throughput the way graphile-worker's docs describe
 *   (https://worker.graphile.org/docs/performance#batching, options documented in
 *   node_modules/graphile-worker/dist/index.d.ts):
 *     concurrentJobs: 24        jobs run at once in the one worker pool
 *     maxPoolSize: 26           the docs' "concurrentJobs + 2" (and >= 10)
 *     localQueue: { size: 500 } the pool fetches and locks 500 jobs per round trip and hands them
 *                               out to its workers from memory ("if you have very high throughput
 *                               and extremely fast tasks then a much higher number [than
 *                               concurrentJobs + 1] may make sense")
 *     completeJobBatchDelay: 0  completions (failures) issued in the same tick are merged into
 *     failJobBatchDelay: 0      one complete_jobs (fail_jobs) statement. The docs say "even 0
 *                               can be impactful" and suggest starting at 250 ms to cut database
 *                               load further; on this bench 250 was no faster than 0 and leaves up
 *                               to 250 ms of finished-but-undeleted jobs at the end of a drain.
 *   pollInterval stays at its default (2000 ms): new jobs are announced by LISTEN/NOTIFY.
 *
 * - `graphileWorkerDefault`: everything at graphile-worker's defaults (concurrentJobs 1,
 *   maxPoolSize 10, no local queue, no completion batching, pollInterval 2000 ms).
 *
 * - `graphileWorkerHistory`: the local-queue configuration doing the work Danube does for
 *   every attempt: graphile-worker deletes a job when it succeeds and keeps no record of its
 *   runs, so a user who wants a history writes one row per run from the task, as here
 *   (`helpers.query`, the worker's own pool, one INSERT per job).
 */

const TASK = 'bench_noop';

/**
 * graphile-worker is an ES module and this project compiles to CommonJS (module node16), where a
 * static import would be a require() that tsc rejects (TS1479). A dynamic import() stays an
 * import() in the emitted code.
 */
type GraphileWorker = typeof import('graphile-worker', { with: { 'resolution-mode': 'import' } });
let loaded: Promise<{ gw: GraphileWorker; logger: Logger }> | undefined;

function load(): Promise<{ gw: GraphileWorker; logger: Logger }> {
  loaded ??= import('graphile-worker').then((gw) => ({
    gw,
    /** Drops info and debug; warnings and errors go to stderr (stdout carries the RESULT line). */
    logger: new gw.Logger((scope) => (level, message) => {
      if (level === 'error' || level === 'warning') {
        process.stderr.write(
          `[graphile-worker ${level}${scope.label ? ` ${scope.label}` : ''}] ${message}\n`,
        );
      }
    }),
  }));
  return loaded;
}

type WorkerSettings = Pick<RunnerOptions, 'concurrency' | 'maxPoolSize' | 'preset'>;

const LOCAL_QUEUE: WorkerSettings = {
  concurrency: 24,
  maxPoolSize: 26,
  preset: {
    worker: {
      localQueue: { size: 500 },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
    },
  },
};

const DEFAULTS: WorkerSettings = {};

/** The history a graphile-worker user keeps: one row per job run. */
const HISTORY_TABLE = `
  CREATE TABLE IF NOT EXISTS public.job_history (
    job_id bigint NOT NULL,
    task text NOT NULL,
    attempt integer NOT NULL,
    outcome text NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now())`;

async function utils(databaseUrl: string): Promise<WorkerUtils> {
  const { gw, logger } = await load();
  const workerUtils = await gw.makeWorkerUtils({ connectionString: databaseUrl, logger });
  await workerUtils.migrate();
  await workerUtils.withPgClient((client) => client.query(HISTORY_TABLE));
  return workerUtils;
}

async function addAll(workerUtils: WorkerUtils, count: number, batchSize: number): Promise<void> {
  for (let done = 0; done < count; done += batchSize) {
    const n = Math.min(batchSize, count - done);
    await workerUtils.addJobs(Array.from({ length: n }, () => ({ identifier: TASK, payload: {} })));
  }
}

async function startWorker(
  databaseUrl: string,
  settings: WorkerSettings,
  history: boolean,
  task: (payload: unknown) => void,
): Promise<Runner> {
  const { gw, logger } = await load();
  return gw.run({
    ...settings,
    connectionString: databaseUrl,
    logger,
    noHandleSignals: true,
    // No cron items, so graphile-worker does not go looking for a `crontab` file in cwd.
    parsedCronItems: [],
    taskList: {
      [TASK]: async (payload, helpers: JobHelpers) => {
        task(payload);
        if (history) {
          await helpers.query(
            'INSERT INTO public.job_history (job_id, task, attempt, outcome) VALUES ($1, $2, $3, $4)',
            [helpers.job.id, TASK, helpers.job.attempts, 'succeeded'],
          );
        }
      },
    },
  });
}

async function jobsLeft(workerUtils: WorkerUtils): Promise<number> {
  const { rows } = await workerUtils.withPgClient((client) =>
    client.query<{ n: number }>('SELECT count(*)::int AS n FROM graphile_worker._private_jobs'),
  );
  return rows[0].n;
}

async function isEmpty(workerUtils: WorkerUtils): Promise<boolean> {
  const { rows } = await workerUtils.withPgClient((client) =>
    client.query<{ empty: boolean }>(
      'SELECT NOT EXISTS (SELECT 1 FROM graphile_worker._private_jobs) AS empty',
    ),
  );
  return rows[0].empty;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function graphileWorker(settings: WorkerSettings, history = false): BenchSystem {
  return {
    async drain(databaseUrl, { jobs }): Promise<DrainResult> {
      const workerUtils = await utils(databaseUrl);
      await addAll(workerUtils, jobs, 1000);
      if ((await jobsLeft(workerUtils)) !== jobs) throw new Error(`expected ${jobs} queued jobs`);
      let ran = 0;
      const started = process.hrtime.bigint();
      const runner = await startWorker(databaseUrl, settings, history, () => {
        ran++;
      });
      // Success deletes the job (with completeJobBatchDelay, once its batch is flushed), so an
      // empty table is "every job completed and recorded".
      while (!(await isEmpty(workerUtils))) await sleep(5);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await runner.stop();
      await workerUtils.release();
      if (ran !== jobs) throw new Error(`expected ${jobs} task runs, counted ${ran}`);
      if (history) {
        const recorded = await historyRows(databaseUrl);
        if (recorded !== jobs) throw new Error(`expected ${jobs} history rows, found ${recorded}`);
      }
      return { seconds, jobsPerSecond: jobs / seconds };
    },

    async enqueue(databaseUrl, { jobs, batchSize }): Promise<DrainResult> {
      const workerUtils = await utils(databaseUrl);
      const started = process.hrtime.bigint();
      await addAll(workerUtils, jobs, batchSize);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const queued = await jobsLeft(workerUtils);
      await workerUtils.release();
      if (queued !== jobs) throw new Error(`expected ${jobs} queued jobs, found ${queued}`);
      return { seconds, jobsPerSecond: jobs / seconds };
    },

    async latency(databaseUrl, { jobs, gapMs }): Promise<LatencyResult> {
      const workerUtils = await utils(databaseUrl);
      const samplesMs: number[] = [];
      let allIn: () => void = () => {};
      const done = new Promise<void>((resolve) => (allIn = resolve));
      // Workers start idle and are woken by graphile-worker's LISTEN/NOTIFY on each add.
      const runner = await startWorker(databaseUrl, settings, history, (payload) => {
        samplesMs.push(Date.now() - (payload as { t: number }).t);
        if (samplesMs.length >= jobs) allIn();
      });
      for (let i = 0; i < jobs; i++) {
        await workerUtils.addJob(TASK, { t: Date.now() });
        await sleep(gapMs);
      }
      await done;
      await runner.stop();
      await workerUtils.release();
      return { samplesMs };
    },
  };
}

async function historyRows(databaseUrl: string): Promise<number> {
  const workerUtils = await utils(databaseUrl);
  try {
    const { rows } = await workerUtils.withPgClient((client) =>
      client.query<{ n: number }>('SELECT count(*)::int AS n FROM public.job_history'),
    );
    return rows[0].n;
  } finally {
    await workerUtils.release();
  }
}

export const graphileWorkerLocalQueue: BenchSystem = graphileWorker(LOCAL_QUEUE);
export const graphileWorkerHistory: BenchSystem = graphileWorker(LOCAL_QUEUE, true);
export const graphileWorkerDefault: BenchSystem = graphileWorker(DEFAULTS);
