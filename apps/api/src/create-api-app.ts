import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { listenOn } from '@danube/lifecycle';
import { quietFrameworkStart } from '@danube/observability';
import type { ApiOptions } from './api.config';
import { jobServiceGrpcOptions } from './grpc/grpc.options';
import { openApiDocument } from './openapi-document';
import { DanubeExceptionFilter } from './http/danube-exception.filter';
import { jsonBody } from './http/json-body';
import { strictValidationPipe } from './http/validation';

/**
 * Builds the API application (not yet listening) with everything a request meets:
 * body size limit, strict validation, the error filter and the OpenAPI page at /docs.
 * `module` is ApiModule.forRoot(...) or a module that imports it (the all-in-one process).
 */
export async function createApiApp(
  module: DynamicModule,
  options: ApiOptions,
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    bodyParser: false,
    bufferLogs: true,
    // A failure while starting reaches runMain, which prints it as one line.
    abortOnError: false,
  });
  app.useLogger(quietFrameworkStart(app.get(Logger)));
  app.use(jsonBody(options.bodyLimit));
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalFilters(new DanubeExceptionFilter());

  SwaggerModule.setup('docs', app, openApiDocument(app));
  app.connectMicroservice(jobServiceGrpcOptions(`${options.host}:${options.grpcPort}`), {
    inheritAppConfig: false,
  });
  return app;
}

/**
 * Starts the JobService (gRPC) and then the REST API; resolves once both listen. A port in
 * use is an error naming the variable to change.
 */
export async function listenApi(
  app: NestExpressApplication,
  options: Pick<ApiOptions, 'host' | 'port' | 'grpcPort'>,
): Promise<void> {
  await listenOn('the JobService (gRPC)', `${options.host}:${options.grpcPort}`, 'GRPC_PORT', () =>
    app.startAllMicroservices(),
  );
  await listenOn('the REST API', `${options.host}:${options.port}`, 'PORT', () =>
    app.listen(options.port, options.host),
  );
}
