import { DanubeError, InvalidArgumentError } from '@danube/core';
import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/** Deepest nesting of objects and arrays a request body may have (`{"a":[1]}` is 2). */
export const MAX_BODY_DEPTH = 64;

/**
 * Keys refused anywhere in a body: they reach for an object's prototype when code copies
 * the body into objects (class-transformer does), so no field of Danube is named so.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * express.json with errors a client can act on: a body that is not declared JSON (no
 * content-type, or another one) is a 415 naming the header; one that does not parse is a 400 that
 * says so, one over the limit a 413 that gives the limit, an unknown charset or
 * content-encoding a 415, a compressed body that does not decompress a 400. (Nest would
 * turn these into a bare message or a 500.) A parsed body is then checked for nesting
 * deeper than MAX_BODY_DEPTH and for prototype keys, before validation walks it.
 */
export function jsonBody(limit: string): RequestHandler {
  const parse = json({ limit });
  return (req: Request, res: Response, next: NextFunction) => {
    if (hasBody(req) && !req.is('json')) return next(notJson(req.headers['content-type']));
    parse(req, res, (error?: unknown) => {
      if (error) return next(bodyError(error, req.headers['content-encoding']));
      try {
        checkShape(req.body);
      } catch (shapeError) {
        return next(shapeError);
      }
      next();
    });
  };
}

/** A request that carries a body (an empty one, content-length: 0, does not count). */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function notJson(contentType: string | undefined): DanubeError {
  return new DanubeError(
    'unsupported_media_type',
    contentType === undefined
      ? 'the request has a body but no content-type header: send it as JSON with content-type: application/json'
      : `content-type ${JSON.stringify(contentType)} is not accepted: send the body as JSON with content-type: application/json`,
  );
}

/** body-parser's errors (http-errors with a `type`) as Danube errors. */
function bodyError(error: unknown, contentEncoding: string | undefined): unknown {
  const e = error as {
    type?: string;
    status?: number;
    message?: string;
    limit?: number;
    length?: number;
    charset?: string;
    encoding?: string;
  };
  switch (e.type) {
    case 'entity.parse.failed':
      return new InvalidArgumentError(`the request body is not valid JSON: ${e.message}`);
    case 'entity.too.large':
      return new DanubeError(
        'payload_too_large',
        e.length === undefined
          ? `the request body is over the limit of ${e.limit} bytes (counted after decompression); send fewer jobs per request`
          : `the request body is ${e.length} bytes; the limit is ${e.limit} bytes (send fewer jobs per request)`,
      );
    case 'charset.unsupported':
      return new DanubeError(
        'unsupported_media_type',
        `the request body's charset ${JSON.stringify(e.charset ?? '')} is not supported: send JSON in UTF-8 (content-type: application/json)`,
      );
    case 'encoding.unsupported':
      return new DanubeError(
        'unsupported_media_type',
        `content-encoding ${JSON.stringify(e.encoding ?? '')} is not supported: send the body as it is, or with gzip, deflate or br`,
      );
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    // A body that cannot be read: a compressed one that does not decompress, a length
    // that does not match content-length, a client that went away.
    const encoding = contentEncoding?.toLowerCase() ?? 'identity';
    return new InvalidArgumentError(
      encoding === 'identity'
        ? `the request body could not be read (${e.message ?? 'no reason given'}); check its content-length`
        : `the request body could not be decompressed as content-encoding ${JSON.stringify(encoding)}; send it compressed that way, or uncompressed without content-encoding`,
    );
  }
  return error;
}

/**
 * Refuses a body nested deeper than MAX_BODY_DEPTH or holding a prototype key, naming
 * where. Iterative, so that a body of a million nested arrays cannot exhaust the stack here.
 */
function checkShape(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const stack: { value: object; path: string; depth: number }[] = [
    { value: body, path: 'body', depth: 1 },
  ];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (depth > MAX_BODY_DEPTH) {
      throw new InvalidArgumentError(
        `the request body nests objects and arrays deeper than ${MAX_BODY_DEPTH} levels (at ${path})`,
        { field: path },
      );
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
      if (!Array.isArray(value) && FORBIDDEN_KEYS.has(key)) {
        throw new InvalidArgumentError(`${childPath} is not allowed: no field is named ${key}`, {
          field: childPath,
        });
      }
      if (typeof child === 'object' && child !== null) {
        stack.push({ value: child, path: childPath, depth: depth + 1 });
      }
    }
  }
}
