/**
 * Usage, computed from the attempt records (danube.executions) that ended in [$1, $2):
 * jobs, attempts, run seconds (started to finished; 0 for an attempt that never started),
 * and GPU-seconds (run seconds x GPUs: the gpu and gpu_slurm classes ask for exactly one).
 * Grouped by tenant, topic or task class ($3); $4 NULL counts every tenant.
 */
export const USAGE = `
  WITH attempts AS (
    SELECT CASE $3::text WHEN 'tenant' THEN j.tenant WHEN 'topic' THEN j.topic ELSE j.task_class END AS grp,
           e.job_id,
           coalesce(extract(epoch FROM e.finished_at - e.started_at), 0)::float8 AS run_seconds,
           CASE WHEN j.task_class IN ('gpu', 'gpu_slurm') THEN 1 ELSE 0 END AS gpus
    FROM danube.executions e
    JOIN danube.jobs j ON j.id = e.job_id
    WHERE e.finished_at >= $1 AND e.finished_at < $2 AND ($4::text IS NULL OR j.tenant = $4)
  )
  SELECT grp, count(DISTINCT job_id)::integer AS jobs, count(*)::integer AS attempts,
         sum(run_seconds)::float8 AS run_seconds, sum(run_seconds * gpus)::float8 AS gpu_seconds
  FROM attempts
  GROUP BY grp
  ORDER BY grp`;
