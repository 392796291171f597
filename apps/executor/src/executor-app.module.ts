import { Module, type DynamicModule } from '@nestjs/common';
import { DbModule, EXECUTOR_LOCK_TIMEOUT_MS } from '@danube/db';
import { ExecutorModule, type ExecutorOptions } from '@danube/executor';
import {
  DanubeMetrics,
  ObservabilityModule,
  loggingModule,
  type LogLevel,
} from '@danube/observability';
import type { Runtime } from '@danube/runtime';

/** The executor process: a pool, the claim loop and its runtime; HTTP only for /metrics and health. */
@Module({})
export class ExecutorAppModule {
  static forRoot(
    options: ExecutorOptions,
    databaseUrl: string,
    logLevel: LogLevel,
    runtime: Runtime,
    metrics: DanubeMetrics,
  ): DynamicModule {
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
        ObservabilityModule.forRoot(metrics, [
          { name: `runtime:${runtime.name}`, problem: () => runtime.readiness?.() ?? null },
        ]),
        ExecutorModule.forRoot(options, databaseUrl, runtime),
      ],
    };
  }
}
