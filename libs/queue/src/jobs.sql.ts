/**
 * The statements behind the REST API and the JobService on danube.jobs, danube.executions
 * and danube.job_logs: enqueue, read, list, cancel and retry jobs, store what a running job
 * reports, read attempts and logs, count them. (What executors run is in attempts.sql.ts;
 * steps, the child jobs of RunStep, are in steps.sql.ts.)
 * Each state transition is one statement guarded by the expected current status.
 */

export const JOB_COLUMNS = `
  j.id, j.tenant, j.topic, j.task_class, j.status, j.priority, j.run_at, j.attempts,
  j.max_attempts, j.timeout_seconds, j.spec, j.labels, j.idempotency_key, j.runtime_ref,
  j.lease_owner, j.lease_token, j.started_by, j.progress, j.status_message, j.result, j.error,
  j.created_at, j.started_at, j.finished_at, j.cancel_requested_at, j.workflow_id, j.node_name,
  j.skip_reason, j.parent_job_id`;

/**
 * Inserts a batch of jobs from a JSON array, in array order. A repeated idempotency key
 * (already stored, or earlier in the same batch) inserts nothing; the caller then reads
 * the existing job. No NOTIFY here: notifying inside the insert transaction serialises
 * commits, so the caller notifies once per batch after the commit (see Notifier).
 */
export const INSERT_JOBS = `
  INSERT INTO danube.jobs AS j (
    tenant, topic, task_class, status, priority, run_at, max_attempts, timeout_seconds,
    spec, labels, idempotency_key)
  SELECT i.tenant, i.topic, i.task_class, 'queued', i.priority, coalesce(i.run_at, now()),
         i.max_attempts, i.timeout_seconds, i.spec, i.labels, i.idempotency_key
  FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (
    tenant text, topic text, task_class text, priority integer, run_at timestamptz,
    max_attempts integer, timeout_seconds integer, spec jsonb, labels jsonb,
    idempotency_key text)) WITH ORDINALITY AS i(
    tenant, topic, task_class, priority, run_at, max_attempts, timeout_seconds, spec, labels,
    idempotency_key, ord)
  ORDER BY i.ord
  ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING ${JOB_COLUMNS}`;

export const SELECT_JOBS_BY_IDEMPOTENCY_KEYS = `
  SELECT ${JOB_COLUMNS} FROM danube.jobs j
  WHERE j.tenant = $1 AND j.idempotency_key = ANY($2::text[])`;

/**
 * Reads and changes of one job name its tenant in the statement: a job of another tenant
 * is not found. The tenant parameter is NULL only for the server's own reads (the
 * JobService, which found the job by its token), never for a user's.
 */
export const SELECT_JOB = `
  SELECT ${JOB_COLUMNS} FROM danube.jobs j WHERE j.id = $1 AND ($2::text IS NULL OR j.tenant = $2)`;

/** Newest first, keyset-paginated on id; each filter is optional (NULL matches all). */
export const LIST_JOBS = `
  SELECT ${JOB_COLUMNS} FROM danube.jobs j
  WHERE j.tenant = $5
    AND ($1::text IS NULL OR j.topic = $1)
    AND ($2::danube.job_status IS NULL OR j.status = $2)
    AND ($3::bigint IS NULL OR j.id < $3)
  ORDER BY j.id DESC
  LIMIT $4`;

/** A job that never ran is cancelled at once; a leased one gets a cancel request. */
export const CANCEL_JOB = `
  UPDATE danube.jobs j SET
    status = CASE WHEN j.status = ANY($2::danube.job_status[]) THEN 'cancelled' ELSE j.status END,
    finished_at = CASE WHEN j.status = ANY($2::danube.job_status[]) THEN now() ELSE j.finished_at END,
    error = CASE WHEN j.status = ANY($2::danube.job_status[]) THEN jsonb_build_object(
      'category', 'cancelled', 'message', 'cancelled by request', 'exitCode', NULL) ELSE j.error END,
    cancel_requested_at = coalesce(j.cancel_requested_at, now())
  WHERE j.id = $1 AND j.tenant = $4 AND j.status = ANY($2::danube.job_status[] || $3::danube.job_status[])
  RETURNING ${JOB_COLUMNS}`;

/** A finished, unsuccessful job back to the queue with a fresh budget of attempts. */
export const RETRY_JOB = `
  UPDATE danube.jobs j SET
    status = 'queued',
    run_at = now(),
    max_attempts = j.attempts + (j.spec->>'maxAttempts')::integer,
    error = NULL,
    finished_at = NULL,
    cancel_requested_at = NULL,
    runtime_ref = NULL
  WHERE j.id = $1 AND j.tenant = $3 AND j.status = ANY($2::danube.job_status[])
  RETURNING ${JOB_COLUMNS}`;

export const SELECT_EXECUTIONS = `
  SELECT job_id, attempt, executor_id, adopted_by, runtime, runtime_ref, outcome,
         error_category, message, exit_code, stderr_tail, started_at, finished_at
  FROM danube.executions e
  WHERE e.job_id = $1 AND EXISTS (SELECT 1 FROM danube.jobs j WHERE j.id = $1 AND j.tenant = $2)
  ORDER BY e.attempt`;

export const SELECT_LOG_LINES = `
  SELECT l.id, l.attempt, l.stream, l.line, l.logged_at FROM danube.job_logs l
  WHERE l.job_id = $1 AND l.id > $2
    AND EXISTS (SELECT 1 FROM danube.jobs j WHERE j.id = $1 AND j.tenant = $4)
  ORDER BY l.id LIMIT $3`;

/** A tenant's jobs counted by topic and status. */
export const COUNT_BY_TOPIC = `
  SELECT topic, status, count(*)::integer AS count FROM danube.jobs
  WHERE tenant = $1
  GROUP BY topic, status ORDER BY topic`;

/** Unfinished jobs by topic and status, for the danube_queue_depth gauge (read at scrape). */
export const QUEUE_DEPTH = `
  SELECT topic, status, count(*)::integer AS count FROM danube.jobs
  WHERE status IN ('blocked', 'queued', 'claimed', 'running')
  GROUP BY topic, status`;

/** ReportStatus: progress, message and result of the attempt that is running now. */
export const REPORT_STATUS = `
  UPDATE danube.jobs j SET
    progress = coalesce($3, j.progress),
    status_message = coalesce($4, j.status_message),
    result = coalesce($5::jsonb, j.result)
  WHERE j.id = $1 AND j.attempts = $2 AND j.status IN ('claimed', 'running')
  RETURNING j.id`;

/** Whether any job was ever stored (in any tenant): npm start shows its first job only once. */
export const ANY_JOB = `SELECT EXISTS (SELECT 1 FROM danube.jobs) AS any`;
