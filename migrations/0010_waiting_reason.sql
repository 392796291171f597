-- Up Migration
-- Why a running attempt's code has not started yet, as its runtime says (a Kubernetes pod
-- the scheduler cannot place: its message), for GET /v1/jobs/:id/why. Set and cleared by
-- the executor that holds the lease; cleared when the attempt ends.

ALTER TABLE danube.jobs ADD COLUMN waiting_reason text;
COMMENT ON COLUMN danube.jobs.waiting_reason IS
  'While a running attempt waits to start (a pod Pending for a node): why, in words; else null.';
