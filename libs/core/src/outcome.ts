import type { ErrorCategory } from './error-category';

/** How one attempt ended, as reported by a runtime. Outcomes are values, never exceptions. */
export type Outcome =
  | { kind: 'succeeded'; exitCode: number; result?: unknown }
  | { kind: 'failed'; category: ErrorCategory; message: string; exitCode?: number | null }
  | { kind: 'timed_out'; message: string }
  | { kind: 'cancelled'; message: string };
