-- Up Migration
-- Events: every job and workflow transition, in order, for GET /v1/events (and its SSE form).
--
-- Written by statement-level triggers from the transition tables, so each statement that
-- moves jobs (a claim batch, a finish batch, a bulk insert) adds its events with one
-- INSERT, in the same transaction, whatever path moved them.
--
-- Order: seq numbers events, but a transaction that took lower numbers can commit after
-- one that took higher ones. Readers therefore go by (tx, seq) and only read events of
-- transactions older than every transaction still running (pg_snapshot_xmin): all those
-- have ended, and any event still to come belongs to a later position. See events.sql.ts.
CREATE TABLE danube.events (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tx          xid8 NOT NULL DEFAULT pg_current_xact_id(),
  type        text NOT NULL,
  job_id      bigint,
  workflow_id bigint,
  topic       text,
  attempt     integer,
  data        jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_position ON danube.events (tx, seq);
CREATE INDEX events_by_job ON danube.events (job_id, seq) WHERE job_id IS NOT NULL;
CREATE INDEX events_by_workflow ON danube.events (workflow_id, seq) WHERE workflow_id IS NOT NULL;

CREATE FUNCTION danube.job_inserted_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO danube.events (type, job_id, workflow_id, topic, attempt, data)
  SELECT 'job_' || n.status, n.id, n.workflow_id, n.topic, n.attempts,
         jsonb_strip_nulls(jsonb_build_object('nodeName', n.node_name, 'parentJobId', n.parent_job_id))
  FROM new_jobs n
  ORDER BY n.id;
  RETURN NULL;
END $$;

-- 'claimed' is not an event; an attempt whose start and end were recorded together still
-- gets its job_started before its end.
CREATE FUNCTION danube.job_transition_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO danube.events (type, job_id, workflow_id, topic, attempt, data)
  SELECT e.type, n.id, n.workflow_id, n.topic, n.attempts, e.data
  FROM new_jobs n
  JOIN old_jobs o ON o.id = n.id
  CROSS JOIN LATERAL (VALUES
    (1, CASE WHEN n.status = 'running'
               OR (o.status = 'claimed' AND n.status IN ('succeeded', 'failed', 'timed_out'))
             THEN 'job_started' END,
        NULL::jsonb),
    (2, CASE n.status
          WHEN 'queued' THEN CASE WHEN o.status IN ('claimed', 'running') THEN 'job_retrying' ELSE 'job_queued' END
          WHEN 'blocked' THEN 'job_blocked'
          WHEN 'succeeded' THEN 'job_succeeded'
          WHEN 'failed' THEN 'job_failed'
          WHEN 'timed_out' THEN 'job_timed_out'
          WHEN 'cancelled' THEN 'job_cancelled'
          WHEN 'skipped' THEN 'job_skipped'
        END,
        jsonb_strip_nulls(jsonb_build_object(
          'from', o.status,
          'error', n.error,
          'retryAt', CASE WHEN n.status = 'queued' AND o.status IN ('claimed', 'running') THEN n.run_at END,
          'skipReason', n.skip_reason)))
  ) AS e(ord, type, data)
  WHERE n.status IS DISTINCT FROM o.status AND e.type IS NOT NULL
  ORDER BY n.id, e.ord;
  RETURN NULL;
END $$;

CREATE TRIGGER jobs_inserted_events AFTER INSERT ON danube.jobs
  REFERENCING NEW TABLE AS new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION danube.job_inserted_events();

CREATE TRIGGER jobs_transition_events AFTER UPDATE ON danube.jobs
  REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION danube.job_transition_events();

CREATE FUNCTION danube.workflow_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO danube.events (type, workflow_id, data)
    SELECT 'workflow_started', n.id, jsonb_build_object('name', n.name, 'nodeCount', n.node_count)
    FROM new_workflows n ORDER BY n.id;
  ELSE
    INSERT INTO danube.events (type, workflow_id, data)
    SELECT CASE WHEN n.status = 'running' THEN 'workflow_retried' ELSE 'workflow_' || n.status END,
           n.id, jsonb_build_object('name', n.name, 'from', o.status, 'failedNodes', n.failed_nodes)
    FROM new_workflows n JOIN old_workflows o ON o.id = n.id
    WHERE n.status IS DISTINCT FROM o.status
    ORDER BY n.id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER workflows_inserted_events AFTER INSERT ON danube.workflows
  REFERENCING NEW TABLE AS new_workflows
  FOR EACH STATEMENT EXECUTE FUNCTION danube.workflow_events();

CREATE TRIGGER workflows_transition_events AFTER UPDATE ON danube.workflows
  REFERENCING OLD TABLE AS old_workflows NEW TABLE AS new_workflows
  FOR EACH STATEMENT EXECUTE FUNCTION danube.workflow_events();
