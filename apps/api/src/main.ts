import { Logger } from 'nestjs-pino';
import { migrate } from '@danube/db';
import { closeOnSignals, runMain } from '@danube/lifecycle';
import { loadApiOptions } from './api.config';
import { ApiModule } from './api.module';
import { createApiApp, listenApi } from './create-api-app';

runMain('danube-api', async () => {
  const options = loadApiOptions();
  if (options.migrate) await migrate({ databaseUrl: options.databaseUrl });
  const app = await createApiApp(ApiModule.forRoot(options), options);
  await listenApi(app, options);
  const logger = app.get(Logger);
  const { port } = app.getHttpServer().address() as { port: number };
  logger.log(
    `REST API on http://${options.host}:${port} (OpenAPI at /docs); JobService (gRPC) on ${options.host}:${options.grpcPort}`,
  );
  if (!options.keyring) {
    logger.warn(
      'DANUBE_SECRET_KEY is not set: secrets are off (writing one answers 422) and jobs get no token for the JobService; set it to <id>:<base64 of 32 random bytes>, e.g. k1:$(openssl rand -base64 32)',
    );
  }
  closeOnSignals(app, (message) => logger.log(message));
});
