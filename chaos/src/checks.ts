import type { Cluster, HttpTally } from './cluster';
import { LEASE_SECONDS } from './cluster';
import { concurrentRuns, readLedger, recoveryTimes } from './ledger';

/** A fault that took an executor's jobs away from it: its jobs must run again elsewhere. */
export interface ExecutorFault {
  executor: string;
  /** Seconds since the epoch, as the ledger counts. */
  at: number;
}

/** How long a killed or paused executor's jobs may take to start again elsewhere. */
export const RECOVERY_LIMIT_SECONDS = LEASE_SECONDS + 5;

/** The counts of a scenario in which nothing went wrong (and nothing was measured yet). */
export const NOTHING_WRONG = {
  jobs: 0,
  succeeded: 0,
  lost: 0,
  stuck: 0,
  failed: 0,
  untrackedRuns: 0,
  attemptsWithoutRecord: 0,
  concurrentDoubleRuns: 0,
  doubleSuccesses: 0,
  recoverySeconds: null,
  unrecovered: 0,
  executorCrashes: 0,
} satisfies Partial<ScenarioResult>;

export interface ScenarioResult {
  scenario: string;
  title: string;
  /** Jobs Danube acknowledged (2xx with an id). */
  jobs: number;
  succeeded: number;
  /** Acknowledged, and not in the database. */
  lost: number;
  /** Not ended when the scenario's time was up. */
  stuck: number;
  /** Ended, but not succeeded (every chaos job succeeds when it is let run). */
  failed: number;
  /** Attempts the ledger saw start that have no execution row. */
  untrackedRuns: number;
  /** Attempt numbers a job counted with no execution row. */
  attemptsWithoutRecord: number;
  /** Two attempts of one job running at the same time (ledger). */
  concurrentDoubleRuns: number;
  /** Jobs with more than one succeeded execution. */
  doubleSuccesses: number;
  /** Longest time from a kill or pause of an executor to its jobs starting elsewhere. */
  recoverySeconds: number | null;
  /** Jobs of a killed or paused executor that never started again. */
  unrecovered: number;
  executorCrashes: number;
  http: HttpTally;
  /** Fuzzing only: cases sent, and answers that were server errors. */
  cases?: number;
  seconds: number;
  notes: string[];
  pass: boolean;
}

