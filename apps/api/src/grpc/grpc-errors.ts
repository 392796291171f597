import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { status, type ServiceError } from '@grpc/grpc-js';
import { DanubeError, type DanubeErrorCode } from '@danube/core';
import { isDatabaseUnavailable, isLockConflict } from '@danube/db';
import { throwError, type Observable } from 'rxjs';

const STATUS_BY_CODE: Record<DanubeErrorCode, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  permission_denied: status.PERMISSION_DENIED,
  not_found: status.NOT_FOUND,
  invalid_transition: status.FAILED_PRECONDITION,
  conflict: status.ALREADY_EXISTS,
  payload_too_large: status.RESOURCE_EXHAUSTED,
  unsupported_media_type: status.INVALID_ARGUMENT,
  failed_precondition: status.FAILED_PRECONDITION,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
};

const logger = new Logger('gRPC');

/** The one place errors become gRPC statuses (the HTTP twin is DanubeExceptionFilter). */
export function toGrpcError(error: unknown): Partial<ServiceError> {
  const { code, details } = statusOf(error);
  // grpc-js percent-encodes details with encodeURI, which throws on a lone surrogate (a
  // caller's malformed string echoed in a message) and would end the process.
  const wellFormed = details.replace(LONE_SURROGATE, '\uFFFD');
  return { code, details: wellFormed, message: wellFormed };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function statusOf(error: unknown): { code: status; details: string } {
  if (error instanceof DanubeError) {
    return { code: STATUS_BY_CODE[error.code], details: error.message };
  }
  if (isDatabaseUnavailable(error)) {
    return { code: status.UNAVAILABLE, details: 'the database is unreachable; retry shortly' };
  }
  if (isLockConflict(error)) {
    return {
      code: status.ABORTED,
      details: 'the job is locked by another database session; retry shortly',
    };
  }
  const pgCode = (error as { code?: unknown })?.code;
  if (typeof pgCode === 'string' && pgCode.startsWith('22')) {
    // Postgres "data exception": a value the checks let through that Postgres cannot store.
    return {
      code: status.INVALID_ARGUMENT,
      details: `a value in the request cannot be stored: ${(error as Error).message}`,
    };
  }
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return { code: status.INTERNAL, details: 'internal error; the server log has the details' };
}

@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => toGrpcError(exception));
  }
}
