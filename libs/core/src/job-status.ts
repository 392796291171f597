/**
 * Every status a job can be in, in lifecycle order. Mirrored by the
 * `danube.job_status` enum in migrations/ (same names, same order).
 */
export const JOB_STATUSES = [
  'blocked',
  'queued',
  'claimed',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'skipped',
] as const;

export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = [
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'skipped',
];

/** Statuses in which an executor holds a lease on the job. */
export const LEASED_STATUSES: readonly JobStatus[] = ['claimed', 'running'];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === 'string' && (JOB_STATUSES as readonly string[]).includes(value);
}
