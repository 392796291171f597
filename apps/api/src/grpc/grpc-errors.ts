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
  unavailable: status.UNAVAILABLE,
};

const logger = new Logger('gRPC');

/** The one place errors become gRPC statuses (the HTTP twin is DanubeExceptionFilter). */
export function toGrpcError(error: unknown): Partial<ServiceError> {
  if (error instanceof DanubeError) {
    return { code: STATUS_BY_CODE[error.code], details: error.message, message: error.message };
  }
  if (isDatabaseUnavailable(error)) {
    const message = 'the database is unreachable; retry shortly';
    return { code: status.UNAVAILABLE, details: message, message };
  }
  if (isLockConflict(error)) {
    const message = 'the job is locked by another database session; retry shortly';
    return { code: status.ABORTED, details: message, message };
  }
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  const message = 'internal error; the server log has the details';
  return { code: status.INTERNAL, details: message, message };
}

@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => toGrpcError(exception));
  }
}
