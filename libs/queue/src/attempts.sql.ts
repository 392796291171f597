import { EXECUTOR_IS_ALIVE } from './executors.sql';

/**
 * Everything an executor runs against Postgres, and nothing else: claim, start, renew,
 * finish, reap and hand over attempts, and write their log lines. Each state transition is
 * one statement guarded by the expected current status (from the state machine in
 * @danube/core) and by the lease token the executor was given at claim time: a write from
 * an executor whose lease was taken over matches no row.
 */

/** What an executor needs of a job it claimed (see ClaimedJob). */
const CLAIMED_COLUMNS = `
  j.id, j.tenant, j.topic, j.task_class, j.priority, j.run_at, j.attempts, j.max_attempts,
  j.timeout_seconds, j.spec, j.labels, j.runtime_ref, j.lease_token, j.started_at, j.started_by, j.workflow_id,
  j.node_name`;

/**
 * Claims up to $3 due jobs of the topics in $1 for executor $2 with a lease of $4 ms:
 * danube.claim_jobs (migrations/0007_tenants.sql), one round trip.
 *
 * Order: within a tenant, priority, then run_at, then id (FIFO within a priority); between
 * tenants, the tenant running fewest jobs goes first, so one tenant's backlog cannot hold
 * another's jobs back. Quotas: a tenant's running cap and its per-class caps are checked
 * inside the claim, with claims for a capped tenant taking turns, so racing executors never
 * exceed a cap. Index: each (topic, tenant, task class) queue is its own range of jobs_claim,
 * already in claim order, so a claim reads about batch x queues index entries however deep
 * the queue is. Locking: FOR UPDATE SKIP LOCKED makes concurrent claimers pass over each
 * other's candidates. A job that comes back from an expired lease with a runtime_ref keeps
 * its attempt number: the claimer first tries to adopt the attempt.
 */
export const CLAIM_JOBS = `
  SELECT ${CLAIMED_COLUMNS} FROM danube.claim_jobs($1::text[], $2::text, $3::integer, $4::integer) j`;

/**
 * The topics that have queued jobs, for executors serving ALL topics: a loose index scan
 * that jumps from one topic to the next in jobs_claim, one index probe per topic, instead
 * of reading every queued row.
 */
export const QUEUED_TOPICS = `
  WITH RECURSIVE topics(topic) AS (
    (SELECT topic FROM danube.jobs WHERE status = 'queued' ORDER BY topic LIMIT 1)
    UNION ALL
    SELECT (SELECT q.topic FROM danube.jobs q WHERE q.status = 'queued' AND q.topic > t.topic ORDER BY q.topic LIMIT 1)
    FROM topics t WHERE t.topic IS NOT NULL
  )
  SELECT topic FROM topics WHERE topic IS NOT NULL`;

/**
 * Locking of the executor's batched writes (MARK_JOBS_RUNNING, FINISH_ATTEMPTS).
 *
 * `plain`: each row is updated as found, waiting for a row another session holds; the
 * executor's connections give up after lock_timeout. This is the hot path: no extra lock
 * and no second look at the rows.
 *
 * `skipLocked`: after a write hit a lock timeout (someone's open transaction holds a job
 * row), the executor writes with this variant for a while. Rows are first locked FOR
 * UPDATE SKIP LOCKED; a row still held by this lease but locked by another session comes
 * back as `busy`, to be written in a later batch, so one locked row cannot stall the
 * writes of every other job.
 */
export type BatchLocking = 'plain' | 'skipLocked';

/**
 * The parts of a skipLocked batch write over the batch `rows` (a CTE of id, lease_token),
 * guarded by the statuses in `statuses`: `held`, the rows this batch may write, locked
 * unless another session has them; and the `busy` rows, still this lease's but locked.
 */
function skipLockedParts(rows: string, statuses: string) {
  return {
    held: `, held AS (
    SELECT j.id FROM danube.jobs j JOIN ${rows} b ON b.id = j.id AND b.lease_token = j.lease_token
    WHERE j.status = ANY(${statuses}::danube.job_status[])
    FOR UPDATE OF j SKIP LOCKED
  )`,
    busy: (columns: string) => `
  UNION ALL
  SELECT b.id, ${columns} FROM ${rows} b JOIN danube.jobs j ON j.id = b.id AND j.lease_token = b.lease_token
  WHERE j.status = ANY(${statuses}::danube.job_status[]) AND b.id NOT IN (SELECT id FROM held)`,
  };
}

