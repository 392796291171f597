import type { PgBoss, WorkOptions } from 'pg-boss' with { 'resolution-mode': 'import' };
import type { BenchSystem, DrainResult, LatencyResult } from './system';

/**
 * pg-boss 12.38 as a peer. Completed jobs stay in the job table in state `completed` (until
 * deleteAfterSeconds, 7 days by default), so "every job completed" is "no job of the queue is
 * created, retry or active, and `jobs` rows are completed".
 *
 * Settings (options documented in node_modules/pg-boss/dist/types.d.ts):
 *
 *   work(): batchSize 50, localConcurrency 4
 *     four fetch loops in the process, each claiming up to 50 jobs per round trip; the handler
 *     gets the batch and pg-boss completes the whole batch in one statement.
 *   burstWhenBatchFull: true
 *     without it every fetch loop sleeps out its polling interval after each batch, capping a
 *     drain at 4 x 50 jobs per 0.5 s = 400 jobs/s whatever the database can do. With it a loop
 *     whose fetch came back full fetches again at once; the first short fetch ends the burst.
 *   pollingIntervalSeconds: 0.5
 *     the minimum pg-boss accepts (POLICY.MIN_POLLING_INTERVAL_MS = 500); default 2.
 *   useListenNotify: true (constructor) + notify: true (queue), notifyPollingIntervalSeconds 0.5
 *     pg-boss 12 has an opt-in LISTEN/NOTIFY wakeup: creating a job on a `notify` queue runs
 *     pg_notify in the insert, and the instance's dedicated LISTEN connection wakes that queue's
 *     idle workers at once. Polling stays on as the backstop, here at the same 0.5 s minimum.
 *     `pgBossPollingOnly` below is the same configuration with the wakeup off (latency then
 *     bounded by the 0.5 s poll); it is exported but not registered.
 *   max: 10 (pool size, the default), everything else (maintenance, monitoring, cron) default.
 */

const QUEUE = 'bench';

const WORK: WorkOptions = {
  batchSize: 50,
  localConcurrency: 4,
  burstWhenBatchFull: true,
  pollingIntervalSeconds: 0.5,
};

interface PgBossSettings {
  listenNotify: boolean;
}

async function startBoss(databaseUrl: string, { listenNotify }: PgBossSettings): Promise<PgBoss> {
  // pg-boss is an ES module and this project compiles to CommonJS (module node16), where a static
  // import would be a require() that tsc rejects (TS1479); a dynamic import() stays an import().
  const { PgBoss } = await import('pg-boss');
  const boss = new PgBoss({
    connectionString: databaseUrl,
    max: 10,
    useListenNotify: listenNotify,
  });
  // pg-boss re-emits worker and maintenance failures as 'error' events (an 'error' with no
  // listener would throw). Print those, once per line, and nothing else.
  boss.on('error', (error) => process.stderr.write(`[pg-boss error] ${error.message}\n`));
  // Warnings (slow queries, backlog, vacuum) say nothing about whether the run is valid, except
  // the one saying LISTEN/NOTIFY could not be set up, which would change what latency measures.
  boss.on('warning', (warning) => {
    const type = (warning.data as { type?: string } | undefined)?.type;
    if (type === 'listen_notify_unavailable')
      process.stderr.write(`[pg-boss warning] ${warning.message}\n`);
  });
  await boss.start(); // creates the pgboss schema on an empty database
  await boss.createQueue(QUEUE, { notify: listenNotify });
  return boss;
}

async function insertAll(boss: PgBoss, count: number, batchSize: number): Promise<void> {
  for (let done = 0; done < count; done += batchSize) {
    const n = Math.min(batchSize, count - done);
    await boss.insert(
      QUEUE,
      Array.from({ length: n }, () => ({ data: {} })),
    );
  }
}

async function counts(boss: PgBoss): Promise<{ pending: number; completed: number }> {
  const { rows } = await boss.getDb().executeSql(
    `SELECT count(*) FILTER (WHERE state IN ('created', 'retry', 'active'))::int AS pending,
            count(*) FILTER (WHERE state = 'completed')::int AS completed
       FROM pgboss.job WHERE name = $1`,
    [QUEUE],
  );
  return rows[0];
}

async function drained(boss: PgBoss): Promise<boolean> {
  const { rows } = await boss
    .getDb()
    .executeSql(
      `SELECT NOT EXISTS (SELECT 1 FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry', 'active')) AS done`,
      [QUEUE],
    );
  return rows[0].done;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stop(boss: PgBoss): Promise<void> {
  await boss.stop({ graceful: true, timeout: 5000 });
}

function pgBossSystem(settings: PgBossSettings): BenchSystem {
  const work: WorkOptions = settings.listenNotify
    ? { ...WORK, notifyPollingIntervalSeconds: 0.5 }
    : WORK;
  return {
    async drain(databaseUrl, { jobs }): Promise<DrainResult> {
      const boss = await startBoss(databaseUrl, settings);
      await insertAll(boss, jobs, 1000);
      let ran = 0;
      const started = process.hrtime.bigint();
      await boss.work(QUEUE, work, async (batch) => {
        ran += batch.length;
      });
      while (!(await drained(boss))) await sleep(5);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const { completed } = await counts(boss);
      await stop(boss);
      if (completed !== jobs)
        throw new Error(`expected ${jobs} completed jobs, found ${completed} (handler saw ${ran})`);
      return { seconds, jobsPerSecond: jobs / seconds };
    },

    async enqueue(databaseUrl, { jobs, batchSize }): Promise<DrainResult> {
      const boss = await startBoss(databaseUrl, settings);
      const started = process.hrtime.bigint();
      await insertAll(boss, jobs, batchSize);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const { pending } = await counts(boss);
      await stop(boss);
      if (pending !== jobs) throw new Error(`expected ${jobs} queued jobs, found ${pending}`);
      return { seconds, jobsPerSecond: jobs / seconds };
    },

    async latency(databaseUrl, { jobs, gapMs }): Promise<LatencyResult> {
      const boss = await startBoss(databaseUrl, settings);
      const samplesMs: number[] = [];
      let allIn: () => void = () => {};
      const done = new Promise<void>((resolve) => (allIn = resolve));
      await boss.work<{ t: number }>(QUEUE, work, async (batch) => {
        const now = Date.now();
        for (const job of batch) samplesMs.push(now - job.data.t);
        if (samplesMs.length >= jobs) allIn();
      });
      for (let i = 0; i < jobs; i++) {
        await boss.send(QUEUE, { t: Date.now() });
        await sleep(gapMs);
      }
      await done;
      await stop(boss);
      return { samplesMs };
    },
  };
}

export const pgBoss: BenchSystem = pgBossSystem({ listenNotify: true });
export const pgBossPollingOnly: BenchSystem = pgBossSystem({ listenNotify: false });
