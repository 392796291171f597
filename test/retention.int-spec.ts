import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { FilesystemArtifactStore } from '../libs/artifacts/src';
import { EXECUTOR_LOCK_TIMEOUT_MS, createPool } from '../libs/db/src';
import { DanubeMetrics } from '../libs/observability/src';
import { AttemptsRepository, succeededAttempt } from '../libs/queue/src';
import {
  RetentionRepository,
  RetentionSweepService,
  type RetentionOptions,
  type SweepReport,
} from '../libs/housekeeping/src/retention';
import * as sql from '../libs/housekeeping/src/retention/retention.sql';
import {
  NOTHING,
  filesPresent,
  rowsOf,
  seedChain,
  seedJobs,
  seedWorkflow,
  storageKeys,
  writeArtifactFiles,
} from './retention-seed';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { waitFor } from './support/wait-for';

const FINISHED = ['succeeded', 'failed', 'timed_out', 'cancelled', 'skipped'];
/** Enough queued jobs that the workload still has some when the sweep ends. */
const LIVE_JOBS = 60_000;
/** The sweep's session lock (TRY_SWEEP_LOCK). */
const SWEEP_LOCK = 0x646e6272;

function sweeperOn(
  db: TestDatabase,
  dir: string,
  options: Partial<RetentionOptions> = {},
  metrics: DanubeMetrics | null = null,
): RetentionSweepService {
  return new RetentionSweepService(
    db.pool,
    new FilesystemArtifactStore(dir),
    { defaultKeepDays: 30, ...options },
    metrics,
  );
}

async function deletedTotal(metrics: DanubeMetrics): Promise<Record<string, number>> {
  const metric = metrics.registry.getSingleMetric('danube_retention_deleted_total')!;
  const { values } = await metric.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.kind), v.value]));
}

async function setPolicy(
  pool: Pool,
  tenant: string,
  rules: { topic?: string; keepDays: number; keepFailedDays?: number; maxLog?: number }[],
) {
  await pool.query('INSERT INTO danube.tenants (name) VALUES ($1) ON CONFLICT DO NOTHING', [
    tenant,
  ]);
  await new RetentionRepository(pool).replacePolicy(tenant, {
    default: (() => {
      const d = rules.find((r) => !r.topic);
      return d
        ? {
            keepDays: d.keepDays,
            keepFailedDays: d.keepFailedDays ?? null,
            maxLogBytesPerAttempt: d.maxLog ?? null,
          }
        : null;
    })(),
    topics: rules
      .filter((r) => r.topic)
      .map((r) => ({
        topic: r.topic!,
        keepDays: r.keepDays,
        keepFailedDays: r.keepFailedDays ?? null,
        maxLogBytesPerAttempt: r.maxLog ?? null,
      })),
  });
}

