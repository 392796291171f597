import type { ErrorCategory } from './error-category';
import type { JobStatus } from './job-status';
import type { ResourceHints } from './resources';
import type { TaskClass } from './task-class';

export interface BackoffPolicy {
  initialSeconds: number;
  factor: number;
  maxSeconds: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialSeconds: 1, factor: 2, maxSeconds: 300 };
export const DEFAULT_MAX_ATTEMPTS = 3;

/** What to run; stored as the job's `spec` jsonb. */
export interface JobSpec {
  /** An argv array, or a string run by `/bin/sh -c`. */
  command: string[] | string;
  image?: string;
  env: Record<string, string>;
  backoff: BackoffPolicy;
  noRetryExitCodes: number[];
  /** Secrets the job may read through the JobService (GetSecret). */
  secrets?: string[];
  /** Environment variable -> secret name, injected by the runtime; each one is in `secrets`. */
  secretEnv?: Record<string, string>;
  /** Compute asked for, over the task class's defaults (Kubernetes runtime). */
  resources?: ResourceHints;
  /** Set at submit from the tenant's image rule that allowed `image` (Kubernetes runtime). */
  imagePullSecret?: string;
}

/** A job as a client asks for it; defaults are filled in by the queue. */
export interface NewJob {
  topic: string;
  command: string[] | string;
  taskClass?: TaskClass;
  image?: string;
  env?: Record<string, string>;
  timeoutSeconds?: number;
  maxAttempts?: number;
  backoff?: Partial<BackoffPolicy>;
  noRetryExitCodes?: number[];
  secrets?: string[];
  secretEnv?: Record<string, string>;
  resources?: ResourceHints;
  priority?: number;
  runAt?: Date;
  idempotencyKey?: string;
  labels?: Record<string, string>;
  tenant?: string;
}

export interface JobError {
  category: ErrorCategory;
  message: string;
  exitCode: number | null;
}

export interface Job {
  id: string;
  tenant: string;
  topic: string;
  taskClass: TaskClass;
  status: JobStatus;
  priority: number;
  runAt: Date;
  attempts: number;
  maxAttempts: number;
  timeoutSeconds: number;
  spec: JobSpec;
  labels: Record<string, string>;
  idempotencyKey: string | null;
  runtimeRef: string | null;
  leaseOwner: string | null;
  /** The executor that started the current (or last) attempt. */
  startedBy: string | null;
  progress: number | null;
  statusMessage: string | null;
  result: unknown;
  error: JobError | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  cancelRequestedAt: Date | null;
  /** The workflow the job is a node of, its node name, and why it was skipped if it was. */
  workflowId: string | null;
  nodeName: string | null;
  skipReason: string | null;
  /** Set on a step: the job whose RunStep call started it. */
  parentJobId: string | null;
}

/**
 * A job as an executor holds it after a claim: what it needs to run the attempt, plus the
 * fencing token of its lease. Fewer columns than Job: claims are the hottest read there is.
 */
export interface ClaimedJob {
  id: string;
  tenant: string;
  topic: string;
  taskClass: TaskClass;
  priority: number;
  runAt: Date;
  /** The attempt being run: claims count attempts, except when adopting a running one. */
  attempts: number;
  maxAttempts: number;
  timeoutSeconds: number;
  spec: JobSpec;
  labels: Record<string, string>;
  /** Set when the attempt was started by an executor that lost its lease: adopt it. */
  runtimeRef: string | null;
  startedAt: Date | null;
  /** With runtimeRef: the executor that started the attempt being adopted. */
  startedBy: string | null;
  leaseToken: string;
  workflowId: string | null;
  nodeName: string | null;
}
