import { Module, type DynamicModule } from '@nestjs/common';
import { DbModule, EXECUTOR_LOCK_TIMEOUT_MS } from '@danube/db';
import { ExecutorModule, type ExecutorOptions } from '@danube/executor';
import { ObservabilityModule, loggingModule, type LogLevel } from '@danube/observability';

/** The executor process: a pool, the claim loop and its runtime; HTTP only for /metrics and health. */
@Module({})
export class ExecutorAppModule {
  static forRoot(options: ExecutorOptions, databaseUrl: string, logLevel: LogLevel): DynamicModule {
    return {
      module: ExecutorAppModule,
      imports: [
        loggingModule('executor', logLevel),
        DbModule.forRoot({
          databaseUrl,
          max: 4,
          applicationName: `danube-executor-${options.instanceId}`,
          lockTimeoutMs: EXECUTOR_LOCK_TIMEOUT_MS,
        }),
        ObservabilityModule.forRoot(),
        ExecutorModule.forRoot(options),
      ],
    };
  }
}
