-- Up Migration
-- job_transition_events, same events, cheaper to run.
--
-- PL/pgSQL caches the plan of the trigger's query after a few calls. The transition
-- tables have no statistics, so that plan was chosen for whatever batch size came first:
-- after a one-row statement, a nested loop over old_jobs x new_jobs, which later
-- statements of a few hundred rows paid for quadratically. enable_nestloop = off inside
-- the function keeps the join a hash join whatever the first batch was. The CROSS JOIN
-- LATERAL (VALUES ...) that built both events of a row became a UNION ALL of two plain
-- selects, so that no jsonb is built for a row that gets no event.
CREATE OR REPLACE FUNCTION danube.job_transition_events() RETURNS trigger
LANGUAGE plpgsql SET enable_nestloop = off AS $$
BEGIN
  INSERT INTO danube.events (type, job_id, workflow_id, topic, attempt, data)
  SELECT e.type, e.id, e.workflow_id, e.topic, e.attempts, e.data
  FROM (
    -- 'claimed' is not an event; an attempt whose start and end were recorded together
    -- still gets its job_started before its end.
    SELECT 1 AS ord, 'job_started' AS type, n.id, n.workflow_id, n.topic, n.attempts,
           NULL::jsonb AS data
    FROM new_jobs n JOIN old_jobs o ON o.id = n.id
    WHERE n.status IS DISTINCT FROM o.status
      AND (n.status = 'running'
           OR (o.status = 'claimed' AND n.status IN ('succeeded', 'failed', 'timed_out')))
    UNION ALL
    SELECT 2,
           CASE WHEN n.status <> 'queued' THEN 'job_' || n.status
                WHEN o.status IN ('claimed', 'running') THEN 'job_retrying'
                ELSE 'job_queued' END,
           n.id, n.workflow_id, n.topic, n.attempts,
           jsonb_strip_nulls(jsonb_build_object(
             'from', o.status,
             'error', n.error,
             'retryAt', CASE WHEN n.status = 'queued' AND o.status IN ('claimed', 'running') THEN n.run_at END,
             'skipReason', n.skip_reason))
    FROM new_jobs n JOIN old_jobs o ON o.id = n.id
    WHERE n.status IS DISTINCT FROM o.status AND n.status NOT IN ('claimed', 'running')
  ) e
  ORDER BY e.id, e.ord;
  RETURN NULL;
END $$;