/**
 * claimed -> running for a batch of started (or adopted: `adopted`, keeping started_by)
 * attempts, fenced by lease token. Returns the
 * rows it moved, with whether a cancel was requested meanwhile (and `busy` rows, see
 * BatchLocking). A job missing from the result lost its lease; its attempt must be stopped.
 */
function markJobsRunning(locking: BatchLocking): string {
  const skip = locking === 'skipLocked';
  const parts = skipLockedParts('s', '$5');
  return `
  WITH s AS (
    SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::timestamptz[], $4::text[], $6::boolean[])
      AS s(id, lease_token, started_at, runtime_ref, adopted)
  )${skip ? parts.held : ''}, moved AS (
    UPDATE danube.jobs j SET
      status = 'running',
      started_at = s.started_at,
      runtime_ref = s.runtime_ref,
      started_by = CASE WHEN s.adopted THEN j.started_by ELSE j.lease_owner END
    FROM s${skip ? ' JOIN held h ON h.id = s.id' : ''}
    WHERE j.id = s.id AND j.lease_token = s.lease_token AND j.status = ANY($5::danube.job_status[])
    RETURNING j.id, j.cancel_requested_at IS NOT NULL AS cancel_requested
  )
  SELECT id, cancel_requested, false AS busy FROM moved${skip ? parts.busy('false, true') : ''}`;
}

export const MARK_JOBS_RUNNING: Record<BatchLocking, string> = {
  plain: markJobsRunning('plain'),
  skipLocked: markJobsRunning('skipLocked'),
};

/**
 * Ends a batch of attempts in one statement: moves each job to its next status (a terminal
 * one, or queued again for a retry: at a later run_at after a backoff, or keeping its place
 * when retry_at is null), releases its lease, and inserts one execution row per attempt.
 * Rows whose lease token no longer matches are left alone and get no execution row: the
 * attempt's record was written by whoever took the lease (the reaper). An adopted
 * attempt's row names the executor that started it (adopted_from) and, as adopted_by, this
 * one. See BatchLocking for `busy` rows.
 */
function finishAttempts(locking: BatchLocking): string {
  const skip = locking === 'skipLocked';
  const parts = skipLockedParts('done', '$17');
  return `
  WITH done AS (
    SELECT * FROM unnest(
      $1::bigint[], $2::uuid[], $3::integer[], $4::danube.job_status[], $5::danube.job_status[],
      $6::timestamptz[], $7::danube.error_category[], $8::text[], $9::integer[], $10::text[],
      $11::jsonb[], $12::text[], $13::timestamptz[], $14::timestamptz[], $18::text[]
    ) AS d(id, lease_token, attempt, next_status, outcome, retry_at, error_category, message,
           exit_code, stderr_tail, result, runtime_ref, started_at, finished_at, adopted_from)
  )${skip ? parts.held : ''}, finished AS (
    UPDATE danube.jobs j SET
      status = d.next_status,
      run_at = coalesce(d.retry_at, j.run_at),
      result = coalesce(d.result, j.result),
      error = CASE WHEN d.error_category IS NULL THEN NULL ELSE jsonb_build_object(
        'category', d.error_category, 'message', d.message, 'exitCode', d.exit_code) END,
      started_at = coalesce(d.started_at, j.started_at),
      finished_at = CASE WHEN d.next_status = 'queued' THEN NULL ELSE d.finished_at END,
      runtime_ref = NULL,
      waiting_reason = NULL,
      lease_owner = NULL,
      lease_token = NULL,
      lease_expires_at = NULL
    FROM done d${skip ? ' JOIN held h ON h.id = d.id' : ''}
    WHERE j.id = d.id AND j.lease_token = d.lease_token AND j.status = ANY($17::danube.job_status[])
    RETURNING j.id, j.status, j.workflow_id, j.parent_job_id
  ), recorded AS (
    INSERT INTO danube.executions (
      job_id, attempt, executor_id, adopted_by, runtime, runtime_ref, outcome, error_category,
      message, exit_code, stderr_tail, started_at, finished_at)
    SELECT d.id, d.attempt, coalesce(d.adopted_from, $15),
           CASE WHEN d.adopted_from <> $15 THEN $15 END,
           $16, d.runtime_ref, d.outcome, d.error_category, d.message,
           d.exit_code, d.stderr_tail, d.started_at, d.finished_at
    FROM done d JOIN finished f ON f.id = d.id
    -- Never expected; if it happens, a record that exists must not fail the whole batch.
    ON CONFLICT (job_id, attempt) DO NOTHING
  )
  SELECT id, status, workflow_id, parent_job_id, false AS busy FROM finished${skip ? parts.busy('NULL, NULL, NULL, true') : ''}`;
}

