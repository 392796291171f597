import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import { DanubeError, type DanubeErrorCode } from '@danube/core';
import type { Response } from 'express';

const STATUS_BY_CODE: Record<DanubeErrorCode, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  invalid_transition: 409,
  conflict: 409,
  payload_too_large: 413,
  failed_precondition: 422,
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
 * HTTP exceptions as they are, body-parser failures (bad JSON, too large) as 400/413,
 * and anything else as a 500 that is logged with its stack.
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
    if (!response.headersSent) response.status(body.statusCode).json(body);
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
    const bodyParserError = exception as {
      type?: string;
      status?: number;
      statusCode?: number;
      message?: string;
      limit?: number;
      length?: number;
    };
    if (bodyParserError?.type === 'entity.parse.failed') {
      return {
        statusCode: 400,
        error: 'invalid_argument',
        message: `the request body is not valid JSON: ${bodyParserError.message}`,
      };
    }
    if (bodyParserError?.type === 'entity.too.large') {
      return {
        statusCode: 413,
        error: 'payload_too_large',
        message: `the request body is ${bodyParserError.length} bytes; the limit is ${bodyParserError.limit} bytes (split it into smaller requests)`,
      };
    }
    const status = bodyParserError?.status ?? bodyParserError?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return {
        statusCode: status,
        error: 'invalid_argument',
        message: bodyParserError.message ?? 'bad request',
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
