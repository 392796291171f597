/** Every statement on danube.workflows and danube.workflow_edges, and on jobs as workflow nodes. */

const WORKFLOW_COLUMNS = `
  w.id, w.tenant, w.name, w.labels, w.status, w.node_count, w.unfinished_nodes, w.failed_nodes,
  w.created_at, w.finished_at`;

export const INSERT_WORKFLOW = `
  INSERT INTO danube.workflows AS w (tenant, name, labels, node_count, unfinished_nodes)
  VALUES ($1, $2, $3, $4, $4)
  RETURNING ${WORKFLOW_COLUMNS}`;

/** The nodes' jobs, in array order: roots queued, the rest blocked on their parents. */
export const INSERT_NODE_JOBS = `
  INSERT INTO danube.jobs AS j (
    tenant, topic, task_class, status, priority, run_at, max_attempts, timeout_seconds, spec,
    labels, workflow_id, node_name, trigger_rule, pending_parents)
  SELECT i.tenant, i.topic, i.task_class, i.status, i.priority, coalesce(i.run_at, now()),
         i.max_attempts, i.timeout_seconds, i.spec, i.labels, $2, i.node_name, i.trigger_rule,
         i.pending_parents
  FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (
    tenant text, topic text, task_class text, status danube.job_status, priority integer,
    run_at timestamptz, max_attempts integer, timeout_seconds integer, spec jsonb, labels jsonb,
    node_name text, trigger_rule danube.trigger_rule, pending_parents integer)) WITH ORDINALITY AS i(
    tenant, topic, task_class, status, priority, run_at, max_attempts, timeout_seconds, spec,
    labels, node_name, trigger_rule, pending_parents, ord)
  ORDER BY i.ord
  RETURNING j.id, j.node_name`;

export const INSERT_EDGES = `
  INSERT INTO danube.workflow_edges (workflow_id, parent_id, child_id)
  SELECT $1, e.parent_id, e.child_id FROM unnest($2::bigint[], $3::bigint[]) AS e(parent_id, child_id)`;

/**
 * The children of parents that just finished, with each parent's outcome, the children
 * locked in id order. The lock is what makes release exactly-once: when two parents of one
 * child finish at the same instant on two executors, the second transaction waits here and
 * then reads the counters the first one wrote.
 */
export const LOCK_CHILDREN = `
  SELECT c.id, c.status, c.trigger_rule, c.pending_parents, c.succeeded_parents, c.failed_parents,
         p.id AS parent_id, p.status AS parent_status, p.node_name AS parent_name,
         p.skip_reason AS parent_skip_reason
  FROM danube.workflow_edges e
  JOIN danube.jobs c ON c.id = e.child_id
  JOIN danube.jobs p ON p.id = e.parent_id
  WHERE e.parent_id = ANY($1::bigint[])
  ORDER BY c.id
  FOR UPDATE OF c`;

/**
 * New counters for each child, and for those that can now run or never will, their new
 * status: only a child still waiting (blocked) moves; any other just keeps count.
 */
export const UPDATE_CHILDREN = `
  UPDATE danube.jobs c SET
    pending_parents = u.pending,
    succeeded_parents = u.succeeded,
    failed_parents = u.failed,
    -- Every expression here sees the row as it was: c.status is the status before.
    status = CASE WHEN c.status = 'blocked' THEN coalesce(u.becomes, c.status) ELSE c.status END,
    skip_reason = CASE WHEN c.status = 'blocked' AND u.becomes = 'skipped' THEN u.reason
                       ELSE c.skip_reason END,
    finished_at = CASE WHEN c.status = 'blocked' AND u.becomes = 'skipped' THEN now()
                       ELSE c.finished_at END,
    run_at = CASE WHEN c.status = 'blocked' AND u.becomes = 'queued' THEN greatest(c.run_at, now())
                  ELSE c.run_at END
  FROM unnest($1::bigint[], $2::integer[], $3::integer[], $4::integer[], $5::danube.job_status[], $6::text[])
    AS u(id, pending, succeeded, failed, becomes, reason)
  WHERE c.id = u.id
  RETURNING c.id, c.status, c.topic, c.workflow_id`;

/**
 * Counts nodes that ended into their workflows; a workflow whose last node ended is done:
 * failed if any node failed, timed out or was cancelled, else succeeded. A cancelled
 * workflow keeps its status.
 */
export const COUNT_ENDED_NODES = `
  UPDATE danube.workflows w SET
    unfinished_nodes = w.unfinished_nodes - u.ended,
    failed_nodes = w.failed_nodes + u.failed,
    status = CASE
      WHEN w.status <> 'running' OR w.unfinished_nodes - u.ended > 0 THEN w.status
      WHEN w.failed_nodes + u.failed > 0 THEN 'failed'
      ELSE 'succeeded' END::danube.workflow_status,
    finished_at = CASE WHEN w.unfinished_nodes - u.ended = 0 THEN now() ELSE w.finished_at END
  FROM unnest($1::bigint[], $2::integer[], $3::integer[]) AS u(id, ended, failed)
  WHERE w.id = u.id`;

