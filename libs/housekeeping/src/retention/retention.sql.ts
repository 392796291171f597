import { TERMINAL_STATUSES } from '@danube/core';
import { HOUSEKEEPING_SCHEMA } from '../housekeeping.runner';

/**
 * Every statement of retention: tenants' policies, and the sweep that deletes finished
 * jobs and workflows a bounded batch at a time and caps the output stored per attempt.
 *
 * Locking: the sweep only ever deletes rows of finished jobs and workflows, which the
 * claim, the executors' writes and DAG release never touch; the rows it picks are locked
 * FOR UPDATE SKIP LOCKED, so an API request holding one (a retry) is passed over rather than
 * waited for, and re-checked once locked, so a job retried meanwhile is left alone. Each
 * batch is one short transaction (SET_BATCH_LIMITS), so nothing is held for long.
 */

const TERMINAL = TERMINAL_STATUSES.map((status) => `'${status}'`).join(', ');

/** The predicate of the jobs_retention index (migrations/0013_retention.sql), written out. */
const FINISHED_STANDALONE = `j.status IN (${TERMINAL}) AND j.workflow_id IS NULL`;

/** The predicate of workflows_retention. */
const FINISHED_WORKFLOW = `w.status IN ('succeeded', 'failed', 'cancelled')`;

/**
 * The rule that applies to jobs of `tenant` on `topic`: the topic's override, else the
 * tenant's default; no row when the tenant set neither (the built-in default applies).
 * `topic` NULL: the default only.
 */
function policyOf(tenant: string, topic: string): string {
  return `
    LEFT JOIN LATERAL (
      SELECT p.keep_days, p.keep_failed_days, p.max_log_bytes_per_attempt
      FROM danube.retention_policies p
      WHERE p.tenant = ${tenant} AND (p.topic IS NULL OR p.topic = ${topic})
      ORDER BY p.topic NULLS LAST
      LIMIT 1
    ) p ON true`;
}

/**
 * The oldest end a group's rule keeps: its jobs that ended before it go. `failed` says
 * whether the group is kept keepFailedDays ($1: the built-in default, in days).
 */
function keptSince(failed: string): string {
  return `now() - make_interval(days => CASE WHEN ${failed}
    THEN coalesce(p.keep_failed_days, p.keep_days, $1::integer)
    ELSE coalesce(p.keep_days, $1::integer) END)`;
}

/** Each batch: a lock wait this long fails the batch (tried again next sweep), not the system. */
export const SET_BATCH_LIMITS = `SET LOCAL lock_timeout = '200ms'; SET LOCAL statement_timeout = '120s'`;

/**
 * One sweep at a time across every replica (a cron run and one asked for by
 * POST /v1/retention/sweep could otherwise overlap): a session lock, held by the
 * connection the sweep runs on. The key is 'dnbr' in ASCII.
 */
export const TRY_SWEEP_LOCK = `SELECT pg_try_advisory_lock(${0x646e6272}) AS locked`;
export const RELEASE_SWEEP_LOCK = `SELECT pg_advisory_unlock(${0x646e6272})`;

/**
 * Up to $2 finished jobs outside workflows that their policies no longer keep ($1: the
 * built-in default in days), locked.
 *
 * Index: the (tenant, topic, status) groups are found by a loose index scan over
 * jobs_retention (one probe per group), each group's cut-off is computed from its policy,
 * and the group's jobs older than it are one range of the same index, oldest first. No
 * entry younger than a cut-off is read, so the cost is the batch plus a probe per group.
 *
 * A step (parent_job_id) whose parent has not finished is kept: its parent may still read
 * it. Such steps are the only entries read and not taken, and there are as few as running
 * jobs that start steps.
 */
