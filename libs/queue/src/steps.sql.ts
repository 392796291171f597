import { JOB_COLUMNS } from './jobs.sql';

/**
 * Steps, the child jobs that code inside a job starts through the JobService's RunStep:
 * start one, notice that steps ended, and read what a step printed.
 */

/**
 * A step: a job started by a running job's RunStep call, queued at once. It records its
 * parent and joins the parent's workflow, named after its parent node there. A repeated
 * idempotency key (a retried RunStep) inserts nothing; the caller reads the existing step.
 */
export const INSERT_STEP = `
  INSERT INTO danube.jobs AS j (
    tenant, topic, task_class, status, priority, max_attempts, timeout_seconds, spec, labels,
    idempotency_key, parent_job_id, workflow_id, node_name)
  SELECT $1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, p.id, p.workflow_id,
         CASE WHEN p.workflow_id IS NULL THEN n.name ELSE p.node_name || '/' || n.name END
  FROM danube.jobs p
  CROSS JOIN LATERAL (SELECT coalesce($11, 'step-' || (
    SELECT count(*) + 1 FROM danube.jobs s WHERE s.parent_job_id = p.id)) AS name) n
  WHERE p.id = $10
  ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING ${JOB_COLUMNS}`;

/** What an attempt printed, in order (RunStep returns a step's output to its parent). */
export const SELECT_ATTEMPT_OUTPUT = `
  SELECT stream, line FROM danube.job_logs
  WHERE job_id = $1 AND attempt = $2 AND stream IN ('stdout', 'stderr', 'combined')
  ORDER BY id`;

/** Which of the jobs $1 have ended (a waiting RunStep's fallback when a NOTIFY was missed). */
export const SELECT_ENDED = `
  SELECT id FROM danube.jobs
  WHERE id = ANY($1::bigint[]) AND status IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'skipped')`;
