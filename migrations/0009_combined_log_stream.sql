-- Up Migration
-- A Kubernetes container's log holds the job's stdout and stderr as one stream, in the order
-- written, without saying which line came from which: such lines are stored as 'combined'
-- instead of being passed off as stdout. NOT VALID then VALIDATE: the rows are checked
-- without holding off the executors' writes.

ALTER TABLE danube.job_logs DROP CONSTRAINT job_logs_stream_check;
ALTER TABLE danube.job_logs ADD CONSTRAINT job_logs_stream_check
  CHECK (stream IN ('stdout', 'stderr', 'combined', 'system')) NOT VALID;
ALTER TABLE danube.job_logs VALIDATE CONSTRAINT job_logs_stream_check;
