import type { ClaimedJob, ErrorCategory, JobStatus } from '@danube/core';

/**
 * What the queue's repositories take and give besides jobs themselves: jobs to insert,
 * attempt starts and ends, log lines, execution records, lease renewals.
 */

/** A job ready for INSERT_JOBS: every default already filled in. */
export interface JobInsert {
  tenant: string;
  topic: string;
  task_class: string;
  priority: number;
  run_at: string | null;
  max_attempts: number;
  timeout_seconds: number;
  spec: Record<string, unknown>;
  labels: Record<string, string>;
  idempotency_key: string | null;
}

export interface AttemptStart {
  id: string;
  leaseToken: string;
  startedAt: Date;
  runtimeRef: string | null;
  /** Adopting an attempt another executor started: the job keeps its started_by. */
  adopted?: boolean;
}

/** One attempt's end, with the job's next status already decided (see judgeAttempt). */
export interface AttemptFinish {
  id: string;
  leaseToken: string;
  attempt: number;
  nextStatus: JobStatus;
  outcome: 'succeeded' | 'failed' | 'timed_out' | 'cancelled';
  retryAt: Date | null;
  errorCategory: ErrorCategory | null;
  message: string | null;
  exitCode: number | null;
  stderrTail: string | null;
  result: unknown;
  runtimeRef: string | null;
  startedAt: Date | null;
  finishedAt: Date;
  /** An adopted attempt: the executor that started it (its record names both). */
  adoptedFrom?: string | null;
}

/**
 * The end of an attempt that succeeded at `at`, with no result: for the tests and the
 * benchmark, which finish attempts without running anything.
 */
export function succeededAttempt(job: ClaimedJob, at: Date = new Date()): AttemptFinish {
  return {
    id: job.id,
    leaseToken: job.leaseToken,
    attempt: job.attempts,
    nextStatus: 'succeeded',
    outcome: 'succeeded',
    retryAt: null,
    errorCategory: null,
    message: null,
    exitCode: 0,
    stderrTail: null,
    result: undefined,
    runtimeRef: null,
    startedAt: at,
    finishedAt: at,
  };
}

export interface LogLine {
  jobId: string;
  attempt: number;
  /** The lease the line was written under: lines of a lease that was taken over are dropped. */
  leaseToken: string;
  stream: 'stdout' | 'stderr' | 'combined' | 'system';
  line: string;
  loggedAt: Date;
}

export interface Execution {
  jobId: string;
  attempt: number;
  executorId: string;
  runtime: string;
  runtimeRef: string | null;
  outcome: JobStatus;
  errorCategory: ErrorCategory | null;
  message: string | null;
  exitCode: number | null;
  stderrTail: string | null;
  startedAt: Date | null;
  finishedAt: Date;
  /** Set when the attempt outlived executorId and this executor adopted and recorded it. */
  adoptedBy: string | null;
}

export interface StoredLogLine {
  id: string;
  attempt: number;
  stream: LogLine['stream'];
  line: string;
  loggedAt: Date;
}

export interface LeaseRenewal {
  id: string;
  leaseToken: string;
  cancelRequested: boolean;
  /** false: still this executor's, but another session holds the row locked; not renewed. */
  renewed: boolean;
}

/** What MARK_JOBS_RUNNING and FINISH_ATTEMPTS did with each row they were given (see BatchLocking). */
export interface BatchResult<T> {
  /** Rows written. */
  done: T[];
  /** Ids still held but locked by another session: write them again later. */
  busy: string[];
}