export const SELECT_OLD_JOBS = `
  WITH RECURSIVE groups(tenant, topic, status) AS (
    (SELECT j.tenant, j.topic, j.status FROM danube.jobs j
     WHERE ${FINISHED_STANDALONE}
     ORDER BY j.tenant, j.topic, j.status
     LIMIT 1)
    UNION ALL
    SELECT n.tenant, n.topic, n.status
    FROM groups g
    CROSS JOIN LATERAL (
      SELECT j.tenant, j.topic, j.status FROM danube.jobs j
      WHERE ${FINISHED_STANDALONE} AND (j.tenant, j.topic, j.status) > (g.tenant, g.topic, g.status)
      ORDER BY j.tenant, j.topic, j.status
      LIMIT 1
    ) n
  ), cutoffs AS (
    SELECT g.tenant, g.topic, g.status,
           ${keptSince(`g.status IN ('failed', 'timed_out')`)} AS kept_since
    FROM groups g ${policyOf('g.tenant', 'g.topic')}
  )
  SELECT o.id FROM cutoffs c
  CROSS JOIN LATERAL (
    SELECT j.id FROM danube.jobs j
    WHERE ${FINISHED_STANDALONE}
      AND j.tenant = c.tenant AND j.topic = c.topic AND j.status = c.status
      AND j.finished_at < c.kept_since
      -- A scalar subquery, not NOT EXISTS: the planner would make an anti-join of that,
      -- over a scan of every job, where this is a primary-key probe per step only.
      AND (j.parent_job_id IS NULL OR coalesce((
        SELECT parent.status IN (${TERMINAL}) FROM danube.jobs parent
        WHERE parent.id = j.parent_job_id), true))
    ORDER BY j.finished_at, j.id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ) o
  LIMIT $2`;

/**
 * Deletes jobs $1 (locked by this transaction) and everything recorded of them: attempts,
 * log lines, events, artifact rows. The artifacts' storage keys are written down in the
 * same transaction, for their files to be removed once it has committed. Every delete is an
 * index lookup per job (executions' primary key, job_logs_by_job, events_by_job,
 * artifacts_one_per_path). Returns what it deleted, and the keys.
 */
export const DELETE_JOBS = `
  WITH executions AS (
    DELETE FROM danube.executions WHERE job_id = ANY($1::bigint[]) RETURNING 1
  ), logs AS (
    DELETE FROM danube.job_logs WHERE job_id = ANY($1::bigint[]) RETURNING 1
  ), events AS (
    DELETE FROM danube.events WHERE job_id = ANY($1::bigint[]) RETURNING 1
  ), artifacts AS (
    DELETE FROM danube.artifacts WHERE job_id = ANY($1::bigint[]) RETURNING storage_key
  ), files AS (
    INSERT INTO danube.retention_file_removals (storage_key)
    SELECT storage_key FROM artifacts
    ON CONFLICT DO NOTHING
    RETURNING storage_key
  ), jobs AS (
    DELETE FROM danube.jobs WHERE id = ANY($1::bigint[]) RETURNING 1
  )
  SELECT (SELECT count(*) FROM jobs)::integer AS jobs,
         (SELECT count(*) FROM executions)::integer AS executions,
         (SELECT count(*) FROM logs)::integer AS logs,
         (SELECT count(*) FROM events)::integer AS events,
         (SELECT count(*) FROM artifacts)::integer AS artifacts,
         coalesce((SELECT array_agg(storage_key) FROM files), '{}') AS files`;

/**
 * The edges out of nodes $1: every edge of a workflow leaves one of its nodes, so those of
 * a workflow whose nodes are all deleted are all gone (the primary key's prefix serves it).
 */
export const DELETE_EDGES = `
  WITH gone AS (DELETE FROM danube.workflow_edges WHERE parent_id = ANY($1::bigint[]) RETURNING 1)
  SELECT count(*)::integer AS edges FROM gone`;

/**
 * Up to $2 finished workflows their tenants' default policies no longer keep ($1: the
 * built-in default in days), locked: the loose index scan of SELECT_OLD_JOBS over
 * workflows_retention, by (tenant, status). A workflow still running a node (a cancelled
 * one whose nodes are stopping) has no finished_at yet, or unfinished nodes, and stays.
 */
