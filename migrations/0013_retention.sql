-- Up Migration
-- Retention: how long each tenant keeps finished jobs (per topic if it likes), and what the
-- sweep (libs/housekeeping/src/retention) needs to delete them a bounded batch at a time.

-- A tenant's policy: its default (topic NULL) and per-topic overrides. A tenant without a
-- default row has the API's built-in default (RETENTION_DAYS). A topic override is whole:
-- it does not inherit the fields it leaves out from the default.
CREATE TABLE danube.retention_policies (
  tenant                    text NOT NULL REFERENCES danube.tenants (name) ON DELETE CASCADE,
  topic                     text,
  keep_days                 integer NOT NULL CHECK (keep_days BETWEEN 1 AND 36500),
  -- Failed and timed-out jobs (and failed workflows) are kept this long instead; NULL: keep_days.
  keep_failed_days          integer,
  -- Most bytes of output stored per attempt of a finished job; NULL: no cap.
  max_log_bytes_per_attempt bigint CHECK (max_log_bytes_per_attempt >= 1024),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT retention_policies_topic_not_empty CHECK (topic <> ''),
  CONSTRAINT retention_policies_failed_longer CHECK (keep_failed_days BETWEEN keep_days AND 36500)
);
CREATE UNIQUE INDEX retention_policies_key ON danube.retention_policies (tenant, coalesce(topic, ''));

-- Finished jobs outside workflows, by policy group and age: the sweep finds the (tenant,
-- topic, status) groups with a loose index scan and reads each group's old end as one
-- range, so every entry it reads is one it deletes (a step whose parent still runs is the
-- exception), however many younger jobs the group keeps. Workflow nodes are left out: they
-- go with their workflow.
--
-- What it costs the hot path: one index entry per job, written when the job reaches its
-- final status. That update is never HOT anyway (status is in the predicates of the claim
-- indexes), and no other update changes a column this index holds while the job is not
-- finished: inserts, claims, starts and lease renewals write nothing here.
--
-- IF NOT EXISTS: migrations run in one transaction, so this is a plain CREATE INDEX, which
-- holds off writes to danube.jobs while it is built. On a large jobs table, build it first
-- by hand, with the same definition, CREATE INDEX CONCURRENTLY; this line then does nothing.
CREATE INDEX IF NOT EXISTS jobs_retention ON danube.jobs (tenant, topic, status, finished_at, id)
  WHERE status IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'skipped')
    AND workflow_id IS NULL;

-- Finished workflows by tenant, status and age, read the same way. One entry per workflow,
-- written when it ends.
CREATE INDEX IF NOT EXISTS workflows_retention ON danube.workflows (tenant, status, finished_at, id)
  WHERE status IN ('succeeded', 'failed', 'cancelled');

-- Workflows the sweep deleted whose nodes it is still deleting, at most a batch of jobs per
-- transaction: a workflow may have more nodes than a batch holds. The workflow row goes
-- first, so that nothing can retry it once its deletion has begun.
CREATE TABLE danube.retention_workflow_nodes (
  workflow_id bigint PRIMARY KEY,
  deleted_at  timestamptz NOT NULL DEFAULT now()
);

-- Artifact files whose rows the sweep deleted, written in the same transaction. The files
-- are removed after it commits, and their keys forgotten once they are: a sweep that stops
-- in between leaves the keys here for the next one, never a file nobody knows of.
CREATE TABLE danube.retention_file_removals (
  storage_key text PRIMARY KEY,
  queued_at   timestamptz NOT NULL DEFAULT now()
);

-- How far the log cap has read danube.events (in the order of events.sql.ts): the jobs that
-- ended since are the ones whose attempts it checks. It starts at the beginning, so a cap
-- set later also reaches the jobs already kept, a bounded number of events per sweep.
CREATE TABLE danube.retention_log_cursor (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  tx         xid8 NOT NULL,
  seq        bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO danube.retention_log_cursor (tx, seq) VALUES ('0', 0);

-- The sweep deletes the oldest rows, so the tables' ends rarely empty out; when they do,
-- autovacuum's truncation would take an ACCESS EXCLUSIVE lock on the hottest tables, which
-- the claim and the executors' writes queue behind. The freed pages are reused instead.
ALTER TABLE danube.jobs SET (vacuum_truncate = false);
ALTER TABLE danube.job_logs SET (vacuum_truncate = false);
ALTER TABLE danube.executions SET (vacuum_truncate = false);
ALTER TABLE danube.events SET (vacuum_truncate = false);
