import { InvalidArgumentError, DanubeError } from '@danube/core';
import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/**
 * express.json with errors a client can act on: a body that does not parse is a 400 that
 * says so, one over the limit a 413 that gives the limit. (Nest would turn a parse error
 * into a bare "Unexpected end of JSON input".)
 */
export function jsonBody(limit: string): RequestHandler {
  const parse = json({ limit });
  return (req: Request, res: Response, next: NextFunction) =>
    parse(req, res, (error?: unknown) => {
      if (!error) return next();
      const e = error as { type?: string; message?: string; limit?: number; length?: number };
      if (e.type === 'entity.parse.failed') {
        return next(new InvalidArgumentError(`the request body is not valid JSON: ${e.message}`));
      }
      if (e.type === 'entity.too.large') {
        return next(
          new DanubeError(
            'payload_too_large',
            `the request body is ${e.length} bytes; the limit is ${e.limit} bytes (send fewer jobs per request)`,
          ),
        );
      }
      return next(error);
    });
}