export const SELECT_OLD_WORKFLOWS = `
  WITH RECURSIVE groups(tenant, status) AS (
    (SELECT w.tenant, w.status FROM danube.workflows w
     WHERE ${FINISHED_WORKFLOW}
     ORDER BY w.tenant, w.status
     LIMIT 1)
    UNION ALL
    SELECT n.tenant, n.status
    FROM groups g
    CROSS JOIN LATERAL (
      SELECT w.tenant, w.status FROM danube.workflows w
      WHERE ${FINISHED_WORKFLOW} AND (w.tenant, w.status) > (g.tenant, g.status)
      ORDER BY w.tenant, w.status
      LIMIT 1
    ) n
  ), cutoffs AS (
    SELECT g.tenant, g.status, ${keptSince(`g.status = 'failed'`)} AS kept_since
    FROM groups g ${policyOf('g.tenant', 'NULL')}
  )
  SELECT o.id FROM cutoffs c
  CROSS JOIN LATERAL (
    SELECT w.id FROM danube.workflows w
    WHERE ${FINISHED_WORKFLOW}
      AND w.tenant = c.tenant AND w.status = c.status
      AND w.finished_at < c.kept_since
      AND w.unfinished_nodes = 0
    ORDER BY w.finished_at, w.id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ) o
  LIMIT $2`;

/**
 * Deletes workflows $1 (locked) and their own events, and lists them for their nodes to
 * follow (DELETE_JOBS, DELETE_EDGES), a batch at a time. Once the row is gone nothing can
 * retry the workflow (and a node alone cannot be retried), so its nodes stay finished.
 */
export const DELETE_WORKFLOWS = `
  WITH events AS (
    DELETE FROM danube.events WHERE workflow_id = ANY($1::bigint[]) AND job_id IS NULL RETURNING 1
  ), nodes_next AS (
    INSERT INTO danube.retention_workflow_nodes (workflow_id)
    SELECT unnest($1::bigint[])
    ON CONFLICT DO NOTHING
  ), workflows AS (
    DELETE FROM danube.workflows WHERE id = ANY($1::bigint[]) RETURNING 1
  )
  SELECT (SELECT count(*) FROM workflows)::integer AS workflows,
         (SELECT count(*) FROM events)::integer AS events`;

/**
 * Up to $1 finished nodes of deleted workflows, locked: a range of jobs_by_workflow per
 * workflow, read in its order for the reason given at FORGET_EMPTIED_WORKFLOWS.
 */
export const SELECT_LEFTOVER_NODES = `
  SELECT n.id FROM danube.retention_workflow_nodes d
  CROSS JOIN LATERAL (
    SELECT j.id FROM danube.jobs j
    WHERE j.workflow_id = d.workflow_id AND j.status IN (${TERMINAL})
    ORDER BY j.node_name
    LIMIT $1
    FOR UPDATE SKIP LOCKED
  ) n
  LIMIT $1`;

/**
 * Deleted workflows none of whose nodes are left: done. A probe of jobs_by_workflow per
 * workflow: a scalar subquery (NOT EXISTS could become an anti-join over every job), in
 * the index's order (else a workflow of many nodes makes a scan that stops at its first
 * node look cheaper, and for a workflow with none left, that scan reads every job).
 */
export const FORGET_EMPTIED_WORKFLOWS = `
  DELETE FROM danube.retention_workflow_nodes d
  WHERE (SELECT j.id FROM danube.jobs j WHERE j.workflow_id = d.workflow_id
         ORDER BY j.node_name LIMIT 1) IS NULL`;

/** Artifact files still to remove (their rows are gone). */
export const SELECT_FILE_REMOVALS = `
  SELECT storage_key FROM danube.retention_file_removals LIMIT $1`;

export const FORGET_FILE_REMOVALS = `
  DELETE FROM danube.retention_file_removals WHERE storage_key = ANY($1::text[])`;

/** Whether any tenant caps its output: without a cap, the log pass reads nothing. */
export const ANY_LOG_CAP = `
  SELECT EXISTS (
    SELECT 1 FROM danube.retention_policies WHERE max_log_bytes_per_attempt IS NOT NULL
  ) AS capped`;

