import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/** The REST API's OpenAPI document: served at /docs, and written to openapi/ by openapi:gen. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
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
}
