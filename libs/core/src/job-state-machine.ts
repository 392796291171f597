import { JobStatus } from './job-status';
import { InvalidTransitionError } from './errors';

/**
 * The job state machine. Each SQL transition in libs/queue is guarded by
 * `status = ANY(fromStatuses(to))`, so this table is the single source of truth:
 * a transition that is not listed here cannot happen in the database either.
 *
 *   blocked -> queued                      parents done (DAG)
 *   queued  -> claimed                     an executor took a lease
 *   claimed -> running                     the runtime started the attempt
 *   claimed|running -> queued              retry after a failed attempt, or lease expired (reaper)
 *   claimed|running -> succeeded|failed|timed_out|cancelled
 *   blocked|queued -> cancelled|skipped    cancelled before it ran, or an ancestor failed
 *   failed|timed_out|cancelled|skipped -> queued   manual retry
 *   failed|timed_out|cancelled|skipped -> blocked  a workflow's retry: the node waits for
 *                                                  its parents that run again
 *
 * Where a statement writes its guard out (for the planner to use a partial index), a test
 * (test/state-machine-guards.int-spec.ts) runs it on a job in every status and checks that
 * it moves only what this table allows.
 */
const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  blocked: ['queued', 'cancelled', 'skipped'],
  queued: ['claimed', 'cancelled', 'skipped'],
  claimed: ['running', 'queued', 'succeeded', 'failed', 'timed_out', 'cancelled'],
  running: ['queued', 'succeeded', 'failed', 'timed_out', 'cancelled'],
  succeeded: [],
  failed: ['queued', 'blocked'],
  timed_out: ['queued', 'blocked'],
  cancelled: ['queued', 'blocked'],
  skipped: ['queued', 'blocked'],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(jobId: string, from: JobStatus, to: JobStatus): void {
  if (!canTransition(from, to)) {
    throw new InvalidTransitionError(jobId, from, to);
  }
}

/** The statuses from which `to` may be entered; used to guard SQL updates. */
export function fromStatuses(to: JobStatus): JobStatus[] {
  return (Object.keys(TRANSITIONS) as JobStatus[]).filter((from) => TRANSITIONS[from].includes(to));
}