export const SELECT_LOG_CURSOR = `SELECT tx, seq FROM danube.retention_log_cursor`;

export const MOVE_LOG_CURSOR = `
  UPDATE danube.retention_log_cursor SET tx = $1::xid8, seq = $2::bigint, updated_at = now()`;

/**
 * The jobs that ended in the next $3 events after ($1, $2), read in the order and under the
 * rule of events.sql.ts (only transactions older than every one still running, so none is
 * missed), with the output cap of each that has one: its topic's rule, or its tenant's
 * default for a workflow node. A job retried since it ended is not finished and is left for
 * its next end. Also the position of the last event read, to move the cursor to.
 */
export const SELECT_ENDED_JOBS_TO_CAP = `
  WITH horizon AS MATERIALIZED (
    SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin
  ), page AS MATERIALIZED (
    SELECT e.tx, e.seq, e.type, e.job_id FROM danube.events e
    WHERE (e.tx, e.seq) > ($1::xid8, $2::bigint) AND e.tx < (SELECT xmin FROM horizon)
    ORDER BY e.tx, e.seq
    LIMIT $3
  ), ended AS (
    SELECT DISTINCT p.job_id FROM page p
    WHERE p.job_id IS NOT NULL
      AND p.type IN (${TERMINAL_STATUSES.map((s) => `'job_${s}'`).join(', ')})
  ), capped AS (
    SELECT j.id, p.max_log_bytes_per_attempt AS cap
    FROM ended x
    -- A primary-key probe per job (LIMIT keeps the planner from making a join of it, which
    -- it may do over a scan of every job).
    CROSS JOIN LATERAL (
      SELECT j.id, j.tenant, j.topic, j.workflow_id FROM danube.jobs j
      WHERE j.id = x.job_id AND j.status IN (${TERMINAL})
      LIMIT 1
    ) j
    ${policyOf('j.tenant', 'CASE WHEN j.workflow_id IS NULL THEN j.topic END')}
    WHERE p.max_log_bytes_per_attempt IS NOT NULL
  ), last AS (
    SELECT p.tx, p.seq FROM page p ORDER BY p.tx DESC, p.seq DESC LIMIT 1
  )
  SELECT (SELECT tx FROM last) AS tx, (SELECT seq FROM last) AS seq,
         (SELECT count(*) FROM page)::integer AS read,
         coalesce((SELECT array_agg(c.id ORDER BY c.id) FROM capped c), '{}') AS job_ids,
         coalesce((SELECT array_agg(c.cap ORDER BY c.id) FROM capped c), '{}') AS caps`;

/**
 * Caps the output stored per attempt of jobs $1 at $2 bytes each (the same position):
 * attempts over their cap keep the lines of their first half and of their last half, and
 * lose those in between. System lines (Danube's own notes) neither count nor go. Reads each
 * job's lines by job_logs_by_job. Returns, per attempt trimmed, where the first dropped line
 * was and what was dropped, for TRIM_NOTES.
 */
export const TRIM_LOGS = `
  WITH targets AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[]) AS t(job_id, cap)
  ), over AS (
    SELECT l.job_id, l.attempt, t.cap, sum(octet_length(l.line)) AS total
    FROM targets t JOIN danube.job_logs l ON l.job_id = t.job_id
    WHERE l.stream <> 'system'
    GROUP BY l.job_id, l.attempt, t.cap
    HAVING sum(octet_length(l.line)) > t.cap
  ), sized AS (
    SELECT l.id, o.cap, o.total, octet_length(l.line) AS bytes,
           sum(octet_length(l.line)) OVER (PARTITION BY l.job_id, l.attempt ORDER BY l.id) AS upto
    FROM over o JOIN danube.job_logs l ON l.job_id = o.job_id AND l.attempt = o.attempt
    WHERE l.stream <> 'system'
  ), gone AS (
    DELETE FROM danube.job_logs l USING sized s
    WHERE l.id = s.id
      AND s.upto > s.cap / 2                              -- past the first half
      AND s.total - s.upto + s.bytes > s.cap - s.cap / 2  -- before the last half
    RETURNING l.job_id, l.attempt, l.id, l.logged_at, s.bytes, s.cap
  )
  SELECT g.job_id, g.attempt, min(g.id) AS first_id,
         (array_agg(g.logged_at ORDER BY g.id))[1] AS first_at,
         count(*)::integer AS lines, sum(g.bytes)::bigint AS bytes, max(g.cap) AS cap
  FROM gone g
  GROUP BY g.job_id, g.attempt`;