export const FINISH_ATTEMPTS: Record<BatchLocking, string> = {
  plain: finishAttempts('plain'),
  skipLocked: finishAttempts('skipLocked'),
};

/**
 * Renews the leases of the jobs an executor is running ($4), in one statement whatever
 * their number. Naming the jobs, not just the owner, lets a lease the executor no longer
 * backs with a running attempt (a bug, a crashed runner) expire and be reaped. The rows
 * returned are the leases it still holds, `renewed` false for a row another session has
 * locked (SKIP LOCKED: one locked row must not hold up every other renewal; that job's
 * watchdog is not fed this time). A job it runs that is missing was taken over.
 */
export const RENEW_LEASES = `
  WITH held AS (
    SELECT j.id FROM danube.jobs j
    WHERE j.lease_owner = $1 AND j.status = ANY($3::danube.job_status[]) AND j.id = ANY($4::bigint[])
    FOR UPDATE SKIP LOCKED
  ), renewed AS (
    UPDATE danube.jobs j SET lease_expires_at = now() + $2 * interval '1 millisecond'
    FROM held h
    WHERE j.id = h.id
    RETURNING j.id, j.lease_token, j.cancel_requested_at IS NOT NULL AS cancel_requested
  )
  SELECT id, lease_token, cancel_requested, true AS renewed FROM renewed
  UNION ALL
  SELECT j.id, j.lease_token, j.cancel_requested_at IS NOT NULL, false FROM danube.jobs j
  WHERE j.lease_owner = $1 AND j.status = ANY($3::danube.job_status[]) AND j.id = ANY($4::bigint[])
    AND j.id NOT IN (SELECT id FROM held)`;

/**
 * Ends the leases that expired (their executor died, stalled or lost the database).
 *
 * An attempt that dies with its executor (a local process) may have run, so it gets its
 * execution record here, naming the executor that held it: `infra`, "the attempt may have
 * run". The history is a superset of what ran. The job goes back to the queue in its old
 * place (run_at and priority unchanged), so it runs again within a claim cycle; or, if its
 * cancel was asked, it is cancelled.
 *
 * An attempt that runs on without its executor (runtime_ref set: a Kubernetes Job) gets no
 * record yet: the job goes back to the queue keeping runtime_ref, even when a cancel was
 * asked, and the next claimer adopts the attempt, records it, and stops it if cancelled.
 */
export const REAP_EXPIRED_LEASES = `
  WITH expired AS (
    -- Written out (not a parameter) so that the planner can use the partial index jobs_leased.
    SELECT id, status, attempts, lease_owner, runtime_ref, started_at,
           cancel_requested_at IS NOT NULL AND runtime_ref IS NULL AS cancel
    FROM danube.jobs
    WHERE status IN ('claimed', 'running') AND lease_expires_at < now()
    ORDER BY lease_expires_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
  ), reaped AS (
    UPDATE danube.jobs j SET
      status = CASE WHEN e.cancel THEN 'cancelled' ELSE 'queued' END::danube.job_status,
      finished_at = CASE WHEN e.cancel THEN now() END,
      error = CASE WHEN e.cancel THEN jsonb_build_object(
        'category', 'cancelled', 'message', 'cancelled by request', 'exitCode', NULL) ELSE j.error END,
      waiting_reason = NULL,
      lease_owner = NULL,
      lease_token = NULL,
      lease_expires_at = NULL
    FROM expired e
    WHERE j.id = e.id
    RETURNING j.id, j.topic, j.status, j.workflow_id, j.parent_job_id
  ), recorded AS (
    INSERT INTO danube.executions (
      job_id, attempt, executor_id, runtime, outcome, error_category, message, started_at,
      finished_at)
    SELECT e.id, e.attempts, e.lease_owner, coalesce(x.runtime, 'unknown'), 'failed', 'infra',
           'executor ' || e.lease_owner || ' stopped renewing its lease (it died, stalled or lost Postgres) and the attempt was ended; it may have run',
           CASE WHEN e.status = 'running' THEN e.started_at END, now()
    FROM expired e LEFT JOIN danube.executors x ON x.id = e.lease_owner
    WHERE e.runtime_ref IS NULL
    -- The executor recorded the attempt after all, in the same instant: its record stands.
    ON CONFLICT (job_id, attempt) DO NOTHING
  )
  SELECT id, topic, status, workflow_id, parent_job_id FROM reaped`;

