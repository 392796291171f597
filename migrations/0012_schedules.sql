-- Up Migration
-- Schedules: a job or a workflow started on a cron expression in a time zone.
--
-- The API's housekeeping (graphile-worker) fires them. Each fire is one transaction: it
-- takes the schedule's row lock (FOR UPDATE SKIP LOCKED, so replicas share the work and
-- never wait on each other), records the run under its scheduled time (the primary key
-- below), stores the job or workflow, and moves next_fire_at on. Two replicas, or a fire
-- retried after a crash, can therefore never start the same run twice.
CREATE TABLE danube.schedules (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant         text NOT NULL REFERENCES danube.tenants (name),
  name           text NOT NULL,
  -- 5 fields (minute first) or 6 (second first); checked by the API with cron-parser.
  cron           text NOT NULL,
  -- An IANA time zone name; fire times follow its clock, daylight saving included.
  time_zone      text NOT NULL,
  -- {"job": {...}} or {"workflow": {...}}: what POST /v1/jobs or /v1/workflows would take.
  target         jsonb NOT NULL,
  overlap        text NOT NULL CHECK (overlap IN ('allow', 'skip', 'cancel_previous')),
  catch_up       text NOT NULL CHECK (catch_up IN ('none', 'all')),
  catch_up_limit integer NOT NULL CHECK (catch_up_limit BETWEEN 1 AND 1000),
  paused_at      timestamptz,
  next_fire_at   timestamptz NOT NULL,
  -- Fires that were not run because they were too late (catch-up none, or past its limit).
  missed_fires   bigint NOT NULL DEFAULT 0,
  last_fired_at  timestamptz,
  -- The run started last, which the overlap policy looks at (skip, cancel_previous).
  last_job_id      bigint,
  last_workflow_id bigint,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedules_name_unique UNIQUE (tenant, name),
  CONSTRAINT schedules_target_kind CHECK (target ? 'job' OR target ? 'workflow')
);
-- The fire loop's question: which active schedules are due, and when is the next one.
CREATE INDEX schedules_due ON danube.schedules (next_fire_at) WHERE paused_at IS NULL;

-- One row per scheduled time that came due: started (with the job or workflow it
-- started) or skipped (overlap). The newest runs of each schedule are kept.
CREATE TABLE danube.schedule_runs (
  schedule_id  bigint NOT NULL REFERENCES danube.schedules (id) ON DELETE CASCADE,
  scheduled_at timestamptz NOT NULL,
  fired_at     timestamptz NOT NULL DEFAULT now(),
  outcome      text NOT NULL CHECK (outcome IN ('started', 'skipped')),
  reason       text,
  job_id       bigint,
  workflow_id  bigint,
  PRIMARY KEY (schedule_id, scheduled_at)
);
