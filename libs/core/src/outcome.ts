import type { ErrorCategory } from './error-category';
import { JobSpecError } from './errors';

/** How one attempt ended, as reported by a runtime. Outcomes are values, never exceptions. */
export type Outcome =
  /** `warning`: something the attempt's record should say though it succeeded (a result ignored). */
  | { kind: 'succeeded'; exitCode: number; result?: unknown; warning?: string }
  | { kind: 'failed'; category: ErrorCategory; message: string; exitCode?: number | null }
  | { kind: 'timed_out'; message: string }
  | { kind: 'cancelled'; message: string };

/**
 * Why an executor stops an attempt before it ends by itself. `lease_lost`: another
 * executor holds the job now. `lease_expiring`: the executor could not renew its lease
 * (Postgres out of reach, or the executor stalled) and must stop before the lease ends.
 */
export type StopReason = 'cancelled' | 'timeout' | 'lease_lost' | 'lease_expiring' | 'shutdown';

/** The outcome of an attempt that the executor stopped, by reason. */
export function stoppedOutcome(reason: StopReason, timeoutSeconds: number): Outcome {
  switch (reason) {
    case 'cancelled':
      return { kind: 'cancelled', message: 'cancelled by request' };
    case 'timeout':
      return {
        kind: 'timed_out',
        message: `ran longer than timeoutSeconds (${timeoutSeconds} s) and was stopped`,
      };
    case 'lease_lost':
      return {
        kind: 'failed',
        category: 'infra',
        message: 'the executor lost its lease on the job and stopped the attempt',
      };
    case 'lease_expiring':
      return {
        kind: 'failed',
        category: 'infra',
        message:
          'the executor could not renew its lease (Postgres out of reach, or the executor stalled) and stopped the attempt before the lease ran out',
      };
    case 'shutdown':
      return {
        kind: 'failed',
        category: 'infra',
        message: 'the executor shut down before the attempt finished',
      };
  }
}

/**
 * An attempt that could not even start: permanent when the job's spec cannot be satisfied
 * (it would fail the same way every time: a secret it maps is missing, no image), else infra.
 */
export function startFailure(error: unknown): Outcome {
  return {
    kind: 'failed',
    category: error instanceof JobSpecError ? 'permanent' : 'infra',
    message: `could not start the attempt: ${error instanceof Error ? error.message : String(error)}`,
  };
}
