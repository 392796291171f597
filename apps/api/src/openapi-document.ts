import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/** The REST API's OpenAPI document: served at /docs, and written to openapi/ by openapi:gen. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Danube')
      .setDescription('Submit jobs, follow their attempts, and see the executor fleet.')
      .setVersion('1')
      // The "Authorize" button: every route but the health checks wants an API key.
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key: dnb_live_...' })
      .addSecurityRequirements('bearer')
      .build(),
  );
  return withErrorResponses(withNullableObjectsInlined(document));
}

/**
 * A nullable property whose type is another schema comes out of Nest as `nullable: true`
 * beside `allOf: [{ $ref }]`; in OpenAPI 3.0 `nullable` does not reach into allOf, so a
 * validator refuses the null that the API sends. Such properties get the referenced
 * schema's fields inline instead, where `nullable` means what it says; and a nullable enum
 * lists null among its values, as OpenAPI 3.0.3 asks.
 */
function withNullableObjectsInlined(document: OpenAPIObject): OpenAPIObject {
  const schemas = (document.components?.schemas ?? {}) as Record<string, Schema>;
  for (const schema of Object.values(schemas)) {
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      if (!property.nullable) continue;
      if (Array.isArray(property.enum) && !property.enum.includes(null))
        property.enum = [...property.enum, null];
      const ref = property.allOf?.length === 1 ? property.allOf[0]!.$ref : undefined;
      if (!ref) continue;
      const { allOf: _allOf, ...rest } = property;
      schema.properties![name] = { ...schemas[ref.replace('#/components/schemas/', '')], ...rest };
    }
  }
  return document;
}

/** The parts of a schema object looked at here. */
interface Schema {
  nullable?: boolean;
  enum?: unknown[];
  allOf?: { $ref?: string }[];
  properties?: Record<string, Schema>;
  [keyword: string]: unknown;
}

/** What every error answer looks like (DanubeExceptionFilter's ErrorBody). */
const ERROR_SCHEMA = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer', example: 400 },
    error: {
      type: 'string',
      description: 'A stable code: invalid_argument, not_found, conflict, ...',
      example: 'invalid_argument',
    },
    message: {
      type: 'string',
      description: 'What went wrong and what to do, naming the field at fault',
      example: 'timeoutSeconds must not be greater than 60',
    },
    details: { type: 'object', additionalProperties: true },
  },
};

const ERRORS: Record<number, string> = {
  400: 'The request is invalid; the message names the field',
  401: 'No API key, or one that is unknown, revoked or expired',
  403: "The key's role or tenant does not allow this",
  404: 'Nothing of that id or name (in your tenant)',
  409: 'The state does not allow it (e.g. cancelling a job that has ended), or the name is taken',
  413: 'The request body is over the limit',
  415: 'The request body is not JSON (content-type: application/json), or its encoding is unknown',
  422: 'Well-formed but refused (e.g. secrets are off, an image no rule allows, a cap exceeded)',
  429: "The tenant's queue quota is full; retry later",
  503: 'The database is unreachable; retry shortly (Retry-After)',
};

/**
 * Adds to every /v1 operation the error answers it can give, each with the ErrorResponse
 * schema: 400, 401, 403 and 503 everywhere; 404 where the path names something; 409 and
 * 422 on writes; 413 and 415 where there is a body; 429 where jobs are submitted.
 */
function withErrorResponses(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.schemas ??= {};
  document.components.schemas.ErrorResponse = ERROR_SCHEMA as never;
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = item[method];
      if (!operation) continue;
      const statuses = [400, 401, 403, 503];
      if (path.includes('{')) statuses.push(404);
      if (method !== 'get') statuses.push(409, 422);
      if (operation.requestBody) statuses.push(413, 415);
      if (method === 'post' && /^\/v1\/(jobs|jobs\/batch|workflows)$/.test(path))
        statuses.push(429);
      for (const status of statuses.sort()) {
        operation.responses[String(status)] ??= {
          description: ERRORS[status]!,
          content: {
            'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } },
          },
        };
      }
    }
  }
  return document;
}
