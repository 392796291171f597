-- Up Migration
-- The job queue and its record: one row per job, one row per attempt.

CREATE SCHEMA IF NOT EXISTS danube;

-- Lifecycle order; mirrored by JOB_STATUSES in libs/core/src/job-status.ts.
CREATE TYPE danube.job_status AS ENUM (
  'blocked', 'queued', 'claimed', 'running',
  'succeeded', 'failed', 'timed_out', 'cancelled', 'skipped'
);

-- Mirrored by ERROR_CATEGORIES in libs/core/src/error-category.ts.
CREATE TYPE danube.error_category AS ENUM (
  'transient', 'permanent', 'timeout', 'cancelled', 'infra', 'oom'
);

CREATE TABLE danube.jobs (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant              text NOT NULL DEFAULT 'default',
  topic               text NOT NULL,
  task_class          text NOT NULL,
  status              danube.job_status NOT NULL DEFAULT 'queued',
  priority            integer NOT NULL DEFAULT 0,
  run_at              timestamptz NOT NULL DEFAULT now(),
  attempts            integer NOT NULL DEFAULT 0,
  max_attempts        integer NOT NULL,
  timeout_seconds     integer NOT NULL,
  spec                jsonb NOT NULL,
  labels              jsonb NOT NULL DEFAULT '{}',
  idempotency_key     text,
  -- The lease: who holds the job, the fencing token every write must present, and until when.
  lease_owner         text,
  lease_token         uuid,
  lease_expires_at    timestamptz,
  -- Where the current attempt runs (a Kubernetes Job name, a host and pid), kept across
  -- lease expiry so that the next executor can adopt the attempt instead of starting it again.
  runtime_ref         text,
  progress            smallint,
  status_message      text,
  result              jsonb,
  error               jsonb,
  cancel_requested_at timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  claimed_at          timestamptz,
  started_at          timestamptz,
  finished_at         timestamptz,
  CONSTRAINT jobs_topic_not_empty CHECK (topic <> ''),
  CONSTRAINT jobs_attempts_valid CHECK (attempts >= 0 AND max_attempts >= 1),
  CONSTRAINT jobs_lease_complete CHECK ((lease_token IS NULL) = (lease_owner IS NULL))
);

-- Every status change writes a new row version into every index whose predicate it
-- matches (status is in the predicates, so these updates are never HOT): each index here
-- is paid for on the hot path, which is why there are few.

-- The claim path: one index range per topic, read in claim order. Executors serving ALL
-- topics enumerate the topics with queued jobs from this same index (a loose index scan).
CREATE INDEX jobs_claim ON danube.jobs (topic, priority DESC, run_at, id)
  WHERE status = 'queued';
-- The reaper's scan for expired leases: only leased rows, a number bounded by the fleet's
-- capacity. Not keyed on lease_expires_at, so that renewing a lease stays a HOT update.
CREATE INDEX jobs_leased ON danube.jobs (lease_owner) WHERE status IN ('claimed', 'running');
CREATE UNIQUE INDEX jobs_idempotency ON danube.jobs (tenant, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
-- No index for listing (GET /v1/jobs?topic=&status=): every index costs every transition
-- of every job, and listings read newest-first along the primary key instead.

-- executions and job_logs carry no foreign key to jobs: checking one costs a row lock on
-- the job for every attempt and log batch recorded, on the hottest path there is. They are
-- written only by the statements that finish attempts (fenced by lease), and deleted with
-- their jobs by retention.
CREATE TABLE danube.executions (
  job_id         bigint NOT NULL,
  attempt        integer NOT NULL,
  executor_id    text NOT NULL,
  runtime        text NOT NULL,
  runtime_ref    text,
  outcome        danube.job_status NOT NULL,
  error_category danube.error_category,
  message        text,
  exit_code      integer,
  stderr_tail    text,
  started_at     timestamptz,
  finished_at    timestamptz NOT NULL DEFAULT now(),
  -- One row per attempt: an attempt is numbered once, by the claim that starts it.
  PRIMARY KEY (job_id, attempt),
  CONSTRAINT executions_outcome_valid
    CHECK (outcome IN ('succeeded', 'failed', 'timed_out', 'cancelled'))
);

-- Log lines of each attempt, written in batches by the executor.
CREATE TABLE danube.job_logs (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id    bigint NOT NULL,
  attempt   integer NOT NULL,
  stream    text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
  line      text NOT NULL,
  logged_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_logs_by_job ON danube.job_logs (job_id, id);

-- The executor fleet: each process registers, heartbeats and deregisters.
CREATE TABLE danube.executors (
  id             text PRIMARY KEY,
  topics         text[] NOT NULL,
  host           text NOT NULL,
  pid            integer NOT NULL,
  version        text NOT NULL,
  runtime        text NOT NULL,
  capacity       integer NOT NULL,
  running        integer NOT NULL DEFAULT 0,
  started_at     timestamptz NOT NULL DEFAULT now(),
  heartbeat_at   timestamptz NOT NULL DEFAULT now(),
  stopped_at     timestamptz
);
