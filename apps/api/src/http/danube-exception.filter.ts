import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import { DanubeError, type DanubeErrorCode } from '@danube/core';
import { isDatabaseUnavailable, isLockConflict } from '@danube/db';
import type { Response } from 'express';

const STATUS_BY_CODE: Record<DanubeErrorCode, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  invalid_transition: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  failed_precondition: 422,
  resource_exhausted: 429,
  unavailable: 503,
};

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The one place errors become HTTP responses: Danube errors by their code, Nest's own
 * HTTP exceptions as they are (404 for an unknown route...), a database that cannot be
 * reached as a 503 with Retry-After, and anything else as a 500 logged with its stack.
 */
@Catch()
export class DanubeExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) {
      this.logger.error(
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      );
    }
    if (response.headersSent) return;
    if (body.statusCode === 503) response.setHeader('Retry-After', '5');
    response.status(body.statusCode).json(body);
  }

  private toBody(
    exception: unknown,
  ): ErrorBody | (Record<string, unknown> & { statusCode: number }) {
    if (exception instanceof DanubeError) {
      return {
        statusCode: STATUS_BY_CODE[exception.code],
        error: exception.code,
        message: exception.message,
        details: exception.details,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      // Health checks answer with their own report (which checks failed and why): keep it.
      if (typeof response === 'object' && response !== null && !('message' in response)) {
        return { statusCode: status, ...(response as Record<string, unknown>) };
      }
      const message =
        typeof response === 'string'
          ? response
          : Array.isArray((response as { message?: unknown }).message)
            ? (response as { message: string[] }).message.join('; ')
            : String((response as { message?: unknown }).message ?? exception.message);
      const error =
        typeof response === 'object' && 'error' in response
          ? String((response as { error: unknown }).error)
          : exception.name;
      return { statusCode: status, error: codeFromName(error), message };
    }
    if (isDatabaseUnavailable(exception)) {
      return {
        statusCode: 503,
        error: 'unavailable',
        message: 'the database is unreachable; retry shortly',
      };
    }
    if (isLockConflict(exception)) {
      return {
        statusCode: 409,
        error: 'conflict',
        message:
          'the row is locked by another database session (an open transaction); retry shortly',
      };
    }
    const pgCode = (exception as { code?: unknown })?.code;
    if (typeof pgCode === 'string' && pgCode.startsWith('22')) {
      // Postgres "data exception": a value the validators let through that Postgres cannot
      // store (a \u0000 inside a JSON string, say). The client's input, so a 400.
      return {
        statusCode: 400,
        error: 'invalid_argument',
        message: `a value in the request cannot be stored: ${(exception as Error).message}`,
      };
    }
    return {
      statusCode: 500,
      error: 'internal',
      message: 'internal error; the server log has the details',
    };
  }
}

function codeFromName(name: string): string {
  return name
    .replace(/Exception$/, '')
    .replace(/\s+/g, '_')
    .toLowerCase();
}