describe('a sweep of 20,000 old jobs beside a live workload', () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase({ poolSize: 12 });
    dir = mkdtempSync(join(tmpdir(), 'danube-retention-'));
  });

  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('deletes exactly what is old and finished (rows and files), keeps the rest, and the claim/finish workload never waits 100 ms for a lock the sweep holds', async () => {
    // What must go: 20,000 finished jobs 40 days old, in every final status; a step of
    // one of them; a finished workflow 60 days old with its nodes.
    const old = await seedJobs(db.pool, {
      topic: 'old',
      count: 20_000,
      statuses: FINISHED,
      finishedDaysAgo: 40,
      logLines: 5,
      artifacts: true,
    });
    const oldStep = await seedJobs(db.pool, {
      topic: 'steps',
      count: 1,
      statuses: ['succeeded'],
      finishedDaysAgo: 40,
      logLines: 2,
      artifacts: true,
      parentJobId: old[0],
    });
    const doneWorkflow = await seedWorkflow(db.pool, {
      status: 'succeeded',
      finishedDaysAgo: 60,
      unfinishedNodes: 0,
    });
    const doneNodes = await seedJobs(db.pool, {
      topic: 'nodes',
      count: 3,
      statuses: ['succeeded'],
      finishedDaysAgo: 60,
      logLines: 3,
      artifacts: true,
      workflowId: doneWorkflow,
    });
    await seedChain(db.pool, doneWorkflow, doneNodes);

    // What must stay: 1,000 finished 10 days ago; running and queued jobs created 60 days
    // ago; a step of a running job; a running workflow whose finished nodes are 60 days old.
    const recent = await seedJobs(db.pool, {
      topic: 'recent',
      count: 1000,
      statuses: FINISHED,
      finishedDaysAgo: 10,
      logLines: 5,
      artifacts: true,
    });
    const unfinished = await seedJobs(db.pool, {
      topic: 'unfinished',
      count: 600,
      statuses: ['running', 'queued', 'blocked', 'claimed'],
      finishedDaysAgo: null,
      logLines: 2,
      artifacts: true,
    });
    const stepOfRunning = await seedJobs(db.pool, {
      topic: 'steps',
      count: 1,
      statuses: ['succeeded'],
      finishedDaysAgo: 40,
      logLines: 2,
      artifacts: true,
      parentJobId: unfinished[0],
    });
    const openWorkflow = await seedWorkflow(db.pool, {
      status: 'running',
      finishedDaysAgo: null,
      unfinishedNodes: 1,
    });
    const openNodes = [
      ...(await seedJobs(db.pool, {
        topic: 'nodes',
        count: 3,
        statuses: ['succeeded'],
        finishedDaysAgo: 60,
        logLines: 3,
        artifacts: true,
        workflowId: openWorkflow,
      })),
      ...(await seedJobs(db.pool, {
        topic: 'nodes',
        count: 1,
        statuses: ['running'],
        finishedDaysAgo: null,
        workflowId: openWorkflow,
        nodePrefix: 'last',
      })),
    ];
    await seedChain(db.pool, openWorkflow, openNodes);
    // The live workload's queue.
    await db.pool.query(
      `INSERT INTO danube.jobs (topic, task_class, max_attempts, timeout_seconds, spec)
       SELECT 'live', 'cpu_short', 1, 60, '{"command": ["true"]}' FROM generate_series(1, $1::integer)`,
      [LIVE_JOBS],
    );
    await db.pool.query('ANALYZE');

    const doomed = [...old, ...oldStep, ...doneNodes];
    const kept = [...recent, ...unfinished, ...stepOfRunning, ...openNodes];
    const doomedKeys = await writeArtifactFiles(db.pool, dir, doomed);
    const keptKeys = await writeArtifactFiles(db.pool, dir, kept);
    expect(doomedKeys).toHaveLength(20_000 + 1 + 3);
    const doomedBefore = await rowsOf(db.pool, doomed);
    const keptBefore = await rowsOf(db.pool, kept);
    expect(doomedBefore).toEqual({
      jobs: 20_004,
      // Skipped jobs never ran: no attempt.
      executions: 16_000 + 1 + 3,
      logs: 100_000 + 2 + 9,
      // One event each, written by the jobs' insert trigger.
      events: 20_004,
      artifacts: 20_004,
    });
    const edges = async (workflowId: string) =>
      (
        await db.pool.query(
          `SELECT count(*)::integer AS n FROM danube.workflow_edges WHERE workflow_id = $1`,
          [workflowId],
        )
      ).rows[0].n;
    const workflowRows = async (workflowId: string) =>
      (
        await db.pool.query(
          `SELECT (SELECT count(*) FROM danube.workflows WHERE id = $1)::integer AS workflows,
                  (SELECT count(*) FROM danube.events WHERE workflow_id = $1)::integer AS events`,
          [workflowId],
        )
      ).rows[0];
    expect(await edges(doneWorkflow)).toBe(2);
    expect(await workflowRows(doneWorkflow)).toEqual({ workflows: 1, events: 4 });
    const openBefore = await workflowRows(openWorkflow);

    // The workload: four sessions claiming, starting, logging and finishing 'live' jobs with
    // the executors' own statements; none may wait 100 ms for a lock the sweep holds.
    const workload = new Workload(db.url, 4);
    await workload.start();
    await waitFor('the workload to finish its first jobs', () => workload.finished >= 40, 30_000);

    const metrics = new DanubeMetrics({ defaultMetrics: false });
    const before = workload.cycles;
    const report = await sweeperOn(db, dir, {}, metrics).sweep();
    const during = workload.cycles - before;
    const load = await workload.stop();

    process.stdout.write(
      `\nretention sweep of ${report.deleted.jobs} jobs: ${report.durationMs} ms in ${report.batches} batches; ` +
        `workload meanwhile: ${during} claim/finish cycles, ${load.finished} jobs finished in all, ` +
        `longest lock wait seen ${load.longestLockWaitMs.toFixed(1)} ms (sampled; ${load.longestLockWaitOn}), ` +
        `on the sweep ${load.longestWaitOnSweepMs.toFixed(1)} ms, ` +
        `longest workload statement ${load.longestStatementMs.toFixed(1)} ms, errors ${load.errors.length}\n`,
    );
    expect(load.errors).toEqual([]);
    expect(load.longestWaitOnSweepMs).toBeLessThan(100);
    expect(during).toBeGreaterThan(0);

    expect(report).toMatchObject({ ran: true, done: true, files: 20_004 });
    expect(report.deleted).toEqual({
      jobs: 20_004,
      executions: doomedBefore.executions,
      logs: doomedBefore.logs,
      events: doomedBefore.events + 1,
      artifacts: 20_004,
      workflows: 1,
      deliveries: 0,
    });
    expect(await deletedTotal(metrics)).toEqual(report.deleted);

    expect(await rowsOf(db.pool, doomed)).toEqual(NOTHING);
    expect(filesPresent(dir, doomedKeys)).toBe(0);
    expect(await workflowRows(doneWorkflow)).toEqual({ workflows: 0, events: 0 });
    expect(await edges(doneWorkflow)).toBe(0);

    expect(await rowsOf(db.pool, kept)).toEqual(keptBefore);
    expect(filesPresent(dir, keptKeys)).toBe(keptKeys.length);
    expect(await workflowRows(openWorkflow)).toEqual(openBefore);
    expect(await edges(openWorkflow)).toBe(3);
    const { rows: leftovers } = await db.pool.query(
      `SELECT (SELECT count(*) FROM danube.retention_workflow_nodes)::integer AS nodes,
              (SELECT count(*) FROM danube.retention_file_removals)::integer AS files,
              (SELECT count(*) FROM danube.jobs WHERE topic = 'live')::integer AS live`,
    );
    expect(leftovers[0]).toEqual({ nodes: 0, files: 0, live: LIVE_JOBS });

    // Nothing is left to do: a second sweep deletes nothing.
    const again = await sweeperOn(db, dir).sweep();
    expect(again.deleted).toEqual(zeros());
  }, 240_000);
});