/**
 * A system line where each trimmed attempt's dropped lines were (the id of the first of
 * them, free since it was deleted), saying what went: readers, who page by id, meet it in
 * the gap.
 */
export const TRIM_NOTES = `
  INSERT INTO danube.job_logs (id, job_id, attempt, stream, line, logged_at)
  OVERRIDING SYSTEM VALUE
  SELECT n.id, n.job_id, n.attempt, 'system',
         format('retention dropped %s lines (%s bytes) of this attempt''s output here: at most %s bytes are kept per attempt (maxLogBytesPerAttempt), the first and the last half',
                n.lines, n.bytes, n.cap),
         n.at
  FROM unnest($1::bigint[], $2::bigint[], $3::integer[], $4::timestamptz[], $5::integer[],
              $6::bigint[], $7::bigint[]) AS n(id, job_id, attempt, at, lines, bytes, cap)`;

/** A tenant's rules, its default (topic NULL) first. */
export const SELECT_POLICIES = `
  SELECT topic, keep_days, keep_failed_days, max_log_bytes_per_attempt
  FROM danube.retention_policies
  WHERE tenant = $1
  ORDER BY topic NULLS FIRST`;

/** Replacing a tenant's rules takes turns on its tenant row (two at once would collide). */
export const LOCK_TENANT = `SELECT 1 FROM danube.tenants WHERE name = $1 FOR UPDATE`;

export const DELETE_POLICIES = `DELETE FROM danube.retention_policies WHERE tenant = $1`;

export const INSERT_POLICIES = `
  INSERT INTO danube.retention_policies (tenant, topic, keep_days, keep_failed_days, max_log_bytes_per_attempt)
  SELECT $1, r.topic, r.keep_days, r.keep_failed_days, r.max_log_bytes_per_attempt
  FROM unnest($2::text[], $3::integer[], $4::integer[], $5::bigint[])
    AS r(topic, keep_days, keep_failed_days, max_log_bytes_per_attempt)`;

/**
 * Asks for a sweep from a replica that runs no chores itself: the job graphile-worker's own
 * addJob would add, in its schema (migrated by the replicas that run them), under the same
 * job key as the cron's, so that requests pending together make one sweep.
 */
export const ADD_SWEEP_JOB = `
  SELECT 1 FROM ${HOUSEKEEPING_SCHEMA}.add_job(
    identifier => $1::text, payload => '{}'::json, max_attempts => $2::int,
    job_key => $1::text, job_key_mode => 'replace')`;

/**
 * Deletes up to $2 finished deliveries (delivered or given up) of every webhook that its
 * tenant's default policy no longer keeps ($1: the built-in default in days; a failed one
 * is kept keepFailedDays). A delivery still being tried stays, however old.
 */
export const DELETE_OLD_DELIVERIES = `
  WITH doomed AS (
    SELECT d.id
    FROM danube.webhooks h
    ${policyOf('h.tenant', 'NULL')}
    CROSS JOIN LATERAL (
      SELECT d.id FROM danube.webhook_deliveries d
      WHERE d.webhook_id = h.id
        AND d.created_at < ${keptSince(`d.status = 'failed'`)}
        AND d.status <> 'pending'
      ORDER BY d.created_at, d.id
      LIMIT $2
    ) d
    LIMIT $2
  )
  DELETE FROM danube.webhook_deliveries x USING doomed WHERE x.id = doomed.id`;
