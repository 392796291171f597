-- Up Migration
-- What runtime_ref and executions mean since every attempt that may have run is recorded
-- (the reaper writes the record of an attempt whose executor was lost). No data changes.

COMMENT ON COLUMN danube.jobs.runtime_ref IS
  'Where the current attempt runs on without its executor (a Kubernetes Job), for the next '
  'claimer to adopt; kept across lease expiry. A local process is never adopted, so its ref '
  'is recorded on the attempt''s execution row only.';

COMMENT ON TABLE danube.executions IS
  'One row per attempt number a job used: written by the executor that ran the attempt when '
  'it ends (fenced by lease token), or by the reaper when its lease expired first (infra, '
  'naming the executor that held it; the attempt may have run).';