function zeros() {
  return { jobs: 0, executions: 0, logs: 0, events: 0, artifacts: 0, workflows: 0, deliveries: 0 };
}

/**
 * Executors' work without executors: sessions that claim, mark running, write log lines and
 * finish jobs with the statements executors run (AttemptsRepository), as fast as they can.
 * A sampler reads pg_locks every few ms for how long its sessions have been waiting, and
 * on whom: each other (as executors do, without any sweep: on a loaded machine one session
 * can hold a row past 100 ms while it waits for a CPU), or the sweep, which must never keep
 * one waiting 100 ms. The sessions' lock_timeout is the executors' own (1 s), so that a
 * wait the sampler missed still ends as an error.
 */
class Workload {
  private readonly pool: Pool;
  private readonly monitor: Pool;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private sampler: Promise<void> | null = null;
  cycles = 0;
  finished = 0;
  readonly errors: string[] = [];
  longestStatementMs = 0;
  longestLockWaitMs = 0;
  longestLockWaitOn = 'none';
  /** The same, for waits on a session that is not the workload's: the sweep's. */
  longestWaitOnSweepMs = 0;

  constructor(
    url: string,
    private readonly sessions: number,
  ) {
    this.pool = createPool({
      databaseUrl: url,
      max: sessions,
      applicationName: 'retention-workload',
      lockTimeoutMs: EXECUTOR_LOCK_TIMEOUT_MS,
    });
    this.monitor = createPool({ databaseUrl: url, max: 1 });
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.sessions; i++) this.loops.push(this.loop(`workload-${i}`));
    this.sampler = this.sample();
  }

  async stop() {
    this.stopping = true;
    await Promise.all(this.loops);
    await this.sampler;
    await this.pool.end();
    await this.monitor.end();
    return this;
  }

  private async timed<T>(statement: Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await statement;
    } finally {
      this.longestStatementMs = Math.max(this.longestStatementMs, performance.now() - started);
    }
  }

  private async loop(executor: string): Promise<void> {
    const attempts = new AttemptsRepository(this.pool);
    // Bounded: stops when told to, or after 2,000 cycles.
    for (let n = 0; n < 2000 && !this.stopping; n++) {
      try {
        const claimed = await this.timed(attempts.claim(executor, ['live'], 10, 60_000));
        if (claimed.length === 0) break;
        const at = new Date();
        await this.timed(
          attempts.markRunning(
            claimed.map((j) => ({
              id: j.id,
              leaseToken: j.leaseToken,
              startedAt: at,
              runtimeRef: null,
            })),
          ),
        );
        await this.timed(
          attempts.insertLogLines(
            claimed.map((j) => ({
              jobId: j.id,
              attempt: j.attempts,
              leaseToken: j.leaseToken,
              stream: 'stdout' as const,
              line: 'working',
              loggedAt: at,
            })),
          ),
        );
        const { done } = await this.timed(
          attempts.finish(
            executor,
            'process',
            claimed.map((j) => succeededAttempt(j)),
          ),
        );
        this.finished += done.length;
        this.cycles += 1;
      } catch (error) {
        this.errors.push(String(error));
      }
    }
  }

  private async sample(): Promise<void> {
    while (!this.stopping) {
      const { rows } = await this.monitor.query<{ ms: number; lock: string; on_sweep: boolean }>(
        `SELECT extract(epoch FROM clock_timestamp() - l.waitstart)::float8 * 1000 AS ms,
                l.locktype || ' ' || l.mode AS lock,
                EXISTS (SELECT 1 FROM pg_stat_activity b
                        WHERE b.pid = ANY (pg_blocking_pids(l.pid))
                          AND b.application_name <> 'retention-workload') AS on_sweep
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE NOT l.granted AND l.waitstart IS NOT NULL
           AND a.application_name = 'retention-workload'`,
      );
      for (const wait of rows) {
        if (wait.ms > this.longestLockWaitMs) {
          this.longestLockWaitMs = wait.ms;
          this.longestLockWaitOn = wait.lock;
        }
        if (wait.on_sweep) this.longestWaitOnSweepMs = Math.max(this.longestWaitOnSweepMs, wait.ms);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

describe('policies', () => {
  let db: TestDatabase;
  let dir: string;

  beforeEach(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'danube-retention-'));
  });

  afterEach(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("follows each tenant's default and topic rules, keeps failed jobs longer, and a tenant without a policy has the built-in default", async () => {
    await setPolicy(db.pool, 'acme', [
      { keepDays: 10, keepFailedDays: 40 },
      { topic: 'audit', keepDays: 100 },
    ]);
    const job = (tenant: string, topic: string, status: string, days: number) =>
      seedJobs(db.pool, {
        tenant,
        topic,
        count: 1,
        statuses: [status],
        finishedDaysAgo: days,
        logLines: 1,
      }).then((ids) => ids[0]!);
    const gone = [
      await job('acme', 'etl', 'succeeded', 20),
      await job('acme', 'etl', 'cancelled', 11),
      await job('acme', 'etl', 'failed', 50),
      await job('acme', 'etl', 'timed_out', 41),
      await job('acme', 'audit', 'succeeded', 150),
      // The audit rule is whole: it keeps failed jobs as long as the others.
      await job('acme', 'audit', 'failed', 101),
      await job('default', 'etl', 'succeeded', 31),
      await job('default', 'etl', 'failed', 31),
    ];
    const stay = [
      await job('acme', 'etl', 'succeeded', 9),
      await job('acme', 'etl', 'failed', 20),
      await job('acme', 'etl', 'timed_out', 39),
      await job('acme', 'audit', 'succeeded', 50),
      await job('acme', 'audit', 'failed', 99),
      await job('default', 'etl', 'succeeded', 29),
      await job('default', 'etl', 'failed', 29),
    ];
    const failedWorkflow = await seedWorkflow(db.pool, {
      tenant: 'acme',
      status: 'failed',
      finishedDaysAgo: 20,
      unfinishedNodes: 0,
    });
    const doneWorkflow = await seedWorkflow(db.pool, {
      tenant: 'acme',
      status: 'succeeded',
      finishedDaysAgo: 20,
      unfinishedNodes: 0,
    });
    // Cancelled, its running node still stopping: not finished, however old.
    const stoppingWorkflow = await seedWorkflow(db.pool, {
      tenant: 'acme',
      status: 'cancelled',
      finishedDaysAgo: null,
      unfinishedNodes: 1,
    });
    const node = async (workflowId: string, status: string) =>
      (
        await seedJobs(db.pool, {
          tenant: 'acme',
          topic: 'audit',
          count: 1,
          statuses: [status],
          finishedDaysAgo: status === 'running' ? null : 150,
          workflowId,
        })
      )[0]!;
    const failedNode = await node(failedWorkflow, 'failed');
    const doneNode = await node(doneWorkflow, 'succeeded');
    const stoppingNodes = [
      await node(stoppingWorkflow, 'skipped'),
      await node(stoppingWorkflow, 'running'),
    ];

    const report = await sweeperOn(db, dir).sweep();

    expect(report.deleted).toMatchObject({ jobs: gone.length + 1, workflows: 1 });
    expect((await rowsOf(db.pool, [...gone, doneNode])).jobs).toBe(0);
    expect((await rowsOf(db.pool, [...stay, failedNode, ...stoppingNodes])).jobs).toBe(
      stay.length + 3,
    );
    const { rows } = await db.pool.query<{ id: string }>(
      'SELECT id FROM danube.workflows ORDER BY id',
    );
    expect(rows.map((r) => r.id)).toEqual([failedWorkflow, stoppingWorkflow]);
  });

  it('deletes a workflow larger than a batch a batch at a time, with all its edges and events', async () => {
    const workflow = await seedWorkflow(db.pool, {
      status: 'succeeded',
      finishedDaysAgo: 40,
      unfinishedNodes: 0,
    });
    const nodes = await seedJobs(db.pool, {
      topic: 'nodes',
      count: 120,
      statuses: ['succeeded'],
      finishedDaysAgo: 40,
      logLines: 2,
      artifacts: true,
      workflowId: workflow,
    });
    await seedChain(db.pool, workflow, nodes);
    const keys = await writeArtifactFiles(db.pool, dir, nodes);

    const report = await sweeperOn(db, dir, { batchSize: 50 }).sweep();

    expect(report).toMatchObject({ done: true, files: 120 });
    expect(report.deleted).toMatchObject({ jobs: 120, workflows: 1, logs: 240, artifacts: 120 });
    // A workflow batch, then three batches of nodes: 50, 50, 20.
    expect(report.batches).toBe(4);
    expect(await rowsOf(db.pool, nodes)).toEqual(NOTHING);
    expect(filesPresent(dir, keys)).toBe(0);
    const { rows } = await db.pool.query(
      `SELECT (SELECT count(*) FROM danube.workflow_edges)::integer AS edges,
              (SELECT count(*) FROM danube.events WHERE workflow_id = $1)::integer AS events,
              (SELECT count(*) FROM danube.retention_workflow_nodes)::integer AS pending`,
      [workflow],
    );
    expect(rows[0]).toEqual({ edges: 0, events: 0, pending: 0 });
  });

  it('passes over a job another session holds, and a job retried meanwhile, instead of waiting', async () => {
    const [held, retried, free] = await seedJobs(db.pool, {
      topic: 'etl',
      count: 3,
      statuses: ['failed'],
      finishedDaysAgo: 40,
    });
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM danube.jobs WHERE id = $1 FOR UPDATE', [held]);
      await db.pool.query(
        `UPDATE danube.jobs SET status = 'queued', finished_at = NULL WHERE id = $1`,
        [retried],
      );
      const report = await sweeperOn(db, dir).sweep();
      expect(report.deleted.jobs).toBe(1);
      expect((await rowsOf(db.pool, [free!])).jobs).toBe(0);
      expect((await rowsOf(db.pool, [held!, retried!])).jobs).toBe(2);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    const later = await sweeperOn(db, dir).sweep();
    expect(later.deleted.jobs).toBe(1);
    expect((await rowsOf(db.pool, [held!])).jobs).toBe(0);
    expect((await rowsOf(db.pool, [retried!])).jobs).toBe(1);
  });

  it('takes an artifact whose file is already gone in its stride, and runs one sweep at a time', async () => {
    const ids = await seedJobs(db.pool, {
      topic: 'etl',
      count: 2,
      statuses: ['succeeded'],
      finishedDaysAgo: 40,
      artifacts: true,
    });
    const [present] = await writeArtifactFiles(db.pool, dir, [ids[0]!]);
    expect(await storageKeys(db.pool, ids)).toHaveLength(2);

    // Another replica's sweep holds the lock: this one does nothing, at once.
    const other = await db.pool.connect();
    let skipped: SweepReport;
    try {
      await other.query('SELECT pg_advisory_lock($1)', [SWEEP_LOCK]);
      skipped = await sweeperOn(db, dir).sweep();
    } finally {
      await other.query('SELECT pg_advisory_unlock($1)', [SWEEP_LOCK]);
      other.release();
    }
    expect(skipped).toMatchObject({ ran: false, deleted: zeros() });
    expect((await rowsOf(db.pool, ids)).jobs).toBe(2);

    const ran = await sweeperOn(db, dir).sweep();
    expect(ran).toMatchObject({ ran: true, done: true, files: 2 });
    expect(ran.deleted.artifacts).toBe(2);
    expect(filesPresent(dir, [present!])).toBe(0);
    const { rows } = await db.pool.query(
      'SELECT count(*)::integer AS n FROM danube.retention_file_removals',
    );
    expect(rows[0].n).toBe(0);
  });

  it('reads no more than a batch and a probe per group: the plans are index scans', async () => {
    await seedJobs(db.pool, {
      topic: 'etl',
      count: 5000,
      statuses: FINISHED,
      finishedDaysAgo: 40,
      logLines: 1,
      artifacts: true,
    });
    await seedJobs(db.pool, {
      topic: 'etl',
      count: 5000,
      statuses: ['queued'],
      finishedDaysAgo: null,
    });
    await db.pool.query(
      `INSERT INTO danube.workflows (name, status, node_count, unfinished_nodes, finished_at)
       SELECT 'w', 'succeeded', 0, 0, now() - g * interval '1 minute' FROM generate_series(1, 5000) g`,
    );
    const workflow = await seedWorkflow(db.pool, {
      status: 'succeeded',
      finishedDaysAgo: 40,
      unfinishedNodes: 0,
    });
    const nodes = await seedJobs(db.pool, {
      topic: 'nodes',
      count: 2000,
      statuses: ['succeeded'],
      finishedDaysAgo: 40,
      logLines: 1,
      workflowId: workflow,
    });
    await seedChain(db.pool, workflow, nodes);
    await db.pool.query(
      'INSERT INTO danube.retention_workflow_nodes (workflow_id) SELECT id FROM danube.workflows',
    );
    await db.pool.query('ANALYZE');
    const some = nodes.slice(0, 3);
    const statements: [string, string, unknown[]][] = [
      ['SELECT_OLD_JOBS', sql.SELECT_OLD_JOBS, [30, 5000]],
      ['SELECT_OLD_WORKFLOWS', sql.SELECT_OLD_WORKFLOWS, [30, 1000]],
      ['SELECT_LEFTOVER_NODES', sql.SELECT_LEFTOVER_NODES, [5000]],
      ['DELETE_JOBS', sql.DELETE_JOBS, [some]],
      ['DELETE_EDGES', sql.DELETE_EDGES, [some]],
      ['DELETE_WORKFLOWS', sql.DELETE_WORKFLOWS, [[workflow]]],
      ['FORGET_EMPTIED_WORKFLOWS', sql.FORGET_EMPTIED_WORKFLOWS, []],
      ['SELECT_ENDED_JOBS_TO_CAP', sql.SELECT_ENDED_JOBS_TO_CAP, ['0', 0, 5000]],
      ['TRIM_LOGS', sql.TRIM_LOGS, [some, some.map(() => 1024)]],
    ];
    for (const [name, text, values] of statements) {
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query(`EXPLAIN ${text}`, values);
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        const seqScans = plan.match(
          /Seq Scan on (jobs|job_logs|events|executions|artifacts|workflows|workflow_edges)\b.*/g,
        );
        expect({ name, seqScans, plan: seqScans ? plan : '' }).toEqual({
          name,
          seqScans: null,
          plan: '',
        });
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    }
  });
});

describe('the log cap', () => {
  let db: TestDatabase;
  let dir: string;

  beforeEach(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'danube-retention-'));
  });

  afterEach(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function lines(jobId: string, attempt = 1) {
    const { rows } = await db.pool.query<{ id: string; stream: string; line: string }>(
      'SELECT id, stream, line FROM danube.job_logs WHERE job_id = $1 AND attempt = $2 ORDER BY id',
      [jobId, attempt],
    );
    return rows;
  }

  it("keeps the first and last halves of an attempt's output, and says what went where it went", async () => {
    await setPolicy(db.pool, 'default', [{ keepDays: 30, maxLog: 1024 }]);
    // 100 lines of 100 bytes: 10,000 bytes, against a cap of 1,024.
    const [big] = await seedJobs(db.pool, {
      topic: 'etl',
      count: 1,
      statuses: ['succeeded'],
      finishedDaysAgo: 1,
      logLines: 100,
      lineBytes: 100,
    });
    await db.pool.query(
      `INSERT INTO danube.job_logs (job_id, attempt, stream, line)
       SELECT $1, 2, 'stdout', 'second attempt ' || g FROM generate_series(1, 5) g`,
      [big],
    );
    const [small] = await seedJobs(db.pool, {
      topic: 'etl',
      count: 1,
      statuses: ['failed'],
      finishedDaysAgo: 1,
      logLines: 10,
      lineBytes: 100,
    });
    const [running] = await seedJobs(db.pool, {
      topic: 'etl',
      count: 1,
      statuses: ['running'],
      finishedDaysAgo: null,
      logLines: 100,
      lineBytes: 100,
    });
    const before = await lines(big!);
    const metrics = new DanubeMetrics({ defaultMetrics: false });

    const report = await sweeperOn(db, dir, {}, metrics).sweep();

    const after = await lines(big!);
    // 512 bytes from each end: 5 whole lines of 100 bytes at each.
    expect(after.map((l) => l.id)).toEqual([
      ...before.slice(0, 5).map((l) => l.id),
      before[5]!.id,
      ...before.slice(95).map((l) => l.id),
    ]);
    expect(after[5]).toEqual({
      id: before[5]!.id,
      stream: 'system',
      line: "retention dropped 90 lines (9000 bytes) of this attempt's output here: at most 1024 bytes are kept per attempt (maxLogBytesPerAttempt), the first and the last half",
    });
    expect(after.filter((l) => l.stream !== 'system').map((l) => l.line)).toEqual(
      [...before.slice(0, 5), ...before.slice(95)].map((l) => l.line),
    );
    expect(await lines(big!, 2)).toHaveLength(5);
    expect(await lines(small!)).toHaveLength(10);
    expect(await lines(running!)).toHaveLength(100);
    expect(report).toMatchObject({ trimmedAttempts: 1, deleted: { logs: 90, jobs: 0 } });
    expect((await deletedTotal(metrics)).logs).toBe(90);

    // Capped once: its note does not count, and the next sweep leaves it as it is, even
    // after the job ran again and ended anew.
    await db.pool.query(
      `UPDATE danube.jobs SET status = 'queued', finished_at = NULL WHERE id = $1`,
      [big],
    );
    await db.pool.query(
      `UPDATE danube.jobs SET status = 'failed', finished_at = now() WHERE id = $1`,
      [big],
    );
    const again = await sweeperOn(db, dir).sweep();
    expect(again.trimmedAttempts).toBe(0);
    expect(await lines(big!)).toEqual(after);
  });

  it('reads a bounded number of events per sweep, and gets through them over several', async () => {
    await setPolicy(db.pool, 'default', [{ keepDays: 30, maxLog: 1024 }]);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      ids.push(
        ...(await seedJobs(db.pool, {
          topic: 'etl',
          count: 1,
          statuses: ['succeeded'],
          finishedDaysAgo: 1,
          logLines: 20,
          lineBytes: 100,
        })),
      );
    }
    const sweeper = sweeperOn(db, dir, { logCapEventsPerBatch: 2, logCapEventsPerSweep: 4 });
    const trimmed: number[] = [];
    for (let sweep = 0; sweep < 3; sweep++) trimmed.push((await sweeper.sweep()).trimmedAttempts);
    // One event per job (its insert): four jobs a sweep, then the last two.
    expect(trimmed).toEqual([4, 4, 2]);
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM danube.job_logs
       WHERE job_id = ANY($1::bigint[]) AND stream = 'system'`,
      [ids],
    );
    expect(rows[0]!.n).toBe(10);
  });

  it('reads nothing while no tenant caps its output', async () => {
    await seedJobs(db.pool, {
      topic: 'etl',
      count: 3,
      statuses: ['succeeded'],
      finishedDaysAgo: 1,
      logLines: 100,
      lineBytes: 100,
    });
    const report = await sweeperOn(db, dir).sweep();
    expect(report.trimmedAttempts).toBe(0);
    const { rows } = await db.pool.query(
      `SELECT tx::text, seq::text FROM danube.retention_log_cursor`,
    );
    expect(rows[0]).toEqual({ tx: '0', seq: '0' });
  });
});
