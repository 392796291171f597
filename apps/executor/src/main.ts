import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { loadExecutorOptions } from '@danube/executor';
import { closeOnSignals, listenOn, runMain } from '@danube/lifecycle';
import { LOG_LEVELS, quietFrameworkStart, type LogLevel } from '@danube/observability';
import { ExecutorAppModule } from './executor-app.module';

runMain('danube-executor', async () => {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl)
    throw new Error(
      'invalid configuration: DATABASE_URL is required (e.g. postgres://user:pass@localhost:5432/danube)',
    );
  const options = loadExecutorOptions();
  const logLevel = (process.env.LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw new Error(`invalid configuration: LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  // abortOnError false: a failure while starting (the runtime cannot be made) reaches
  // runMain, which prints it as one line, instead of aborting the process.
  const app = await NestFactory.create(ExecutorAppModule.forRoot(options, databaseUrl, logLevel), {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(quietFrameworkStart(app.get(Logger)));
  await listenOn(
    'the executor (/metrics, /healthz, /readyz)',
    `${options.httpHost}:${options.httpPort}`,
    'EXECUTOR_HTTP_PORT',
    () => app.listen(options.httpPort, options.httpHost),
  );
  const logger = app.get(Logger);
  const { port } = app.getHttpServer().address() as { port: number };
  logger.log(
    `executor ${options.instanceId} serves /metrics, /healthz and /readyz on http://${options.httpHost}:${port}`,
  );
  closeOnSignals(app, (message) => logger.log(message));
});
