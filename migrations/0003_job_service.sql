-- Up Migration
-- What jobs reach through the JobService: secrets, artifacts, and steps (child jobs).

-- Secret values, encrypted with AES-256-GCM under the key named by key_id; the name is the
-- additional authenticated data, so a ciphertext cannot be moved to another name.
CREATE TABLE danube.secrets (
  name       text PRIMARY KEY,
  key_id     text NOT NULL,
  nonce      bytea NOT NULL,
  ciphertext bytea NOT NULL,
  auth_tag   bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Files uploaded by attempts; the bytes live in the artifact store under storage_key.
CREATE TABLE danube.artifacts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id       bigint NOT NULL,
  attempt      integer NOT NULL,
  path         text NOT NULL,
  content_type text NOT NULL,
  size         bigint NOT NULL,
  sha256       text NOT NULL,
  storage_key  text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- Uploading the same path again in the same attempt replaces the earlier file.
  CONSTRAINT artifacts_one_per_path UNIQUE (job_id, attempt, path)
);

-- A step is a job started by another job's RunStep call; it runs in its parent's workflow.
ALTER TABLE danube.jobs ADD COLUMN parent_job_id bigint;
CREATE INDEX jobs_by_parent ON danube.jobs (parent_job_id) WHERE parent_job_id IS NOT NULL;

-- RunStep callers wait for their step to end: tell them when it does. Only steps notify,
-- so other jobs' transitions pay for the WHEN test alone.
CREATE FUNCTION danube.notify_step_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('danube_steps', NEW.id::text);
  RETURN NULL;
END $$;

CREATE TRIGGER jobs_step_ended
  AFTER UPDATE OF status ON danube.jobs
  FOR EACH ROW
  WHEN (NEW.parent_job_id IS NOT NULL
        AND NEW.status IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'skipped')
        AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION danube.notify_step_ended();
