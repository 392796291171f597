-- Up Migration
-- How many of an executor's attempts wait for their code to start (Kubernetes pods Pending
-- for a node), and how many may: an executor at that bound claims nothing, which
-- GET /v1/jobs/:id/why must count as a full executor, not as free slots.

ALTER TABLE danube.executors ADD COLUMN waiting integer NOT NULL DEFAULT 0;
ALTER TABLE danube.executors ADD COLUMN max_waiting integer;
COMMENT ON COLUMN danube.executors.waiting IS
  'Attempts whose code has not started yet (pods Pending), as of the last heartbeat.';
COMMENT ON COLUMN danube.executors.max_waiting IS
  'How many attempts may wait to start at once (maxPendingJobs); null: no bound.';