/**
 * Ends the database sessions that stalled executors left idle inside a transaction for more
 * than $1 ms. A paused (SIGSTOP) or hung executor's open transaction keeps what it had
 * taken: the row locks of the jobs it was writing (the reaper skips locked rows, so it
 * could not take those jobs back), or the reaper's own lock, if it stalled while reaping
 * (then no executor could reap at all). Without this, both last until the executor wakes.
 * Only sessions (application_name danube-executor-<id>, as Postgres truncates it) of
 * executors that lost their job leases, or whose heartbeat is older than their own lease,
 * are touched. Returns the executors whose sessions were ended.
 */
export const END_STALLED_EXECUTOR_SESSIONS = `
  WITH stalled AS MATERIALIZED (
    -- Chosen first, so that nothing but these sessions can be ended.
    SELECT a.pid, a.application_name
    FROM pg_stat_activity a
    WHERE a.state IN ('idle in transaction', 'idle in transaction (aborted)')
      AND a.state_change < now() - $1 * interval '1 millisecond'
      AND a.application_name IN (
        SELECT left('danube-executor-' || j.lease_owner, 63)
        FROM danube.jobs j
        WHERE j.status IN ('claimed', 'running') AND j.lease_expires_at < now()
        UNION
        SELECT left('danube-executor-' || e.id, 63)
        FROM danube.executors e
        WHERE e.stopped_at IS NULL AND NOT ${EXECUTOR_IS_ALIVE})
  )
  SELECT DISTINCT s.application_name FROM stalled s WHERE pg_terminate_backend(s.pid)`;

/**
 * One executor reaps at a time: the reaper takes this advisory lock for its transaction and
 * skips the round when another holds it. The key is 'danu' in ASCII.
 */
export const TRY_REAPER_LOCK = `SELECT pg_try_advisory_xact_lock(${0x64616e75}) AS locked`;

/**
 * An executor shutting down lets go of an attempt that runs on without it (a Kubernetes
 * Job): back to the queue at once, in its old place, keeping attempts and runtime_ref, so
 * that the next claimer adopts the running attempt instead of waiting for the lease to
 * expire.
 */
/**
 * Why the running attempt's code waits to start (null: it no longer waits), fenced by lease
 * token like every write of an executor.
 */
export const SET_WAITING_REASON = `
  UPDATE danube.jobs SET waiting_reason = $3
  WHERE id = $1 AND lease_token = $2 AND status = 'running'`;

export const HAND_OVER_ATTEMPT = `
  UPDATE danube.jobs j SET
    status = 'queued',
    lease_owner = NULL,
    lease_token = NULL,
    lease_expires_at = NULL
  WHERE j.id = $1 AND j.lease_token = $2 AND j.status = 'running' AND j.runtime_ref IS NOT NULL
  RETURNING j.topic`;

/**
 * Log lines of running attempts, in the order given. Fenced like every write of an
 * executor: the lines of an attempt whose lease was taken over are dropped, so an executor
 * that wakes from a pause cannot write into a job another executor now runs.
 */
export const INSERT_LOG_LINES = `
  INSERT INTO danube.job_logs (job_id, attempt, stream, line, logged_at)
  SELECT l.job_id, l.attempt, l.stream, l.line, l.logged_at
  FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (
    job_id bigint, attempt integer, lease_token uuid, stream text, line text,
    logged_at timestamptz)) WITH ORDINALITY AS l(
    job_id, attempt, lease_token, stream, line, logged_at, ord)
  WHERE EXISTS (
    SELECT 1 FROM danube.jobs j WHERE j.id = l.job_id AND j.lease_token = l.lease_token)
  ORDER BY l.ord`;

/**
 * How much of an attempt's output is stored: its line count, the time of its last line and
 * how many lines share that time. An executor adopting the attempt reads the rest of the
 * output from there. No row when nothing is stored.
 */
export const SELECT_STORED_OUTPUT = `
  WITH output AS (
    SELECT logged_at FROM danube.job_logs
    WHERE job_id = $1 AND attempt = $2 AND stream IN ('stdout', 'stderr', 'combined')
  )
  SELECT count(*)::integer AS lines, last.at AS up_to,
         count(*) FILTER (WHERE o.logged_at = last.at)::integer AS lines_at_up_to
  FROM output o CROSS JOIN (SELECT max(logged_at) AS at FROM output) last
  GROUP BY last.at`;
