/**
 * Why an attempt did not succeed. Stored on the execution row and on the job.
 * - transient: the job failed in a way that may pass next time (non-zero exit, API 5xx)
 * - permanent: retrying cannot help (bad spec, image not allowed, exit code in noRetryExitCodes)
 * - timeout:   the attempt ran past timeoutSeconds
 * - cancelled: a user cancelled the job
 * - infra:     the executor or platform failed around the job (lost executor, spawn error, eviction)
 * - oom:       the attempt ran out of memory
 */
export const ERROR_CATEGORIES = [
  'transient',
  'permanent',
  'timeout',
  'cancelled',
  'infra',
  'oom',
] as const;

export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** Categories that a retry can fix, when attempts remain. */
export function isRetryable(category: ErrorCategory): boolean {
  return category !== 'permanent' && category !== 'cancelled';
}
