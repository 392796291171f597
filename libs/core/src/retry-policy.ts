import { isRetryable, type ErrorCategory } from './error-category';
import type { BackoffPolicy } from './job';
import type { JobStatus } from './job-status';
import type { Outcome, StopReason } from './outcome';

/**
 * Delay before attempt `attempt + 1`, after `attempt` attempts have run.
 * Exponential, capped, with "equal jitter": half the delay is fixed and half random.
 * Unlike full jitter this keeps the gaps growing from one attempt to the next
 * whenever factor >= 2, while still spreading a burst of failures apart.
 */
export function backoffDelayMs(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxSeconds, policy.initialSeconds * policy.factor ** exponent);
  const delayMs = capped * 1000;
  return Math.round(delayMs / 2 + random() * (delayMs / 2));
}

export interface RetryContext {
  attempts: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
  noRetryExitCodes: readonly number[];
}

export type AttemptVerdict =
  | { status: 'succeeded' }
  /** retryAt null: back to the queue in the job's old place (priority, run_at, id). */
  | { status: 'queued'; category: ErrorCategory; retryAt: Date | null }
  | { status: Exclude<JobStatus, 'succeeded' | 'queued'>; category: ErrorCategory };

/** The category of a failed outcome, after applying the job's noRetryExitCodes. */
export function categorise(
  outcome: Outcome,
  noRetryExitCodes: readonly number[],
): ErrorCategory | null {
  switch (outcome.kind) {
    case 'succeeded':
      return null;
    case 'timed_out':
      return 'timeout';
    case 'cancelled':
      return 'cancelled';
    case 'failed':
      if (outcome.exitCode != null && noRetryExitCodes.includes(outcome.exitCode)) {
        return 'permanent';
      }
      return outcome.category;
  }
}

/**
 * What happens to a job after one attempt ends: done, or queued again after a backoff. An
 * attempt the executor stopped because it shut down, or could not keep its lease, goes back
 * to the queue at once in its old place, whatever attempts remain: not the job's fault.
 */
export function judgeAttempt(
  job: RetryContext,
  outcome: Outcome,
  now: Date = new Date(),
  random: () => number = Math.random,
  stopReason: StopReason | null = null,
): AttemptVerdict {
  // Stopped by the executor (shutting down, or unsure of its lease): back in the queue in
  // its old place, unless it had already succeeded; then it ran to its end, and must not
  // run again.
  if (
    (stopReason === 'shutdown' || stopReason === 'lease_expiring') &&
    outcome.kind !== 'succeeded'
  ) {
    return { status: 'queued', category: 'infra', retryAt: null };
  }
  const category = categorise(outcome, job.noRetryExitCodes);
  if (category === null) return { status: 'succeeded' };
  if (isRetryable(category) && job.attempts < job.maxAttempts) {
    const delay = backoffDelayMs(job.backoff, job.attempts, random);
    return { status: 'queued', category, retryAt: new Date(now.getTime() + delay) };
  }
  const status =
    outcome.kind === 'timed_out'
      ? 'timed_out'
      : outcome.kind === 'cancelled'
        ? 'cancelled'
        : 'failed';
  return { status, category };
}