/** Everything the scenario promised, checked in SQL and against the ledger. */
export async function checkScenario(args: {
  scenario: string;
  title: string;
  cluster: Cluster;
  ledger: string;
  acknowledged: Set<string>;
  faults: ExecutorFault[];
  seconds: number;
  notes: string[];
}): Promise<ScenarioResult> {
  const { cluster, acknowledged, faults, notes } = args;
  const ids = [...acknowledged];
  const query = async <T>(sql: string): Promise<T[]> =>
    (await cluster.pool.query(sql, [ids])).rows as T[];

  const [counts] = await query<{
    stored: number;
    succeeded: number;
    unfinished: number;
    failed: number;
  }>(`
    SELECT count(*)::int AS stored,
           count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
           count(*) FILTER (WHERE status IN ('blocked', 'queued', 'claimed', 'running'))::int AS unfinished,
           count(*) FILTER (WHERE status IN ('failed', 'timed_out', 'cancelled', 'skipped'))::int AS failed
    FROM danube.jobs WHERE id = ANY($1::bigint[])`);
  const executions = await query<{
    job_id: string;
    attempt: number;
    outcome: string;
    executor_id: string;
  }>(
    'SELECT job_id, attempt, outcome, executor_id FROM danube.executions WHERE job_id = ANY($1::bigint[])',
  );
  const executorOf = new Map(executions.map((e) => [`${e.job_id}:${e.attempt}`, e.executor_id]));
  /** When a fault after `after` ended the executor that ran (or had claimed) this attempt. */
  const lostLater = (after: number) => (jobId: string, attempt: number) => {
    const holder = executorOf.get(`${jobId}:${attempt}`);
    const fault = faults.find((f) => f.executor === holder && f.at > after);
    return fault ? fault.at : null;
  };
  const recorded = new Set(executions.map((e) => `${e.job_id}:${e.attempt}`));
  const [{ n: attemptsWithoutRecord }] = await query<{ n: number }>(`
    SELECT count(*)::int AS n
    FROM danube.jobs j CROSS JOIN LATERAL generate_series(1, j.attempts) AS a(attempt)
    WHERE j.id = ANY($1::bigint[])
      AND j.status IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'skipped')
      AND NOT EXISTS (SELECT 1 FROM danube.executions e WHERE e.job_id = j.id AND e.attempt = a.attempt)`);
  const successes = new Map<string, number>();
  for (const e of executions)
    if (e.outcome === 'succeeded') successes.set(e.job_id, (successes.get(e.job_id) ?? 0) + 1);

  const ledger = readLedger(args.ledger).filter((a) => acknowledged.has(a.jobId));
  const untracked = ledger.filter((a) => !recorded.has(`${a.jobId}:${a.attempt}`));
  const overlaps = concurrentRuns(ledger);
  const recoveries = faults.flatMap((f) =>
    recoveryTimes(ledger, f.executor, f.at, lostLater(f.at)),
  );
  const recovered = recoveries.map((r) => r.seconds).filter((t): t is number => t !== null);
  const slowest = recoveries.reduce<{ jobId: string; seconds: number | null } | null>(
    (worst, r) => (r.seconds !== null && (!worst || r.seconds > worst.seconds!) ? r : worst),
    null,
  );
  /** A job's attempts as recorded, one line each, for the notes. */
  const timeline = async (jobId: string) => {
    const { rows } = await cluster.pool.query<{ line: string }>(
      `SELECT e.attempt || ' ' || e.executor_id || ' ' || e.outcome || ' ' || coalesce(e.error_category::text, '') ||
              ' started ' || coalesce(to_char(e.started_at, 'HH24:MI:SS.MS'), '-') || ' ended ' || to_char(e.finished_at, 'HH24:MI:SS.MS') AS line
       FROM danube.executions e WHERE e.job_id = $1 ORDER BY e.attempt`,
      [jobId],
    );
    return rows.map((r) => r.line).join('; ');
  };
  if (slowest) {
    notes.push(
      `slowest recovery: job ${slowest.jobId}, ${slowest.seconds!.toFixed(1)} s (${await timeline(slowest.jobId)})`,
    );
  }
  const doubles = [...successes].filter(([, n]) => n > 1).map(([jobId]) => jobId);
  for (const jobId of doubles.slice(0, 3)) {
    const runs = ledger
      .filter((a) => a.jobId === jobId)
      .map((a) => `${a.attempt} on ${a.executor}${a.end === null ? ' (killed)' : ' (to its end)'}`)
      .join(', ');
    notes.push(
      `succeeded twice: job ${jobId} (${await timeline(jobId)}; the ledger saw attempts ${runs})`,
    );
  }

  for (const a of untracked.slice(0, 5))
    notes.push(`untracked: job ${a.jobId} attempt ${a.attempt} on ${a.executor}`);
  for (const o of overlaps.slice(0, 5))
    notes.push(
      `concurrent: job ${o.jobId} attempts ${o.attempts.join(' and ')} overlapped ${o.overlapSeconds.toFixed(1)} s`,
    );
  for (const event of cluster.events) notes.push(`crash of ${event.id}: ${event.detail}`);
  notes.push(...cluster.http.examples);

  const result: ScenarioResult = {
    scenario: args.scenario,
    title: args.title,
    jobs: acknowledged.size,
    succeeded: counts!.succeeded,
    lost: acknowledged.size - counts!.stored,
    stuck: counts!.unfinished,
    failed: counts!.failed,
    untrackedRuns: untracked.length,
    attemptsWithoutRecord,
    concurrentDoubleRuns: overlaps.length,
    doubleSuccesses: doubles.length,
    recoverySeconds: recovered.length > 0 ? Math.max(...recovered) : null,
    unrecovered: recoveries.length - recovered.length,
    executorCrashes: cluster.events.length,
    http: cluster.http,
    seconds: args.seconds,
    notes,
    pass: false,
  };
  result.pass = passes(result);
  return result;
}

export function passes(r: ScenarioResult): boolean {
  return (
    r.lost === 0 &&
    r.stuck === 0 &&
    r.failed === 0 &&
    r.untrackedRuns === 0 &&
    r.attemptsWithoutRecord === 0 &&
    r.concurrentDoubleRuns === 0 &&
    r.doubleSuccesses === 0 &&
    r.unrecovered === 0 &&
    (r.recoverySeconds === null || r.recoverySeconds <= RECOVERY_LIMIT_SECONDS) &&
    r.executorCrashes === 0 &&
    r.http.serverErrors === 0
  );
}
