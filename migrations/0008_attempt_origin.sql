-- Up Migration
-- Who started an attempt and who adopted it, so that an adopted attempt's record names the
-- executor that started it (and when), not only the one that saw it end; and how long each
-- executor's lease lasts, by which it counts as lost once its heartbeat stops.

ALTER TABLE danube.jobs ADD COLUMN started_by text;
COMMENT ON COLUMN danube.jobs.started_by IS
  'The executor that started the current (or last) attempt; kept when another adopts it.';

ALTER TABLE danube.executions ADD COLUMN adopted_by text;
COMMENT ON COLUMN danube.executions.adopted_by IS
  'Set when the attempt outlived the executor that started it (executor_id, a Kubernetes Job) '
  'and this executor adopted it and recorded its end.';

ALTER TABLE danube.executors ADD COLUMN lease_ms integer NOT NULL DEFAULT 30000;
COMMENT ON COLUMN danube.executors.lease_ms IS
  'The executor''s lease duration: with no heartbeat for that long, its leases expire and it '
  'counts as lost.';