/** $2: the tenant whose workflow it must be; NULL only for the server's own reads. */
export const SELECT_WORKFLOW = `
  SELECT ${WORKFLOW_COLUMNS} FROM danube.workflows w
  WHERE w.id = $1 AND ($2::text IS NULL OR w.tenant = $2)`;

export const LIST_WORKFLOWS = `
  SELECT ${WORKFLOW_COLUMNS} FROM danube.workflows w
  WHERE w.tenant = $4
    AND ($1::danube.workflow_status IS NULL OR w.status = $1)
    AND ($2::bigint IS NULL OR w.id < $2)
  ORDER BY w.id DESC
  LIMIT $3`;

export const SELECT_NODES = `
  SELECT j.id, j.node_name, j.status, j.trigger_rule, j.topic, j.attempts, j.skip_reason, j.error,
         j.started_at, j.finished_at, j.parent_job_id
  FROM danube.jobs j WHERE j.workflow_id = $1 ORDER BY j.id`;

export const SELECT_EDGES = `
  SELECT e.parent_id, e.child_id FROM danube.workflow_edges e
  JOIN danube.jobs c ON c.id = e.child_id
  WHERE c.workflow_id = $1`;

/** A node's parents: their names, job ids and results (DANUBE_PARENT_RESULTS, _JOB_IDS). */
export const PARENT_RESULTS = `
  SELECT p.node_name, p.id, p.result FROM danube.workflow_edges e
  JOIN danube.jobs p ON p.id = e.parent_id
  WHERE e.child_id = $1`;

/** Cancel: a running workflow becomes cancelled; its nodes that have not started are skipped. */
export const CANCEL_WORKFLOW = `
  UPDATE danube.workflows w SET status = 'cancelled'
  WHERE w.id = $1 AND w.tenant = $2 AND w.status = 'running'
  RETURNING ${WORKFLOW_COLUMNS}`;

export const SKIP_WAITING_NODES = `
  UPDATE danube.jobs j SET status = 'skipped', skip_reason = 'the workflow was cancelled', finished_at = now()
  WHERE j.workflow_id = $1 AND j.status IN ('blocked', 'queued')
  RETURNING j.id, j.parent_job_id`;

export const REQUEST_CANCEL_OF_RUNNING_NODES = `
  UPDATE danube.jobs j SET cancel_requested_at = coalesce(j.cancel_requested_at, now())
  WHERE j.workflow_id = $1 AND j.status IN ('claimed', 'running')
  RETURNING j.id`;

/**
 * Retry: every node that did not succeed runs again (with a fresh budget of attempts);
 * succeeded nodes keep their results. A node waits for those of its parents that run again.
 */
export const RERUN_UNSUCCESSFUL_NODES = `
  WITH rerun AS (
    SELECT id FROM danube.jobs
    WHERE workflow_id = $1 AND status IN ('failed', 'timed_out', 'cancelled', 'skipped')
      -- Steps are not re-run: their parent node starts them again when it runs again.
      AND parent_job_id IS NULL
  ), counts AS (
    SELECT r.id,
           count(p.id) FILTER (WHERE p.status <> 'succeeded')::integer AS pending,
           count(p.id) FILTER (WHERE p.status = 'succeeded')::integer AS succeeded
    FROM rerun r
    LEFT JOIN danube.workflow_edges e ON e.child_id = r.id
    LEFT JOIN danube.jobs p ON p.id = e.parent_id
    GROUP BY r.id
  )
  UPDATE danube.jobs j SET
    status = CASE WHEN c.pending = 0 OR (j.trigger_rule = 'one_success' AND c.succeeded > 0)
                  THEN 'queued' ELSE 'blocked' END::danube.job_status,
    pending_parents = c.pending,
    succeeded_parents = c.succeeded,
    failed_parents = 0,
    skip_reason = NULL,
    error = NULL,
    finished_at = NULL,
    cancel_requested_at = NULL,
    runtime_ref = NULL,
    run_at = now(),
    max_attempts = j.attempts + (j.spec->>'maxAttempts')::integer
  FROM counts c
  WHERE j.id = c.id
  RETURNING j.id, j.status, j.topic`;

export const RESTART_WORKFLOW = `
  UPDATE danube.workflows w SET status = 'running', unfinished_nodes = $2, failed_nodes = 0, finished_at = NULL
  WHERE w.id = $1 AND w.status IN ('failed', 'cancelled')
  RETURNING ${WORKFLOW_COLUMNS}`;
