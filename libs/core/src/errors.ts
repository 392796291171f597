import type { JobStatus } from './job-status';

/** Stable codes; the HTTP and gRPC filters map them to status codes. */
export type DanubeErrorCode =
  | 'invalid_argument'
  | 'not_found'
  | 'invalid_transition'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthenticated'
  | 'permission_denied'
  | 'failed_precondition'
  | 'resource_exhausted'
  | 'unavailable';

export class DanubeError extends Error {
  constructor(
    readonly code: DanubeErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends DanubeError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('invalid_argument', message, details);
  }
}

export class NotFoundError extends DanubeError {
  constructor(what: string, id: string) {
    super('not_found', `${what} ${id} does not exist`, { id });
  }
}

export class InvalidTransitionError extends DanubeError {
  constructor(jobId: string, from: JobStatus, to: JobStatus) {
    super('invalid_transition', `job ${jobId} is ${from} and cannot become ${to}`, {
      jobId,
      from,
      to,
    });
  }
}

/**
 * A job that cannot run as specified on this executor (a secret it maps is missing, no
 * image for a container runtime): the attempt fails as permanent, not worth retrying.
 */
export class JobSpecError extends Error {}
