/**
 * Schedules and their runs (see migrations/0012_schedules.sql): the API's reads and writes,
 * and the statements of one fire, which all run in the fire's transaction.
 */

const SCHEDULE_COLUMNS = `
  s.id, s.tenant, s.name, s.cron, s.time_zone, s.target, s.overlap, s.catch_up,
  s.catch_up_limit, s.paused_at, s.next_fire_at, s.missed_fires, s.last_fired_at,
  s.last_job_id, s.last_workflow_id, s.created_at, s.updated_at`;

export const INSERT_SCHEDULE = `
  INSERT INTO danube.schedules AS s
    (tenant, name, cron, time_zone, target, overlap, catch_up, catch_up_limit, paused_at, next_fire_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9 THEN now() END, $10)
  ON CONFLICT ON CONSTRAINT schedules_name_unique DO NOTHING
  RETURNING ${SCHEDULE_COLUMNS}`;

export const SELECT_SCHEDULE = `
  SELECT ${SCHEDULE_COLUMNS} FROM danube.schedules s WHERE s.id = $1 AND s.tenant = $2`;

/** Newest first, by id, from before the cursor. */
export const LIST_SCHEDULES = `
  SELECT ${SCHEDULE_COLUMNS} FROM danube.schedules s
  WHERE s.tenant = $1 AND ($2::bigint IS NULL OR s.id < $2)
  ORDER BY s.id DESC
  LIMIT $3`;

/**
 * A partial update: NULL parameters keep the column. Pausing stamps paused_at; resuming
 * clears it and starts from the next fire time after now, which the caller computed
 * ($9), as it does after a new cron or time zone.
 */
export const UPDATE_SCHEDULE = `
  UPDATE danube.schedules s SET
    cron = coalesce($3, s.cron),
    time_zone = coalesce($4, s.time_zone),
    target = coalesce($5, s.target),
    overlap = coalesce($6, s.overlap),
    catch_up = coalesce($7, s.catch_up),
    catch_up_limit = coalesce($8, s.catch_up_limit),
    next_fire_at = coalesce($9, s.next_fire_at),
    paused_at = CASE WHEN $10::boolean IS NULL THEN s.paused_at
                     WHEN $10 THEN coalesce(s.paused_at, now())
                     ELSE NULL END,
    updated_at = now()
  WHERE s.id = $1 AND s.tenant = $2
  RETURNING ${SCHEDULE_COLUMNS}`;

export const DELETE_SCHEDULE = `
  DELETE FROM danube.schedules WHERE id = $1 AND tenant = $2 RETURNING id`;

export const SELECT_RUNS = `
  SELECT r.scheduled_at, r.fired_at, r.outcome, r.reason, r.job_id, r.workflow_id
  FROM danube.schedule_runs r
  WHERE r.schedule_id = $1
  ORDER BY r.scheduled_at DESC
  LIMIT $2`;

// --- One fire, in one transaction ---------------------------------------------------

/**
 * The next due schedule, locked for this fire. Replicas skip each other's: a schedule
 * being fired by one is not waited for by another. now() is the fire's clock.
 */
export const LOCK_DUE_SCHEDULE = `
  SELECT ${SCHEDULE_COLUMNS}, now() AS now
  FROM danube.schedules s
  WHERE s.paused_at IS NULL AND s.next_fire_at <= now()
  ORDER BY s.next_fire_at
  LIMIT 1
  FOR UPDATE SKIP LOCKED`;

/** Whether the run started last is unfinished (a job or workflow deleted by retention is not). */
export const PREVIOUS_RUN_UNFINISHED = `
  SELECT coalesce(
    (SELECT j.status NOT IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'skipped')
       FROM danube.jobs j WHERE j.id = $1),
    (SELECT w.status = 'running' FROM danube.workflows w WHERE w.id = $2),
    false) AS unfinished`;

/** A scheduled time's run; nothing when that time was recorded already. */
export const INSERT_RUN = `
  INSERT INTO danube.schedule_runs (schedule_id, scheduled_at, outcome, reason, job_id, workflow_id)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (schedule_id, scheduled_at) DO NOTHING
  RETURNING scheduled_at`;

export const FIRED_EVENT = `
  INSERT INTO danube.events (type, tenant, job_id, workflow_id, topic, data)
  VALUES ('schedule_fired', $1, $2, $3, $4, $5)`;

export const ADVANCE_SCHEDULE = `
  UPDATE danube.schedules SET
    next_fire_at = $2,
    missed_fires = missed_fires + $3,
    last_fired_at = coalesce($4, last_fired_at),
    last_job_id = CASE WHEN $5::bigint IS NOT NULL OR $6::bigint IS NOT NULL THEN $5 ELSE last_job_id END,
    last_workflow_id = CASE WHEN $5::bigint IS NOT NULL OR $6::bigint IS NOT NULL THEN $6 ELSE last_workflow_id END
  WHERE id = $1`;

/** Keeps each schedule's newest runs only. */
export const PRUNE_RUNS = `
  DELETE FROM danube.schedule_runs r
  WHERE r.schedule_id = $1
    AND r.scheduled_at < (
      SELECT k.scheduled_at FROM danube.schedule_runs k
      WHERE k.schedule_id = $1
      ORDER BY k.scheduled_at DESC
      OFFSET $2 - 1 LIMIT 1)`;

/** When the loop must look again: the earliest fire of an active schedule. */
export const NEXT_FIRE = `
  SELECT min(next_fire_at) AS next_fire_at FROM danube.schedules WHERE paused_at IS NULL`;
